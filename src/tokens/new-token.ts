// What a new API token may be, given the token that asks for it: the subset rule (a
// token never grants a scope it lacks) and the lifetime cap (an API token never makes
// one that outlives it). Pure: the route hands in the caller's token and the request.
// A rotation's successor is a new token too, under the same rules.
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

export interface NewTokenTerms {
  scopes: string[]
  expiresAt: number | null
}

type CallerToken = Pick<TokenRecord, 'tokenType' | 'expiresAt' | 'scopes'>

/** The new token's scopes and expiry, or the catalogue's 403 saying why it may not have them. */
export function newTokenTerms(caller: CallerToken, request: NewTokenRequest, maxTokenDays: number | null, now: number): NewTokenTerms {
  const days = request.expiresInDays ?? null
  return {
    scopes: grantedScopes(caller, request.scopes === undefined ? caller.scopes : normaliseScopes(request.scopes)),
    expiresAt: cappedExpiry(days === null ? null : now + days * DAY_MS, days !== null, delegateCap(caller), maxTokenDays, now),
  }
}

/**
 * The successor of `old`, rotated by `caller`: `old`'s scopes (which the caller must hold,
 * or rotating would hand it a plaintext with more than it has), and `expiresInDays` from
 * now when given (null: none), else as long as `old` lived, else none, then capped as a
 * create is. A token rotating itself is no delegate of itself: its successor may live as
 * long as it did, never longer, so renewing never stretches a lifetime.
 */
export function successorTerms(
  caller: CallerToken & Pick<TokenRecord, 'id'>,
  old: Pick<TokenRecord, 'id' | 'scopes' | 'createdAt' | 'expiresAt'>,
  expiresInDays: number | null | undefined,
  maxTokenDays: number | null,
  now: number,
): NewTokenTerms {
  const lifetime = old.expiresAt === null ? null : now + (old.expiresAt - old.createdAt)
  const wanted = expiresInDays === undefined ? lifetime : expiresInDays === null ? null : now + expiresInDays * DAY_MS
  const cap = caller.id === old.id ? lifetime : delegateCap(caller)
  return { scopes: grantedScopes(caller, old.scopes), expiresAt: cappedExpiry(wanted, expiresInDays != null, cap, maxTokenDays, now) }
}

function grantedScopes(caller: CallerToken, scopes: string[]): string[] {
  const lacking = missingScopes(caller.scopes, scopes)
  if (lacking.length > 0) throw scopeError('cannotGrant', lacking)
  return scopes
}

// A session is a person at a keyboard; an API token is a delegate, and its delegates end with it.
const delegateCap = (caller: CallerToken) => (caller.tokenType === 'api' ? caller.expiresAt : null)

/**
 * `wanted` (null: never) within the server's maximum and `cap`. Past the cap, what was asked
 * for in days is refused; a lifetime nobody asked for (a default, a carried one) is cut.
 * Days asked for never pass the maximum: the body's schema holds that bound.
 */
function cappedExpiry(wanted: number | null, asked: boolean, cap: number | null, maxTokenDays: number | null, now: number): number | null {
  const longest = maxTokenDays === null ? null : now + maxTokenDays * DAY_MS
  let expiresAt = longest !== null && (wanted === null || wanted > longest) ? longest : wanted
  if (cap !== null && (expiresAt === null || expiresAt > cap)) {
    if (asked) throw httpError('cannotOutlive')
    expiresAt = cap
  }
  return expiresAt
}
