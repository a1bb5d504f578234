// Rotating a token: a successor with its name and scopes, and the old token revoked at once
// or left to work for a grace. The rule the route calls; the store does it in one transaction.
import { NO_ORIGIN, type Origin } from '../audit/events'
import { newToken, type IssuedToken } from '../auth/tokens'
import { httpError, tooManyTokens, type ErrorName } from '../errors'
import type { RotationRefusal, Store, TokenRecord } from '../store/store'
import { rotationRefusal } from '../store/token-state'
import { successorTerms } from './new-token'

export interface RotationRequest {
  /** Seconds the old token keeps working; 0 (the default) revokes it at once. */
  graceSeconds?: number
  /** The successor's lifetime in days; omitted: the old token's; null: none (see successorTerms). */
  expiresInDays?: number | null
}

export interface RotationLimits {
  maxTokenDays: number | null
  maxActiveTokens: number
}

const REFUSALS: Record<Exclude<RotationRefusal, 'too_many'>, ErrorName> = {
  not_found: 'tokenNotFound',
  session: 'rotateSession',
  rotated: 'alreadyRotated',
  revoked: 'rotateRevoked',
  expired: 'rotateExpired',
}

/**
 * Rotates the user's token `tokenId` for the `caller` (the token making the request, maybe
 * `tokenId` itself): the successor's plaintext and when the old token stops working, or
 * the catalogue's 404, 409 or 403. The
 * successor may be issued at the cap on active tokens, since it takes the old one's place;
 * a rotated token still in its grace counts, so rotating cannot pile up live tokens.
 */
export async function rotateToken(
  store: Store,
  caller: TokenRecord,
  tokenId: string,
  request: RotationRequest,
  { maxTokenDays, maxActiveTokens }: RotationLimits,
  now: number,
  origin: Origin = NO_ORIGIN,
): Promise<IssuedToken & { oldTokenEnds: number }> {
  // Rotating the token in hand (automation renewing itself) needs no second lookup.
  const old = tokenId === caller.id ? caller : await store.getToken(caller.userId, tokenId)
  const found = old === null ? 'not_found' : rotationRefusal(old, now)
  if (found !== null) throw httpError(REFUSALS[found])
  const terms = successorTerms(caller, old!, request.expiresInDays, maxTokenDays, now)
  const { stored, ...issued } = newToken({ userId: caller.userId, name: old!.name, tokenType: 'api', ...terms, now })
  const grace = request.graceSeconds ?? 0
  const refused = await store.rotateToken({
    userId: caller.userId,
    tokenId,
    successor: stored,
    graceUntil: grace === 0 ? null : now + grace * 1000,
    limit: maxActiveTokens,
  }, origin)
  // Another request may have rotated, revoked or deleted it since it was read.
  if (refused === 'too_many') throw tooManyTokens(maxActiveTokens)
  if (refused !== null) throw httpError(REFUSALS[refused])
  return { ...issued, oldTokenEnds: grace === 0 ? now : Math.min(old!.expiresAt ?? Infinity, now + grace * 1000) }
}
