// /api/v1/auth/verify, forward authentication for reverse proxies: every method alike,
// the Basic carrier, `scope` and `writeScope`, the identity headers, HEAD without a body.
import { beforeAll, describe, expect, test } from 'bun:test'
import {
  basicAuthorization, INVALID_TOKEN, makeApp, NOT_AUTHENTICATED, seedToken, seedUser, tokenJson, userJson, type Reply, type RequestOptions, type Seeded,
} from '../support/app'

const PATH = '/api/v1/auth/verify'
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

const t = makeApp()
let ada: Seeded
/** Ada's API token with two application scopes, and one with none. */
let deployer: Awaited<ReturnType<typeof seedToken>>
let bare: Awaited<ReturnType<typeof seedToken>>

beforeAll(async () => {
  ada = await seedUser(t, { name: 'Ada' })
  deployer = await seedToken(t, ada.user.id, { name: 'deployer', scopes: ['deploy:staging', 'grafana:read'] })
  bare = await seedToken(t, ada.user.id, { name: 'bare', scopes: [] })
})

const verify = (method: string, query = '', options: RequestOptions = {}) => t.request(method, `${PATH}${query}`, { token: deployer.plaintext, ...options })

const IDENTITY = () => ({
  'x-vai-user-id': ada.user.id,
  'x-vai-user-email': ada.email,
  'x-vai-token-id': deployer.token.id,
  'x-vai-token-type': 'api',
  'x-vai-scopes': 'deploy:staging grafana:read',
  'remote-user': ada.email,
  'remote-email': ada.email,
  'cache-control': 'no-store',
})
const identityOf = (reply: Reply) => Object.fromEntries(Object.keys(IDENTITY()).map((name) => [name, reply.headers.get(name)]))
const lacks = (scopes: string) => ({ status: 403, body: { detail: `This token lacks the scope ${scopes}` }, challenge: `Bearer error="insufficient_scope", scope="${scopes}"` })
const outcome = (reply: Reply) => ({ status: reply.status, body: reply.body, challenge: reply.headers.get('www-authenticate') })

describe('every method answers alike', () => {
  test.each(METHODS)('%s → 200, the body of GET /auth/me and who it is in headers', async (method) => {
    const reply = await verify(method, '?scope=deploy:staging')
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual(method === 'HEAD' ? '' : { user: userJson(ada.user), token: tokenJson(deployer.token, { lastUsedAt: t.clock.now() }) })
    expect(identityOf(reply)).toEqual(IDENTITY())
    expect(reply.headers.get('content-type')).toBe('application/json;charset=utf-8')
  })

  test.each(METHODS)('%s without a token → 401 Not authenticated, with the challenge', async (method) => {
    const reply = await t.request(method, PATH)
    expect(outcome(reply)).toEqual({ status: 401, body: method === 'HEAD' ? '' : NOT_AUTHENTICATED, challenge: 'Bearer' })
  })

  test.each(METHODS)('%s with a bad token → 401 Invalid or expired token', async (method) => {
    const reply = await verify(method, '', { token: 'vai_nope' })
    expect(outcome(reply)).toEqual({ status: 401, body: method === 'HEAD' ? '' : INVALID_TOKEN, challenge: 'Bearer' })
  })

  test('OPTIONS is verify’s own answer, not the 204 with Allow of other paths', async () => {
    const reply = await verify('OPTIONS')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('allow')).toBeNull()
  })

  test.each(['PROPFIND', 'TRACE'].filter((method) => { try { new Request('http://x', { method }); return true } catch { return false } }))('%s → 405 with the methods verify answers', async (method) => {
    const reply = await verify(method)
    expect(reply.status).toBe(405)
    expect((reply.headers.get('allow') ?? '').split(', ').sort()).toEqual([...METHODS].sort())
  })
})

