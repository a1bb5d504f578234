// --trusted-proxies in process: whose X-Forwarded-* count, and the one client address every
// step of a request reads (the cookie's Secure, the origin checks, the login limit, the log).
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { loadConfig, UsageError } from '../../src/config'
import type { AccessLogEntry } from '../../src/http/observe'
import { makeApp, PASSWORD, seedUser, type MakeAppOptions } from '../support/app'

// Login failures cost an argon2id check each.
setDefaultTimeout(30_000)

const PROXY = '127.0.0.1' // trusted by default
const STRANGER = '203.0.113.9' // any other peer

describe('hardening 11: --trusted-proxies', () => {
  describe('the flag', () => {
    test('default loopback; a comma-separated list, from the flag or VAI_TRUSTED_PROXIES', () => {
      expect(loadConfig([], {}).trustedProxies).toEqual(['127.0.0.0/8', '::1/128'])
      expect(loadConfig(['--trusted-proxies', ' 10.0.0.0/8, fd00::/8 '], {}).trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8'])
      expect(loadConfig([], { VAI_TRUSTED_PROXIES: '192.0.2.7' }).trustedProxies).toEqual(['192.0.2.7'])
      expect(loadConfig(['--trusted-proxies', ''], {}).trustedProxies).toEqual([])
    })

    test.each(['10.0.0.0/33', 'localhost', '*', '10.0.0.0/8;10.1.0.0/16'])('%p is refused: one line, exit 2', (value) => {
      expect(() => loadConfig(['--trusted-proxies', value], {})).toThrow(
        new UsageError(`invalid --trusted-proxies '${value}': expected CIDR blocks or addresses like 10.0.0.0/8,::1, separated by commas`),
      )
    })
  })

  describe('the cookie\'s Secure', () => {
    test.each([
      ['a trusted proxy', PROXY, '; Secure'],
      ['any other peer', STRANGER, ''],
    ])('X-Forwarded-Proto: https from %s → %p', async (_name, peer, secure) => {
      const t = makeApp()
      const ada = await seedUser(t)
      const reply = await t.post('/api/v1/auth/logout', { token: ada.plaintext, headers: { 'x-forwarded-proto': 'https' }, peer })
      expect(reply.status).toBe(204)
      expect(reply.headers.get('set-cookie')).toBe(`vai_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`)
    })
  })

  describe('the origin checks', () => {
    // A page on evil.example sends its own Origin; a forged X-Forwarded-Host would make it look like vai's own.
    const forged = { origin: 'https://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }

    test.each([
      ['a cookie-authenticated change', true],
      ['a login', false],
    ])('%s whose X-Forwarded-Host names the page\'s origin: believed from a trusted proxy, refused from anyone else', async (_name, withCookie) => {
      const t = makeApp()
      const ada = await seedUser(t)
      const send = (peer: string) => withCookie
        ? t.post('/api/v1/access-tokens', { token: ada.plaintext, via: 'cookie', body: { name: 'x' }, headers: forged, peer })
        : t.post('/api/v1/auth/login', { body: { email: ada.email, password: PASSWORD }, headers: forged, peer })
      const fromStranger = await send(STRANGER)
      expect(fromStranger.status).toBe(403)
      expect(fromStranger.body).toEqual({ detail: 'Cross-site request refused' })
      expect((await send(PROXY)).status).toBe(withCookie ? 201 : 200)
    })
  })

  describe('the per-client login limit', () => {
    const limited: MakeAppOptions = { loginLimits: { perAccount: 100, perClient: 2, windowMs: 5 * 60_000 } }
    const failFrom = (t: ReturnType<typeof makeApp>, peer: string, forwardedFor?: string) =>
      t.post('/api/v1/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' }, peer, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} })

    test('behind a trusted proxy, each client it forwards for is limited on its own', async () => {
      const t = makeApp(limited)
      for (let i = 0; i < 2; i++) expect((await failFrom(t, PROXY, '198.51.100.1')).status).toBe(401)
      expect((await failFrom(t, PROXY, '198.51.100.1')).status).toBe(429)
      expect((await failFrom(t, PROXY, '198.51.100.2')).status).toBe(401)
    })

    test('a peer that is not trusted cannot leave its count by forging X-Forwarded-For', async () => {
      const t = makeApp(limited)
      for (let i = 0; i < 2; i++) expect((await failFrom(t, STRANGER, `198.51.100.${i}`)).status).toBe(401)
      expect((await failFrom(t, STRANGER, '198.51.100.99')).status).toBe(429)
    })

    test('IPv6 clients are limited per /64: a new address in the same /64 buys nothing', async () => {
      const t = makeApp(limited)
      expect((await failFrom(t, '2001:db8:1:2::a')).status).toBe(401)
      expect((await failFrom(t, PROXY, '2001:db8:1:2:ffff::b')).status).toBe(401)
      expect((await failFrom(t, '2001:db8:1:2:1234:5678:9abc:def0')).status).toBe(429)
      expect((await failFrom(t, '2001:db8:1:3::a')).status).toBe(401)
    })
  })

  describe('the access log', () => {
    test.each([
      ['from a trusted proxy: the client it forwarded for', PROXY, '198.51.100.1'],
      ['from any other peer: the peer', STRANGER, STRANGER],
      ['an IPv4 client of a dual-stack socket', '::ffff:198.51.100.3', '198.51.100.3'],
      ['no peer known', null, 'unknown'],
    ])('%s', async (_name, peer, client) => {
      const entries: AccessLogEntry[] = []
      const t = makeApp({ log: (entry) => entries.push(entry) })
      await t.get('/healthz', { peer, headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.1' } })
      await new Promise((resolve) => setImmediate(resolve))
      expect(entries.map((entry) => entry.client)).toEqual([client])
    })

    test('with --trusted-proxies empty, even loopback is only a peer', async () => {
      const entries: AccessLogEntry[] = []
      const t = makeApp({ trustedProxies: [], log: (entry) => entries.push(entry) })
      await t.get('/healthz', { peer: PROXY, headers: { 'x-forwarded-for': '198.51.100.1' } })
      await new Promise((resolve) => setImmediate(resolve))
      expect(entries.map((entry) => entry.client)).toEqual([PROXY])
    })
  })
})
