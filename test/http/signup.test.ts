import { describe, expect, setDefaultTimeout, spyOn, test } from 'bun:test'
import { availableParallelism } from 'node:os'
import { createSemaphore } from '../../src/auth/password'
import { iso, login, makeApp, PASSWORD, seedUser, signup, UUID, type MakeAppOptions, type Reply } from '../support/app'

// Each signup hashes a password with argon2id: slow on a busy machine.
setDefaultTimeout(30_000)

const PATH = '/api/v1/auth/signup'
const EMAIL_MSG = 'value is not a valid email address: it must look like name@example.com'

describe('POST /api/v1/auth/signup', () => {
  // One server for the rows that only add users; argon2 makes each signup cost tens of ms.
  const t = makeApp()

  test('201 → User: id, normalised email, name, createdAt; never the password', async () => {
    const reply = await signup(t, { email: '  Ada.Lovelace@Example.COM ', name: 'Ada' })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ id: expect.stringMatching(UUID), email: 'ada.lovelace@example.com', name: 'Ada', createdAt: iso(t.clock.now()) })
    expect(JSON.stringify(reply.body)).not.toContain(PASSWORD)
  })

  test('without a name the user has name null', async () => {
    const reply = await signup(t, { email: 'nameless@example.com' })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ id: expect.stringMatching(UUID), email: 'nameless@example.com', name: null, createdAt: iso(t.clock.now()) })
  })

  test('the new account can log in, with the email in any case', async () => {
    await signup(t, { email: 'grace@example.com' })
    const { token } = await login(t, ' GRACE@example.com ')
    expect(token.tokenType).toBe('session')
  })

  test.each(['GRACE@EXAMPLE.COM', '  Grace@Example.com  '])('a taken email %p → 409', async (email) => {
    const reply = await signup(t, { email })
    expect(reply.status).toBe(409)
    expect(reply.body).toEqual({ detail: 'Email already registered' })
  })

  // Each bound's other side is a 422 row below.
  test.each([
    ['the shortest: an 8-character password, an empty name', { password: '12345678', name: '' }],
    ['the longest: 256 emoji of password, a 255-character name, a 254-character email',
      { password: '🔑'.repeat(256), name: 'n'.repeat(255), email: `${'a'.repeat(242)}@example.com` }],
  ])('%s is accepted', async (_name, body) => {
    const reply = await signup(t, body)
    expect(reply.status).toBe(201)
    expect(reply.body.name).toBe(body.name)
  })

  const issue = (field: string, type: string, msg: string) => ({ loc: ['body', field], msg, type })
  test.each([
    [{ email: 'ada.example.com' }, [issue('email', 'value_error', EMAIL_MSG)]],
    [{ email: 'ada@example' }, [issue('email', 'value_error', EMAIL_MSG)]],
    [{ email: 'ada@@example.com' }, [issue('email', 'value_error', EMAIL_MSG)]],
    [{ email: '' }, [issue('email', 'value_error', EMAIL_MSG)]],
    [{ email: `${'a'.repeat(243)}@example.com` }, [issue('email', 'string_too_long', 'String should have at most 254 characters')]],
    [{ email: 42 }, [issue('email', 'string_type', 'Input should be a valid string')]],
    [{ password: '1234567' }, [issue('password', 'string_too_short', 'String should have at least 8 characters')]],
    [{ password: 'p'.repeat(257) }, [issue('password', 'string_too_long', 'String should have at most 256 characters')]],
    [{ password: 12345678 }, [issue('password', 'string_type', 'Input should be a valid string')]],
    [{ name: 'n'.repeat(256) }, [issue('name', 'string_too_long', 'String should have at most 255 characters')]],
    // The contract says "string ≤ 255 (optional)": absent is fine, null is not a string.
    [{ name: null }, [issue('name', 'string_type', 'Input should be a valid string')]],
    [{ email: undefined, password: undefined }, [issue('email', 'missing', 'Field required'), issue('password', 'missing', 'Field required')]],
  ])('%p → 422', async (body, detail) => {
    const reply = await t.post(PATH, { body: { email: 'valid@example.com', password: PASSWORD, ...body } })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail })
  })
})