describe('it never reads a body', () => {
  test.each([
    ['over 1 MiB', { rawBody: 'x'.repeat(2 * 1024 * 1024), headers: { 'content-type': 'application/json' } }],
    ['not JSON', { rawBody: '{not json', headers: { 'content-type': 'application/json' } }],
    ['a form', { rawBody: 'scope=admin', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['JSON with keys verify does not define', { body: { scope: 'admin', colour: 'blue' } }],
  ] as [string, RequestOptions][])('a POST with a body %s → 200 as without one', async (_name, options) => {
    const reply = await verify('POST', '', options)
    expect(reply.status).toBe(200)
    expect(reply.body.token.id).toBe(deployer.token.id)
  })
})

describe('scope and writeScope', () => {
  test.each([
    // [query, original method header, outcome: 200 or the scopes named in the 403]
    ['', {}, 200],
    ['?scope=', {}, 200],
    ['?scope=deploy:staging', {}, 200],
    ['?scope=deploy:staging%20grafana:read', {}, 200],
    ['?scope=deploy:staging+grafana:read', {}, 200],
    ['?scope=deploy:staging&scope=grafana:read', {}, 200],
    ['?scope=%20deploy:staging%20%20grafana:read%20', {}, 200],
    ['?scope=deploy:prod', {}, 'deploy:prod'],
    ['?scope=deploy:staging%20deploy:prod%20grafana:write', {}, 'deploy:prod grafana:write'],
    ['?scope=deploy:prod&scope=deploy:prod', {}, 'deploy:prod'],
    ['?scope=deploy:staging&scope=tokens:read', {}, 'tokens:read'],
    ['?scope=*', {}, '*'],
    ['?scope=admin', {}, 'admin'],
    // writeScope counts when the request the proxy guards may change something.
    ['?scope=grafana:read&writeScope=grafana:write', {}, 200],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'POST' }, 'grafana:write'],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'delete' }, 'grafana:write'],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-original-method': 'PUT' }, 'grafana:write'],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-original-method': 'PATCH' }, 'grafana:write'],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'GET', 'x-original-method': 'POST' }, 200],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'POST', 'x-original-method': 'GET' }, 'grafana:write'],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'HEAD' }, 200],
    ['?scope=grafana:read&writeScope=grafana:write', { 'x-forwarded-method': 'OPTIONS' }, 200],
    ['?scope=grafana:read&writeScope=deploy:staging', { 'x-forwarded-method': 'POST' }, 200],
    ['?writeScope=deploy:prod%20grafana:write', { 'x-original-method': 'POST' }, 'deploy:prod grafana:write'],
    ['?scope=deploy:prod&writeScope=grafana:write', { 'x-forwarded-method': 'POST' }, 'deploy:prod grafana:write'],
  ] as const)('%s with %p → %p', async (query, headers, expected) => {
    const reply = await verify('GET', query, { headers })
    if (expected === 200) {
      expect(reply.status).toBe(200)
      expect(identityOf(reply)).toEqual(IDENTITY())
    } else {
      expect(outcome(reply)).toEqual(lacks(expected))
      expect(reply.headers.get('x-vai-user-id')).toBeNull()
    }
  })

  test.each(['POST', 'PUT', 'PATCH', 'DELETE'])('without a method header, the request’s own %s is the original: writeScope counts', async (method) => {
    expect(outcome(await verify(method, '?writeScope=grafana:write'))).toEqual(lacks('grafana:write'))
  })

  test.each(['GET', 'HEAD', 'OPTIONS'])('the request’s own %s is a read: writeScope does not count', async (method) => {
    expect((await verify(method, '?writeScope=grafana:write')).status).toBe(200)
  })

  test('a token with no scope at all passes a verify that asks none, and fails one that asks any', async () => {
    const none = await verify('GET', '', { token: bare.plaintext })
    expect(none.status).toBe(200)
    expect(none.headers.get('x-vai-scopes')).toBe('')
    expect(outcome(await verify('GET', '?scope=deploy:staging', { token: bare.plaintext }))).toEqual(lacks('deploy:staging'))
  })

  test('a session (full access) holds any application scope and the built-ins, but not admin', async () => {
    const reply = await verify('GET', '?scope=deploy:anything%20tokens:write%20introspect%20*', { token: ada.plaintext })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('x-vai-token-type')).toBe('session')
    expect(reply.headers.get('x-vai-scopes')).toBe('*')
    expect(outcome(await verify('GET', '?scope=admin', { token: ada.plaintext }))).toEqual(lacks('admin'))
  })

  const MALFORMED = (bad: string[]) => ({
    detail: [{
      loc: ['query', 'scope'],
      msg: `Not a scope: ${bad.map((scope) => JSON.stringify(scope)).join(', ')}. A scope is * or 1 to 64 characters of A-Z a-z 0-9 _ . : / -`,
      type: 'string_pattern_mismatch',
    }],
  })
  test.each([
    ['a character outside the set', '?scope=deploy@prod', ['deploy@prod']],
    ['a non-ASCII letter', '?scope=sc%C3%B6pe', ['scöpe']],
    ['65 characters', `?scope=${'s'.repeat(65)}`, ['s'.repeat(65)]],
    ['a comma', '?scope=a,b', ['a,b']],
    ['a tab', '?scope=a%09b', ['a\tb']],
    ['one bad among good ones, repeated', '?scope=deploy:staging&scope=ok%20b%21d', ['b!d']],
  ])('a malformed scope (%s) → 422 at ["query","scope"]', async (_name, query, bad) => {
    const reply = await verify('GET', query)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual(MALFORMED(bad))
  })

  test('a malformed writeScope → 422 at ["query","writeScope"], listed with scope’s', async () => {
    const reply = await verify('GET', '?scope=b%21d&writeScope=w%21')
    expect(reply.status).toBe(422)
    expect(reply.body.detail.map((issue: { loc: unknown }) => issue.loc)).toEqual([['query', 'scope'], ['query', 'writeScope']])
  })

  test('a malformed scope from a stranger is a 401: authentication comes first', async () => {
    expect(outcome(await t.get(`${PATH}?scope=b%21d`))).toEqual({ status: 401, body: NOT_AUTHENTICATED, challenge: 'Bearer' })
  })
})

