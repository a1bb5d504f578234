// Where a request carries its token, and the cookie a login leaves in a browser.

/** The session cookie's name: login sets it, the console's requests carry it. */
export const SESSION_COOKIE = 'vai_token'

const BEARER = /^bearer(?:\s+(.*))?$/i

/** The values of a cookie in a Cookie header, in the order sent: none, one, or (planted beside it) more. */
export function cookieValues(header: string | null, name: string): string[] {
  if (!header) return []
  const values: string[] = []
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim())
  }
  return values
}

export type Carrier = 'bearer' | 'apiKey' | 'cookie'

/**
 * What a request presents: a token and the carrier it came in, or, when the carrier is
 * the cookie and the request names `vai_token` more than once, no token it could
 * choose. A page on a sibling subdomain can plant a second `vai_token` (for the parent
 * domain, or a longer path, which browsers send first); taking either one would let it
 * sign a visitor's console into the planter's account.
 */
export type Presented = { token: string; via: Carrier } | { via: 'cookie'; ambiguous: true }

/**
 * The token a request presents: the first non-empty carrier of Authorization:
 * Bearer, X-API-Key, then the session cookie. Another Authorization scheme
 * (Basic from a proxy, say) is not a carrier, and neither is a Bearer with no
 * token after it (FastAPI's HTTPBearer reads that as no credential too).
 * The cookie header is read only when no header carries a token; it is the carrier
 * when one of its `vai_token` values is non-empty.
 */
export function presentedCredential(headers: Headers): Presented | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim())?.[1] : undefined
  if (bearer) return { token: bearer, via: 'bearer' }
  const apiKey = headers.get('x-api-key')
  if (apiKey) return { token: apiKey, via: 'apiKey' }
  const cookies = cookieValues(headers.get('cookie'), SESSION_COOKIE)
  if (!cookies.some((value) => value !== '')) return undefined
  return cookies.length === 1 ? { token: cookies[0]!, via: 'cookie' } : { via: 'cookie', ambiguous: true }
}

/**
 * True when an Authorization header that is no carrier holds a vai token anyway
 * (`Authorization: vai_…`, `Authorization: Token vai_…`): the client meant Bearer, and
 * the 401 says so.
 */
export function tokenWithoutBearer(headers: Headers): boolean {
  const authorization = headers.get('authorization')
  return authorization !== null && TOKEN_WITHOUT_SCHEME.test(authorization)
}

// The header's last word looks like a token (vai_ and base62): alone, or after a scheme word other than Bearer.
const TOKEN_WITHOUT_SCHEME = /^\s*(?:\S+\s+)?vai_[0-9A-Za-z]+\s*$/

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

/** How the session cookie is scoped, the same for the cookie that hands it out and the one that takes it back. */
export interface CookieScope {
  secure: boolean
  /** `--cookie-domain`: the cookie goes to this domain and its subdomains; without it, to this host only. */
  domain: string | null
}

/**
 * The Set-Cookie value that hands a browser its session, or (empty, 0 seconds) takes it
 * back. A clearing cookie must name the same Domain: a browser keys cookies by name, domain
 * and path, so one without it would leave the domain-wide session in place.
 */
export function sessionCookie(value: string, maxAgeSeconds: number, { secure, domain }: CookieScope): string {
  return `${SESSION_COOKIE}=${value}; Path=/${domain ? `; Domain=${domain}` : ''}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`
}