describe('POST /api/v1/auth/signup with --signup closed', () => {
  test('the first signup on an empty server is accepted, the next refused with 403', async () => {
    const t = makeApp({ signup: 'closed' })
    const first = await signup(t, { email: 'owner@example.com' })
    expect(first.status).toBe(201)
    const second = await signup(t, { email: 'someone@example.com' })
    expect(second.status).toBe(403)
    expect(second.body).toEqual({ detail: 'Signup is closed' })
  })

  test('a taken email is refused as closed too: nothing is revealed about who exists', async () => {
    const t = makeApp({ signup: 'closed' })
    await seedUser(t, { email: 'owner@example.com' })
    const reply = await signup(t, { email: 'owner@example.com' })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual({ detail: 'Signup is closed' })
  })

  test('a bad body is still a 422 (validation comes before the signup rule)', async () => {
    const t = makeApp({ signup: 'closed' })
    await seedUser(t)
    const reply = await t.post(PATH, { body: { email: 'x', password: PASSWORD } })
    expect(reply.status).toBe(422)
  })
})

const TOO_MANY = { detail: 'Too many failed login attempts; try again later' }
const NOT_CLAIMED = { detail: 'This server is not claimed yet: use the setup code printed at start' }
const STRANGER = '203.0.113.7'

/** Bun.password.hash, watched: how many hashes were asked for while `body` ran. */
async function hashesDuring(body: () => Promise<void>): Promise<number> {
  const hash = spyOn(Bun.password, 'hash')
  try {
    await body()
    return hash.mock.calls.length
  } finally {
    hash.mockRestore()
  }
}

