import { tooManyTokens } from '../errors'
import type { Store, TokenRecord, TokenType, UserRecord } from '../store/store'
import { tokenState } from '../store/token-state'
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
  /** At most this many active tokens of its type for the user: one more is a 409. None for sessions. */
  limit?: number
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
  const stored = { ...row, digest: tokenDigest(plaintext) }
  if (request.limit === undefined) await store.insertToken(stored)
  else if (!(await store.insertTokenWithinLimit(stored, request.limit))) throw tooManyTokens(request.limit)
  return { plaintext, token }
}

export interface Caller {
  user: UserRecord
  token: TokenRecord
}

export type Refusal = 'malformed' | 'unknown' | 'expired' | 'revoked'

/** The owner of a presented plaintext, or why it must not authenticate. */
export async function authenticate(store: Store, plaintext: string, now: number): Promise<{ caller: Caller } | { refused: Refusal }> {
  // The checksum turns away typos and guesses before any database work.
  if (!isWellFormedToken(plaintext)) return { refused: 'malformed' }
  const found = await store.findTokenByDigest(tokenDigest(plaintext))
  if (!found) return { refused: 'unknown' }
  const { token } = found
  const state = tokenState(token, now)
  if (state !== 'active') return { refused: state }
  store.touchToken(token.id, now)
  return { caller: { user: found.user, token: { ...token, lastUsedAt: now } } }
}

export const DAY_MS = 24 * 60 * 60 * 1000
