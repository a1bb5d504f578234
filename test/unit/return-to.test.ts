// The console's ?rd= rule, table-tested on the very file the browser loads.
import { describe, expect, test } from 'bun:test'
import { returnTo } from '../../src/console/return-to.js'

const DOMAIN = 'example.com'

describe('returnTo: where the console goes after sign-in', () => {
  test.each([
    ['https://example.com/', 'https://example.com/'],
    ['https://app.example.com/deploy?x=1#top', 'https://app.example.com/deploy?x=1#top'],
    ['http://app.example.com/', 'http://app.example.com/'],
    ['https://a.b.example.com', 'https://a.b.example.com/'],
    // A port on the right host is the same app behind another listener.
    ['https://app.example.com:8443/x', 'https://app.example.com:8443/x'],
    // The parser lower-cases the host and encodes the path: what is followed is what was checked.
    ['https://APP.Example.COM/a%20b', 'https://app.example.com/a%20b'],
    ['https://app.example.com/#@evil.com', 'https://app.example.com/#@evil.com'],
  ])('%p → %p', (rd, url) => {
    expect(returnTo(rd, DOMAIN)).toBe(url)
  })

  test.each([
    // Another host, or one that only looks like it.
    'https://evil.com/',
    'https://evil-example.com/',
    'https://notexample.com/',
    'https://example.com.evil.net/',
    'https://example.co/',
    'https://example.com%2eevil.net/',
    'https://app.example.com./',
    'https://[::1]/',
    'https://127.0.0.1/',
    // Not absolute: scheme-relative, path-relative, backslash tricks.
    '//evil.com',
    '//example.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/path',
    'app.example.com',
    'https:\\\\evil.com',
    'https:/\\evil.com',
    'https:evil.com',
    // Other schemes.
    'javascript:alert(document.cookie)',
    'JavaScript://example.com/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://app.example.com/',
    'ws://app.example.com/',
    'file://example.com/etc/passwd',
    // User info: the host is what follows @, and no one should be shown a name either way.
    'https://example.com@evil.com/',
    'https://evil.com\\@example.com/',
    'https://user:pass@app.example.com/',
    'https://user@app.example.com/',
    // Whitespace and control characters, which the parser would quietly drop.
    ' https://app.example.com/',
    'https://app.example.com/ ',
    'https://app.exa\tmple.com/',
    'https://app.example.com/\n',
    'java\nscript:alert(1)',
    'https://app.example.com/\u0000',
    'https://app.example.com/\u00a0',
    'https://app.example.com/\u2028',
    // Nothing at all.
    '',
  ])('%p → stay', (rd) => {
    expect(returnTo(rd, DOMAIN)).toBeNull()
  })

  test.each([null, undefined, ''])('without a cookie domain (%p) every rd is ignored', (cookieDomain) => {
    expect(returnTo('https://app.example.com/', cookieDomain)).toBeNull()
  })

  test('no rd is no return', () => {
    expect(returnTo(null, DOMAIN)).toBeNull()
    expect(returnTo(undefined, DOMAIN)).toBeNull()
  })
})
