// The Scopes table of the contract: every protected route × each built-in scope (and an
// application scope, and none) × each carrier → the exact status, body and headers. A
// refused request changes nothing.
import { describe, expect, test } from 'bun:test'
import type { IssuedToken } from '../../src/auth/tokens'
import { iso, PLAINTEXT, makeApp, NOT_AUTHENTICATED, seedToken, seedUser, tokenJson, userJson, UUID, type Reply, type Seeded, type Via } from '../support/app'

const t = makeApp()

type Carriers = 'standard' | 'withBasic' | 'service'
const CARRIERS: Record<Carriers, Via[]> = {
  standard: ['bearer', 'apiKey', 'cookie'],
  withBasic: ['bearer', 'basic', 'apiKey', 'cookie'],
  service: ['bearer', 'basic', 'apiKey'],
}

/** A user, their session, the token under test (the caller) and another API token of theirs. */
interface Fixture {
  owner: Seeded
  caller: IssuedToken
  other: IssuedToken
  now: number
}

interface Route {
  method: string
  path: (f: Fixture) => string
  body?: (f: Fixture) => unknown
  /** The scope it needs of this caller; null: none. */
  needs: string | null
  carriers: Carriers
  /** What it answers a caller that may call it. */
  success: (f: Fixture, reply: Reply) => void
}

const me = (f: Fixture) => ({ user: userJson(f.owner.user), token: tokenJson(f.caller.token, { lastUsedAt: f.now }) })

const identityHeaders = (f: Fixture) => ({
  'x-vai-user-id': f.owner.user.id,
  'x-vai-user-email': f.owner.email,
  'x-vai-token-id': f.caller.token.id,
  'x-vai-token-type': 'api',
  'x-vai-scopes': f.caller.token.scopes.join(' '),
  'remote-user': f.owner.email,
  'remote-email': f.owner.email,
  'cache-control': 'no-store',
})

const verified = (f: Fixture, reply: Reply) => {
  expect(reply.status).toBe(200)
  expect(reply.body).toEqual(me(f))
  expect(Object.fromEntries([...reply.headers].filter(([name]) => name in identityHeaders(f)))).toEqual(identityHeaders(f))
}

const noContent = (_f: Fixture, reply: Reply) => {
  expect(reply.status).toBe(204)
  expect(reply.body).toBe('')
}

/** A 201 with the successor of `old`: its name, type and scopes, made now. */
const rotated = (old: IssuedToken, f: Fixture, reply: Reply) => {
  expect(reply.status).toBe(201)
  expect(reply.body).toEqual({
    plaintext: expect.stringMatching(PLAINTEXT),
    token: tokenJson({ ...old.token, id: reply.body.token.id, tokenPrefix: reply.body.plaintext.slice(0, 12), createdAt: f.now }),
  })
}

