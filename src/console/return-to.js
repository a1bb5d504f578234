// Where the console goes after sign-in when its address says ?rd=<url>: a proxy in front
// of an app on the cookie's domain sends a signed-out visitor here, and back after. Pure, so
// that Bun table-tests it as it is; a module of console.js.

// Whitespace (ASCII and Unicode), control characters and backslashes: the URL parser would
// drop or rewrite them (`https:\\evil.com` is `https://evil.com`), so they are refused before it.
const SUSPECT = /[\s\u0000-\u001f\u007f-\u009f\\]/u

/**
 * The URL to go to, or null to stay in the console. Only an absolute http: or https: URL
 * without user info whose host is `cookieDomain` or below it (a whole label: not
 * `evil-example.com`, not `example.com.evil.net`); any port. Without a cookie domain there
 * is nowhere the session would follow, so nothing is.
 * @param {string | null | undefined} rd the raw `rd` parameter
 * @param {string | null | undefined} cookieDomain the server's `--cookie-domain`, lower case
 * @returns {string | null}
 */
export function returnTo(rd, cookieDomain) {
  if (!cookieDomain || typeof rd !== 'string' || rd === '' || SUSPECT.test(rd)) return null
  let url
  try {
    // No base: a relative or scheme-relative address (`//evil.com`, `/path`) throws.
    url = new URL(rd)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (url.username !== '' || url.password !== '') return null
  const host = url.hostname
  if (host !== cookieDomain && !host.endsWith(`.${cookieDomain}`)) return null
  return url.href
}
