import { Elysia } from 'elysia'
import { httpError } from '../errors'
import { clientOf } from './forwarded'

// What a browser is told about every response, errors and 404s included. Nothing vai
// serves is meant to be framed, sniffed into another type, or to leak where it came from.
//
// Referrer-Policy is `same-origin`: like `no-referrer`, nothing (not even vai's host
// name) reaches another site, but a browser keeps the real `Origin` on vai's own POSTs
// and DELETEs — under `no-referrer` it sends `Origin: null` there, which the cross-site
// check below could not tell from an attack in a browser without Sec-Fetch-Site.
const ALWAYS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // JSON, assets and errors: nothing may run, load or frame. HTML pages replace it.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const

/**
 * The policy of an HTML page vai serves (Swagger UI, the console): scripts, styles and
 * fetches from vai itself only, no inline script or style, no plugins, no framing.
 * `data:` images: Swagger UI's stylesheet draws its icons as data: URIs.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

// Headers a listed origin's script may send and read; the carriers vai accepts besides the cookie.
const ALLOWED_HEADERS = 'authorization, x-api-key, content-type, x-request-id'
const EXPOSED_HEADERS = 'x-request-id, retry-after, www-authenticate, vai-token-expires'

/**
 * Security headers on every response, and CORS for the origins in `corsOrigins` only.
 * CORS never allows credentials: a listed origin's script calls vai with a token in
 * Authorization or X-API-Key, and the session cookie stays vai's own. An origin not
 * listed gets no Access-Control-* header at all, so its preflight fails in the browser.
 * A preflight itself is answered by the error renderer's OPTIONS branch (204 + Allow),
 * which repeats Allow as Access-Control-Allow-Methods when an origin was let in here.
 */
export function browserSecurity(corsOrigins: readonly string[]) {
  const listed = new Set(corsOrigins)
  // Default headers, not a hook: Elysia starts every response's headers from them.
  const plugin = new Elysia({ name: 'browser-security' })
    .headers(ALWAYS)
    // Decided by what a route returns, so that no HTML page can forget its policy.
    .onAfterHandle({ as: 'global' }, ({ response, set }) => {
      if (response instanceof Response && response.headers.get('content-type')?.startsWith('text/html')) {
        set.headers['content-security-policy'] = PAGE_CSP
      }
    })
  // With CORS closed (the default), no request pays for it.
  if (listed.size === 0) return plugin
  return plugin.onRequest(({ request, set }) => {
    // The answer depends on Origin once CORS is on: caches must keep them apart.
    set.headers.vary = 'Origin'
    const origin = request.headers.get('origin')
    if (origin === null || !listed.has(origin)) return
    set.headers['access-control-allow-origin'] = origin
    if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
      set.headers['access-control-allow-headers'] = ALLOWED_HEADERS
      set.headers['access-control-max-age'] = '600'
    } else {
      set.headers['access-control-expose-headers'] = EXPOSED_HEADERS
    }
  })
}

/** True when the client's request came over HTTPS: to vai, or to a trusted proxy that says so. */
export const isHttps = (request: Request): boolean => clientOf(request).https

/**
 * The origin the client addressed, as a browser writes it in `Origin` (no default
 * port): the scheme and host a trusted proxy forwarded, else the connection's and
 * `Host`. A page cannot set X-Forwarded-* on a cross-site request without a preflight,
 * which vai refuses to every unlisted origin; from an untrusted peer they count for nothing.
 */
export function ownOrigin(request: Request): string {
  const { https, host } = clientOf(request)
  const scheme = https ? 'https' : 'http'
  const defaultPort = https ? ':443' : ':80'
  return `${scheme}://${host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host}`
}

/**
 * True when a browser sent this request from another origin. Sec-Fetch-Site is the
 * browser's own verdict and wins (`same-site`, a sibling subdomain, is another origin
 * and exactly what SameSite=Lax lets through); without it, Origin is compared with the
 * origin addressed. A request with neither is not from a browser page: a CLI or a
 * server cannot be tricked into sending someone else's cookie.
 */
export function fromAnotherOrigin(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site')
  if (site !== null) return site !== 'same-origin' && site !== 'none'
  const origin = request.headers.get('origin')
  return origin !== null && origin.toLowerCase() !== ownOrigin(request)
}

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Login and signup answer a browser only from vai's own pages or a listed CORS origin:
 * a page elsewhere could otherwise log a visitor into the attacker's account (login
 * CSRF), whose session the visitor would then fill with tokens. Runs before validation,
 * so a refused request learns nothing about the body's schema.
 */
export function sameOriginEntry(corsOrigins: readonly string[]) {
  const listed = new Set(corsOrigins)
  return new Elysia({ name: 'same-origin-entry' }).onTransform({ as: 'scoped' }, ({ request }) => {
    if (fromAnotherOrigin(request) && !listed.has(request.headers.get('origin') ?? '')) throw httpError('crossSite')
  })
}
