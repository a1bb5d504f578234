// CORS (closed unless origins are listed, never with credentials) and the same-origin rule
// for what a browser can send on its own: the cookie, and login/signup.
import { beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig, UsageError } from '../../src/config'
import { makeApp, PASSWORD, seedToken, seedUser, uniqueEmail, type Seeded, type TestApp } from '../support/app'

const LISTED = 'https://app.example.com'
const STRANGER = 'https://evil.example'
const REFUSED = { detail: 'Cross-site request refused' }

const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith('access-control-'))

describe('CORS, closed by default', () => {
  const t = makeApp()

  test('a request from another origin gets no Access-Control-* header', async () => {
    const reply = await t.get('/healthz', { headers: { origin: STRANGER } })
    expect(reply.status).toBe(200)
    expect(corsHeaders(reply.headers)).toEqual([])
  })

  test('its preflight gets the plain OPTIONS answer and no allowance', async () => {
    const reply = await t.request('OPTIONS', '/api/v1/access-tokens', {
      headers: { origin: STRANGER, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    })
    expect(reply.status).toBe(204)
    expect(reply.headers.get('allow')).toContain('POST')
    expect(corsHeaders(reply.headers)).toEqual([])
  })
})

describe('CORS with --cors-origins', () => {
  const t = makeApp({ corsOrigins: [LISTED] })
  let alice: Seeded
  beforeAll(async () => {
    alice = await seedUser(t)
  })

  test('a listed origin may read responses, with a token header, never with credentials', async () => {
    const reply = await t.get('/api/v1/auth/me', { token: alice.plaintext, headers: { origin: LISTED } })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('access-control-allow-origin')).toBe(LISTED)
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull()
    expect(reply.headers.get('access-control-expose-headers')).toContain('retry-after')
    expect(reply.headers.get('vary')).toBe('Origin')
  })

  test('errors carry the allowance too, so the listed page can read them', async () => {
    const reply = await t.get('/api/v1/auth/me', { headers: { origin: LISTED } })
    expect(reply.status).toBe(401)
    expect(reply.headers.get('access-control-allow-origin')).toBe(LISTED)
  })

  test("a listed origin's preflight → 204 with the path's methods and the token headers", async () => {
    const reply = await t.request('OPTIONS', '/api/v1/access-tokens', {
      headers: { origin: LISTED, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization, content-type' },
    })
    expect(reply.status).toBe(204)
    expect(reply.headers.get('access-control-allow-origin')).toBe(LISTED)
    const methods = (reply.headers.get('access-control-allow-methods') ?? '').split(', ').sort()
    expect(methods).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST'])
    expect(reply.headers.get('access-control-allow-methods')).toBe(reply.headers.get('allow'))
    expect(reply.headers.get('access-control-allow-headers')).toBe('authorization, x-api-key, content-type, x-request-id')
    expect(reply.headers.get('access-control-max-age')).toBe('600')
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull()
  })

  test.each([[STRANGER], ['https://app.example.com.evil.example'], ['http://app.example.com'], ['https://app.example.com:8443'], ['null']])(
    'origin %s, not listed: no allowance, for a request or a preflight',
    async (origin) => {
      const request = await t.get('/api/v1/auth/me', { token: alice.plaintext, headers: { origin } })
      expect(corsHeaders(request.headers)).toEqual([])
      expect(request.headers.get('vary')).toBe('Origin')
      const preflight = await t.request('OPTIONS', '/api/v1/auth/me', { headers: { origin, 'access-control-request-method': 'GET' } })
      expect(preflight.status).toBe(204)
      expect(corsHeaders(preflight.headers)).toEqual([])
    },
  )

  test('a preflight for an unknown path is still a 404', async () => {
    const reply = await t.request('OPTIONS', '/api/v1/nope', { headers: { origin: LISTED, 'access-control-request-method': 'GET' } })
    expect(reply.status).toBe(404)
    expect(reply.body).toEqual({ detail: 'Not Found' })
  })
})

describe('--cors-origins and VAI_CORS_ORIGINS', () => {
  test('a comma-separated list, trimmed, lower-cased, without a trailing slash', () => {
    expect(loadConfig(['--cors-origins', ' https://App.example.com/, http://localhost:5173 '], {}).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ])
    expect(loadConfig([], { VAI_CORS_ORIGINS: 'https://a.example' }).corsOrigins).toEqual(['https://a.example'])
    expect(loadConfig([], {}).corsOrigins).toEqual([])
  })

  test.each([['*'], ['https://a.example/path'], ['a.example'], ['ftp://a.example'], ['https://*.example.com']])('%p is refused', (value) => {
    expect(() => loadConfig(['--cors-origins', value], {})).toThrow(UsageError)
  })
})

