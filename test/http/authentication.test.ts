// The shared "no credential / malformed / unknown / expired / revoked" table, run over
// every protected route and every carrier, then the rules for choosing a carrier.
import { beforeAll, describe, expect, test } from 'bun:test'
import { generateToken } from '../../src/auth/token-format'
import {
  INVALID_TOKEN, makeApp, NOT_AUTHENTICATED, seedToken, seedUser, type RequestOptions, type Seeded, type Via,
} from '../support/app'

const SOME_ID = '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f'

const t = makeApp()

// Each protected route, read from the document (an operation with security is one that
// declares `auth`), with the carriers it lists and a body made of the examples its schema
// gives: valid for it.
const PROTECTED_ROUTES: [method: string, path: string, vias: Via[], body?: unknown][] = Object.entries(
  (await t.get('/swagger/json')).body.paths as Record<string, Record<string, any>>,
).flatMap(([path, operations]) =>
  Object.entries(operations)
    .filter(([, operation]) => operation.security.length > 0)
    .map(([method, operation]): [string, string, Via[], unknown?] => {
      const schema = operation.requestBody?.content['application/json'].schema
      const body = schema && Object.fromEntries(((schema.required ?? []) as string[]).map((key) => [key, schema.properties[key].example]))
      const vias = (operation.security as Record<string, string[]>[]).flatMap((carrier) => Object.keys(carrier) as Via[])
      return [method.toUpperCase(), path.replace('{token_id}', SOME_ID), vias, body]
    }),
)

// docs.test.ts holds the document to the contract's list; an empty list here would test nothing.
test('the document names protected routes', () => expect(PROTECTED_ROUTES.length).toBeGreaterThan(0))

const VIAS: Via[] = ['bearer', 'apiKey', 'cookie', 'basic']

let alice: Seeded
const bad: Record<string, string> = {}

beforeAll(async () => {
  const expiring = await seedToken(t, (await seedUser(t)).user.id, { expiresAt: t.clock.now() + 1000 })
  t.clock.advance(1000) // expiresAt == now: expired
  alice = await seedUser(t)
  const revoked = await seedToken(t, alice.user.id)
  await t.store.revokeToken(alice.user.id, revoked.token.id, t.clock.now())
  const valid = generateToken()
  bad.malformed = 'not-a-token'
  bad['a mistyped token (checksum fails)'] = valid.slice(0, 10) + (valid[10] === 'a' ? 'b' : 'a') + valid.slice(11)
  bad['a well-formed unknown token'] = generateToken()
  bad['an expired token'] = expiring.plaintext
  bad['a revoked token'] = revoked.plaintext
})

const send = (method: string, path: string, options: RequestOptions) => t.request(method, path, options)