const ROUTES: Route[] = [
  { method: 'GET', path: () => '/api/v1/auth/me', needs: null, carriers: 'standard', success: (f, reply) => expect([reply.status, reply.body]).toEqual([200, me(f)]) },
  { method: 'POST', path: () => '/api/v1/auth/logout', needs: null, carriers: 'standard', success: noContent },
  { method: 'GET', path: () => '/api/v1/auth/verify', needs: null, carriers: 'withBasic', success: verified },
  { method: 'GET', path: () => '/api/v1/auth/verify?scope=deploy:staging', needs: 'deploy:staging', carriers: 'withBasic', success: verified },
  { method: 'POST', path: () => '/api/v1/auth/verify?writeScope=deploy:staging', needs: 'deploy:staging', carriers: 'withBasic', success: verified },
  {
    method: 'GET',
    path: () => '/api/v1/access-tokens',
    needs: 'tokens:read',
    carriers: 'standard',
    success: (f, reply) =>
      expect([reply.status, reply.body]).toEqual([200, { items: [tokenJson(f.other.token), tokenJson(f.caller.token, { lastUsedAt: f.now }), tokenJson(f.owner.token)], nextCursor: null }]),
  },
  {
    method: 'GET',
    path: (f) => `/api/v1/access-tokens/${f.caller.token.id}`,
    needs: 'tokens:read',
    carriers: 'standard',
    success: (f, reply) => expect([reply.status, reply.body]).toEqual([200, tokenJson(f.caller.token, { lastUsedAt: f.now })]),
  },
  {
    method: 'GET',
    path: (f) => `/api/v1/access-tokens/${f.other.token.id}`,
    needs: 'tokens:read',
    carriers: 'standard',
    success: (f, reply) => expect([reply.status, reply.body]).toEqual([200, tokenJson(f.other.token)]),
  },
  {
    method: 'POST',
    path: () => '/api/v1/access-tokens',
    body: () => ({ name: 'minted' }),
    needs: 'tokens:write',
    carriers: 'standard',
    success: (f, reply) => {
      expect(reply.status).toBe(201)
      expect(reply.body).toEqual({
        plaintext: expect.stringMatching(PLAINTEXT),
        token: tokenJson({ ...f.caller.token, id: reply.body.token.id, name: 'minted', tokenPrefix: reply.body.plaintext.slice(0, 12), createdAt: f.now }),
      })
    },
  },
  {
    method: 'DELETE',
    path: () => '/api/v1/access-tokens',
    needs: 'tokens:write',
    carriers: 'standard',
    success: (_f, reply) => expect([reply.status, reply.body]).toEqual([200, { revokedCount: 2 }]),
  },
  { method: 'DELETE', path: (f) => `/api/v1/access-tokens/${f.caller.token.id}`, needs: null, carriers: 'standard', success: noContent },
  { method: 'DELETE', path: (f) => `/api/v1/access-tokens/${f.caller.token.id.toUpperCase()}`, needs: null, carriers: 'standard', success: noContent },
  { method: 'DELETE', path: (f) => `/api/v1/access-tokens/${f.other.token.id}`, needs: 'tokens:write', carriers: 'standard', success: noContent },
  { method: 'POST', path: (f) => `/api/v1/access-tokens/${f.caller.token.id}/rotate`, needs: null, carriers: 'standard', success: (f, reply) => rotated(f.caller, f, reply) },
  {
    method: 'POST',
    path: (f) => `/api/v1/access-tokens/${f.other.token.id}/rotate`,
    needs: 'tokens:write',
    carriers: 'standard',
    success: (f, reply) => {
      // The other token has every scope ('*'): only a caller with '*' may hand out its successor.
      if (grants(f.caller.token.scopes, '*')) return rotated(f.other, f, reply)
      expect([reply.status, reply.body]).toEqual([403, { detail: 'A token cannot grant a scope it does not have: *' }])
    },
  },
  {
    method: 'POST',
    path: () => '/api/v1/auth/introspect',
    body: (f) => ({ token: f.other.plaintext }),
    needs: 'introspect',
    carriers: 'service',
    success: (f, reply) =>
      expect([reply.status, reply.body]).toEqual([
        200,
        { active: true, scope: '*', token_type: 'api', sub: f.owner.user.id, username: f.owner.email, iat: Math.floor(f.other.token.createdAt / 1000), jti: f.other.token.id },
      ]),
  },
  {
    method: 'GET',
    path: () => '/api/v1/audit-events',
    needs: 'tokens:read',
    carriers: 'standard',
    success: (f, reply) => {
      const event = (type: string, at: number, token: IssuedToken | null, detail: object) =>
        ({ id: expect.stringMatching(UUID), type, at: iso(at), tokenId: token?.token.id ?? null, tokenPrefix: token?.token.tokenPrefix ?? null, ip: null, userAgent: null, detail })
      const made = (token: IssuedToken) => event('token.created', token.token.createdAt, token, { scopes: token.token.scopes, expiresAt: null })
      expect([reply.status, reply.body]).toEqual([200, {
        items: [made(f.other), made(f.caller), event('login.succeeded', f.now - 3, f.owner, {}), event('user.created', f.now - 3, null, {})],
        nextCursor: null,
      }])
    },
  },
  {
    method: 'GET',
    path: (f) => `/api/v1/access-tokens/${f.other.token.id}/addresses`,
    needs: 'tokens:read',
    carriers: 'standard',
    success: (_f, reply) => expect([reply.status, reply.body]).toEqual([200, { items: [] }]),
  },
  // Far past what the other routes revoke: an exact, empty page.
  { method: 'GET', path: () => '/api/v1/revocations?after=1000000', needs: 'introspect', carriers: 'service', success: (_f, reply) => expect([reply.status, reply.body]).toEqual([200, { items: [], nextAfter: 1000000 }]) },
  {
    method: 'GET',
    path: () => '/api/v1/revocations/stream',
    needs: 'introspect',
    carriers: 'service',
    success: (_f, reply) => expect([reply.status, reply.headers.get('content-type')]).toEqual([200, 'text/event-stream']),
  },
]

