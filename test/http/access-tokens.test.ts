import { beforeAll, describe, expect, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import {
  INVALID_TOKEN, iso, makeApp, PLAINTEXT, seedToken, seedUser, tokenJson, UUID, type Seeded, type TestApp,
  issuedTokenJson,
  LOCAL_PEER,
} from '../support/app'

const PATH = '/api/v1/access-tokens'
const ids = (reply: { body: { items: { id: string }[] } }) => reply.body.items.map((item) => item.id)

const TRUE_WORDS = ['true', 'True', 'TRUE', '1', 'yes', 'YES', 'on', 'On', 't', 'T', 'y', 'Y']
const FALSE_WORDS = ['false', 'False', 'FALSE', '0', 'no', 'NO', 'off', 'OFF', 'f', 'F', 'n', 'N']
const NOT_BOOLEANS = ['maybe', '2', '', 'truee', 'null', 'none', '-1']
const BOOL_PARSING = 'Input should be a valid boolean, unable to interpret input'

describe('GET /api/v1/access-tokens', () => {
  let t: TestApp
  let alice: Seeded
  // Alice's tokens, oldest first, one second apart.
  const made: Record<string, Awaited<ReturnType<typeof seedToken>>> = {}

  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t)
    const bob = await seedUser(t)
    await seedToken(t, bob.user.id, { name: "bob's" })
    for (const [name, options] of [
      ['api 1', {}],
      ['laptop', { tokenType: 'session' as const, expiresAt: t.clock.now() + 30 * DAY_MS }],
      ['expired', { expiresAt: t.clock.now() + 1500 }],
      ['revoked', {}],
      ['api 2', { expiresAt: t.clock.now() + 90 * DAY_MS }],
    ] as const) {
      t.clock.advance(1000)
      made[name] = await seedToken(t, alice.user.id, { name, ...options })
    }
    // Revoked in the same millisecond as 'api 2' was made.
    await t.store.revokeToken(alice.user.id, made.revoked!.token.id, t.clock.now())
    t.clock.advance(1000)
  })

  const list = (query = '') => t.get(`${PATH}${query}`, { token: alice.plaintext })
  const json = (name: string, changes = {}) => tokenJson(made[name]!.token, changes)
  const current = () => tokenJson(alice.token, { lastUsedAt: t.clock.now() })

  test("only the caller's tokens, newest first; revoked left out, expired listed", async () => {
    const reply = await list()
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({
      items: [json('api 2'), json('expired'), json('laptop'), json('api 1'), current()],
      nextCursor: null,
    })
  })

  test('every key of a token is present; timestamps are ISO 8601 in UTC ending in Z', async () => {
    const reply = await list()
    for (const item of reply.body.items) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'lastUsedIp', 'name', 'revokedAt', 'scopes', 'tokenPrefix', 'tokenType'])
      expect(item.id).toMatch(UUID)
      expect(item.tokenPrefix).toMatch(/^vai_[0-9A-Za-z]{8}$/)
      for (const key of ['createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt']) {
        if (item[key] !== null) expect(item[key]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      }
    }
  })

  test.each([
    ['session', () => [json('laptop'), current()]],
    ['api', () => [json('api 2'), json('expired'), json('api 1')]],
  ])('tokenType=%s lists that type only', async (tokenType, expected) => {
    const reply = await list(`?tokenType=${tokenType}`)
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ items: expected(), nextCursor: null })
  })

  test.each(TRUE_WORDS)('includeRevoked=%s lists revoked tokens too', async (word) => {
    const reply = await list(`?includeRevoked=${word}`)
    expect(reply.status).toBe(200)
    expect(reply.body.items).toContainEqual(json('revoked', { revokedAt: made['api 2']!.token.createdAt }))
    expect(reply.body.items).toHaveLength(6)
  })

  test.each(FALSE_WORDS)('includeRevoked=%s leaves them out', async (word) => {
    const reply = await list(`?includeRevoked=${word}`)
    expect(reply.status).toBe(200)
    expect(ids(reply)).not.toContain(made.revoked!.token.id)
    expect(reply.body.items).toHaveLength(5)
  })

  test.each(NOT_BOOLEANS)('includeRevoked=%p → 422 bool_parsing', async (word) => {
    const reply = await list(`?includeRevoked=${word}`)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['query', 'includeRevoked'], msg: BOOL_PARSING, type: 'bool_parsing' }] })
  })

  test.each([
    ['robot', 'enum'],
    ['SESSION', 'enum'],
    ['', 'enum'],
  ])('tokenType=%p → 422 %s', async (value, type) => {
    const reply = await list(`?tokenType=${value}`)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['query', 'tokenType'], msg: "Input should be 'session' or 'api'", type }] })
  })

  const NOT_AN_INTEGER = 'Input should be a valid integer, unable to parse string as an integer'
  test.each([
    ['0', 'greater_than_equal', 'Input should be greater than or equal to 1'],
    ['-1', 'greater_than_equal', 'Input should be greater than or equal to 1'],
    ['201', 'less_than_equal', 'Input should be less than or equal to 200'],
    ['99999999999999999999', 'less_than_equal', 'Input should be less than or equal to 200'],
    ['abc', 'int_parsing', NOT_AN_INTEGER],
    ['1.5', 'int_parsing', NOT_AN_INTEGER],
    ['', 'int_parsing', NOT_AN_INTEGER],
    ['1e2', 'int_parsing', NOT_AN_INTEGER],
  ])('limit=%p → 422 %s', async (limit, type, msg) => {
    const reply = await list(`?limit=${limit}`)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['query', 'limit'], msg, type }] })
  })

  test.each([
    ['1', 1],
    ['200', 5],
    ['%2B2', 2],
    ['%203%20', 3],
  ])('limit=%p is accepted', async (limit, count) => {
    const reply = await list(`?limit=${limit}`)
    expect(reply.status).toBe(200)
    expect(reply.body.items).toHaveLength(count)
  })

  test('unknown query parameters are ignored', async () => {
    expect((await list('?colour=blue')).status).toBe(200)
  })

  test.each([
    ['not made by the server', 'abc'],
    ['empty', ''],
    ['well-shaped but unsigned', `${Buffer.from(`${Date.now()}.0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f`).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAA`],
  ])('a cursor %s → 422 at ["query","cursor"]', async (_name, cursor) => {
    const reply = await list(`?cursor=${encodeURIComponent(cursor)}`)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [{ loc: ['query', 'cursor'], msg: 'Cursor is not one this server issued: pass a nextCursor unchanged', type: 'value_error' }],
    })
  })

  test('a tampered cursor → 422; the same cursor unchanged works', async () => {
    const { nextCursor } = (await list('?limit=2')).body
    const tampered = nextCursor.slice(0, 3) + (nextCursor[3] === 'A' ? 'B' : 'A') + nextCursor.slice(4)
    expect((await list(`?limit=2&cursor=${tampered}`)).status).toBe(422)
    expect((await list(`?limit=2&cursor=${nextCursor}`)).status).toBe(200)
  })

  test("another user's cursor → 422", async () => {
    const carol = await seedUser(t)
    for (let i = 0; i < 3; i++) await seedToken(t, carol.user.id)
    const { nextCursor } = (await t.get(`${PATH}?limit=1`, { token: carol.plaintext })).body
    expect(nextCursor).toBeString()
    const reply = await list(`?cursor=${nextCursor}`)
    expect(reply.status).toBe(422)
    expect(reply.body.detail[0].loc).toEqual(['query', 'cursor'])
  })
})

