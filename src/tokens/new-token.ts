// What a new API token may be, given the token that asks for it: the subset rule (a
// token never grants a scope it lacks) and the lifetime cap (an API token never makes
// one that outlives it). Pure: the route hands in the caller's token and the request.
import { DAY_MS } from '../auth/tokens'
import { httpError, scopeError } from '../errors'
import type { TokenRecord } from '../store/store'
import { missingScopes, normaliseScopes } from './scopes'

export interface NewTokenRequest {
  /** Days from now; omitted or null: the server's maximum, if any (and never past the caller). */
  expiresInDays?: number | null
  /** Omitted: the caller's own. */
  scopes?: readonly string[]
}

/** The new token's scopes and expiry, or the catalogue's 403 saying why it may not have them. */
export function newTokenTerms(
  caller: Pick<TokenRecord, 'tokenType' | 'expiresAt' | 'scopes'>,
  request: NewTokenRequest,
  maxTokenDays: number | null,
  now: number,
): { scopes: string[]; expiresAt: number | null } {
  const scopes = request.scopes === undefined ? caller.scopes : normaliseScopes(request.scopes)
  const lacking = missingScopes(caller.scopes, scopes)
  if (lacking.length > 0) throw scopeError('cannotGrant', lacking)
  // The schema holds the bound on days; omitted or null means the longest allowed, if any.
  const days = request.expiresInDays ?? maxTokenDays
  let expiresAt = days === null ? null : now + days * DAY_MS
  // A session is a person at a keyboard; an API token is a delegate, and its delegates end with it.
  const cap = caller.tokenType === 'api' ? caller.expiresAt : null
  if (cap !== null && (expiresAt === null || expiresAt > cap)) {
    if (request.expiresInDays != null) throw httpError('cannotOutlive')
    expiresAt = cap
  }
  return { scopes, expiresAt }
}
