// What the store suites build their rows from: users and tokens as the store takes them.
import type { NewToken, NewUser, TokenRecord } from '../../src/store/store'
import { TEST_BACKENDS } from './backends'

export const NOW = Date.parse('2026-11-30T09:00:00.000Z')
export const ENABLED = TEST_BACKENDS.filter((backend) => backend.enabled).map((backend) => [backend.backend.name, backend] as const)

export const digestOf = (text: string) => new Uint8Array(new Bun.CryptoHasher('sha256').update(text).digest())

export const newUser = (id: string, changes: Partial<NewUser> = {}): NewUser => ({
  id,
  email: `${id}@example.com`,
  name: null,
  passwordHash: `hash of ${id}`,
  createdAt: NOW,
  ...changes,
})

export const newToken = (id: string, userId: string, changes: Partial<NewToken> = {}): NewToken => ({
  id,
  userId,
  name: `token ${id}`,
  tokenType: 'api',
  tokenPrefix: 'vai_abcd1234',
  digest: digestOf(id),
  createdAt: NOW,
  expiresAt: null,
  scopes: ['deploy:staging', 'tokens:read'],
  ...changes,
})

/** The record a NewToken reads back as, before any use or revocation. */
export const recordOf = ({ digest: _, ...token }: NewToken, changes: Partial<TokenRecord> = {}): TokenRecord => ({
  ...token,
  lastUsedAt: null,
  lastUsedIp: null,
  revokedAt: null,
  rotatedTo: null,
  ...changes,
})
