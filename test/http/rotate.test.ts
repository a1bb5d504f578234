// POST /api/v1/access-tokens/{token_id}/rotate: the contract's Rotation section, row by row.
import type { Origin } from '../../src/audit/events'
import { beforeAll, describe, expect, test } from 'bun:test'
import { DAY_MS, type IssuedToken } from '../../src/auth/tokens'
import { loadConfig, UsageError } from '../../src/config'
import {
  INVALID_TOKEN, iso, issuedTokenJson, JSON_INVALID, LOCAL_PEER, makeApp, seedToken, seedUser, TOKEN_NOT_FOUND, tokenJson, type MakeAppOptions, type RequestOptions,
  type Seeded, type TestApp,
} from '../support/app'

const PATH = '/api/v1/access-tokens'
const ME = '/api/v1/auth/me'

/** An app with a user (and their session), and a way to rotate. */
function fixture(options: MakeAppOptions = {}) {
  const f = { t: undefined as unknown as TestApp, alice: undefined as unknown as Seeded }
  beforeAll(async () => {
    f.t = makeApp(options)
    f.alice = await seedUser(f.t)
  })
  return f
}

const rotate = (t: TestApp, id: string, token: string, options: RequestOptions = {}) => t.post(`${PATH}/${id}/rotate`, { token, ...options })

/** Every token of the user as the store has it: a refusal changes none of them. */
const tokensOf = (t: TestApp, userId: string) => t.store.listTokens(userId, { includeRevoked: true, limit: 100 })

/** The rotated token as its owner now sees it. */
const stored = async (t: TestApp, userId: string, id: string) => (await t.store.getToken(userId, id))!

describe('POST /api/v1/access-tokens/{token_id}/rotate', () => {
  const f = fixture()

  test('201 with the successor’s plaintext once: same name and scopes, type api; Cache-Control: no-store; the old token revoked at once', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { name: 'ci deploy key', scopes: ['deploy:staging', 'tokens:read'] })
    t.clock.advance(1000)
    const reply = await rotate(t, old.token.id, alice.plaintext)
    expect(reply.status).toBe(201)
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect(reply.body).toEqual(issuedTokenJson(reply.body.plaintext, t.clock.now(), { name: 'ci deploy key', tokenType: 'api', expiresAt: null, scopes: ['deploy:staging', 'tokens:read'] }))
    expect(await stored(t, alice.user.id, old.token.id)).toEqual({ ...old.token, revokedAt: t.clock.now(), rotatedTo: reply.body.token.id })
    // The successor works, the old token does not.
    expect((await t.get(ME, { token: reply.body.plaintext })).body.token.id).toBe(reply.body.token.id)
    const refused = await t.get(ME, { token: old.plaintext })
    expect([refused.status, refused.body, refused.headers.get('www-authenticate')]).toEqual([401, INVALID_TOKEN, 'Bearer'])
  })

  test.each<[string, RequestOptions]>([
    ['no body and no Content-Type', {}],
    ['an empty body with Content-Type: application/json', { rawBody: '', headers: { 'content-type': 'application/json' } }],
    ['an empty object', { body: {} }],
    ['graceSeconds 0', { body: { graceSeconds: 0 } }],
  ])('the body is optional: %s rotates with no grace and the old lifetime', async (_name, options) => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 7 * DAY_MS })
    t.clock.advance(DAY_MS)
    const reply = await rotate(t, old.token.id, alice.plaintext, options)
    expect(reply.status).toBe(201)
    expect(reply.body.token.expiresAt).toBe(iso(t.clock.now() + 7 * DAY_MS))
    expect((await stored(t, alice.user.id, old.token.id)).revokedAt).toBe(t.clock.now())
  })

  test('the overlap: with graceSeconds both tokens work until the grace ends, then only the successor', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { name: 'overlap' })
    const reply = await rotate(t, old.token.id, alice.plaintext, { body: { graceSeconds: 300 } })
    expect(reply.status).toBe(201)
    const at = t.clock.now()
    expect(await stored(t, alice.user.id, old.token.id)).toEqual({ ...old.token, expiresAt: at + 300_000, rotatedTo: reply.body.token.id })
    for (const token of [old.plaintext, reply.body.plaintext]) expect((await t.get(ME, { token })).status).toBe(200)
    t.clock.advance(299_999)
    expect((await t.get(ME, { token: old.plaintext })).status).toBe(200)
    t.clock.advance(1)
    expect([(await t.get(ME, { token: old.plaintext })).status, (await t.get(ME, { token: reply.body.plaintext })).status]).toEqual([401, 200])
    // It expired (never revoked), and is listed as such.
    const listed = await t.get(`${PATH}/${old.token.id}`, { token: alice.plaintext })
    expect(listed.body).toEqual(tokenJson(old.token, { expiresAt: iso(at + 300_000), lastUsedAt: iso(at + 299_999) }))
  })

  test('a grace longer than the old token has left does not lengthen it', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 60_000 })
    expect((await rotate(t, old.token.id, alice.plaintext, { body: { graceSeconds: 86_400 } })).status).toBe(201)
    expect((await stored(t, alice.user.id, old.token.id)).expiresAt).toBe(old.token.expiresAt)
  })

  test.each<[string, { expiresAt?: number | null; body?: unknown }, number | null]>([
    ['the old lifetime from now', { expiresAt: 30 * DAY_MS }, 30 * DAY_MS],
    ['none for a token that never expired', { expiresAt: null }, null],
    ['expiresInDays when given', { expiresAt: 30 * DAY_MS, body: { expiresInDays: 400 } }, 400 * DAY_MS],
    ['none with expiresInDays null', { expiresAt: 30 * DAY_MS, body: { expiresInDays: null } }, null],
    ['expiresInDays given as a string of digits, as create takes it', { expiresAt: null, body: { expiresInDays: '2' } }, 2 * DAY_MS],
  ])('the successor lives %s', async (_name, { expiresAt, body }, lifetime) => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: expiresAt == null ? null : t.clock.now() + expiresAt })
    t.clock.advance(3 * DAY_MS)
    const reply = await rotate(t, old.token.id, alice.plaintext, body === undefined ? {} : { body })
    expect(reply.status).toBe(201)
    expect(reply.body.token.expiresAt).toBe(lifetime === null ? null : iso(t.clock.now() + lifetime))
  })

  test('the token id is case-insensitive', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id)
    expect((await rotate(t, old.token.id.toUpperCase(), alice.plaintext)).status).toBe(201)
    expect((await stored(t, alice.user.id, old.token.id)).rotatedTo).not.toBeNull()
  })
})

