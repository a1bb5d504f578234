import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import { INVALID_TOKEN, iso, issuedTokenJson, login, makeApp, PASSWORD, PLAINTEXT, seedUser, type TestApp } from '../support/app'

// Each attempt that reaches the password costs an argon2id check: slow on a busy machine.
setDefaultTimeout(30_000)

const PATH = '/api/v1/auth/login'
const WRONG = { detail: 'Invalid email or password' }
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'

const attempt = (t: TestApp, email: string, password: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  t.post(PATH, { body: { email, password, ...extra }, headers })

// argon2id makes every attempt that reaches the password cost real time: the rows below
// share logins where that does not weaken what they show.
describe('POST /api/v1/auth/login', () => {
  let t: TestApp
  let reply: Awaited<ReturnType<TestApp['post']>>

  beforeAll(async () => {
    t = makeApp()
    await seedUser(t, { email: 'ada@example.com' })
    t.clock.advance(1000)
    // The email as typed: trimmed and compared without case.
    reply = await attempt(t, '  ADA@Example.com ', PASSWORD, {}, { 'user-agent': 'curl/8.5.0' })
  })

  test('200 → the plaintext once and the session token', async () => {
    expect(reply.status).toBe(200)
    const { plaintext } = reply.body
    expect(plaintext).toMatch(PLAINTEXT)
    const now = t.clock.now()
    expect(reply.body).toEqual(issuedTokenJson(plaintext, now, { name: 'curl', tokenType: 'session', expiresAt: now + 30 * DAY_MS, scopes: ['*'] }))
  })

  test('Cache-Control: no-store and the session cookie', () => {
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect(reply.headers.get('set-cookie')).toBe(`vai_token=${reply.body.plaintext}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000`)
  })

  test.each(['cookie', 'bearer', 'apiKey'] as const)('the session authenticates via %s', async (via) => {
    const me = await t.get('/api/v1/auth/me', { token: reply.body.plaintext, via })
    expect(me.status).toBe(200)
    expect(me.body.token.id).toBe(reply.body.token.id)
  })

  test.each([
    ['Firefox on Linux', {}, { 'user-agent': FIREFOX }],
    ['session', {}, {}],
    ['laptop', { name: 'laptop' }, { 'user-agent': FIREFOX }],
  ])('the session is named %p', async (expected, extra, headers) => {
    const named = await attempt(t, 'ada@example.com', PASSWORD, extra, headers)
    expect(named.status).toBe(200)
    expect(named.body.token.name).toBe(expected)
  })

  test.each([
    ['a wrong password', 'ada@example.com', 'not the password'],
    ['an unknown email', 'nobody@example.com', PASSWORD],
  ])('%s → 401 with the same body, no cookie, no token', async (_name, email, password) => {
    const refused = await attempt(t, email, password)
    expect(refused.status).toBe(401)
    expect(refused.body).toEqual(WRONG)
    expect(refused.headers.get('set-cookie')).toBeNull()
  })

  const issue = (field: string, type: string, msg: string) => ({ loc: ['body', field], msg, type })
  test.each([
    [{}, [issue('email', 'missing', 'Field required'), issue('password', 'missing', 'Field required')]],
    [{ email: 'ada@example.com' }, [issue('password', 'missing', 'Field required')]],
    [{ email: 5, password: PASSWORD }, [issue('email', 'string_type', 'Input should be a valid string')]],
    [{ email: 'ada@example.com', password: PASSWORD, name: '' }, [issue('name', 'string_too_short', 'String should have at least 1 character')]],
    [{ email: 'ada@example.com', password: PASSWORD, name: 'n'.repeat(256) }, [issue('name', 'string_too_long', 'String should have at most 255 characters')]],
    [{ email: 'ada@example.com', password: PASSWORD, name: null }, [issue('name', 'string_type', 'Input should be a valid string')]],
  ])('%p → 422', async (body, detail) => {
    const invalid = await t.post(PATH, { body })
    expect(invalid.status).toBe(422)
    expect(invalid.body).toEqual({ detail })
  })
})

describe('POST /api/v1/auth/login: the session cookie', () => {
  // The full --cookie-secure table runs on logout, which sets the same cookie at no argon2 cost.
  test.each([
    ['auto', 'http://localhost', {}, false],
    ['auto', 'https://localhost', {}, true],
    ['auto', 'http://localhost', { 'x-forwarded-proto': 'https' }, true],
    ['true', 'http://localhost', {}, true],
    ['false', 'https://localhost', {}, false],
  ] as const)('--cookie-secure %s, %s %p → Secure: %p', async (cookieSecure, origin, headers, secure) => {
    const t = makeApp({ cookieSecure })
    await seedUser(t, { email: 'ada@example.com' })
    const reply = await t.post(PATH, { body: { email: 'ada@example.com', password: PASSWORD }, headers, origin })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('set-cookie')).toBe(
      `vai_token=${reply.body.plaintext}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000${secure ? '; Secure' : ''}`,
    )
  })

  test('Max-Age and expiresAt follow --session-days, and the session expires then', async () => {
    const t = makeApp({ sessionDays: 2 })
    await seedUser(t, { email: 'ada@example.com' })
    const { plaintext, token, reply } = await login(t, 'ada@example.com')
    expect(reply.headers.get('set-cookie')).toBe(`vai_token=${plaintext}; Path=/; HttpOnly; SameSite=Lax; Max-Age=172800`)
    expect(token.expiresAt).toBe(iso(t.clock.now() + 2 * DAY_MS))
    t.clock.advance(2 * DAY_MS - 1)
    expect((await t.get('/api/v1/auth/me', { token: plaintext, via: 'cookie' })).status).toBe(200)
    t.clock.advance(1)
    const expired = await t.get('/api/v1/auth/me', { token: plaintext, via: 'cookie' })
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual(INVALID_TOKEN)
  })
})

