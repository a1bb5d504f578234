import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { iso, login, makeApp, PASSWORD, seedUser, signup, UUID } from '../support/app'

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