describe('GET /api/v1/access-tokens: pages', () => {
  test('limit defaults to 50', async () => {
    const t = makeApp()
    const user = await seedUser(t)
    for (let i = 0; i < 50; i++) await seedToken(t, user.user.id)
    const first = await t.get(PATH, { token: user.plaintext })
    expect(first.body.items).toHaveLength(50)
    expect(first.body.nextCursor).toBeString()
    const second = await t.get(`${PATH}?cursor=${first.body.nextCursor}`, { token: user.plaintext })
    expect(second.body).toEqual({ items: [tokenJson(user.token, { lastUsedAt: t.clock.now() })], nextCursor: null })
  })

  test.each([
    [4, 2, [2, 2]],
    [5, 2, [2, 2, 1]],
    [4, 4, [4]],
    [4, 5, [4]],
    [1, 1, [1]],
  ])('%i tokens, limit %i: pages of %p, nextCursor null exactly on the last', async (count, limit, sizes) => {
    const t = makeApp()
    const user = await seedUser(t)
    for (let i = 1; i < count; i++) {
      t.clock.advance(10)
      await seedToken(t, user.user.id)
    }
    const seen: number[] = []
    let cursor: string | null = ''
    do {
      const reply = await t.get(`${PATH}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token: user.plaintext })
      expect(reply.status).toBe(200)
      seen.push(reply.body.items.length)
      cursor = reply.body.nextCursor
    } while (cursor !== null && seen.length < 10)
    expect(seen).toEqual(sizes)
  })

  test.each([
    ['one millisecond apart', 1],
    ['all in the same millisecond', 0],
  ])('a walk returns every token exactly once while tokens are created between pages (%s)', async (_name, step) => {
    const t = makeApp()
    const user = await seedUser(t)
    const before = [user.token.id]
    for (let i = 0; i < 24; i++) {
      t.clock.advance(step)
      before.push((await seedToken(t, user.user.id, { name: `t${i}`, tokenType: i % 3 ? 'api' : 'session' })).token.id)
    }
    const walked: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const reply = await t.get(`${PATH}?limit=5${query}`, { token: user.plaintext })
      expect(reply.status).toBe(200)
      walked.push(...ids(reply))
      cursor = reply.body.nextCursor
      // New tokens land at the top, above every cursor.
      t.clock.advance(step)
      await seedToken(t, user.user.id, { name: `new ${pages++}` })
    } while (cursor !== null && pages < 20)
    expect(pages).toBe(5)
    expect(walked).toEqual([...before].reverse())
  })

  test('revoked tokens are skipped in the middle of a walk without losing others', async () => {
    const t = makeApp()
    const user = await seedUser(t)
    const tokens = [user.token.id]
    for (let i = 0; i < 6; i++) {
      t.clock.advance(1)
      tokens.push((await seedToken(t, user.user.id)).token.id)
    }
    const first = await t.get(`${PATH}?limit=3`, { token: user.plaintext })
    await t.store.revokeToken(user.user.id, tokens[2]!, t.clock.now())
    const second = await t.get(`${PATH}?limit=3&cursor=${first.body.nextCursor}`, { token: user.plaintext })
    expect([...ids(first), ...ids(second)]).toEqual([6, 5, 4, 3, 1, 0].map((i) => tokens[i]!))
    expect(second.body.nextCursor).toBeNull()
  })
})

describe('POST /api/v1/access-tokens', () => {
  let t: TestApp
  let alice: Seeded

  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t)
  })

  const create = (body: unknown) => t.post(PATH, { token: alice.plaintext, body })

  test('201 with the plaintext once and the api token; Cache-Control: no-store', async () => {
    const reply = await create({ name: 'ci deploy key', expiresInDays: 90 })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('cache-control')).toBe('no-store')
    const { plaintext } = reply.body
    expect(plaintext).toMatch(PLAINTEXT)
    // Without scopes, the caller's own: a session's full access.
    const now = t.clock.now()
    expect(reply.body).toEqual(issuedTokenJson(plaintext, now, { name: 'ci deploy key', tokenType: 'api', expiresAt: now + 90 * DAY_MS, scopes: ['*'] }))
  })

  test('the new token authenticates, and is never shown in plaintext again', async () => {
    const { body } = await create({ name: 'fresh' })
    const me = await t.get('/api/v1/auth/me', { token: body.plaintext, via: 'apiKey' })
    expect(me.status).toBe(200)
    expect(me.body.token).toEqual({ ...body.token, lastUsedAt: iso(t.clock.now()), lastUsedIp: LOCAL_PEER })
    const one = await t.get(`${PATH}/${body.token.id}`, { token: alice.plaintext })
    expect(JSON.stringify(one.body)).not.toContain(body.plaintext)
    const listed = await t.get(`${PATH}?limit=200`, { token: alice.plaintext })
    expect(JSON.stringify(listed.body)).not.toContain(body.plaintext)
  })

  test("the new token is the caller's alone", async () => {
    const { body } = await create({ name: 'mine' })
    const bob = await seedUser(t)
    expect((await t.get(`${PATH}/${body.token.id}`, { token: bob.plaintext })).status).toBe(404)
    expect(ids(await t.get(PATH, { token: bob.plaintext }))).toEqual([bob.token.id])
  })

  test('the database holds only the SHA-256 digest of the plaintext', async () => {
    const { body } = await create({ name: 'digest' })
    const row = (await t.row('tokens', body.token.id))!
    expect(JSON.stringify(Object.values(row).map(String))).not.toContain(body.plaintext.slice(12))
    expect(row.digest).toBe(new Bun.CryptoHasher('sha256').update(body.plaintext).digest('hex'))
  })

  test.each([
    ['one character', 'a'],
    ['255 characters', 'x'.repeat(255)],
    ['255 emoji (one code point each)', '😀'.repeat(255)],
    ['accents and spaces', '  déploiement — prod  '],
  ])('name of %s is accepted as sent', async (_name, name) => {
    const reply = await create({ name })
    expect(reply.status).toBe(201)
    expect(reply.body.token.name).toBe(name)
  })

  test.each([
    [{ expiresInDays: 1 }, DAY_MS],
    [{ expiresInDays: 3650 }, 3650 * DAY_MS],
    [{ expiresInDays: '30' }, 30 * DAY_MS],
    [{ expiresInDays: null }, null],
    [{}, null],
  ])('expiresInDays %p → expiresAt now + that', async (extra, lifetime) => {
    const reply = await create({ name: 'x', ...extra })
    expect(reply.status).toBe(201)
    expect(reply.body.token.expiresAt).toBe(lifetime === null ? null : iso(t.clock.now() + lifetime))
  })

  const issue = (field: string, type: string, msg: string) => ({ loc: ['body', field], msg, type })
  test.each([
    [{}, [issue('name', 'missing', 'Field required')]],
    [{ name: '' }, [issue('name', 'string_too_short', 'String should have at least 1 character')]],
    [{ name: 'x'.repeat(256) }, [issue('name', 'string_too_long', 'String should have at most 255 characters')]],
    [{ name: '😀'.repeat(256) }, [issue('name', 'string_too_long', 'String should have at most 255 characters')]],
    [{ name: 5 }, [issue('name', 'string_type', 'Input should be a valid string')]],
    [{ name: null }, [issue('name', 'string_type', 'Input should be a valid string')]],
    [{ name: 'x', expiresInDays: 0 }, [issue('expiresInDays', 'greater_than_equal', 'Input should be greater than or equal to 1')]],
    [{ name: 'x', expiresInDays: -5 }, [issue('expiresInDays', 'greater_than_equal', 'Input should be greater than or equal to 1')]],
    [{ name: 'x', expiresInDays: 3651 }, [issue('expiresInDays', 'less_than_equal', 'Input should be less than or equal to 3650')]],
    [{ name: 'x', expiresInDays: '0' }, [issue('expiresInDays', 'greater_than_equal', 'Input should be greater than or equal to 1')]],
    [{ name: 'x', expiresInDays: 1.5 }, [issue('expiresInDays', 'int_from_float', 'Input should be a valid integer, got a number with a fractional part')]],
    [{ name: 'x', expiresInDays: 'soon' }, [issue('expiresInDays', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer')]],
    [{ name: 'x', expiresInDays: true }, [issue('expiresInDays', 'int_type', 'Input should be a valid integer')]],
    [{ name: 'x', expiresInDays: [30] }, [issue('expiresInDays', 'int_type', 'Input should be a valid integer')]],
    [{ name: '', expiresInDays: 0 }, [
      issue('name', 'string_too_short', 'String should have at least 1 character'),
      issue('expiresInDays', 'greater_than_equal', 'Input should be greater than or equal to 1'),
    ]],
    // A key the body does not define is never silently ignored: a typo is a 422 of its own, listed with the rest.
    [{ name: 'x', expiresInDay: 30 }, [issue('expiresInDay', 'extra_forbidden', 'Extra inputs are not permitted')]],
    [{ name: 'x', scope: ['tokens:read'] }, [issue('scope', 'extra_forbidden', 'Extra inputs are not permitted')]],
    [{ name: '', colour: 'blue', size: 3 }, [
      issue('name', 'string_too_short', 'String should have at least 1 character'),
      issue('colour', 'extra_forbidden', 'Extra inputs are not permitted'),
      issue('size', 'extra_forbidden', 'Extra inputs are not permitted'),
    ]],
  ])('%p → 422', async (body, detail) => {
    const reply = await create(body)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail })
  })
})

describe('POST /api/v1/access-tokens: scopes', () => {
  let t: TestApp
  let alice: Seeded

  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t)
  })

  /** Every token of alice's, revoked or not: what a refusal must leave as it was. */
  const tokensOf = async () => (await t.store.listTokens(alice.user.id, { includeRevoked: true, limit: 200 })).map((token) => token.id)
  const create = (body: unknown, token = alice.plaintext) => t.post(PATH, { token, body })
  const SYNTAX = 'A scope is * or 1 to 64 characters of A-Z a-z 0-9 _ . : / -'

  test.each([
    ['several, sorted and each once', ['tokens:read', 'deploy:staging', 'tokens:read', 'deploy:staging'], ['deploy:staging', 'tokens:read']],
    ['full access', ['*'], ['*']],
    ['full access beside others', ['grafana:read', '*'], ['*', 'grafana:read']],
    ['none at all', [], []],
    ['every character a scope may hold', ['A-Z_a.z:0/9-'], ['A-Z_a.z:0/9-']],
    ['64 characters', ['s'.repeat(64)], ['s'.repeat(64)]],
    ['64 of them', Array.from({ length: 64 }, (_, i) => `app:${String(i).padStart(2, '0')}`), Array.from({ length: 64 }, (_, i) => `app:${String(i).padStart(2, '0')}`)],
  ])('%s → 201, stored and shown sorted, without duplicates', async (_name, scopes, stored) => {
    const reply = await create({ name: 'scoped', scopes })
    expect(reply.status).toBe(201)
    expect(reply.body.token.scopes).toEqual(stored)
    expect((await t.store.getToken(alice.user.id, reply.body.token.id))?.scopes).toEqual(stored)
    expect((await t.get(`${PATH}/${reply.body.token.id}`, { token: alice.plaintext })).body.scopes).toEqual(stored)
  })

  const pattern = (i: number) => ({ loc: ['body', 'scopes', i], msg: SYNTAX, type: 'string_pattern_mismatch' })
  test.each([
    ['an empty scope', [''], [pattern(0)]],
    ['65 characters', ['s'.repeat(65)], [pattern(0)]],
    ['a space', ['tokens read'], [pattern(0)]],
    ['a comma', ['a,b'], [pattern(0)]],
    ['a character outside the set', ['deploy@prod'], [pattern(0)]],
    ['a non-ASCII letter', ['scöpe'], [pattern(0)]],
    ['a lone surrogate', ['\ud800'], [pattern(0)]],
    ['* with more', ['**'], [pattern(0)]],
    ['each bad one at its index', ['ok', 'no good', 'fine', '', 'x'.repeat(65)], [pattern(1), pattern(3), pattern(4)]],
    ['a number', [5], [{ loc: ['body', 'scopes', 0], msg: 'Input should be a valid string', type: 'string_type' }]],
    ['not a list', 'tokens:read', [{ loc: ['body', 'scopes'], msg: 'Input should be a valid list', type: 'list_type' }]],
    ['null', null, [{ loc: ['body', 'scopes'], msg: 'Input should be a valid list', type: 'list_type' }]],
    ['65 items', Array.from({ length: 65 }, (_, i) => `app:${i}`), [{ loc: ['body', 'scopes'], msg: 'List should have at most 64 items after validation, not 65', type: 'too_long' }]],
    // The bound is on what is sent, before duplicates fold.
    ['65 items, one a duplicate', [...Array.from({ length: 64 }, (_, i) => `app:${i}`), 'app:0'], [{ loc: ['body', 'scopes'], msg: 'List should have at most 64 items after validation, not 65', type: 'too_long' }]],
  ])('%s → 422, and nothing is made', async (_name, scopes, detail) => {
    const before = await tokensOf()
    const reply = await create({ name: 'scoped', scopes })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail })
    expect(await tokensOf()).toEqual(before)
  })

  test('a bad scope is listed with every other problem of the body', async () => {
    const reply = await create({ name: '', scopes: ['bad scope'], expiresInDays: 0, colour: 'blue' })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [
        { loc: ['body', 'name'], msg: 'String should have at least 1 character', type: 'string_too_short' },
        { loc: ['body', 'expiresInDays'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' },
        pattern(0),
        { loc: ['body', 'colour'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
      ],
    })
  })

  test.each([
    // [the caller's scopes, asked, granted (or the scopes named in the 403)]
    [['*'], undefined, ['*']],
    [['tokens:write'], undefined, ['tokens:write']],
    [['tokens:write', 'deploy:staging'], ['deploy:staging'], ['deploy:staging']],
    [['tokens:write', 'deploy:staging'], [], []],
    [['tokens:write', 'deploy:staging'], ['tokens:write', 'deploy:staging', 'deploy:staging'], ['deploy:staging', 'tokens:write']],
    [['*'], ['tokens:read', 'introspect', 'grafana:read'], ['grafana:read', 'introspect', 'tokens:read']],
    [['tokens:write'], ['deploy:staging'], 'deploy:staging'],
    [['tokens:write'], ['tokens:read', 'tokens:write', 'deploy:staging'], 'deploy:staging tokens:read'],
    [['tokens:write', 'deploy:staging'], ['*'], '*'],
    [['tokens:write', 'deploy:staging'], ['deploy:prod'], 'deploy:prod'],
    // Nobody is an admin yet: not even full access grants it.
    [['*'], ['admin'], 'admin'],
    [['*'], ['tokens:read', 'admin'], 'admin'],
  ] as const)('a token with %p asking for %p → %p', async (held, asked, outcome) => {
    const caller = await seedToken(t, alice.user.id, { scopes: [...held] })
    const before = await tokensOf()
    const reply = await create({ name: 'child', ...(asked === undefined ? {} : { scopes: asked }) }, caller.plaintext)
    if (typeof outcome === 'string') {
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual({ detail: `A token cannot grant a scope it does not have: ${outcome}` })
      expect(reply.headers.get('www-authenticate')).toBeNull()
      expect(await tokensOf()).toEqual(before)
    } else {
      expect(reply.status).toBe(201)
      expect(reply.body.token.scopes).toEqual(outcome)
    }
  })

  test('a session asking for admin → 403: no session is an admin yet', async () => {
    const reply = await create({ name: 'root', scopes: ['admin'] })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual({ detail: 'A token cannot grant a scope it does not have: admin' })
  })
})

describe('POST /api/v1/access-tokens: an API token never makes one that outlives it', () => {
  const OUTLIVE = { detail: 'A token cannot outlive the token that creates it' }

  test.each([
    // [max token days, the caller's lifetime in days (null: never expires), expiresInDays asked, the new one's lifetime in days (or 403)]
    [null, 10, undefined, 10],
    [null, 10, null, 10],
    [null, 10, 5, 5],
    [null, 10, 9, 9],
    // A second has passed since the caller was made: 10 days from now is a second too long.
    [null, 10, 10, 403],
    [null, 10, 11, 403],
    [null, 10, 3650, 403],
    [null, null, undefined, null],
    [null, null, 3650, 3650],
    [90, 10, undefined, 10],
    [90, 10, null, 10],
    [90, 120, undefined, 90],
    [90, 120, null, 90],
    [90, 10, 11, 403],
  ] as const)('--max-token-days %p, a caller expiring in %p days, expiresInDays %p → %p', async (maxTokenDays, callerDays, asked, outcome) => {
    const t = makeApp({ maxTokenDays })
    const alice = await seedUser(t)
    const caller = await seedToken(t, alice.user.id, { expiresAt: callerDays === null ? null : t.clock.now() + callerDays * DAY_MS })
    t.clock.advance(1000)
    const reply = await t.post(PATH, { token: caller.plaintext, body: { name: 'child', ...(asked === undefined ? {} : { expiresInDays: asked }) } })
    if (outcome === 403) {
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual(OUTLIVE)
      expect((await t.store.listTokens(alice.user.id, { includeRevoked: true, limit: 10 })).length).toBe(2)
      return
    }
    expect(reply.status).toBe(201)
    // Capped: it ends when the caller does, to the millisecond.
    const capped = callerDays !== null && (outcome === callerDays && asked == null)
    const expected = outcome === null ? null : capped ? caller.token.expiresAt : t.clock.now() + outcome * DAY_MS
    expect(reply.body.token.expiresAt).toBe(expected === null ? null : iso(expected))
  })

  test('a session is a person, not a delegate: what it makes may outlive it', async () => {
    const t = makeApp()
    const alice = await seedUser(t)
    const reply = await t.post(PATH, { token: alice.plaintext, body: { name: 'long', expiresInDays: 365 } })
    expect(reply.status).toBe(201)
    expect(reply.body.token.expiresAt).toBe(iso(t.clock.now() + 365 * DAY_MS))
  })
})

describe('POST /api/v1/access-tokens with --max-token-days 90', () => {
  let t: TestApp
  let alice: Seeded

  beforeAll(async () => {
    t = makeApp({ maxTokenDays: 90 })
    alice = await seedUser(t)
  })

  const create = (body: unknown) => t.post(PATH, { token: alice.plaintext, body })

  test.each([
    [{}, 90],
    [{ expiresInDays: null }, 90],
    [{ expiresInDays: 90 }, 90],
    [{ expiresInDays: 1 }, 1],
  ])('%p → expires in %i days', async (extra, days) => {
    const reply = await create({ name: 'x', ...extra })
    expect(reply.status).toBe(201)
    expect(reply.body.token.expiresAt).toBe(iso(t.clock.now() + days * DAY_MS))
  })

  test('91 days → 422 less_than_equal at ["body","expiresInDays"]', async () => {
    const reply = await create({ name: 'x', expiresInDays: 91 })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [{ loc: ['body', 'expiresInDays'], msg: 'Input should be less than or equal to 90', type: 'less_than_equal' }],
    })
  })

  test('an over-long lifetime is listed with the other problems', async () => {
    const reply = await create({ name: '', expiresInDays: 91 })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [
        { loc: ['body', 'name'], msg: 'String should have at least 1 character', type: 'string_too_short' },
        { loc: ['body', 'expiresInDays'], msg: 'Input should be less than or equal to 90', type: 'less_than_equal' },
      ],
    })
  })
})

describe('DELETE /api/v1/access-tokens', () => {
  /** A user with a current session, another session, two API tokens and one already revoked; and a bystander. */
  async function scene() {
    const t = makeApp()
    const alice = await seedUser(t)
    const others = [
      await seedToken(t, alice.user.id, { tokenType: 'session', name: 'phone' }),
      await seedToken(t, alice.user.id, { name: 'ci' }),
      await seedToken(t, alice.user.id, { name: 'backup', expiresAt: t.clock.now() + DAY_MS }),
    ]
    const revoked = await seedToken(t, alice.user.id, { name: 'old' })
    await t.store.revokeToken(alice.user.id, revoked.token.id, t.clock.now() - 1000)
    const bob = await seedUser(t)
    const bobApi = await seedToken(t, bob.user.id)
    t.clock.advance(5000)
    return { t, alice, others, revoked, bob, bobApi }
  }

  const works = async (t: TestApp, plaintext: string) => (await t.get('/api/v1/auth/me', { token: plaintext })).status

  test.each([[''], ...TRUE_WORDS.map((word) => [`?exclude_current=${word}`])])(
    '%p revokes every other token of both types; the current one survives',
    async (query) => {
      const { t, alice, others, revoked, bob, bobApi } = await scene()
      const reply = await t.del(`${PATH}${query}`, { token: alice.plaintext })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ revokedCount: 3 })
      expect(await works(t, alice.plaintext)).toBe(200)
      for (const other of others) expect(await works(t, other.plaintext)).toBe(401)
      // The already revoked one keeps its revokedAt; the bystander is untouched.
      const old = await t.get(`${PATH}/${revoked.token.id}`, { token: alice.plaintext })
      expect(old.body.revokedAt).toBe(iso(t.clock.now() - 6000))
      const listed = await t.get(`${PATH}?includeRevoked=true`, { token: alice.plaintext })
      for (const item of listed.body.items) {
        if (item.id !== alice.token.id && item.id !== revoked.token.id) expect(item.revokedAt).toBe(iso(t.clock.now()))
      }
      expect(await works(t, bob.plaintext)).toBe(200)
      expect(await works(t, bobApi.plaintext)).toBe(200)
    },
  )

  test.each(FALSE_WORDS)('exclude_current=%s revokes the current token too; the next request with it is 401', async (word) => {
    const { t, alice, bob } = await scene()
    const reply = await t.del(`${PATH}?exclude_current=${word}`, { token: alice.plaintext })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ revokedCount: 4 })
    const next = await t.get('/api/v1/auth/me', { token: alice.plaintext })
    expect(next.status).toBe(401)
    expect(next.body).toEqual(INVALID_TOKEN)
    expect(await works(t, bob.plaintext)).toBe(200)
  })

  test('a second call revokes nothing more', async () => {
    const { t, alice } = await scene()
    await t.del(PATH, { token: alice.plaintext })
    const again = await t.del(PATH, { token: alice.plaintext })
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ revokedCount: 0 })
  })

  test('the current token may be an API token', async () => {
    const { t, alice, others } = await scene()
    const reply = await t.del(PATH, { token: others[1]!.plaintext, via: 'apiKey' })
    expect(reply.body).toEqual({ revokedCount: 3 })
    expect(await works(t, others[1]!.plaintext)).toBe(200)
    expect(await works(t, alice.plaintext)).toBe(401)
  })

  test.each(NOT_BOOLEANS)('exclude_current=%p → 422 bool_parsing, nothing revoked', async (word) => {
    const { t, alice, others } = await scene()
    const reply = await t.del(`${PATH}?exclude_current=${word}`, { token: alice.plaintext })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['query', 'exclude_current'], msg: BOOL_PARSING, type: 'bool_parsing' }] })
    expect(await works(t, others[0]!.plaintext)).toBe(200)
  })
})