describe('POST …/rotate: 409 saying why, 404 for what is not the caller’s; nothing changes', () => {
  const f = fixture()

  /** The refusal, and every token of the user as it was before. */
  async function refused(id: string, token: string, status: number, body: unknown, options: RequestOptions = {}) {
    const { t, alice } = f
    const before = await tokensOf(t, alice.user.id)
    const reply = await rotate(t, id, token, options)
    expect([reply.status, reply.body]).toEqual([status, body])
    // The caller's lastUsedAt moves (it is a use); nothing else.
    const after = await tokensOf(t, alice.user.id)
    expect(after.map(({ lastUsedAt: _, lastUsedIp: __, ...token }) => token)).toEqual(before.map(({ lastUsedAt: _, lastUsedIp: __, ...token }) => token))
  }

  test('a session token (even rotating itself) → 409', async () => {
    const { t, alice } = f
    const body = { detail: 'Session tokens cannot be rotated: sign in again instead' }
    await refused(alice.token.id, alice.plaintext, 409, body)
    const api = await seedToken(t, alice.user.id)
    await refused(alice.token.id, api.plaintext, 409, body)
  })

  test('a revoked token → 409', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id)
    await t.store.revokeToken(alice.user.id, old.token.id, t.clock.now())
    await refused(old.token.id, alice.plaintext, 409, { detail: 'A revoked token cannot be rotated' })
  })

  test('an expired token (expiring at this very moment) → 409', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 1000 })
    t.clock.advance(1000)
    await refused(old.token.id, alice.plaintext, 409, { detail: 'An expired token cannot be rotated' })
  })

  test('a token rotated already → 409, in its grace (by itself too) and after it', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id)
    expect((await rotate(t, old.token.id, alice.plaintext, { body: { graceSeconds: 60 } })).status).toBe(201)
    const body = { detail: 'This token has been rotated already: rotate its successor instead' }
    await refused(old.token.id, alice.plaintext, 409, body)
    await refused(old.token.id, old.plaintext, 409, body)
    t.clock.advance(60_000)
    await refused(old.token.id, alice.plaintext, 409, body)
  })

  test('another user’s token, or an id nobody has → 404 Token not found', async () => {
    const { t, alice } = f
    const bob = await seedUser(t)
    const bobs = await seedToken(t, bob.user.id)
    await refused(bobs.token.id, alice.plaintext, 404, TOKEN_NOT_FOUND)
    expect(await t.store.getToken(bob.user.id, bobs.token.id)).toEqual(bobs.token)
    await refused('0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f', alice.plaintext, 404, TOKEN_NOT_FOUND)
  })

  test.each<[string, unknown, unknown]>([
    ['graceSeconds below 0', { graceSeconds: -1 }, [{ loc: ['body', 'graceSeconds'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal' }]],
    ['graceSeconds over a day', { graceSeconds: 86_401 }, [{ loc: ['body', 'graceSeconds'], msg: 'Input should be less than or equal to 86400', type: 'less_than_equal' }]],
    ['graceSeconds not a number', { graceSeconds: 'soon' }, [{ loc: ['body', 'graceSeconds'], msg: 'Input should be a valid integer, unable to parse string as an integer', type: 'int_parsing' }]],
    ['expiresInDays 0', { expiresInDays: 0 }, [{ loc: ['body', 'expiresInDays'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' }]],
    ['a key it does not define', { graceSecond: 60 }, [{ loc: ['body', 'graceSecond'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }]],
    [
      'every problem at once',
      { graceSeconds: 1.5, expiresInDays: 3651, name: 'x' },
      [
        { loc: ['body', 'graceSeconds'], msg: 'Input should be a valid integer, got a number with a fractional part', type: 'int_from_float' },
        { loc: ['body', 'expiresInDays'], msg: 'Input should be less than or equal to 3650', type: 'less_than_equal' },
        { loc: ['body', 'name'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
      ],
    ],
  ])('%s → 422', async (_name, body, detail) => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id)
    await refused(old.token.id, alice.plaintext, 422, { detail }, { body })
  })

  test('a body that is not JSON → 422 json_invalid; a path id that is not a uuid → 422', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id)
    await refused(old.token.id, alice.plaintext, 422, JSON_INVALID, { rawBody: '{"graceSeconds": ', headers: { 'content-type': 'application/json' } })
    await refused(old.token.id, alice.plaintext, 422, JSON_INVALID, { rawBody: 'graceSeconds=60', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    const reply = await rotate(t, 'not-a-uuid', alice.plaintext)
    expect([reply.status, reply.body.detail[0].loc]).toEqual([422, ['path', 'token_id']])
  })
})

describe('POST …/rotate: scopes', () => {
  const f = fixture()

  test('a token rotates itself without tokens:write → 201; with no grace it is revoked, though the response is still the 201', async () => {
    const { t, alice } = f
    const self = await seedToken(t, alice.user.id, { name: 'deployer', scopes: ['deploy:staging'], expiresAt: t.clock.now() + 10 * DAY_MS })
    t.clock.advance(DAY_MS)
    const reply = await rotate(t, self.token.id, self.plaintext)
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual(issuedTokenJson(reply.body.plaintext, t.clock.now(), { name: 'deployer', tokenType: 'api', expiresAt: t.clock.now() + 10 * DAY_MS, scopes: ['deploy:staging'] }))
    expect((await t.get(ME, { token: self.plaintext })).status).toBe(401)
    expect((await t.get(ME, { token: reply.body.plaintext })).status).toBe(200)
  })

  test('rotating another token without tokens:write → 403 with the challenge; nothing changes', async () => {
    const { t, alice } = f
    const caller = await seedToken(t, alice.user.id, { scopes: ['tokens:read'] })
    const other = await seedToken(t, alice.user.id, { scopes: ['tokens:read'] })
    const reply = await rotate(t, other.token.id, caller.plaintext, { body: { graceSeconds: 'not even checked' } })
    expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([
      403,
      { detail: 'This token lacks the scope tokens:write' },
      'Bearer error="insufficient_scope", scope="tokens:write"',
    ])
    expect(await stored(t, alice.user.id, other.token.id)).toEqual(other.token)
  })

  test('rotating a token that holds scopes the caller lacks → 403: a rotation would hand them out', async () => {
    const { t, alice } = f
    const caller = await seedToken(t, alice.user.id, { scopes: ['tokens:write', 'deploy:staging'] })
    const other = await seedToken(t, alice.user.id, { scopes: ['deploy:production', 'deploy:staging', 'grafana:read'] })
    const reply = await rotate(t, other.token.id, caller.plaintext)
    expect([reply.status, reply.body]).toEqual([403, { detail: 'A token cannot grant a scope it does not have: deploy:production grafana:read' }])
    expect(await stored(t, alice.user.id, other.token.id)).toEqual(other.token)
  })
})

describe('POST …/rotate: the successor is capped like a create', () => {
  const f = fixture()
  let caller: IssuedToken

  beforeAll(async () => {
    // An API token with tokens:write that expires in 10 days.
    caller = await seedToken(f.t, f.alice.user.id, { name: 'rotator', scopes: ['*'], expiresAt: f.t.clock.now() + 10 * DAY_MS })
  })

  test('by an API token: a carried lifetime past the caller’s end is cut to it; expiresInDays past it → 403', async () => {
    const { t, alice } = f
    const long = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 30 * DAY_MS })
    const cut = await rotate(t, long.token.id, caller.plaintext, { body: { graceSeconds: 60 } })
    expect([cut.status, cut.body.token.expiresAt]).toEqual([201, iso(caller.token.expiresAt!)])
    const other = await seedToken(t, alice.user.id)
    const outlives = await rotate(t, other.token.id, caller.plaintext, { body: { expiresInDays: 11 } })
    expect([outlives.status, outlives.body]).toEqual([403, { detail: 'A token cannot outlive the token that creates it' }])
    expect(await stored(t, alice.user.id, other.token.id)).toEqual(other.token)
    const within = await rotate(t, other.token.id, caller.plaintext, { body: { expiresInDays: 9 } })
    expect([within.status, within.body.token.expiresAt]).toEqual([201, iso(t.clock.now() + 9 * DAY_MS)])
  })

  test('by a session: no cap, the old lifetime or expiresInDays as asked', async () => {
    const { t, alice } = f
    const other = await seedToken(t, alice.user.id)
    const reply = await rotate(t, other.token.id, alice.plaintext, { body: { expiresInDays: 3650 } })
    expect([reply.status, reply.body.token.expiresAt]).toEqual([201, iso(t.clock.now() + 3650 * DAY_MS)])
  })

  test('by itself: the successor may live as long as the old token did, never longer', async () => {
    const { t, alice } = f
    const self = await seedToken(t, alice.user.id, { scopes: ['deploy:staging'], expiresAt: t.clock.now() + 7 * DAY_MS })
    t.clock.advance(DAY_MS)
    const longer = await rotate(t, self.token.id, self.plaintext, { body: { expiresInDays: 8 } })
    expect([longer.status, longer.body]).toEqual([403, { detail: 'A token cannot outlive the token that creates it' }])
    const forever = await rotate(t, self.token.id, self.plaintext, { body: { expiresInDays: null, graceSeconds: 60 } })
    expect([forever.status, forever.body.token.expiresAt]).toEqual([201, iso(t.clock.now() + 7 * DAY_MS)])
  })
})

describe('POST …/rotate with --max-token-days 90', () => {
  const f = fixture({ maxTokenDays: 90 })

  test('expiresInDays 91 → 422 less_than_equal, as at create', async () => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() + 30 * DAY_MS })
    const reply = await rotate(t, old.token.id, alice.plaintext, { body: { expiresInDays: 91 } })
    expect([reply.status, reply.body]).toEqual([422, { detail: [{ loc: ['body', 'expiresInDays'], msg: 'Input should be less than or equal to 90', type: 'less_than_equal' }] }])
  })

  test.each<[string, number | null, unknown, number]>([
    ['a token that never expired gets the maximum', null, undefined, 90],
    ['a lifetime longer than the maximum (made before it was set) is cut to it', 400 * DAY_MS, undefined, 90],
    ['a shorter one is carried', 30 * DAY_MS, undefined, 30],
    ['null means the maximum', 30 * DAY_MS, { expiresInDays: null }, 90],
  ])('%s', async (_name, lifetime, body, days) => {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { expiresAt: lifetime === null ? null : t.clock.now() + lifetime })
    const reply = await rotate(t, old.token.id, alice.plaintext, body === undefined ? {} : { body })
    expect([reply.status, reply.body.token.expiresAt]).toEqual([201, iso(t.clock.now() + days * DAY_MS)])
  })
})

describe('POST …/rotate with --max-active-tokens 2: the successor takes the old token’s place', () => {
  const f = fixture({ maxActiveTokens: 2 })

  test('at the cap a rotation is allowed; a rotated token still in its grace counts, so a second one is refused until the grace ends', async () => {
    const { t, alice } = f
    const first = await seedToken(t, alice.user.id)
    const second = await seedToken(t, alice.user.id)
    const over = await t.post(PATH, { token: alice.plaintext, body: { name: 'third' } })
    expect([over.status, over.body]).toEqual([409, { detail: 'Too many active tokens: revoke some first (at most 2)' }])
    expect((await rotate(t, first.token.id, alice.plaintext, { body: { graceSeconds: 60 } })).status).toBe(201)
    const before = await tokensOf(t, alice.user.id)
    const refused = await rotate(t, second.token.id, alice.plaintext)
    expect([refused.status, refused.body]).toEqual([409, { detail: 'Too many active tokens: revoke some first (at most 2)' }])
    expect(await tokensOf(t, alice.user.id)).toEqual(before)
    t.clock.advance(60_000)
    expect((await rotate(t, second.token.id, alice.plaintext)).status).toBe(201)
  })
})

/** How many refusals authentication counted as reuse of a rotated token (vai_auth_failures_total{reason="reused"}). */
async function reusedRefusals(t: TestApp): Promise<number> {
  const { values } = await t.metrics.registry.getSingleMetric('vai_auth_failures_total')!.get()
  return values.find((value) => value.labels.reason === 'reused')!.value
}

describe.each(['warn', 'revoke'] as const)('reuse of a rotated token, --rotation-reuse %s', (mode) => {
  // Every reuse the store was told of: [token id, time, whether to revoke].
  const recorded: [string, number, boolean, Origin?][] = []
  const f = fixture({
    rotationReuse: mode,
    wrapStore: (store) =>
      new Proxy(store, {
        get: (target, name) =>
          name === 'recordReuse'
            ? (...args: [string, number, boolean, Origin?]) => (recorded.push(args), target.recordReuse(...args))
            : Reflect.get(target, name),
      }),
  })
  const reuses = () => recorded.length

  /** ada's `old` rotated with `graceSeconds` to `successor`. */
  async function rotated(graceSeconds: number) {
    const { t, alice } = f
    const old = await seedToken(t, alice.user.id, { name: `rotated with ${graceSeconds}s` })
    const reply = await rotate(t, old.token.id, alice.plaintext, { body: { graceSeconds } })
    expect(reply.status).toBe(201)
    return { old, successor: reply.body as { plaintext: string; token: { id: string } } }
  }

  test('during the grace the old token is valid: no reuse', async () => {
    const { t } = f
    const before = reuses()
    const { old, successor } = await rotated(60)
    t.clock.advance(59_999)
    expect((await t.get(ME, { token: old.plaintext })).status).toBe(200)
    expect((await t.get(ME, { token: successor.plaintext })).status).toBe(200)
    expect(reuses()).toBe(before)
  })

  test.each([0, 60])(`after a grace of %is: a 401 like any dead token, recorded as reuse; the successor ${mode === 'warn' ? 'stays live' : 'is revoked, and its next request is a 401'}`, async (grace) => {
    const { t, alice } = f
    const before = reuses()
    const { old, successor } = await rotated(grace)
    t.clock.advance(grace * 1000)
    // Used (and so remembered by SQLite's lookup) before the reuse: the revocation must still count at once.
    expect((await t.get(ME, { token: successor.plaintext })).status).toBe(200)
    const reply = await t.get(ME, { token: old.plaintext, headers: { 'user-agent': 'copied-script/1.0' } })
    expect([reply.status, reply.body, reply.headers.get('www-authenticate')]).toEqual([401, INVALID_TOKEN, 'Bearer'])
    // From the presenter's address, with its user agent: the event says who holds the copy.
    expect(recorded.slice(before)).toEqual([[old.token.id, t.clock.now(), mode === 'revoke', { ip: LOCAL_PEER, userAgent: 'copied-script/1.0' }]])
    const next = await t.get(ME, { token: successor.plaintext })
    if (mode === 'warn') {
      expect(next.status).toBe(200)
      expect((await stored(t, alice.user.id, successor.token.id)).revokedAt).toBeNull()
    } else {
      expect([next.status, next.body]).toEqual([401, INVALID_TOKEN])
      expect((await stored(t, alice.user.id, successor.token.id)).revokedAt).toBe(t.clock.now())
    }
  })

  test(`down a chain of rotations, ${mode === 'warn' ? 'every successor stays live' : 'every live successor is revoked'}; other tokens are untouched`, async () => {
    const { t, alice } = f
    const { old, successor } = await rotated(0)
    const newest = await rotate(t, successor.token.id, successor.plaintext, { body: { graceSeconds: 600 } })
    expect(newest.status).toBe(201)
    const bystander = await seedToken(t, alice.user.id)
    const counted = await reusedRefusals(t)
    expect((await t.get(ME, { token: old.plaintext })).status).toBe(401)
    // The refusal is counted under its own reason.
    expect(await reusedRefusals(t)).toBe(counted + 1)
    // The middle one is in its grace; the newest is live.
    const live = [successor.plaintext, newest.body.plaintext].map(async (token) => (await t.get(ME, { token })).status)
    expect(await Promise.all(live)).toEqual(mode === 'warn' ? [200, 200] : [401, 401])
    expect((await t.get(ME, { token: bystander.plaintext })).status).toBe(200)
    expect((await t.get(ME, { token: alice.plaintext })).status).toBe(200)
  })

  test(`introspecting a rotated token after its grace: {"active":false}, and recorded as reuse${mode === 'revoke' ? '; the successor is revoked' : ''}`, async () => {
    const { t, alice } = f
    const service = await seedToken(t, alice.user.id, { scopes: ['introspect'] })
    const { old, successor } = await rotated(0)
    const before = reuses()
    const reply = await t.post('/api/v1/auth/introspect', { token: service.plaintext, body: { token: old.plaintext } })
    expect([reply.status, reply.body]).toEqual([200, { active: false }])
    // The service's address is not the holder's: the event names none.
    expect(recorded.slice(before)).toEqual([[old.token.id, t.clock.now(), mode === 'revoke', { ip: null, userAgent: null }]])
    expect((await t.post('/api/v1/auth/introspect', { token: service.plaintext, body: { token: successor.plaintext } })).body.active).toBe(mode === 'warn')
  })

  test('a dead token that was never rotated is no reuse', async () => {
    const { t, alice } = f
    const before = reuses()
    const revoked = await seedToken(t, alice.user.id)
    await t.store.revokeToken(alice.user.id, revoked.token.id, t.clock.now())
    const expired = await seedToken(t, alice.user.id, { expiresAt: t.clock.now() })
    for (const token of [revoked.plaintext, expired.plaintext]) expect((await t.get(ME, { token })).status).toBe(401)
    expect(reuses()).toBe(before)
  })
})

test('--rotation-reuse: warn by default, revoke by flag or VAI_ROTATION_REUSE (the flag wins); anything else a usage error', () => {
  expect(loadConfig([], {}).rotationReuse).toBe('warn')
  expect(loadConfig([], { VAI_ROTATION_REUSE: 'revoke' }).rotationReuse).toBe('revoke')
  expect(loadConfig(['--rotation-reuse', 'warn'], { VAI_ROTATION_REUSE: 'revoke' }).rotationReuse).toBe('warn')
  expect(() => loadConfig(['--rotation-reuse', 'delete'], {})).toThrow(new UsageError("invalid --rotation-reuse 'delete': expected 'warn' or 'revoke'"))
})