// Each state-changing route a cookie can authenticate.
const CHANGES: [method: string, path: string, body?: unknown][] = [
  ['POST', '/api/v1/access-tokens', { name: 'forged' }],
  ['DELETE', '/api/v1/access-tokens'],
  ['DELETE', '/api/v1/access-tokens/{own}'],
  ['POST', '/api/v1/auth/logout'],
]

const CROSS_SITE: [string, Record<string, string>][] = [
  ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
  ['Sec-Fetch-Site: cross-site with a forged same Origin', { 'sec-fetch-site': 'cross-site', origin: 'http://localhost' }],
  ['only Origin, another site', { origin: STRANGER }],
  ['only Origin, another port', { origin: 'http://localhost:8080' }],
  ['only Origin, https for an http server', { origin: 'https://localhost' }],
  ['Origin: null (a sandboxed frame, a data: URL)', { origin: 'null' }],
]

const SAME_ORIGIN: [string, Record<string, string>][] = [
  ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' }],
  ['Sec-Fetch-Site: none (typed by the user)', { 'sec-fetch-site': 'none' }],
  ['only Origin, the same', { origin: 'http://localhost' }],
  ['neither (curl, a script: not a browser page)', {}],
]

describe('state-changing requests authenticated by the cookie', () => {
  let t: TestApp
  let alice: Seeded
  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t)
  })

  const send = async (method: string, path: string, body: unknown, options: { token: string; via: 'cookie' | 'bearer' | 'apiKey'; headers: Record<string, string> }) => {
    // A token of its own per request: logout and revoke-all must not spoil the next row.
    const own = await seedToken(t, alice.user.id, { tokenType: 'session' })
    const token = options.token === 'own' ? own.plaintext : options.token
    return { own, reply: await t.request(method, path.replace('{own}', own.token.id), { body, token, via: options.via, headers: options.headers }) }
  }

  test.each(CHANGES.flatMap(([method, path, body]) => CROSS_SITE.map(([why, headers]) => [method, path, why, headers, body] as const)))(
    '%s %s from another origin (%s) → 403, and nothing changes',
    async (method, path, _why, headers, body) => {
      const tokens = () => t.store.listTokens(alice.user.id, { includeRevoked: true, limit: 200 })
      const revoked = async () => (await tokens()).filter((token) => token.revokedAt !== null).length
      const [countBefore, revokedBefore] = [(await tokens()).length, await revoked()]
      const { own, reply } = await send(method, path, body, { token: 'own', via: 'cookie', headers })
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual(REFUSED)
      expect(reply.headers.get('content-type')).toStartWith('application/json')
      // Only the token this row seeded is new; none was revoked; the cookie's still works.
      expect((await tokens()).length).toBe(countBefore + 1)
      expect(await revoked()).toBe(revokedBefore)
      expect((await t.get('/api/v1/auth/me', { token: own.plaintext })).status).toBe(200)
    },
  )

  test.each(CHANGES.flatMap(([method, path, body]) => SAME_ORIGIN.map(([why, headers]) => [method, path, why, headers, body] as const)))(
    '%s %s from the same origin (%s) is allowed',
    async (method, path, _why, headers, body) => {
      const { reply } = await send(method, path, body, { token: 'own', via: 'cookie', headers })
      expect(reply.status).toBeLessThan(300)
    },
  )

  test.each(CHANGES.flatMap(([method, path, body]) => (['bearer', 'apiKey'] as const).map((via) => [method, path, via, body] as const)))(
    '%s %s with %s from another site is unaffected: a page cannot add that header itself',
    async (method, path, via, body) => {
      const { reply } = await send(method, path, body, { token: 'own', via, headers: { 'sec-fetch-site': 'cross-site', origin: STRANGER } })
      expect(reply.status).toBeLessThan(300)
    },
  )

  // Revoke-all rows above revoked alice's first session: each test below takes a fresh token.
  const fresh = async () => (await seedToken(t, alice.user.id)).plaintext

  test('a Bearer token beside a cookie is the carrier: unaffected', async () => {
    const token = await fresh()
    const reply = await t.post('/api/v1/access-tokens', {
      body: { name: 'both' },
      token,
      headers: { cookie: `vai_token=${token}`, 'sec-fetch-site': 'cross-site' },
    })
    expect(reply.status).toBe(201)
  })

  test('reading with the cookie from another site is allowed (CORS keeps the answer from that page)', async () => {
    const reply = await t.get('/api/v1/auth/me', { token: await fresh(), via: 'cookie', headers: { 'sec-fetch-site': 'cross-site', origin: STRANGER } })
    expect(reply.status).toBe(200)
    expect(corsHeaders(reply.headers)).toEqual([])
  })

  test('a cross-site change with no credential at all is the usual 401', async () => {
    const reply = await t.post('/api/v1/access-tokens', { body: { name: 'x' }, headers: { 'sec-fetch-site': 'cross-site' } })
    expect(reply.status).toBe(401)
  })

  test.each([
    ['behind a TLS proxy', 'http://127.0.0.1:3000', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'vai.example.com', origin: 'https://vai.example.com' }, 201],
    ['behind a TLS proxy that passes Host', 'http://127.0.0.1:3000', { 'x-forwarded-proto': 'https', host: 'vai.example.com', origin: 'https://vai.example.com' }, 201],
    ['the default port written out in Host', 'http://127.0.0.1:3000', { 'x-forwarded-proto': 'https', host: 'vai.example.com:443', origin: 'https://vai.example.com' }, 201],
    ['a non-default port', 'http://localhost:8080', { origin: 'http://localhost:8080' }, 201],
    ['the proxy says https, the page was http', 'http://127.0.0.1:3000', { 'x-forwarded-proto': 'https', host: 'vai.example.com', origin: 'http://vai.example.com' }, 403],
  ])('Origin against the address the client used: %s', async (_name, base, headers, status) => {
    const reply = await t.request('POST', '/api/v1/access-tokens', { origin: base, body: { name: 'proxied' }, token: await fresh(), via: 'cookie', headers })
    expect(reply.status).toBe(status)
  })
})