describe('hardening 3: argon2 for anyone', () => {
  test.each([
    ['closed, once a user exists', { signup: 'closed' as const }, {}, 403, { detail: 'Signup is closed' }],
    ['a taken email', { signup: 'open' as const }, { email: 'owner@example.com' }, 409, { detail: 'Email already registered' }],
    ['a bad body', { signup: 'open' as const }, { email: 'not an email' }, 422, { detail: [{ loc: ['body', 'email'], msg: EMAIL_MSG, type: 'value_error' }] }],
  ])('a signup refused as %s costs no password hash', async (_name, config, body, status, expected) => {
    const t = makeApp(config)
    await seedUser(t, { email: 'owner@example.com' })
    let reply!: Reply
    expect(await hashesDuring(async () => void (reply = await signup(t, body)))).toBe(0)
    expect(reply.status).toBe(status)
    expect(reply.body).toEqual(expected)
  })

  test('a fresh install not claimed with its code costs no hash either', async () => {
    const t = makeApp()
    let reply!: Reply
    expect(await hashesDuring(async () => void (reply = await signup(t, {}, { peer: STRANGER })))).toBe(0)
    expect(reply.status).toBe(403)
  })

  test("each refused signup counts against the client's login limit: the 409 cannot test emails without bound", async () => {
    const t = makeApp({ signup: 'open' })
    await seedUser(t, { email: 'owner@example.com' })
    for (let i = 0; i < 20; i++) expect((await signup(t, { email: 'owner@example.com' }, { peer: STRANGER })).status).toBe(409)
    t.clock.advance(10_000)
    const blocked = await signup(t, { email: 'owner@example.com' }, { peer: STRANGER })
    expect(blocked.status).toBe(429)
    expect(blocked.body).toEqual(TOO_MANY)
    expect(blocked.headers.get('retry-after')).toBe('290')
    // The same limit as login's: that client's logins wait too, anyone else's do not.
    expect((await t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD }, peer: STRANGER })).status).toBe(429)
    expect((await t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } })).status).toBe(200)
    expect((await signup(t, { email: 'someone@example.com' })).status).toBe(201)
  })

  test('the limit is checked before signup does anything: a blocked client with a good body creates nothing and hashes nothing, a bad one gets 429, not 422', async () => {
    const t = makeApp({ signup: 'open', loginLimits: { perAccount: 5, perClient: 3, windowMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await t.post(PATH, { body: { email: 'x' }, peer: STRANGER })).status).toBe(422)
    let good!: Reply
    expect(await hashesDuring(async () => void (good = await signup(t, { email: 'new@example.com' }, { peer: STRANGER })))).toBe(0)
    expect(good.status).toBe(429)
    expect(good.headers.get('retry-after')).toBe('60')
    expect(await t.store.findUserByEmail('new@example.com')).toBeNull()
    const bad = await t.post(PATH, { body: { email: 'x' }, peer: STRANGER })
    expect(bad.status).toBe(429)
    expect(bad.body).toEqual(TOO_MANY)
  })

  test("refused signups count against the client only, not the email's account", async () => {
    const t = makeApp({ signup: 'open' })
    await seedUser(t, { email: 'owner@example.com' })
    // Past the per-account limit (5) had they counted against owner@example.com.
    for (let i = 0; i < 6; i++) expect((await signup(t, { email: 'owner@example.com' }, { peer: STRANGER })).status).toBe(409)
    expect((await t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } })).status).toBe(200)
  })

  test("signups another site's page sends are refused as cross-site first and not counted: it cannot lock a visitor's address out", async () => {
    const t = makeApp({ signup: 'open' })
    await seedUser(t, { email: 'owner@example.com' })
    const crossSite = { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' }
    for (let i = 0; i < 25; i++) {
      const refused = await t.post(PATH, { body: { email: 'x' }, headers: crossSite })
      expect(refused.status).toBe(403)
      expect(refused.body).toEqual({ detail: 'Cross-site request refused' })
    }
    expect((await t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } })).status).toBe(200)
  })

  test('a successful signup is not counted', async () => {
    const t = makeApp({ signup: 'open', loginLimits: { perAccount: 5, perClient: 2, windowMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await signup(t)).status).toBe(201)
  })

  test('two signups with one email at once: one 201, one 409; both hashed, one user', async () => {
    const t = makeApp({ signup: 'open' })
    await seedUser(t)
    const replies = await Promise.all([signup(t, { email: 'twice@example.com' }), signup(t, { email: 'twice@example.com' })])
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, 409])
    expect((await t.rows('users')).filter((row) => row.email === 'twice@example.com').length).toBe(1)
  })

  test('two first signups at once on a closed, empty server: one 201, one 403', async () => {
    const t = makeApp({ signup: 'closed' })
    const replies = await Promise.all([signup(t), signup(t)])
    expect(replies.map((reply) => [reply.status, reply.body.detail ?? null]).sort()).toEqual([[201, null], [403, 'Signup is closed']])
    expect((await t.rows('users')).length).toBe(1)
  })

  test('past 2 × cores waiting hashes, signup and login answer 503 "Server busy" with Retry-After: 1; nothing is counted, and it recovers', async () => {
    const t = makeApp({ signup: 'open' })
    await seedUser(t, { email: 'owner@example.com' })
    const cores = availableParallelism()
    const running = Math.max(1, Math.floor(cores / 2))
    const capacity = running + 2 * cores
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const hash = spyOn(Bun.password, 'hash').mockImplementation(async () => (await gate, 'a hash held back'))
    try {
      const held = Array.from({ length: capacity }, () => signup(t))
      // Until they all hash or wait (their checks before hashing take a few turns of the loop).
      while (hash.mock.calls.length < running) await Bun.sleep(5)
      await Bun.sleep(50)
      const answers = Promise.all([signup(t), t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } })])
      // Answered at once, not queued: a queue without bound would wait for the gate.
      const over = await Promise.race([answers, Bun.sleep(5_000).then(() => [])])
      expect(over.length).toBe(2)
      for (const reply of over) {
        expect(reply.status).toBe(503)
        expect(reply.body).toEqual({ detail: 'Server busy' })
        expect(reply.headers.get('retry-after')).toBe('1')
      }
      // An unknown email, whose throwaway hash cannot be made now: 503 too, and made later.
      expect((await t.post('/api/v1/auth/login', { body: { email: 'nobody@example.com', password: PASSWORD } })).status).toBe(503)
      expect(hash.mock.calls.length).toBe(running)
      release()
      expect((await Promise.all(held)).map((reply) => reply.status)).toEqual(Array(capacity).fill(201))
    } finally {
      release()
      hash.mockRestore()
    }
    expect((await t.post('/api/v1/auth/login', { body: { email: 'nobody@example.com', password: PASSWORD } })).status).toBe(401)
    expect((await t.post('/api/v1/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } })).status).toBe(200)
  })

  test('the semaphore: `limit` run, `queue` wait, the next is refused at once; a finished job makes room', async () => {
    const run = createSemaphore(1, 2, () => new Error('busy'))
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const jobs = [run(() => gate), run(() => gate), run(() => gate)]
    // Refused at once: one that waited would still be waiting after a second.
    await expect(Promise.race([run(() => gate), Bun.sleep(1_000).then(() => 'waited')])).rejects.toThrow('busy')
    release()
    await Promise.all(jobs)
    await expect(run(async () => 'ran')).resolves.toBe('ran')
  })
})

