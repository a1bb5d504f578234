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

const BASIC_SCHEME = /^\s*basic\s/i
const BASIC = /^basic\s+(\S+)\s*$/i

/**
 * The token in `Authorization: Basic`, for verify and introspect: tools that only speak
 * Basic (and OAuth's client_secret_basic) send it as the password, under any user name.
 * Each half is form-urlencoded (RFC 6749 §2.3.1), so the password is percent-decoded.
 * Undefined when there is no Basic credential or its password is empty, which is no
 * carrier at all; what cannot be decoded is handed on as it came, to be refused as malformed.
 */
export function basicPassword(authorization: string | null): string | undefined {
  // The common case, Bearer, leaves at the first test without a copy of the header.
  if (!authorization || !BASIC_SCHEME.test(authorization)) return undefined
  const encoded = BASIC.exec(authorization.trim())?.[1]
  if (encoded === undefined) return undefined
  let pair: string
  try {
    pair = atob(encoded)
  } catch {
    return encoded
  }
  const colon = pair.indexOf(':')
  const password = colon === -1 ? '' : pair.slice(colon + 1)
  if (password === '') return undefined
  try {
    return decodeURIComponent(password.replaceAll('+', ' '))
  } catch {
    return password
  }
}

/** The Set-Cookie value that hands a browser its session, or (empty, 0 seconds) takes it back. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`
}