describe.each(PROTECTED_ROUTES)('%s %s: authentication', (method, path, vias, body) => {
  test('no credential at all → 401 Not authenticated', async () => {
    const reply = await send(method, path, { body })
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual(NOT_AUTHENTICATED)
    expect(reply.headers.get('www-authenticate')).toBe('Bearer')
  })

  test.each(vias.flatMap((via) => ['malformed', 'a mistyped token (checksum fails)', 'a well-formed unknown token', 'an expired token', 'a revoked token'].map((kind) => [kind, via] as const)))(
    '%s via %s → 401 Invalid or expired token',
    async (kind, via) => {
      const reply = await send(method, path, { body, token: bad[kind]!, via })
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual(INVALID_TOKEN)
      expect(reply.headers.get('www-authenticate')).toBe('Bearer')
    },
  )

  test.each(vias)('a valid token via %s is let in', async (via) => {
    // The revoking routes would spend a shared session: a user of its own each time. A
    // session cannot be rotated: rotate's path names an API token of theirs.
    const user = await seedUser(t)
    const own = path.endsWith('/rotate') ? await seedToken(t, user.user.id) : user
    const reply = await send(method, path.replace(SOME_ID, own.token.id), { body, token: own.plaintext, via })
    expect(reply.status).toBeOneOf([200, 201, 204])
  })

  test.each(VIAS.filter((via) => !vias.includes(via)))('%s is not a carrier here: even a valid token → 401 Not authenticated', async (via) => {
    const user = await seedUser(t)
    const reply = await send(method, path.replace(SOME_ID, user.token.id), { body, token: user.plaintext, via })
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual(NOT_AUTHENTICATED)
    expect(reply.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('authentication comes before validation', () => {
  test.each([
    ['POST', '/api/v1/access-tokens', { body: { name: '', expiresInDays: 'soon' } }],
    ['POST', '/api/v1/access-tokens', { rawBody: '{not json', headers: { 'content-type': 'application/json' } }],
    ['GET', '/api/v1/access-tokens?limit=abc&includeRevoked=maybe&cursor=forged', {}],
    ['DELETE', '/api/v1/access-tokens?exclude_current=perhaps', {}],
    ['GET', '/api/v1/access-tokens/not-a-uuid', {}],
    ['DELETE', '/api/v1/access-tokens/not-a-uuid', {}],
    ['GET', '/api/v1/auth/verify?scope=not%20a%20sc%C3%B6pe', {}],
    ['POST', '/api/v1/auth/introspect', { body: { colour: 'blue' } }],
    ['POST', '/api/v1/auth/introspect', {}],
  ] as [string, string, RequestOptions][])('%s %s with a bad request and no token → 401', async (method, path, options) => {
    const none = await send(method, path, options)
    expect(none.status).toBe(401)
    expect(none.body).toEqual(NOT_AUTHENTICATED)
    const invalid = await send(method, path, { ...options, token: bad['a well-formed unknown token'] })
    expect(invalid.status).toBe(401)
    expect(invalid.body).toEqual(INVALID_TOKEN)
  })

  test('a refused request creates nothing', async () => {
    const before = await t.get('/api/v1/access-tokens?includeRevoked=true&limit=200', { token: alice.plaintext })
    await send('POST', '/api/v1/access-tokens', { body: { name: 'sneaky' } })
    await send('POST', '/api/v1/access-tokens', { body: { name: 'sneaky' }, token: bad['a revoked token'] })
    const after = await t.get('/api/v1/access-tokens?includeRevoked=true&limit=200', { token: alice.plaintext })
    expect(after.body.items.map((item: { id: string }) => item.id)).toEqual(before.body.items.map((item: { id: string }) => item.id))
  })
})

describe('token expiry', () => {
  test('a token authenticates until the millisecond it expires', async () => {
    const app = makeApp()
    const user = await seedUser(app)
    const token = await seedToken(app, user.user.id, { expiresAt: app.clock.now() + 60_000 })
    app.clock.advance(59_999)
    expect((await app.get('/api/v1/auth/me', { token: token.plaintext })).status).toBe(200)
    app.clock.advance(1)
    const expired = await app.get('/api/v1/auth/me', { token: token.plaintext })
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual(INVALID_TOKEN)
  })
})

describe('carriers', () => {
  const me = (headers: Record<string, string>) => t.get('/api/v1/auth/me', { headers })
  let other: string

  beforeAll(async () => {
    other = (await seedToken(t, alice.user.id, { name: 'other' })).plaintext
  })

  test.each([
    ['Bearer', 'Bearer'],
    ['bearer', 'lower case'],
    ['BEARER', 'upper case'],
    ['BeArEr', 'mixed case'],
  ])('the scheme word %p (%s) is accepted', async (scheme) => {
    const reply = await me({ authorization: `${scheme} ${alice.plaintext}` })
    expect(reply.status).toBe(200)
    expect(reply.body.token.id).toBe(alice.token.id)
  })

  test.each([
    ['Bearer', { authorization: () => `Bearer ${alice.plaintext}`, 'x-api-key': () => other, cookie: () => `vai_token=${other}` }],
    ['X-API-Key', { 'x-api-key': () => alice.plaintext, cookie: () => `vai_token=${other}` }],
    ['the cookie', { cookie: () => `theme=dark; vai_token=${alice.plaintext}; lang=en` }],
  ] as const)('%s decides when it is the first carrier present: it is the current token', async (_name, carriers) => {
    const headers = Object.fromEntries(Object.entries(carriers).map(([name, value]) => [name, value()]))
    const reply = await me(headers)
    expect(reply.status).toBe(200)
    expect(reply.body.token.id).toBe(alice.token.id)
  })

  test.each([
    ['a bad Bearer does not fall back to a good X-API-Key', () => ({ authorization: 'Bearer nope', 'x-api-key': alice.plaintext })],
    ['a bad Bearer does not fall back to a good cookie', () => ({ authorization: `Bearer ${generateToken()}`, cookie: `vai_token=${alice.plaintext}` })],
    ['a bad X-API-Key does not fall back to a good cookie', () => ({ 'x-api-key': 'nope', cookie: `vai_token=${alice.plaintext}` })],
    ['a revoked Bearer does not fall back to a good X-API-Key', () => ({ authorization: `Bearer ${bad['a revoked token']}`, 'x-api-key': alice.plaintext })],
  ])('%s → 401', async (_name, headers) => {
    const reply = await me(headers())
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual(INVALID_TOKEN)
    expect(reply.headers.get('www-authenticate')).toBe('Bearer')
  })

  test.each([
    ['Authorization: Basic … is not a carrier', () => ({ authorization: 'Basic YWRhOnNlY3JldA==', 'x-api-key': alice.plaintext })],
    ['Authorization with an unknown scheme is not a carrier', () => ({ authorization: `Token ${other}`, cookie: `vai_token=${alice.plaintext}` })],
    ['Authorization: Bearer with no token is not a carrier', () => ({ authorization: 'Bearer', 'x-api-key': alice.plaintext })],
    ['an empty Authorization is not a carrier', () => ({ authorization: '', 'x-api-key': alice.plaintext })],
    ['an empty X-API-Key is not a carrier', () => ({ 'x-api-key': '', cookie: `vai_token=${alice.plaintext}` })],
    ['an empty cookie value is not a carrier', () => ({ cookie: `vai_token=; other=1`, 'x-api-key': alice.plaintext })],
  ])('%s: the next one decides', async (_name, headers) => {
    const reply = await me(headers())
    expect(reply.status).toBe(200)
    expect(reply.body.token.id).toBe(alice.token.id)
  })

  test.each([
    ['Authorization: Basic …', { authorization: 'Basic YWRhOnNlY3JldA==' }],
    ['Authorization: Bearer with no token', { authorization: 'Bearer ' }],
    ['an empty X-API-Key', { 'x-api-key': '' }],
    ['an empty vai_token cookie', { cookie: 'vai_token=' }],
    ['another cookie only', { cookie: 'session=abc' }],
  ])('%s alone → 401 Not authenticated', async (_name, headers) => {
    const reply = await me(headers)
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual(NOT_AUTHENTICATED)
    expect(reply.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('hardening 2: cookie tossing', () => {
  let mallory: Seeded
  beforeAll(async () => {
    mallory = await seedUser(t)
  })
  const cookieOf = (...values: string[]) => values.map((value) => `vai_token=${value}`).join('; ')

  // A sibling subdomain plants its own vai_token beside the visitor's: whichever comes first,
  // the request is refused, and nothing is done in either account.
  // On every route the cookie is a carrier of (introspect never takes it: there a cookie is no credential at all).
  const cookieRoutes = PROTECTED_ROUTES.filter(([, , vias]) => vias.includes('cookie'))
  test.each(cookieRoutes)('%s %s with two vai_token cookies → 401 Invalid or expired token', async (method, path, _vias, body) => {
    for (const cookie of [cookieOf(mallory.plaintext, alice.plaintext), cookieOf(alice.plaintext, mallory.plaintext), cookieOf(alice.plaintext, alice.plaintext)]) {
      const reply = await send(method, path.replace(SOME_ID, alice.token.id), { body, headers: { cookie, 'sec-fetch-site': 'same-origin' } })
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual(INVALID_TOKEN)
      expect(reply.headers.get('www-authenticate')).toBe('Bearer')
    }
    expect((await t.get('/api/v1/auth/me', { token: alice.plaintext })).status).toBe(200)
  })

  test.each([
    ['an empty one beside it', () => cookieOf('', alice.plaintext)],
    ['a third one among other cookies', () => `theme=dark; ${cookieOf(alice.plaintext)}; lang=en; ${cookieOf(mallory.plaintext)}`],
  ])('%s → 401 too', async (_name, cookie) => {
    const reply = await t.get('/api/v1/auth/me', { headers: { cookie: cookie() } })
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual(INVALID_TOKEN)
  })

  test('no token is created in either account', async () => {
    const count = async (user: Seeded) => (await t.get('/api/v1/access-tokens?limit=200', { token: user.plaintext })).body.items.length
    const before = [await count(alice), await count(mallory)]
    const reply = await t.post('/api/v1/access-tokens', { body: { name: 'tossed' }, headers: { cookie: cookieOf(mallory.plaintext, alice.plaintext), 'sec-fetch-site': 'same-origin' } })
    expect(reply.status).toBe(401)
    expect([await count(alice), await count(mallory)]).toEqual(before)
  })

  test.each([
    ['Bearer', () => ({ authorization: `Bearer ${alice.plaintext}` })],
    ['X-API-Key', () => ({ 'x-api-key': alice.plaintext })],
  ])('a %s header decides first: the cookies are not looked at', async (_name, headers) => {
    const reply = await t.get('/api/v1/auth/me', { headers: { ...headers(), cookie: cookieOf(mallory.plaintext, alice.plaintext) } })
    expect(reply.status).toBe(200)
    expect(reply.body.token.id).toBe(alice.token.id)
  })

  test('one vai_token among other cookies still authenticates', async () => {
    const reply = await t.get('/api/v1/auth/me', { headers: { cookie: `vai_token_old=x; ${cookieOf(alice.plaintext)}; other=vai_token` } })
    expect(reply.status).toBe(200)
  })
})

describe('hardening 11: a token in Authorization without the word Bearer', () => {
  const HINT = 'Bearer error="invalid_request", error_description="use Authorization: Bearer <token>"'

  test.each(PROTECTED_ROUTES)('%s %s: still the contract\'s 401 Not authenticated, with a hint in WWW-Authenticate', async (method, path, body) => {
    for (const authorization of [alice.plaintext, `Token ${alice.plaintext}`, bad['a well-formed unknown token']!]) {
      const reply = await send(method, path, { body, headers: { authorization } })
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual(NOT_AUTHENTICATED)
      expect(reply.headers.get('www-authenticate')).toBe(HINT)
    }
  })

  test('the hint is what RFC 6750 allows: error_description holds no " or \\ and only printable ASCII', () => {
    const description = /error_description="([^"]*)"/.exec(HINT)![1]!
    expect(description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/)
  })

  test.each([
    ['Basic credentials', { authorization: 'Basic YWRhOnNlY3JldA==' }],
    ['no Authorization', {}],
  ])('%s get the plain challenge', async (_name, headers) => {
    const reply = await t.get('/api/v1/auth/me', { headers })
    expect(reply.headers.get('www-authenticate')).toBe('Bearer')
  })

  test('with another carrier present, that carrier decides', async () => {
    const reply = await t.get('/api/v1/auth/me', { headers: { authorization: alice.plaintext, 'x-api-key': alice.plaintext } })
    expect(reply.status).toBe(200)
  })
})
