// POST /api/v1/auth/introspect, RFC 7662: a form or JSON body, the caller's own token
// with the scope `introspect` (Bearer, X-API-Key or Basic, never the cookie), the answer
// for a live token, exactly {"active":false} for anything else, OAuth's 400.
import { beforeAll, describe, expect, test } from 'bun:test'
import { generateToken } from '../../src/auth/token-format'
import { DAY_MS } from '../../src/auth/tokens'
import { basicAuthorization, makeApp, NOT_AUTHENTICATED, seedToken, seedUser, type Reply, type RequestOptions, type Seeded } from '../support/app'

const PATH = '/api/v1/auth/introspect'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const INACTIVE = { active: false }
const MISSING = {
  error: 'invalid_request',
  error_description: 'The request has no token: send the token to introspect as token=… (a form) or {"token":"…"} (JSON), once.',
}

const t = makeApp()
/** The service that introspects, with a token that has `introspect` and nothing else. */
let service: Awaited<ReturnType<typeof seedToken>>
let ada: Seeded
let expiring: Awaited<ReturnType<typeof seedToken>>
let forever: Awaited<ReturnType<typeof seedToken>>

beforeAll(async () => {
  const owner = await seedUser(t)
  service = await seedToken(t, owner.user.id, { name: 'gateway', scopes: ['introspect'] })
  ada = await seedUser(t)
  expiring = await seedToken(t, ada.user.id, { name: 'ci', scopes: ['tokens:read', 'deploy:staging'], expiresAt: t.clock.now() + 30 * DAY_MS + 999 })
  forever = await seedToken(t, ada.user.id, { name: 'forever', scopes: [] })
})

const introspect = (options: RequestOptions) => t.post(PATH, { token: service.plaintext, ...options })
const form = (text: string, options: RequestOptions = {}) => introspect({ rawBody: text, headers: FORM, ...options })
const seconds = (ms: number) => Math.floor(ms / 1000)

const active = (token: typeof expiring, user: Seeded, tokenType = 'api') => ({
  active: true,
  scope: token.token.scopes.join(' '),
  token_type: tokenType,
  sub: user.user.id,
  username: user.email,
  iat: seconds(token.token.createdAt),
  ...(token.token.expiresAt === null ? {} : { exp: seconds(token.token.expiresAt) }),
  jti: token.token.id,
})

const answer = (reply: Reply) => ({ status: reply.status, body: reply.body, cacheControl: reply.headers.get('cache-control') })

describe('a token that would authenticate now', () => {
  test('as a form (RFC 7662) → 200, its facts, exp in seconds; Cache-Control: no-store', async () => {
    expect(answer(await form(`token=${expiring.plaintext}`))).toEqual({ status: 200, body: active(expiring, ada), cacheControl: 'no-store' })
  })

  test('as JSON → the same', async () => {
    expect(answer(await introspect({ body: { token: expiring.plaintext } }))).toEqual({ status: 200, body: active(expiring, ada), cacheControl: 'no-store' })
  })

  test('one that never expires: no exp at all; no scopes: an empty scope', async () => {
    const reply = await introspect({ body: { token: forever.plaintext } })
    expect(reply.body).toEqual({ active: true, scope: '', token_type: 'api', sub: ada.user.id, username: ada.email, iat: seconds(forever.token.createdAt), jti: forever.token.id })
    expect(Object.keys(reply.body)).not.toContain('exp')
  })

  test('a session: token_type session, scope *', async () => {
    const reply = await form(`token=${ada.plaintext}`)
    expect(reply.body).toEqual(active(ada, ada, 'session'))
    expect(reply.body.scope).toBe('*')
  })

  test.each([
    ['token_type_hint is ignored', (token: string) => `token=${token}&token_type_hint=refresh_token`],
    ['fields RFC 7662 lets a client add are ignored', (token: string) => `token_type_hint=access_token&resource=https%3A%2F%2Fapi.example.com&token=${token}`],
    ['a percent-encoded token is read decoded', (token: string) => `token=${token.replace('_', '%5F')}`],
  ])('%s', async (_name, body) => {
    expect((await form(body(expiring.plaintext))).body).toEqual(active(expiring, ada))
  })

  test('a form with a charset parameter is a form', async () => {
    expect((await form(`token=${expiring.plaintext}`, { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } })).body).toEqual(active(expiring, ada))
  })

  test('JSON with token_type_hint → the same', async () => {
    expect((await introspect({ body: { token: expiring.plaintext, token_type_hint: 'access_token' } })).body).toEqual(active(expiring, ada))
  })
})

describe('anything else is exactly {"active":false}', () => {
  let revoked: Awaited<ReturnType<typeof seedToken>>
  let expired: Awaited<ReturnType<typeof seedToken>>
  beforeAll(async () => {
    revoked = await seedToken(t, ada.user.id, { name: 'revoked' })
    await t.store.revokeToken(ada.user.id, revoked.token.id, t.clock.now())
    expired = await seedToken(t, ada.user.id, { name: 'expired', expiresAt: t.clock.now() })
  })

  test.each([
    ['unknown', () => generateToken()],
    ['malformed', () => 'not-a-token'],
    ['mistyped (checksum fails)', () => expiring.plaintext.slice(0, -1) + (expiring.plaintext.endsWith('A') ? 'B' : 'A')],
    ['revoked', () => revoked.plaintext],
    ['expired', () => expired.plaintext],
  ])('%s → 200 {"active":false}', async (_name, token) => {
    expect(answer(await form(`token=${encodeURIComponent(token())}`))).toEqual({ status: 200, body: INACTIVE, cacheControl: 'no-store' })
    expect(answer(await introspect({ body: { token: token() } }))).toEqual({ status: 200, body: INACTIVE, cacheControl: 'no-store' })
  })
})

