import { Elysia } from 'elysia'
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
export function presentedToken(headers: Headers): string | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim()) : null
  return bearer?.[1] || headers.get('x-api-key') || cookieValue(headers.get('cookie'), COOKIE) || undefined
}

/**
 * Resolves the caller once per request, before the request's body, query and
 * path are validated: a stranger learns nothing about a route's schema.
 */
export function callerPlugin(store: Store, now: () => number, metrics: Metrics) {
  return new Elysia({ name: 'caller' }).derive({ as: 'scoped' }, async ({ request, set, status }) => {
    const plaintext = presentedToken(request.headers)
    // Answered, not thrown: a refusal is the common case of a 401 storm, and an
    // exception (its stack, the error hook) costs twice the whole refusal.
    if (plaintext === undefined) {
      metrics.authFailure('missing')
      set.headers['www-authenticate'] = 'Bearer'
      return status(401, { detail: 'Not authenticated' })
    }
    const result = await authenticate(store, plaintext, now())
    if ('refused' in result) {
      metrics.authFailure(result.refused)
      set.headers['www-authenticate'] = 'Bearer'
      return status(401, { detail: 'Invalid or expired token' })
    }
    return { caller: result.caller }
  })
}