describe('login and signup from another site (login CSRF)', () => {
  const t = makeApp({ corsOrigins: [LISTED] })
  let email: string
  beforeAll(async () => {
    email = (await seedUser(t)).email
  })

  test.each([
    ['login', '/api/v1/auth/login', () => ({ email, password: PASSWORD })],
    ['signup', '/api/v1/auth/signup', () => ({ email: uniqueEmail(), password: PASSWORD })],
  ])('%s from another site → 403, no cookie set', async (_name, path, body) => {
    const fromElsewhere: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site', origin: STRANGER }, { origin: STRANGER }, { 'sec-fetch-site': 'same-site' }]
    for (const headers of fromElsewhere) {
      const reply = await t.post(path, { body: body(), headers })
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual(REFUSED)
      expect(reply.headers.get('set-cookie')).toBeNull()
    }
  })

  test('refused before validation: the body is not even looked at', async () => {
    const reply = await t.post('/api/v1/auth/login', { body: { nope: 1 }, headers: { 'sec-fetch-site': 'cross-site' } })
    expect(reply.status).toBe(403)
  })

  test.each([
    ['the same origin', { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' }],
    ['a listed CORS origin (its script gets the token in the body)', { 'sec-fetch-site': 'cross-site', origin: LISTED }],
    ['no browser at all', {}],
  ])('login from %s is allowed', async (_name, headers) => {
    const reply = await t.post('/api/v1/auth/login', { body: { email, password: PASSWORD }, headers })
    expect(reply.status).toBe(200)
  })
})
