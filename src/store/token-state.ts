// When a token may authenticate: the one rule, for the caller check, the CLI's STATUS
// column and, as SQL, the store's counts of active tokens. A pure module (no database,
// no Elysia), so that auth code and the command line import it alone.
import type { TokenRecord } from './store'

export type TokenState = 'active' | 'revoked' | 'expired'

/** Revoked wins over expired: a revocation is what someone did, an expiry only what time did. */
export function tokenState(token: Pick<TokenRecord, 'revokedAt' | 'expiresAt'>, now: number): TokenState {
  if (token.revokedAt !== null) return 'revoked'
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired'
  return 'active'
}

/** tokenState(…) === 'active' as a WHERE condition on the tokens `alias`, `now` being a placeholder. */
export const activeTokenSql = (alias: string, now: string) =>
  `${alias}.revoked_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > ${now})`

/**
 * Why a token cannot be rotated at `now`, or null when it can: the route's 409s, and the
 * store's re-check inside the rotation's transaction. Rotated first: a rotated token is also
 * revoked or about to expire, and "already rotated" is what its holder needs to hear.
 */
export function rotationRefusal(
  token: Pick<TokenRecord, 'tokenType' | 'rotatedTo' | 'revokedAt' | 'expiresAt'>,
  now: number,
): 'session' | 'rotated' | 'revoked' | 'expired' | null {
  if (token.tokenType === 'session') return 'session'
  if (token.rotatedTo !== null) return 'rotated'
  const state = tokenState(token, now)
  return state === 'active' ? null : state
}
