// Request ids, the access log and /metrics.
import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { accessLog, type AccessLogEntry } from '../../src/http/observe'
import { generateToken } from '../../src/auth/token-format'
import { DAY_MS } from '../../src/auth/tokens'
import { INVALID_TOKEN, login, makeApp, NOT_AUTHENTICATED, PASSWORD, seedToken, seedUser, signup, UUID, uniqueEmail } from '../support/app'

// The log is written once the response is out, a moment after app.handle returns.
const afterResponses = () => new Promise((resolve) => setImmediate(resolve))

function recorded(options: Parameters<typeof makeApp>[0] = {}) {
  const entries: AccessLogEntry[] = []
  const t = makeApp({ ...options, log: (entry) => entries.push(entry) })
  return { t, entries }
}

describe('X-Request-Id', () => {
  test.each([
    ['a success', 'GET', '/healthz', 200],
    ['an unknown route', 'GET', '/nope', 404],
    ['a wrong method', 'PUT', '/healthz', 405],
    ['no credential', 'GET', '/api/v1/auth/me', 401],
  ])('is on %s', async (_name, method, path, status) => {
    const { t } = recorded()
    const reply = await t.request(method, path)
    expect(reply.status).toBe(status)
    expect(reply.headers.get('x-request-id')).toMatch(UUID)
  })

  test('a sane incoming id is kept, others are replaced', async () => {
    const { t } = recorded()
    expect((await t.get('/healthz', { headers: { 'x-request-id': 'edge-42.a:b_c' } })).headers.get('x-request-id')).toBe('edge-42.a:b_c')
    for (const insane of ['has space', 'x'.repeat(129), 'semi;colon', 'quote"d']) {
      expect((await t.get('/healthz', { headers: { 'x-request-id': insane } })).headers.get('x-request-id')).toMatch(UUID)
    }
  })
})

describe('access log', () => {
  test('one entry per request: method, route template, status, duration, request id, user', async () => {
    const { t, entries } = recorded()
    const seeded = await seedUser(t)
    const { token } = await seedToken(t, seeded.user.id)
    await t.get(`/api/v1/access-tokens/${token.id}`, { token: seeded.plaintext, headers: { 'x-request-id': 'req-1' } })
    await t.get('/nope/deeper?secret=1')
    await afterResponses()
    expect(entries).toEqual([
      { time: expect.stringMatching(/Z$/), method: 'GET', route: '/api/v1/access-tokens/:token_id', status: 200, durationMs: expect.any(Number), requestId: 'req-1', userId: seeded.user.id, client: '127.0.0.1' },
      { time: expect.stringMatching(/Z$/), method: 'GET', route: '(unmatched)', status: 404, durationMs: expect.any(Number), requestId: expect.stringMatching(UUID), userId: null, client: '127.0.0.1' },
    ])
  })

  test('plain and JSON lines', () => {
    const lines: string[] = []
    const entry: AccessLogEntry = { time: '2026-11-30T09:14:03.512Z', method: 'GET', route: '/healthz', status: 200, durationMs: 0.42, requestId: 'r1', userId: null, client: '203.0.113.7' }
    accessLog('plain', (line) => lines.push(line))(entry)
    accessLog('json', (line) => lines.push(line))(entry)
    expect(lines).toEqual([
      '2026-11-30T09:14:03.512Z GET /healthz 200 0.42ms id=r1 user=- client=203.0.113.7\n',
      `${JSON.stringify(entry)}\n`,
    ])
  })

  test('no plaintext token, digest, password or cookie value ever reaches it, whatever the request', async () => {
    const lines: string[] = []
    const t = makeApp({ log: (entry) => { accessLog('plain', (line) => lines.push(line))(entry); accessLog('json', (line) => lines.push(line))(entry) } })
    const email = uniqueEmail()
    await signup(t, { email })
    const { plaintext } = await login(t, email)
    const created = await t.post('/api/v1/access-tokens', { token: plaintext, body: { name: 'x' } })
    const secrets = [plaintext, created.body.plaintext as string, PASSWORD]
    for (const secret of [...secrets]) secrets.push(new Bun.CryptoHasher('sha256').update(secret).digest('hex'))
    await t.get(`/api/v1/access-tokens?cursor=${plaintext}`, { token: plaintext })
    await t.get(`/api/v1/access-tokens/${plaintext}`, { token: plaintext, via: 'cookie' })
    await t.get(`/${plaintext}`, { token: created.body.plaintext, via: 'apiKey' })
    await t.post('/api/v1/auth/login', { body: { email, password: `${PASSWORD}x` }, headers: { 'x-request-id': 'not sane ' + plaintext } })
    await t.post('/api/v1/access-tokens', { token: plaintext, body: { name: plaintext, expiresInDays: plaintext } })
    await t.post('/api/v1/auth/logout', { token: plaintext })
    await t.get('/api/v1/auth/me', { token: plaintext })
    await afterResponses()
    expect(lines.length).toBeGreaterThan(10)
    const everything = lines.join('')
    for (const secret of secrets) expect(everything).not.toContain(secret)
  })
})

function promtool(text: string): { available: boolean; ok: boolean; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text })
  if (result.error) return { available: false, ok: false, output: String(result.error) }
  return { available: true, ok: result.status === 0, output: `${result.stdout}${result.stderr}` }
}