describe('POST /api/v1/auth/login: attempt limits', () => {
  const fail = (t: TestApp, email = 'ada@example.com') => attempt(t, email, 'wrong password')
  const succeed = (t: TestApp, email = 'ada@example.com') => attempt(t, email, PASSWORD)

  test('after 5 failures: 429 with Retry-After, even with the right password, until the first leaves the window', async () => {
    const t = makeApp()
    await seedUser(t, { email: 'ada@example.com' })
    for (let i = 0; i < 5; i++) {
      expect((await fail(t)).status).toBe(401)
      t.clock.advance(1000)
    }
    t.clock.advance(5000) // the first failure was 10 s ago
    const blocked = await succeed(t)
    expect(blocked.status).toBe(429)
    expect(blocked.body).toEqual({ detail: expect.any(String) })
    expect(blocked.headers.get('retry-after')).toBe('290')
    expect(blocked.headers.get('set-cookie')).toBeNull()
    // Per account, whatever the spelling of its email (that another account is not blocked
    // is in test/unit/login-limiter.test.ts).
    expect((await succeed(t, ' ADA@example.com')).status).toBe(429)
    // Retry-After is honest.
    t.clock.advance(290_000 - 1)
    expect((await succeed(t)).status).toBe(429)
    t.clock.advance(1)
    expect((await succeed(t)).status).toBe(200)
  })

  // The rows below tune the limits down (as the flags may) to spend fewer argon2 checks.
  const tuned = { perAccount: 2, perClient: 20, windowMs: 5 * 60_000 }

  test('an unknown account is limited the same way', async () => {
    const t = makeApp({ loginLimits: tuned })
    for (let i = 0; i < 2; i++) expect((await fail(t, 'ghost@example.com')).status).toBe(401)
    const reply = await fail(t, 'ghost@example.com')
    expect(reply.status).toBe(429)
    expect(reply.headers.get('retry-after')).toBe('300')
  })

  test("a successful login clears the account's count", async () => {
    const t = makeApp({ loginLimits: tuned })
    await seedUser(t, { email: 'ada@example.com' })
    expect((await fail(t)).status).toBe(401)
    expect((await succeed(t)).status).toBe(200)
    expect((await fail(t)).status).toBe(401)
    // Two failures in the window, had the success not cleared the first.
    expect((await succeed(t)).status).toBe(200)
  })

  test('one client failing on many accounts is blocked for every account', async () => {
    const t = makeApp({ loginLimits: { ...tuned, perClient: 2 } })
    await seedUser(t, { email: 'ada@example.com' })
    for (const email of ['a@example.com', 'b@example.com']) expect((await fail(t, email)).status).toBe(401)
    const reply = await succeed(t)
    expect(reply.status).toBe(429)
    expect(reply.headers.get('retry-after')).toBe('300')
  })
})