describe('carriers: Bearer, Basic, X-API-Key, the cookie', () => {
  const as = (headers: Record<string, string>, query = '') => t.get(`${PATH}${query}`, { headers })

  test.each([
    ['Basic with the token as the password, any user name', () => basicAuthorization(deployer.plaintext, 'grafana')],
    ['Basic with an empty user name (curl -u :token)', () => basicAuthorization(deployer.plaintext, '')],
    ['Basic, the password percent-encoded (RFC 6749 §2.3.1)', () => `Basic ${btoa(`client:${deployer.plaintext.replace('_', '%5F')}`)}`],
    ['Basic, the scheme in lower case', () => `basic ${btoa(`x:${deployer.plaintext}`)}`],
  ])('%s → the token', async (_name, authorization) => {
    const reply = await as({ authorization: authorization() }, '?scope=deploy:staging')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('x-vai-token-id')).toBe(deployer.token.id)
  })

  test('Basic comes before X-API-Key and the cookie', async () => {
    const reply = await as({ authorization: basicAuthorization(deployer.plaintext), 'x-api-key': bare.plaintext, cookie: `vai_token=${ada.plaintext}` })
    expect(reply.headers.get('x-vai-token-id')).toBe(deployer.token.id)
  })

  test('a bad Basic does not fall back to a good X-API-Key', async () => {
    expect(outcome(await as({ authorization: basicAuthorization('vai_nope'), 'x-api-key': deployer.plaintext }))).toEqual({ status: 401, body: INVALID_TOKEN, challenge: 'Bearer' })
    expect(outcome(await as({ authorization: 'Basic %%%not-base64', 'x-api-key': deployer.plaintext }))).toEqual({ status: 401, body: INVALID_TOKEN, challenge: 'Bearer' })
  })

  test.each([
    ['an empty password', () => `Basic ${btoa('user:')}`],
    ['no colon at all (the token as the user name)', () => `Basic ${btoa(deployer.plaintext)}`],
    ['nothing after the scheme', () => 'Basic '],
  ])('Basic with %s is no carrier: the next one decides, or 401 Not authenticated', async (_name, authorization) => {
    expect((await as({ authorization: authorization(), 'x-api-key': bare.plaintext })).headers.get('x-vai-token-id')).toBe(bare.token.id)
    expect(outcome(await as({ authorization: authorization() }))).toEqual({ status: 401, body: NOT_AUTHENTICATED, challenge: 'Bearer' })
  })

  test.each([
    ['Bearer', () => ({ authorization: `Bearer ${deployer.plaintext}` })],
    ['X-API-Key', () => ({ 'x-api-key': deployer.plaintext })],
    ['the cookie', () => ({ cookie: `vai_token=${deployer.plaintext}` })],
  ])('%s → the token', async (_name, headers) => {
    expect((await as(headers(), '?scope=deploy:staging')).headers.get('x-vai-token-id')).toBe(deployer.token.id)
  })

  test.each(['POST', 'PUT', 'PATCH', 'DELETE'])('a %s with the cookie from another origin is verified: verify changes nothing, the cross-site rule does not apply', async (method) => {
    const reply = await t.request(method, PATH, { token: ada.plaintext, via: 'cookie', headers: { origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' } })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('remote-user')).toBe(ada.email)
  })

  test('a revoked token is refused on the very next verify', async () => {
    const doomed = await seedToken(t, ada.user.id, { name: 'doomed' })
    expect((await verify('GET', '', { token: doomed.plaintext })).status).toBe(200)
    await t.del(`/api/v1/access-tokens/${doomed.token.id}`, { token: ada.plaintext })
    expect(outcome(await verify('GET', '', { token: doomed.plaintext }))).toEqual({ status: 401, body: INVALID_TOKEN, challenge: 'Bearer' })
  })
})

test('a verify is a use of the token: lastUsedAt moves', async () => {
  const used = await seedToken(t, ada.user.id, { name: 'used' })
  t.clock.advance(1000)
  await verify('HEAD', '', { token: used.plaintext })
  expect((await t.store.getToken(ada.user.id, used.token.id))?.lastUsedAt).toBe(t.clock.now())
})
