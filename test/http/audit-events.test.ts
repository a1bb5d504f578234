// GET /api/v1/audit-events: each change's event, exactly as the contract shows it, from the
// request that made it; pages, the type filter and their refusals. On the suite's backend.
import { describe, expect, test } from 'bun:test'
import { EVENT_TYPES } from '../../src/audit/events'
import {
  INVALID_TOKEN, iso, LOCAL_PEER, login, makeApp, NOT_AUTHENTICATED, PASSWORD, seedToken, seedUser, signup, TOKEN_NOT_FOUND, UUID, type Seeded, type TestApp,
} from '../support/app'

const PATH = '/api/v1/audit-events'
const AGENT = 'deploy-bot/2.1 (+https://ci.example)'

/** An event as the API shows it; its id is a UUID v7 made at its time. */
function eventJson(type: string, at: number, fields: { tokenId?: string | null; tokenPrefix?: string | null; ip?: string | null; userAgent?: string | null; detail?: object } = {}) {
  return {
    id: expect.stringMatching(UUID),
    type,
    at: iso(at),
    tokenId: fields.tokenId ?? null,
    tokenPrefix: fields.tokenPrefix ?? null,
    ip: fields.ip ?? null,
    userAgent: fields.userAgent ?? null,
    detail: fields.detail ?? {},
  }
}

/** The user's events, newest first, through the API. */
async function events(t: TestApp, user: Seeded, query = '') {
  const reply = await t.get(`${PATH}${query}`, { token: user.plaintext })
  expect(reply.status).toBe(200)
  return reply.body.items as Record<string, unknown>[]
}

/** The events added since `before` (a length of an earlier events() answer), oldest first. */
async function since(t: TestApp, user: Seeded, before: number) {
  const all = await events(t, user, '?limit=200')
  return all.slice(0, all.length - before).reverse()
}

