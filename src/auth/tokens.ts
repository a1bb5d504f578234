import { NO_ORIGIN, userAgentOf, type Origin } from '../audit/events'
import { tooManyTokens } from '../errors'
import type { NewToken, Store, TokenRecord, UserRecord } from '../store/store'
import { tokenState } from '../store/token-state'
import { FULL_ACCESS, normaliseScopes } from '../tokens/scopes'
import { generateToken, isWellFormedToken, tokenDigest, tokenPrefix } from './token-format'

export interface IssuedToken {
  plaintext: string
  token: TokenRecord
}

/** A session always has full access (`*`); an API token what it was given. */
export type TokenRequest = {
  userId: string
  name: string
  expiresAt: number | null
  now: number
  /** At most this many active tokens of its type for the user: one more is a 409. None for sessions. */
  limit?: number
  /** Where the request for it came from (its event's ip and user agent). */
  origin?: Origin
} & ({ tokenType: 'session' } | { tokenType: 'api'; scopes: readonly string[] })

export async function issueToken(store: Store, request: TokenRequest): Promise<IssuedToken> {
  const { stored, ...issued } = newToken(request)
  const origin = request.origin ?? NO_ORIGIN
  if (request.limit === undefined) await store.insertToken(stored, origin)
  else if (!(await store.insertTokenWithinLimit(stored, request.limit, origin))) throw tooManyTokens(request.limit)
  return issued
}

/** A fresh plaintext and its token, as the API shows it and as the store keeps it: nothing written yet. */
export function newToken(request: TokenRequest): IssuedToken & { stored: NewToken } {
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
    lastUsedIp: null,
    revokedAt: null,
    scopes: request.tokenType === 'session' ? [FULL_ACCESS] : normaliseScopes(request.scopes),
    rotatedTo: null,
  }
  const { lastUsedAt: _, lastUsedIp: __, revokedAt: ___, rotatedTo: ____, ...row } = token
  return { plaintext, token, stored: { ...row, digest: tokenDigest(plaintext) } }
}

export interface Caller {
  user: UserRecord
  token: TokenRecord
}

/** `reused`: a token rotated away, presented after its grace. */
export type Refusal = 'malformed' | 'unknown' | 'expired' | 'revoked' | 'reused'

/** What a reuse does besides its 401 (`--rotation-reuse`): `warn` records it, `revoke` also revokes the live successors. */
export type ReuseResponse = 'warn' | 'revoke'

/**
 * The owner of a presented plaintext, or why it must not authenticate. A success is a use
 * of the token from `client`; null (an introspection) leaves its lastUsedIp as it was.
 * `headers` are read only for a reuse's event (its user agent).
 */
export async function authenticate(
  store: Store,
  plaintext: string,
  now: number,
  client: string | null,
  onReuse: ReuseResponse,
  headers: Headers | null = null,
): Promise<{ caller: Caller } | { refused: Refusal }> {
  // The checksum turns away typos and guesses before any database work.
  if (!isWellFormedToken(plaintext)) return { refused: 'malformed' }
  const found = await store.findTokenByDigest(tokenDigest(plaintext))
  if (!found) return { refused: 'unknown' }
  const { token } = found
  const state = tokenState(token, now)
  if (state !== 'active') {
    if (token.rotatedTo === null) return { refused: state }
    // Its holder moved on to the successor when it was rotated: whoever presents it now may
    // hold a copy they should not. Only refusals get here, so the hot path pays nothing.
    await store.recordReuse(token.id, now, onReuse === 'revoke', { ip: client, userAgent: userAgentOf(headers) })
    return { refused: 'reused' }
  }
  store.touchToken(token.id, now, client)
  return { caller: { user: found.user, token: { ...token, lastUsedAt: now, lastUsedIp: client ?? token.lastUsedIp } } }
}

export const DAY_MS = 24 * 60 * 60 * 1000
