import type { Store, TokenRecord, TokenType, UserRecord } from '../store/store'
import { generateToken, isWellFormedToken, tokenDigest, tokenPrefix } from './token-format'

export interface IssuedToken {
  plaintext: string
  token: TokenRecord
}

export interface TokenRequest {
  userId: string
  name: string
  tokenType: TokenType
  expiresAt: number | null
  now: number
}

export async function issueToken(store: Store, request: TokenRequest): Promise<IssuedToken> {
  const plaintext = generateToken()
  const token: TokenRecord = {
    id: Bun.randomUUIDv7('hex', request.now),
    userId: request.userId,
    name: request.name,
    tokenType: request.tokenType,
    tokenPrefix: tokenPrefix(plaintext),
    createdAt: request.now,
    expiresAt: request.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  }
  const { lastUsedAt: _, revokedAt: __, ...row } = token
  await store.insertToken({ ...row, digest: tokenDigest(plaintext) })
  return { plaintext, token }
}

export interface Caller {
  user: UserRecord
  token: TokenRecord
}

/** The owner of a presented plaintext, or null when it must not authenticate. */
export async function authenticate(store: Store, plaintext: string, now: number): Promise<Caller | null> {
  // The checksum turns away typos and guesses before any database work.
  if (!isWellFormedToken(plaintext)) return null
  const found = await store.findTokenByDigest(tokenDigest(plaintext))
  if (!found) return null
  const { token } = found
  if (token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now)) return null
  store.touchToken(token.id, now)
  return { user: found.user, token: { ...token, lastUsedAt: now } }
}

export const DAY_MS = 24 * 60 * 60 * 1000