describe('each change writes its event, from the request that made it', () => {
  test('signup: user.created with the client address and user agent', async () => {
    const t = makeApp()
    const email = 'ada@example.com'
    const reply = await signup(t, { email }, { headers: { 'user-agent': AGENT } })
    expect(reply.status).toBe(201)
    const session = await login(t, email)
    const items = await events(t, { plaintext: session.plaintext } as Seeded)
    expect(items).toEqual([
      eventJson('login.succeeded', t.clock.now(), { tokenId: session.token.id, tokenPrefix: session.token.tokenPrefix, ip: LOCAL_PEER }),
      eventJson('user.created', t.clock.now(), { ip: LOCAL_PEER, userAgent: AGENT }),
    ])
    for (const item of items) expect(Number.parseInt((item.id as string).replace('-', '').slice(0, 12), 16)).toBe(t.clock.now())
  })

  test('a token made, revoked, rotated, and all revoked: each with the acting token in detail.by', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    const before = (await events(t, alice)).length
    const headers = { 'user-agent': AGENT }
    const made = await t.post('/api/v1/access-tokens', { token: alice.plaintext, headers, body: { name: 'ci', expiresInDays: 30, scopes: ['tokens:read'] } })
    const { token } = made.body
    t.clock.advance(1000)
    const rotated = await t.post(`/api/v1/access-tokens/${token.id}/rotate`, { token: alice.plaintext, headers, body: { graceSeconds: 60 } })
    const successor = rotated.body.token
    t.clock.advance(1000)
    expect((await t.del(`/api/v1/access-tokens/${successor.id}`, { token: alice.plaintext, headers, peer: '203.0.113.9' })).status).toBe(204)
    t.clock.advance(1000)
    expect((await t.del('/api/v1/access-tokens?exclude_current=true', { token: alice.plaintext, headers })).body).toEqual({ revokedCount: 1 })
    const by = alice.token.id
    const at = made.body.token.createdAt
    expect(await since(t, alice, before)).toEqual([
      eventJson('token.created', Date.parse(at), {
        tokenId: token.id, tokenPrefix: token.tokenPrefix, ip: LOCAL_PEER, userAgent: AGENT, detail: { scopes: ['tokens:read'], expiresAt: token.expiresAt, by },
      }),
      eventJson('token.rotated', Date.parse(at) + 1000, {
        tokenId: token.id, tokenPrefix: token.tokenPrefix, ip: LOCAL_PEER, userAgent: AGENT, detail: { successorId: successor.id, graceUntil: iso(Date.parse(at) + 61_000), by },
      }),
      eventJson('token.revoked', Date.parse(at) + 2000, { tokenId: successor.id, tokenPrefix: successor.tokenPrefix, ip: '203.0.113.9', userAgent: AGENT, detail: { by } }),
      // The rotated-away token, still in its grace, was the one left to revoke.
      eventJson('tokens.revoked_all', Date.parse(at) + 3000, { ip: LOCAL_PEER, userAgent: AGENT, detail: { count: 1, exceptCurrent: true, by } }),
    ])
  })

  test('a token revoking itself, and logout: no detail.by (the token acted on itself); logout says so', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    const api = await seedToken(t, alice.user.id, { scopes: ['tokens:read'] })
    const before = (await events(t, alice)).length
    expect((await t.del(`/api/v1/access-tokens/${api.token.id}`, { token: api.plaintext })).status).toBe(204)
    const session = await login(t, alice.email)
    expect((await t.post('/api/v1/auth/logout', { token: session.plaintext, headers: { 'user-agent': AGENT } })).status).toBe(204)
    const now = t.clock.now()
    expect(await since(t, alice, before)).toEqual([
      eventJson('token.revoked', now, { tokenId: api.token.id, tokenPrefix: api.token.tokenPrefix, ip: LOCAL_PEER }),
      eventJson('login.succeeded', now, { tokenId: session.token.id, tokenPrefix: session.token.tokenPrefix, ip: LOCAL_PEER }),
      eventJson('token.revoked', now, { tokenId: session.token.id, tokenPrefix: session.token.tokenPrefix, ip: LOCAL_PEER, userAgent: AGENT, detail: { reason: 'logout' } }),
    ])
  })

  test('revoking a revoked token, or another user’s, writes nothing', async () => {
    const t = makeApp()
    const [alice, bob] = [await seedUser(t), await seedUser(t)]
    const api = await seedToken(t, alice.user.id)
    await t.del(`/api/v1/access-tokens/${api.token.id}`, { token: alice.plaintext })
    const [aliceBefore, bobBefore] = [(await events(t, alice)).length, (await events(t, bob)).length]
    expect((await t.del(`/api/v1/access-tokens/${api.token.id}`, { token: alice.plaintext })).status).toBe(204)
    expect((await t.del(`/api/v1/access-tokens/${api.token.id}`, { token: bob.plaintext })).body).toEqual(TOKEN_NOT_FOUND)
    expect([(await events(t, alice)).length, (await events(t, bob)).length]).toEqual([aliceBefore, bobBefore])
  })

  test('failed logins of a known account: login.failed each, then login.rate_limited once at the limit; a blocked flood writes nothing', async () => {
    const t = makeApp({ loginLimits: { perAccount: 3, perClient: 100, windowMs: 60_000 } })
    const alice = await seedUser(t)
    const before = (await events(t, alice)).length
    const wrong = { email: alice.email, password: 'not the password' }
    for (let i = 0; i < 3; i++) expect((await t.post('/api/v1/auth/login', { body: wrong, headers: { 'user-agent': AGENT } })).status).toBe(401)
    for (let i = 0; i < 5; i++) expect((await t.post('/api/v1/auth/login', { body: wrong })).status).toBe(429)
    // Unknown accounts are nobody's events.
    expect((await t.post('/api/v1/auth/login', { body: { email: 'nobody@example.com', password: PASSWORD } })).status).toBe(401)
    const failed = eventJson('login.failed', t.clock.now(), { ip: LOCAL_PEER, userAgent: AGENT })
    expect(await since(t, alice, before)).toEqual([
      failed, failed, failed,
      eventJson('login.rate_limited', t.clock.now(), { ip: LOCAL_PEER, userAgent: AGENT, detail: { retryAfterSeconds: 60 } }),
    ])
  })

  test('a long user agent is kept to its first 256 characters', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    const agent = `x${'y'.repeat(999)}`
    const made = await t.post('/api/v1/access-tokens', { token: alice.plaintext, headers: { 'user-agent': agent }, body: { name: 'long' } })
    expect(made.status).toBe(201)
    expect((await events(t, alice, '?type=token.created'))[0]!.userAgent).toBe(agent.slice(0, 256))
  })
})

