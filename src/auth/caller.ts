import { Elysia } from 'elysia'
import { BEARER_CHALLENGE, INVALID_TOKEN, NOT_AUTHENTICATED } from '../errors'
import { CROSS_SITE_DETAIL, fromAnotherOrigin, STATE_CHANGING } from '../http/security'
import type { Metrics } from '../metrics'
import type { Store } from '../store/store'
import { authenticate } from './tokens'

const BEARER = /^bearer(?:\s+(.*))?$/i
const COOKIE = 'vai_token'

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * The token a request presents: the first non-empty carrier of Authorization:
 * Bearer, X-API-Key, then the vai_token cookie. Another Authorization scheme
 * (Basic from a proxy, say) is not a carrier, and neither is a Bearer with no
 * token after it (FastAPI's HTTPBearer reads that as no credential too).
 * The cookie header is read only when no header carries a token.
 */
export function presentedCredential(headers: Headers): { token: string; via: 'bearer' | 'apiKey' | 'cookie' } | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim())?.[1] : undefined
  if (bearer) return { token: bearer, via: 'bearer' }
  const apiKey = headers.get('x-api-key')
  if (apiKey) return { token: apiKey, via: 'apiKey' }
  const cookie = cookieValue(headers.get('cookie'), COOKIE)
  return cookie ? { token: cookie, via: 'cookie' } : undefined
}

export const presentedToken = (headers: Headers): string | undefined => presentedCredential(headers)?.token

/**
 * Resolves the caller once per request, before the request's body, query and
 * path are validated: a stranger learns nothing about a route's schema.
 */
export function callerPlugin(store: Store, now: () => number, metrics: Metrics) {
  return new Elysia({ name: 'caller' }).derive({ as: 'scoped' }, async ({ request, set, status }) => {
    const presented = presentedCredential(request.headers)
    // Answered, not thrown: a refusal is the common case of a 401 storm, and an
    // exception (its stack, the error hook) costs twice the whole refusal.
    if (presented === undefined) {
      metrics.authFailure('missing')
      Object.assign(set.headers, BEARER_CHALLENGE)
      return status(401, { detail: NOT_AUTHENTICATED })
    }
    // The cookie is the one carrier a browser adds by itself, to requests another site's
    // page starts too (SameSite=Lax still lets a sibling subdomain's through): a change
    // it authenticates must come from vai's own origin. Checked before the token is
    // looked up, so a forged request does not even touch its lastUsedAt.
    if (presented.via === 'cookie' && STATE_CHANGING.has(request.method) && fromAnotherOrigin(request)) {
      return status(403, { detail: CROSS_SITE_DETAIL })
    }
    const result = await authenticate(store, presented.token, now())
    if ('refused' in result) {
      metrics.authFailure(result.refused)
      Object.assign(set.headers, BEARER_CHALLENGE)
      return status(401, { detail: INVALID_TOKEN })
    }
    return { caller: result.caller }
  })
}
