import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { loadConfig, UsageError } from '../../src/config'
import { makeApp, PASSWORD, seedUser } from '../support/app'

// Each login costs an argon2id check.
setDefaultTimeout(30_000)

const REFUSED = 'expected a host name like example.com (no scheme, port, path or IP address; two labels at least)'

describe('--cookie-domain', () => {
  describe('the flag', () => {
    test('default none; from the flag or VAI_COOKIE_DOMAIN, the flag winning', () => {
      expect(loadConfig([], {}).cookieDomain).toBeNull()
      expect(loadConfig(['--cookie-domain', 'example.com'], {}).cookieDomain).toBe('example.com')
      expect(loadConfig([], { VAI_COOKIE_DOMAIN: 'example.org' }).cookieDomain).toBe('example.org')
      expect(loadConfig(['--cookie-domain', 'example.com'], { VAI_COOKIE_DOMAIN: 'example.org' }).cookieDomain).toBe('example.com')
      expect(loadConfig([], { VAI_COOKIE_DOMAIN: '' }).cookieDomain).toBeNull()
    })

    test.each([
      ['example.com', 'example.com'],
      ['.example.com', 'example.com'],
      ['Auth.Example.COM', 'auth.example.com'],
      [' example.com ', 'example.com'],
      ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
      ['a-b.example.co.uk', 'a-b.example.co.uk'],
    ])('%p → %p', (value, domain) => {
      expect(loadConfig(['--cookie-domain', value], {}).cookieDomain).toBe(domain)
    })

    test.each([
      'localhost', 'com', '127.0.0.1', '10.0.0.1', '::1', '[::1]', 'example.com:8443', 'https://example.com',
      'example.com/', 'example.com/app', 'example.com.', 'a..example.com', 'exa_mple.com', 'example-.com',
      '*.example.com', 'user@example.com', 'example.com;evil.com',
    ])('%p is refused: one line, exit 2', (value) => {
      expect(() => loadConfig(['--cookie-domain', value], {})).toThrow(new UsageError(`invalid --cookie-domain '${value}': ${REFUSED}`))
    })

    test('the environment twin is refused the same way', () => {
      expect(() => loadConfig([], { VAI_COOKIE_DOMAIN: '192.0.2.1' })).toThrow(new UsageError(`invalid VAI_COOKIE_DOMAIN '192.0.2.1': ${REFUSED}`))
    })
  })

  describe('the session cookie', () => {
    const SCOPES = [
      ['without the flag', undefined, 'false', ''],
      ['with it', 'example.com', 'false', '; Domain=example.com'],
      ['with it, Secure too', 'example.com', 'true', '; Domain=example.com'],
    ] as const

    test.each(SCOPES)('login %s: Set-Cookie has the Domain', async (_name, cookieDomain, cookieSecure, domain) => {
      const t = makeApp({ cookieDomain: cookieDomain ?? null, cookieSecure })
      await seedUser(t, { email: 'ada@example.com' })
      const reply = await t.post('/api/v1/auth/login', { body: { email: 'ada@example.com', password: PASSWORD } })
      expect(reply.status).toBe(200)
      expect(reply.headers.get('set-cookie')).toBe(
        `vai_token=${reply.body.plaintext}; Path=/${domain}; HttpOnly; SameSite=Lax; Max-Age=2592000${cookieSecure === 'true' ? '; Secure' : ''}`,
      )
    })

    // A clearing cookie without the Domain would be another cookie: the domain-wide session would stay.
    test.each(SCOPES)('logout %s: the clearing cookie has the same Domain', async (_name, cookieDomain, cookieSecure, domain) => {
      const t = makeApp({ cookieDomain: cookieDomain ?? null, cookieSecure })
      const ada = await seedUser(t)
      const reply = await t.post('/api/v1/auth/logout', { token: ada.plaintext, via: 'cookie' })
      expect(reply.status).toBe(204)
      expect(reply.headers.get('set-cookie')).toBe(
        `vai_token=; Path=/${domain}; HttpOnly; SameSite=Lax; Max-Age=0${cookieSecure === 'true' ? '; Secure' : ''}`,
      )
    })
  })
})
