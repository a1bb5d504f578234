// Vai-Token-Expires: every answer to a request authenticated by a token that expires says
// when, errors included; a token that never expires, or a request not authenticated, gets none.
import { beforeAll, describe, expect, test } from 'bun:test'
import { DAY_MS, type IssuedToken } from '../../src/auth/tokens'
import { iso, makeApp, seedToken, seedUser, type RequestOptions, type Seeded } from '../support/app'

const HEADER = 'vai-token-expires'
const SOME_ID = '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f'
const t = makeApp()
let alice: Seeded
let expiring: IssuedToken
let forever: IssuedToken
let readOnly: IssuedToken

beforeAll(async () => {
  alice = await seedUser(t)
  expiring = await seedToken(t, alice.user.id, { name: 'expiring', expiresAt: t.clock.now() + 30 * DAY_MS })
  forever = await seedToken(t, alice.user.id, { name: 'forever' })
  readOnly = await seedToken(t, alice.user.id, { name: 'read only', scopes: ['tokens:read'], expiresAt: t.clock.now() + DAY_MS })
})

// Success and error answers alike, on routes of every kind: [what, method, path, options, status].
const ANSWERS: [string, string, string, RequestOptions, number][] = [
  ['me', 'GET', '/api/v1/auth/me', {}, 200],
  ['the list', 'GET', '/api/v1/access-tokens', {}, 200],
  ['verify', 'GET', '/api/v1/auth/verify', {}, 200],
  ['verify, HEAD', 'HEAD', '/api/v1/auth/verify', {}, 200],
  ['verify asking a scope it lacks (admin: never in an API token’s *)', 'GET', '/api/v1/auth/verify?scope=admin', {}, 403],
  ['a token that is not theirs', 'GET', `/api/v1/access-tokens/${SOME_ID}`, {}, 404],
  ['a 422 after authentication', 'GET', '/api/v1/access-tokens?limit=abc', {}, 422],
  ['a body the schema refuses', 'POST', '/api/v1/access-tokens', { body: { name: '' } }, 422],
  ['a body over 1 MiB', 'POST', '/api/v1/access-tokens', { rawBody: 'x'.repeat(1024 * 1024 + 1), headers: { 'content-type': 'application/json' } }, 413],
]

describe.each(ANSWERS)('%s', (_what, method, path, options, status) => {
  test('a token that expires: the header holds its expiresAt', async () => {
    const reply = await t.request(method, path, { ...options, token: expiring.plaintext })
    expect([reply.status, reply.headers.get(HEADER)]).toEqual([status, iso(expiring.token.expiresAt!)])
  })

  test('a token that never expires: no header', async () => {
    const reply = await t.request(method, path, { ...options, token: forever.plaintext })
    expect([reply.status, reply.headers.get(HEADER)]).toEqual([status, null])
  })
})

test('a session expires: its answers say when, through the cookie too', async () => {
  for (const via of ['bearer', 'cookie'] as const) {
    const reply = await t.get('/api/v1/auth/me', { token: alice.plaintext, via })
    expect([reply.status, reply.headers.get(HEADER)]).toEqual([200, iso(alice.token.expiresAt!)])
  }
})

test('a token without the route’s scope is authenticated: its 403 says when it expires', async () => {
  const reply = await t.get(`/api/v1/access-tokens/${SOME_ID}`, { token: readOnly.plaintext, via: 'apiKey' })
  expect([reply.status, reply.headers.get(HEADER)]).toEqual([404, iso(readOnly.token.expiresAt!)])
  const refused = await t.del('/api/v1/access-tokens', { token: readOnly.plaintext })
  expect([refused.status, refused.headers.get(HEADER)]).toEqual([403, iso(readOnly.token.expiresAt!)])
})

test.each<[string, RequestOptions]>([
  ['no token', {}],
  ['a malformed token', { token: 'vai_nonsense' }],
])('not authenticated (%s): no header', async (_what, options) => {
  const reply = await t.get('/api/v1/auth/me', options)
  expect([reply.status, reply.headers.get(HEADER)]).toEqual([401, null])
})

test('an expired token gets its 401 without the header; public routes never have it', async () => {
  const brief = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 1 })
  t.clock.advance(1)
  const reply = await t.get('/api/v1/auth/me', { token: brief.plaintext })
  expect([reply.status, reply.headers.get(HEADER)]).toEqual([401, null])
  const health = await t.get('/healthz', { token: expiring.plaintext })
  expect([health.status, health.headers.get(HEADER)]).toEqual([200, null])
})

describe('rotation', () => {
  test('a token rotating itself with a grace is told its new end; without one, that it ends now', async () => {
    const self = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 30 * DAY_MS })
    const graced = await t.post(`/api/v1/access-tokens/${self.token.id}/rotate`, { token: self.plaintext, body: { graceSeconds: 90 } })
    expect([graced.status, graced.headers.get(HEADER)]).toEqual([201, iso(t.clock.now() + 90_000)])
    const again = await t.post(`/api/v1/access-tokens/${graced.body.token.id}/rotate`, { token: graced.body.plaintext })
    expect([again.status, again.headers.get(HEADER)]).toEqual([201, iso(t.clock.now())])
  })

  test('rotating another token: the header is the caller’s own expiry', async () => {
    const other = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 5 * DAY_MS })
    const reply = await t.post(`/api/v1/access-tokens/${other.token.id}/rotate`, { token: expiring.plaintext })
    expect([reply.status, reply.headers.get(HEADER)]).toEqual([201, iso(expiring.token.expiresAt!)])
  })
})

test('CORS lets a listed origin’s script read it', async () => {
  const cors = makeApp({ corsOrigins: ['https://app.example.com'] })
  const ada = await seedUser(cors)
  const reply = await cors.get('/api/v1/auth/me', { token: ada.plaintext, headers: { origin: 'https://app.example.com' } })
  expect(reply.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after, www-authenticate, vai-token-expires')
  expect(reply.headers.get(HEADER)).toBe(iso(ada.token.expiresAt!))
})
