// Where a request carries its token, and the cookie a login leaves in a browser.

/** The session cookie's name: login sets it, the console's requests carry it. */
export const SESSION_COOKIE = 'vai_token'

const BEARER = /^bearer(?:\s+(.*))?$/i

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}

export type Carrier = 'bearer' | 'apiKey' | 'cookie'

/**
 * The token a request presents: the first non-empty carrier of Authorization:
 * Bearer, X-API-Key, then the session cookie. Another Authorization scheme
 * (Basic from a proxy, say) is not a carrier, and neither is a Bearer with no
 * token after it (FastAPI's HTTPBearer reads that as no credential too).
 * The cookie header is read only when no header carries a token.
 */
export function presentedCredential(headers: Headers): { token: string; via: Carrier } | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim())?.[1] : undefined
  if (bearer) return { token: bearer, via: 'bearer' }
  const apiKey = headers.get('x-api-key')
  if (apiKey) return { token: apiKey, via: 'apiKey' }
  const cookie = cookieValue(headers.get('cookie'), SESSION_COOKIE)
  return cookie ? { token: cookie, via: 'cookie' } : undefined
}

/** The Set-Cookie value that hands a browser its session, or (empty, 0 seconds) takes it back. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`
}