describe('hardening 6: an unclaimed server on 0.0.0.0', () => {
  const CODE = '0123456789abcdef0123456789abcdef'
  /** A fresh install whose `serve` made its setup code. */
  const fresh = async (config: MakeAppOptions = {}) => {
    const t = makeApp(config)
    expect(await t.store.createSetupCode(CODE)).toBe(CODE)
    return t
  }

  test.each([
    ['no code', {}],
    ['a wrong code', { setupCode: 'f'.repeat(32) }],
    ['the code with a character more', { setupCode: `${CODE}0` }],
    ['an empty code', { setupCode: '' }],
  ])('a first signup from another machine with %s → 403, nothing created', async (_name, body) => {
    const t = await fresh({ signup: 'closed' })
    const reply = await signup(t, body, { peer: STRANGER })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual(NOT_CLAIMED)
    expect(await t.store.hasUsers()).toBe(false)
    expect(await t.store.setupCode()).toBe(CODE)
  })

  test('with the setup code it is accepted, and the code is gone once the account exists', async () => {
    const t = await fresh({ signup: 'closed' })
    const reply = await signup(t, { email: 'owner@example.com', setupCode: CODE }, { peer: STRANGER })
    expect(reply.status).toBe(201)
    expect(await t.store.setupCode()).toBeNull()
    // Claimed: the code is no key to a closed server.
    const after = await signup(t, { setupCode: CODE }, { peer: STRANGER })
    expect(after.status).toBe(403)
    expect(after.body).toEqual({ detail: 'Signup is closed' })
  })

  test.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('from this machine (%s) no code is needed', async (peer) => {
    const t = await fresh({ signup: 'closed' })
    expect((await signup(t, {}, { peer })).status).toBe(201)
  })

  test('a loopback peer that forwards for someone else (a proxy beside vai) is not this machine', async () => {
    const t = await fresh({ signup: 'closed' })
    const reply = await signup(t, {}, { peer: '127.0.0.1', headers: { 'x-forwarded-for': STRANGER } })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual(NOT_CLAIMED)
  })

  test('with --signup open too: the first account needs the code, later ones do not', async () => {
    const t = await fresh({ signup: 'open' })
    expect((await signup(t, {}, { peer: STRANGER })).status).toBe(403)
    expect((await signup(t, { setupCode: CODE }, { peer: STRANGER })).status).toBe(201)
    expect((await signup(t, {}, { peer: STRANGER })).status).toBe(201)
  })

  test('with no code made (no serve has run), a first signup from another machine is refused whatever it sends', async () => {
    const t = makeApp()
    const reply = await signup(t, { setupCode: CODE }, { peer: STRANGER })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual(NOT_CLAIMED)
  })

  test('guesses count against the login limit: after 20 the client gets 429, even with the right code', async () => {
    const t = await fresh()
    for (let i = 0; i < 20; i++) expect((await signup(t, { setupCode: `guess ${i}` }, { peer: STRANGER })).status).toBe(403)
    const blocked = await signup(t, { setupCode: CODE }, { peer: STRANGER })
    expect(blocked.status).toBe(429)
    expect(blocked.body).toEqual(TOO_MANY)
  })

  test('a setupCode over 64 characters → 422', async () => {
    const t = await fresh()
    const reply = await signup(t, { setupCode: 'c'.repeat(65) }, { peer: STRANGER })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['body', 'setupCode'], msg: 'String should have at most 64 characters', type: 'string_too_long' }] })
  })

  test('the console page says the server is unclaimed, but never gives the code away', async () => {
    const t = await fresh()
    const page = await t.get('/', { peer: STRANGER })
    expect(page.body).toContain('data-first-run="true"')
    expect(page.body).not.toContain(CODE)
  })
})