describe('GET /api/v1/audit-events: pages and filters', () => {
  const withEvents = async (count: number) => {
    const t = makeApp()
    const alice = await seedUser(t)
    for (let i = 0; i < count; i++) {
      t.clock.advance(1)
      await seedToken(t, alice.user.id, { name: `t${i}` })
    }
    return { t, alice }
  }

  test('newest first in keyset pages: every event once, nextCursor null on the last page', async () => {
    const { t, alice } = await withEvents(7)
    const all = await events(t, alice, '?limit=200')
    expect(all).toHaveLength(9) // user.created, login.succeeded, 7 × token.created
    const seen: unknown[] = []
    let cursor: string | null = null
    do {
      const reply: { status: number; body: { items: unknown[]; nextCursor: string | null } } = await t.get(`${PATH}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: alice.plaintext })
      expect(reply.status).toBe(200)
      seen.push(...reply.body.items)
      cursor = reply.body.nextCursor
    } while (cursor)
    expect(seen).toEqual(all)
    expect(all.map((event) => event.at)).toEqual([...all.map((event) => event.at as string)].sort().reverse())
  })

  test('limit defaults to 50 and may be 1–200', async () => {
    const { t, alice } = await withEvents(55)
    const first = await t.get(PATH, { token: alice.plaintext })
    expect([first.body.items.length, typeof first.body.nextCursor]).toEqual([50, 'string'])
    for (const limit of ['0', '201', 'many']) {
      const reply = await t.get(`${PATH}?limit=${limit}`, { token: alice.plaintext })
      expect([reply.status, reply.body.detail[0].loc]).toEqual([422, ['query', 'limit']])
    }
  })

  test('type keeps one kind; a type that is not one → 422 at ["query","type"]', async () => {
    const { t, alice } = await withEvents(3)
    expect((await events(t, alice, '?type=token.created')).map((event) => event.type)).toEqual(['token.created', 'token.created', 'token.created'])
    expect(await events(t, alice, '?type=token.leak_reported')).toEqual([])
    const reply = await t.get(`${PATH}?type=token.exploded`, { token: alice.plaintext })
    expect(reply.status).toBe(422)
    expect(reply.body.detail.map((issue: { loc: unknown }) => issue.loc)).toEqual([['query', 'type']])
    // Every type of the contract is accepted.
    for (const type of EVENT_TYPES) expect((await t.get(`${PATH}?type=${type}`, { token: alice.plaintext })).status).toBe(200)
  })

  test('a cursor of another user, of the token list, or tampered → 422; a type filter pages within its kind', async () => {
    const { t, alice } = await withEvents(4)
    const bob = await seedUser(t)
    const invalid = { detail: [{ loc: ['query', 'cursor'], msg: 'Cursor is not one this server issued: pass a nextCursor unchanged', type: 'value_error' }] }
    const bobCursor = (await t.get(`${PATH}?limit=1`, { token: bob.plaintext })).body.nextCursor
    const tokensCursor = (await t.get('/api/v1/access-tokens?limit=1', { token: alice.plaintext })).body.nextCursor
    for (const cursor of [bobCursor, tokensCursor, 'abc']) {
      const reply = await t.get(`${PATH}?cursor=${encodeURIComponent(cursor)}`, { token: alice.plaintext })
      expect([reply.status, reply.body]).toEqual([422, invalid])
    }
    const page = await t.get(`${PATH}?type=token.created&limit=3`, { token: alice.plaintext })
    const rest = await t.get(`${PATH}?type=token.created&limit=3&cursor=${page.body.nextCursor}`, { token: alice.plaintext })
    expect([page.body.items.length, rest.body.items.length, rest.body.nextCursor]).toEqual([3, 1, null])
  })

  test('only the caller’s own events', async () => {
    const { t, alice } = await withEvents(2)
    const bob = await seedUser(t)
    const bobs = await events(t, bob)
    expect(bobs.map((event) => event.type)).toEqual(['login.succeeded', 'user.created'])
    const alices = await events(t, alice)
    expect(alices.map((event) => event.type)).toEqual(['token.created', 'token.created', 'login.succeeded', 'user.created'])
    expect(alices.filter((event) => bobs.some((other) => other.id === event.id))).toEqual([])
  })

  test('without a token → 401; a token without tokens:read → 403', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    expect([(await t.get(PATH)).status, (await t.get(PATH)).body]).toEqual([401, NOT_AUTHENTICATED])
    expect((await t.get(PATH, { token: 'vai_not_a_token' })).body).toEqual(INVALID_TOKEN)
    const narrow = await seedToken(t, alice.user.id, { scopes: ['tokens:write'] })
    const reply = await t.get(PATH, { token: narrow.plaintext })
    expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([
      403, { detail: 'This token lacks the scope tokens:read' }, 'Bearer error="insufficient_scope", scope="tokens:read"',
    ])
  })
})

describe('GET /api/v1/access-tokens/{token_id}/addresses', () => {
  test('the addresses a token was used from, most recent first, once the uses are written', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    const api = await seedToken(t, alice.user.id)
    const path = `/api/v1/access-tokens/${api.token.id}/addresses`
    expect(await t.get(path, { token: alice.plaintext })).toMatchObject({ status: 200, body: { items: [] } })
    t.clock.advance(1000)
    const first = t.clock.now()
    await t.get('/api/v1/auth/me', { token: api.plaintext, peer: '198.51.100.4' })
    t.clock.advance(5000)
    await t.get('/api/v1/auth/me', { token: api.plaintext, peer: '203.0.113.7' })
    await t.store.flushTouches()
    const reply = await t.get(path, { token: alice.plaintext })
    expect([reply.status, reply.body]).toEqual([200, {
      items: [
        { ip: '203.0.113.7', firstSeenAt: iso(first + 5000), lastSeenAt: iso(first + 5000) },
        { ip: '198.51.100.4', firstSeenAt: iso(first), lastSeenAt: iso(first) },
      ],
    }])
    // Each first use from an address is a token.new_ip (the seeded session, made with no address, had its own from this test's peer).
    expect((await events(t, alice, '?type=token.new_ip')).map((event) => [event.ip, event.tokenId])).toEqual([
      ['203.0.113.7', api.token.id],
      ['198.51.100.4', api.token.id],
      [LOCAL_PEER, alice.token.id],
    ])
  })

  test('another user’s token → 404; without tokens:read → 403', async () => {
    const t = makeApp()
    const [alice, bob] = [await seedUser(t), await seedUser(t)]
    const reply = await t.get(`/api/v1/access-tokens/${bob.token.id}/addresses`, { token: alice.plaintext })
    expect([reply.status, reply.body]).toEqual([404, TOKEN_NOT_FOUND])
    const narrow = await seedToken(t, alice.user.id, { scopes: ['tokens:write'] })
    expect((await t.get(`/api/v1/access-tokens/${alice.token.id}/addresses`, { token: narrow.plaintext })).status).toBe(403)
  })
})