describe('GET /metrics', () => {
  test('is off by default', async () => {
    expect((await makeApp().get('/metrics')).status).toBe(404)
  })

  test('hardening 9: a scrape shows the gauges as last refreshed and never counts tokens itself', async () => {
    let counts = 0
    const t = makeApp({
      metrics: true,
      wrapStore: (store) =>
        new Proxy(store, {
          get: (target, name) => (name === 'countActiveTokens' ? (now: number) => (counts++, target.countActiveTokens(now)) : Reflect.get(target, name)),
        }),
    })
    const ada = await seedUser(t)
    await seedToken(t, ada.user.id)
    const active = async () => (await t.get('/metrics')).body.split('\n').filter((line: string) => line.startsWith('vai_active_tokens{'))
    for (let i = 0; i < 4; i++) expect(await active()).toEqual([])
    expect(counts).toBe(0)
    await t.metrics.refreshGauges()
    await seedToken(t, ada.user.id)
    for (let i = 0; i < 4; i++) expect(await active()).toEqual(['vai_active_tokens{type="session"} 1', 'vai_active_tokens{type="api"} 1'])
    expect(counts).toBe(1)
    await t.metrics.refreshGauges()
    expect(await active()).toEqual(['vai_active_tokens{type="session"} 1', 'vai_active_tokens{type="api"} 2'])
  })

  test.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('hardening 9: the metrics token is accepted after "%s", the scheme word in any case as the API reads it', async (scheme) => {
    const t = makeApp({ metricsToken: 'scrape-secret-0123456789' })
    expect((await t.get('/metrics', { headers: { authorization: `${scheme} scrape-secret-0123456789` } })).status).toBe(200)
    expect((await t.get('/metrics', { headers: { authorization: `${scheme} scrape-secret-012345678` } })).status).toBe(401)
  })

  test('with a metrics token, only its bearer may scrape', async () => {
    const t = makeApp({ metricsToken: 'scrape-secret-0123456789' })
    expect(await t.get('/metrics')).toMatchObject({ status: 401, body: NOT_AUTHENTICATED })
    expect((await t.get('/metrics', { headers: { authorization: 'Bearer wrong-secret-0123456789' } })).status).toBe(401)
    const scraped = await t.get('/metrics', { headers: { authorization: 'Bearer scrape-secret-0123456789' } })
    expect(scraped.status).toBe(200)
    expect(scraped.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
  })

  test('counts requests, auth failures by reason, logins, active tokens and database size', async () => {
    const t = makeApp({ metrics: true, loginLimits: { perAccount: 1, perClient: 100, windowMs: 60_000 } })
    const seeded = await seedUser(t)
    const expired = await seedToken(t, seeded.user.id, { expiresAt: t.clock.now() + DAY_MS })
    const revoked = await seedToken(t, seeded.user.id)
    await t.del(`/api/v1/access-tokens/${revoked.token.id}`, { token: seeded.plaintext })
    t.clock.advance(2 * DAY_MS)
    expect((await t.get('/api/v1/auth/me')).body).toEqual(NOT_AUTHENTICATED)
    expect((await t.get('/api/v1/auth/me', { token: 'vai_nonsense' })).body).toEqual(INVALID_TOKEN)
    expect((await t.get('/api/v1/auth/me', { token: generateToken() })).body).toEqual(INVALID_TOKEN)
    expect((await t.get('/api/v1/auth/me', { token: expired.plaintext })).body).toEqual(INVALID_TOKEN)
    expect((await t.get('/api/v1/auth/me', { token: revoked.plaintext })).body).toEqual(INVALID_TOKEN)
    await login(t, seeded.email)
    await t.post('/api/v1/auth/login', { body: { email: seeded.email, password: 'wrong password' } })
    await t.post('/api/v1/auth/login', { body: { email: seeded.email, password: 'wrong password' } })

    await t.metrics.refreshGauges()
    const scraped = await t.get('/metrics')
    expect(scraped.status).toBe(200)
    const text = scraped.body as string
    const sample = (line: string) => expect(text.split('\n')).toContain(line)
    sample('vai_auth_failures_total{reason="missing"} 1')
    sample('vai_auth_failures_total{reason="malformed"} 1')
    sample('vai_auth_failures_total{reason="unknown"} 1')
    sample('vai_auth_failures_total{reason="expired"} 1')
    sample('vai_auth_failures_total{reason="revoked"} 1')
    sample('vai_auth_failures_total{reason="reused"} 0')
    sample('vai_logins_total{result="ok"} 1')
    sample('vai_logins_total{result="failed"} 1')
    sample('vai_logins_total{result="rate_limited"} 1')
    sample('vai_active_tokens{type="session"} 2')
    sample('vai_active_tokens{type="api"} 0')
    sample('vai_http_requests_total{method="GET",route="/api/v1/auth/me",status="401"} 5')
    sample('vai_http_requests_total{method="DELETE",route="/api/v1/access-tokens/:token_id",status="204"} 1')
    expect(text).toMatch(/^vai_database_size_bytes [1-9]\d*$/m)
    expect(text).toMatch(/^vai_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/me"\} 5$/m)

    const checked = promtool(text)
    if (!checked.available) console.warn('promtool is not installed (apt-get install prometheus): format check skipped')
    else expect(checked).toEqual({ available: true, ok: true, output: '' })
  })
})