describe('bad input', () => {
  test.each([
    ['a form without token', { rawBody: 'token_type_hint=access_token', headers: FORM }],
    ['a form with an empty token', { rawBody: 'token=', headers: FORM }],
    ['a form with the token twice (RFC 6749 §3.1: once)', { rawBody: 'token=a&token=b', headers: FORM }],
    ['an empty form', { rawBody: '', headers: FORM }],
    ['JSON without token', { body: { token_type_hint: 'access_token' } }],
    ['JSON with an empty token', { body: { token: '' } }],
    ['an empty JSON object', { body: {} }],
    ['no body at all', {}],
  ] as [string, RequestOptions][])('%s → 400 invalid_request, in OAuth’s shape', async (_name, options) => {
    const reply = await introspect(options)
    expect(reply.status).toBe(400)
    expect(reply.body).toEqual(MISSING)
  })

  test.each([
    ['a token that is not a string', { body: { token: 5 } }, [{ loc: ['body', 'token'], msg: 'Input should be a valid string', type: 'string_type' }]],
    ['a JSON key RFC 7662 does not define', { body: { token: 'x', scope: 'admin' } }, [{ loc: ['body', 'scope'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }]],
    ['a body that is neither JSON nor a form', { rawBody: 'token=x', headers: { 'content-type': 'text/plain' } }, [{ loc: ['body'], msg: 'Request body is not valid JSON: send a JSON object with Content-Type: application/json', type: 'json_invalid' }]],
    ['JSON that is not an object', { rawBody: '["x"]', headers: { 'content-type': 'application/json' } }, [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }]],
  ] as [string, RequestOptions, unknown][])('%s → 422, as any route', async (_name, options, detail) => {
    const reply = await introspect(options)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail })
  })
})

describe('the caller', () => {
  test.each([
    ['Bearer', (token: string) => ({ authorization: `Bearer ${token}` })],
    ['X-API-Key', (token: string) => ({ 'x-api-key': token })],
    ['Basic, the token as the password (client_secret_basic)', (token: string) => ({ authorization: basicAuthorization(token, 'my-gateway') })],
    ['Basic, the password form-urlencoded (vai%5F…)', (token: string) => ({ authorization: `Basic ${btoa(`my-gateway:${token.replace('_', '%5F')}`)}` })],
  ])('authenticates by %s', async (_name, headers) => {
    const reply = await t.post(PATH, { headers: { ...FORM, ...headers(service.plaintext) }, rawBody: `token=${expiring.plaintext}` })
    expect(reply.body).toEqual(active(expiring, ada))
  })

  test('with the cookie only → 401 Not authenticated: a service calls introspect, not a browser', async () => {
    const reply = await t.post(PATH, { token: ada.plaintext, via: 'cookie', rawBody: `token=${expiring.plaintext}`, headers: FORM })
    expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([401, NOT_AUTHENTICATED, 'Bearer'])
  })

  test('with the cookie beside Bearer → Bearer decides', async () => {
    const reply = await t.post(PATH, { token: service.plaintext, headers: { ...FORM, cookie: `vai_token=${ada.plaintext}` }, rawBody: `token=${expiring.plaintext}` })
    expect(reply.status).toBe(200)
  })

  test.each([
    ['an API token without introspect', () => expiring.plaintext],
    ['an API token with no scope at all', () => forever.plaintext],
  ])('%s → 403, whatever the body', async (_name, caller) => {
    for (const options of [{ rawBody: `token=${expiring.plaintext}`, headers: FORM }, { body: {} }, {}] as RequestOptions[]) {
      const reply = await t.post(PATH, { ...options, token: caller() })
      expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([
        403,
        { detail: 'This token lacks the scope introspect' },
        'Bearer error="insufficient_scope", scope="introspect"',
      ])
    }
  })

  test('a session has full access, so it holds introspect', async () => {
    expect((await t.post(PATH, { token: ada.plaintext, body: { token: expiring.plaintext } })).status).toBe(200)
  })

  test('a refused introspection is no use of the token asked about', async () => {
    const asked = await seedToken(t, ada.user.id, { name: 'asked' })
    await t.post(PATH, { token: forever.plaintext, body: { token: asked.plaintext } })
    await t.post(PATH, { body: { token: asked.plaintext } })
    expect((await t.store.getToken(ada.user.id, asked.token.id))?.lastUsedAt).toBeNull()
  })
})

test('an introspection is a use of the token asked about: lastUsedAt moves', async () => {
  const asked = await seedToken(t, ada.user.id, { name: 'asked' })
  t.clock.advance(1000)
  await form(`token=${asked.plaintext}`)
  expect((await t.store.getToken(ada.user.id, asked.token.id))?.lastUsedAt).toBe(t.clock.now())
})