const SCOPES: [label: string, scopes: string[]][] = [
  ['*', ['*']],
  ['tokens:read', ['tokens:read']],
  ['tokens:write', ['tokens:write']],
  ['introspect', ['introspect']],
  ['an application scope', ['deploy:staging']],
  ['no scope', []],
]

/** Whether a token with `scopes` has `scope`: by name or through `*`. */
const grants = (scopes: string[], scope: string) => scopes.includes(scope) || scopes.includes('*')

async function fixture(scopes: string[]): Promise<Fixture> {
  const owner = await seedUser(t)
  t.clock.advance(1)
  const caller = await seedToken(t, owner.user.id, { name: 'caller', scopes })
  t.clock.advance(1)
  const other = await seedToken(t, owner.user.id, { name: 'other' })
  t.clock.advance(1)
  return { owner, caller, other, now: t.clock.now() }
}

const ALL_VIAS: Via[] = ['bearer', 'basic', 'apiKey', 'cookie']

describe.each(ROUTES.map((route) => [`${route.method} ${route.path({ caller: { token: { id: '{own id}' } }, other: { token: { id: '{other id}' } } } as Fixture)}`, route] as const))(
  '%s',
  (_name, route) => {
    test.each(SCOPES.flatMap(([label, scopes]) => ALL_VIAS.map((via) => [label, via, scopes] as const)))('a token with %s, via %s', async (_label, via, scopes) => {
      const f = await fixture(scopes)
      const reply = await t.request(route.method, route.path(f), { token: f.caller.plaintext, via, body: route.body?.(f) })
      if (!CARRIERS[route.carriers].includes(via)) {
        // Not a carrier of this route: as if no credential had come at all.
        expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([401, NOT_AUTHENTICATED, 'Bearer'])
      } else if (route.needs !== null && !grants(scopes, route.needs)) {
        expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([
          403,
          { detail: `This token lacks the scope ${route.needs}` },
          `Bearer error="insufficient_scope", scope="${route.needs}"`,
        ])
      } else {
        route.success(f, reply)
        return
      }
      // Refused: every token of the user is as it was, and no new one was made.
      const tokens = await t.store.listTokens(f.owner.user.id, { includeRevoked: true, limit: 10 })
      expect(tokens.map((token) => [token.id, token.revokedAt])).toEqual([f.other, f.caller, f.owner].map(({ token }) => [token.id, null]))
    })
  },
)

test('the table covers every protected route of the document', async () => {
  const paths = (await t.get('/swagger/json')).body.paths as Record<string, Record<string, { security: unknown[] }>>
  const documented = Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).filter(([, operation]) => operation.security.length > 0).map(([method]) => `${method.toUpperCase()} ${path}`),
  )
  const tested = new Set(ROUTES.map((route) => `${route.method} ${route.path({ caller: { token: { id: '{token_id}' } }, other: { token: { id: '{token_id}' } } } as Fixture).split('?')[0]}`))
  // Verify answers every method alike: GET and POST stand for it here, test/http/verify.test.ts covers the rest.
  expect(documented.filter((route) => !tested.has(route) && !route.endsWith('/auth/verify'))).toEqual([])
})

describe('scope comes before validation: a token without the scope gets its 403 whatever it sent', () => {
  test.each([
    ['POST', '/api/v1/access-tokens', { body: { name: '', expiresInDays: 'soon', scopes: ['bad scope'], colour: 1 } }, 'tokens:write'],
    ['POST', '/api/v1/access-tokens', { rawBody: '{not json', headers: { 'content-type': 'application/json' } }, 'tokens:write'],
    ['GET', '/api/v1/access-tokens?limit=abc&cursor=forged', {}, 'tokens:read'],
    ['DELETE', '/api/v1/access-tokens?exclude_current=perhaps', {}, 'tokens:write'],
    ['GET', '/api/v1/access-tokens/not-a-uuid', {}, 'tokens:read'],
    ['DELETE', '/api/v1/access-tokens/not-a-uuid', {}, 'tokens:write'],
    ['POST', '/api/v1/auth/introspect', {}, 'introspect'],
    ['POST', '/api/v1/auth/introspect', { body: { colour: 'blue' } }, 'introspect'],
  ] as const)('%s %s, a bad request → 403', async (method, path, options, scope) => {
    const f = await fixture(['deploy:staging'])
    const reply = await t.request(method, path, { ...options, token: f.caller.plaintext })
    expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([
      403,
      { detail: `This token lacks the scope ${scope}` },
      `Bearer error="insufficient_scope", scope="${scope}"`,
    ])
  })
})
