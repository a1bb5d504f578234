import { Elysia } from 'elysia'
import { invalidToken, notAuthenticated } from '../errors'
import type { Metrics } from '../metrics'
import type { Store } from '../store/store'
import { authenticate } from './tokens'

const BEARER = /^bearer(?:\s+(.*))?$/i

/**
 * The token a request presents: the first non-empty carrier of Authorization:
 * Bearer, X-API-Key, then the vai_token cookie. Another Authorization scheme
 * (Basic from a proxy, say) is not a carrier, and neither is a Bearer with no
 * token after it (FastAPI's HTTPBearer reads that as no credential too).
 */
export function presentedToken(headers: Headers, cookieToken: string | undefined): string | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim()) : null
  return bearer?.[1] || headers.get('x-api-key') || cookieToken || undefined
}

/**
 * Resolves the caller once per request, before the request's body, query and
 * path are validated: a stranger learns nothing about a route's schema.
 */
export function callerPlugin(store: Store, now: () => number, metrics: Metrics) {
  return new Elysia({ name: 'caller' }).derive({ as: 'scoped' }, async ({ request, cookie }) => {
    const plaintext = presentedToken(request.headers, cookie.vai_token?.value as string | undefined)
    if (plaintext === undefined) {
      metrics.authFailure('missing')
      throw notAuthenticated()
    }
    const result = await authenticate(store, plaintext, now())
    if ('refused' in result) {
      metrics.authFailure(result.refused)
      throw invalidToken()
    }
    return { caller: result.caller }
  })
}
