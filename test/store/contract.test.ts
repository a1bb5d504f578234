// The Store's rules, method by method, on every backend this run has (SQLite always,
// PostgreSQL with VAI_TEST_POSTGRES): a third backend, or a new column, is proven here.
// Each test gets an empty database of its own. What only one dialect has to say (U+0000
// in PostgreSQL's names, SQLite's data_version, outages, concurrency) stays in
// test/unit/sqlite-store.test.ts and test/postgres/store.test.ts.
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import { backendFor } from '../../src/store/open'
import { StoreUnavailable, type NewToken, type Store, type StoredToken, type StoredUser, type TokenRecord } from '../../src/store/store'
import { type TestBackend, type TestDatabase } from '../support/backends'
import { digestOf, ENABLED, newToken, newUser, NOW, recordOf } from '../support/store-fixtures'

describe.each(ENABLED)('%s store', (_name, backend: TestBackend) => {
  let database: TestDatabase
  let store: Store

  beforeEach(() => {
    database = backend.fresh()
    store = database.store
  })
  afterEach(async () => {
    await store.close()
  })

  /** A user (created through the store) with tokens of their own. */
  async function userWith(id: string, tokens: [string, Partial<NewToken>?][] = []) {
    const result = await store.createUser(newUser(id), true)
    if (!('created' in result)) throw new Error(`userWith: ${result.refused}`)
    const inserted: NewToken[] = []
    for (const [tokenId, changes] of tokens) {
      const token = newToken(tokenId, id, changes)
      await store.insertToken(token)
      inserted.push(token)
    }
    return { user: result.created, tokens: inserted }
  }

  describe('createUser', () => {
    test('creates the user and answers its record; findUserByEmail reads it back with the hash', async () => {
      const user = newUser('ada', { name: 'Ada Lovelace ß 😀', createdAt: NOW - 5 })
      expect(await store.createUser(user, true)).toEqual({ created: { id: 'ada', email: 'ada@example.com', name: 'Ada Lovelace ß 😀', createdAt: NOW - 5 } })
      expect(await store.findUserByEmail('ada@example.com')).toEqual({ id: 'ada', email: 'ada@example.com', name: 'Ada Lovelace ß 😀', createdAt: NOW - 5, passwordHash: 'hash of ada' })
    })

    test.each([
      // [signup open, user before, new user's email, outcome]
      [true, false, 'new@example.com', 'created'],
      [false, false, 'new@example.com', 'created'],
      [true, true, 'new@example.com', 'created'],
      [false, true, 'new@example.com', 'signup_closed'],
      [true, true, 'first@example.com', 'email_taken'],
      [false, true, 'first@example.com', 'signup_closed'],
    ] as const)('signup open %p, a user before %p, email %s: %s', async (signupOpen, userBefore, email, outcome) => {
      if (userBefore) await store.createUser(newUser('first'), true)
      const result = await store.createUser(newUser('new', { email }), signupOpen)
      expect('created' in result ? 'created' : result.refused).toBe(outcome)
      expect((await store.listUsers(NOW)).length).toBe((userBefore ? 1 : 0) + (outcome === 'created' ? 1 : 0))
    })
  })

  describe('findUserByEmail and hasUsers', () => {
    test('an unknown email is null; emails compare exactly (callers normalise them)', async () => {
      await store.createUser(newUser('ada'), true)
      expect(await store.findUserByEmail('nobody@example.com')).toBeNull()
      expect(await store.findUserByEmail('Ada@example.com')).toBeNull()
      expect(await store.findUserByEmail('ada@example.com')).not.toBeNull()
    })

    test('hasUsers is false on an empty database, true once one exists', async () => {
      expect(await store.hasUsers()).toBe(false)
      await store.createUser(newUser('ada'), true)
      expect(await store.hasUsers()).toBe(true)
    })
  })

  describe('insertToken and findTokenByDigest', () => {
    test.each([
      ['several, sorted', ['deploy:staging', 'tokens:read']],
      ['full access', ['*']],
      ['none', []],
      ['the longest and the odd characters', ['a'.repeat(64), 'A-Z_a.z:0/9-']],
    ])('scopes (%s) are stored and read back as given', async (_name, scopes) => {
      const { tokens } = await userWith('ada', [['t1', { scopes }]])
      expect((await store.findTokenByDigest(digestOf('t1')))?.token.scopes).toEqual(scopes)
      expect((await store.getToken('ada', 't1'))?.scopes).toEqual(scopes)
      expect((await store.listTokens('ada', { includeRevoked: false, limit: 1 }))[0]?.scopes).toEqual(scopes)
      expect((await store.exportTokens(null, 1))[0]?.scopes).toEqual(tokens[0]!.scopes)
    })

    test('finds the token by its digest, with its owner', async () => {
      const { user, tokens } = await userWith('ada', [['t1', { tokenType: 'session', name: 'laptop ß 😀', expiresAt: NOW + DAY_MS }]])
      expect(await store.findTokenByDigest(digestOf('t1'))).toEqual({ token: recordOf(tokens[0]!), user })
    })

    test('an unknown digest is null', async () => {
      await userWith('ada', [['t1']])
      expect(await store.findTokenByDigest(digestOf('t2'))).toBeNull()
    })

    test('a digest is stored once: a second token with it is refused', async () => {
      await userWith('ada', [['t1']])
      await expect(store.insertToken(newToken('t2', 'ada', { digest: digestOf('t1') }))).rejects.toThrow()
      expect(await store.getToken('ada', 't2')).toBeNull()
    })

    test('the lookup sees a revocation at once', async () => {
      await userWith('ada', [['t1']])
      expect((await store.findTokenByDigest(digestOf('t1')))?.token.revokedAt).toBeNull()
      await store.revokeToken('ada', 't1', NOW + 1)
      expect((await store.findTokenByDigest(digestOf('t1')))?.token.revokedAt).toBe(NOW + 1)
    })
  })

  describe('getToken', () => {
    test("the owner's token; another user's, or an unknown id, is null", async () => {
      const { tokens } = await userWith('ada', [['t1']])
      await userWith('bob', [['t2']])
      expect(await store.getToken('ada', 't1')).toEqual(recordOf(tokens[0]!))
      expect(await store.getToken('ada', 't2')).toBeNull()
      expect(await store.getToken('bob', 't1')).toBeNull()
      expect(await store.getToken('ada', 'nope')).toBeNull()
    })
  })

  describe('listTokens', () => {
    // Newest first by (createdAt, id): s2 and a2 share a createdAt, the larger id first.
    const SEED: [string, Partial<NewToken>][] = [
      ['a1', { createdAt: NOW - 50 }],
      ['s1', { createdAt: NOW - 40, tokenType: 'session' }],
      ['a2', { createdAt: NOW - 30 }],
      ['s2', { createdAt: NOW - 30, tokenType: 'session' }],
      ['r1', { createdAt: NOW - 20 }],
      ['r2', { createdAt: NOW - 10, tokenType: 'session' }],
      ['x1', { createdAt: NOW - 5, expiresAt: NOW - 1 }],
    ]
    const seed = async () => {
      await userWith('ada', SEED)
      await userWith('bob', [['b1', { createdAt: NOW }]])
      await store.revokeToken('ada', 'r1', NOW)
      await store.revokeToken('ada', 'r2', NOW)
    }
    const ids = (tokens: TokenRecord[]) => tokens.map((token) => token.id)

    test.each([
      [undefined, false, ['x1', 's2', 'a2', 's1', 'a1']],
      [undefined, true, ['x1', 'r2', 'r1', 's2', 'a2', 's1', 'a1']],
      ['api', false, ['x1', 'a2', 'a1']],
      ['api', true, ['x1', 'r1', 'a2', 'a1']],
      ['session', false, ['s2', 's1']],
      ['session', true, ['r2', 's2', 's1']],
    ] as const)('type %p, revoked included %p: the owner\'s tokens, newest first (expired ones too)', async (tokenType, includeRevoked, expected) => {
      await seed()
      expect(ids(await store.listTokens('ada', { tokenType, includeRevoked, limit: 50 }))).toEqual([...expected])
    })

    test('pages by keyset: each page starts strictly after the last of the one before', async () => {
      await seed()
      const whole = await store.listTokens('ada', { includeRevoked: true, limit: 50 })
      const pages: string[][] = []
      for (let page = await store.listTokens('ada', { includeRevoked: true, limit: 2 }); page.length > 0; ) {
        pages.push(ids(page))
        page = await store.listTokens('ada', { includeRevoked: true, limit: 2, after: page.at(-1)! })
      }
      expect(pages).toEqual([['x1', 'r2'], ['r1', 's2'], ['a2', 's1'], ['a1']])
      expect(pages.flat()).toEqual(ids(whole))
      // With a filter too: the cursor continues within it.
      const first = await store.listTokens('ada', { tokenType: 'api', includeRevoked: false, limit: 1 })
      expect(ids(await store.listTokens('ada', { tokenType: 'api', includeRevoked: false, limit: 5, after: first[0]! }))).toEqual(['a2', 'a1'])
    })

    test('answers records, with a use not yet written', async () => {
      await userWith('ada', [['a1']])
      store.touchToken('a1', NOW + 7)
      expect(await store.listTokens('ada', { includeRevoked: false, limit: 1 })).toEqual([recordOf(newToken('a1', 'ada'), { lastUsedAt: NOW + 7 })])
    })
  })

  describe('revokeToken', () => {
    test('revokes the owner\'s token; revoking again is true and keeps the first revokedAt', async () => {
      await userWith('ada', [['t1']])
      expect(await store.revokeToken('ada', 't1', NOW + 1)).toBe(true)
      expect(await store.revokeToken('ada', 't1', NOW + 2)).toBe(true)
      expect((await store.getToken('ada', 't1'))?.revokedAt).toBe(NOW + 1)
    })

    test("another user's token, or an unknown id, is false and changes nothing", async () => {
      await userWith('ada', [['t1']])
      await userWith('bob')
      expect(await store.revokeToken('bob', 't1', NOW)).toBe(false)
      expect(await store.revokeToken('ada', 'nope', NOW)).toBe(false)
      expect((await store.getToken('ada', 't1'))?.revokedAt).toBeNull()
    })
  })

  describe('revokeAllTokens', () => {
    const seed = async () => {
      await userWith('ada', [['t1'], ['t2', { tokenType: 'session' }], ['t3'], ['t4', { expiresAt: NOW - 1 }]])
      await userWith('bob', [['b1']])
      await store.revokeToken('ada', 't3', NOW - 5)
    }
    const revokedAt = async () => Object.fromEntries((await store.listTokens('ada', { includeRevoked: true, limit: 10 })).map((t) => [t.id, t.revokedAt]))

    test.each([
      // [except, count, revokedAt afterwards]
      [null, 3, { t1: NOW, t2: NOW, t3: NOW - 5, t4: NOW }],
      ['t2', 2, { t1: NOW, t2: null, t3: NOW - 5, t4: NOW }],
    ])('except %p: counts those that went from not revoked to revoked (expired ones too); the revoked keep their revokedAt', async (except, count, expected) => {
      await seed()
      expect(await store.revokeAllTokens('ada', NOW, except)).toBe(count)
      expect(await revokedAt()).toEqual(expected)
      expect((await store.getToken('bob', 'b1'))?.revokedAt).toBeNull()
      expect(await store.revokeAllTokens('ada', NOW + 1, except)).toBe(0)
    })

    test('hardening 10: in batches, each reading only its own rows: 2,500 tokens in every state, counted exactly', async () => {
      // Newest first in the owner index: every third revoked already, every fifth expired, the current one in the middle.
      const many: StoredToken[] = Array.from({ length: 2500 }, (_, i) => ({
        ...newToken(`t${String(i).padStart(4, '0')}`, 'ada', { createdAt: NOW - i, expiresAt: i % 5 === 0 ? NOW - 1 : null }),
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: i % 3 === 0 ? NOW - 7 : null,
        rotatedTo: null,
      }))
      const bobs = { ...newToken('b1', 'bob'), lastUsedAt: null, lastUsedIp: null, revokedAt: null, rotatedTo: null }
      await store.importAll([newUser('ada'), newUser('bob')], batches([...many, bobs], 1000), digestOf('secret'))
      const notRevoked = many.filter((token) => token.revokedAt === null && token.id !== 't1250').length
      expect(await store.revokeAllTokens('ada', NOW, 't1250')).toBe(notRevoked)
      const after = await store.exportTokens(null, 3000)
      expect(after.filter((token) => token.userId === 'ada' && token.revokedAt === null).map((token) => token.id)).toEqual(['t1250'])
      expect(after.filter((token) => token.revokedAt === NOW - 7).length).toBe(Math.ceil(2500 / 3))
      expect(after.find((token) => token.id === 'b1')?.revokedAt).toBeNull()
    })
  })

  describe('insertTokenWithinLimit', () => {
    test('hardening 10: inserts below the limit, refuses at it; revoked and expired tokens, the other type and other users do not count', async () => {
      await userWith('ada', [['r1'], ['e1', { expiresAt: NOW }], ['s1', { tokenType: 'session' }], ['s2', { tokenType: 'session' }], ['a1']])
      await userWith('bob', [['b1'], ['b2']])
      await store.revokeToken('ada', 'r1', NOW - 1)
      expect(await store.insertTokenWithinLimit(newToken('a2', 'ada'), 2)).toBe(true)
      expect(await store.insertTokenWithinLimit(newToken('a3', 'ada'), 2)).toBe(false)
      expect(await store.getToken('ada', 'a3')).toBeNull()
      expect(await store.insertTokenWithinLimit(newToken('s3', 'ada', { tokenType: 'session' }), 3)).toBe(true)
      expect(await store.insertTokenWithinLimit(newToken('b3', 'bob'), 3)).toBe(true)
      // A token that expires later is active until then: revoking one makes room.
      await store.revokeToken('ada', 'a1', NOW)
      expect(await store.insertTokenWithinLimit(newToken('a4', 'ada', { createdAt: NOW + 1 }), 2)).toBe(true)
      expect((await store.listTokens('ada', { tokenType: 'api', includeRevoked: false, limit: 10 })).map((t) => t.id).sort()).toEqual(['a2', 'a4', 'e1'])
    })

    test('hardening 10: concurrent inserts never pass the limit together', async () => {
      await userWith('ada')
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.insertTokenWithinLimit(newToken(`c${i}`, 'ada'), 5)))
      expect(results.filter(Boolean).length).toBe(5)
      expect((await store.listTokens('ada', { includeRevoked: true, limit: 50 })).length).toBe(5)
    })
  })

  describe('rotateToken', () => {
    /** A rotation of `tokenId` at NOW + 1 to a successor `successorId` (same scopes as the contract's default token). */
    const rotation = (tokenId: string, successorId: string, changes: { graceUntil?: number | null; limit?: number; userId?: string; at?: number } = {}) => ({
      userId: changes.userId ?? 'ada',
      tokenId,
      successor: newToken(successorId, changes.userId ?? 'ada', { createdAt: changes.at ?? NOW + 1, name: 'rotated' }),
      graceUntil: changes.graceUntil ?? null,
      limit: changes.limit ?? 100,
    })

    test('without grace: the successor is inserted and the old token is revoked at once, rotated to it; the feed has it', async () => {
      const { tokens } = await userWith('ada', [['old', { expiresAt: NOW + DAY_MS }]])
      expect(await store.rotateToken(rotation('old', 'new'))).toBeNull()
      expect(await store.getToken('ada', 'old')).toEqual(recordOf(tokens[0]!, { revokedAt: NOW + 1, rotatedTo: 'new' }))
      expect(await store.getToken('ada', 'new')).toEqual(recordOf(rotation('old', 'new').successor))
      expect((await store.findTokenByDigest(digestOf('old')))?.token.rotatedTo).toBe('new')
      expect(await store.listRevocations(0, 10)).toEqual([{ seq: 1, digest: digestOf('old'), revokedAt: NOW + 1 }])
    })

    test.each([
      ['a token that never expires: at the grace', null, NOW + 60_000],
      ['a token that expires after the grace: at the grace', NOW + DAY_MS, NOW + 60_000],
      ['a token that expires within the grace: as before', NOW + 30_000, NOW + 30_000],
    ])('with grace, %s it expires; not revoked; in the feed at its new end when that came earlier', async (_name, expiresAt, expected) => {
      await userWith('ada', [['old', { expiresAt }]])
      expect(await store.rotateToken(rotation('old', 'new', { graceUntil: NOW + 60_000 }))).toBeNull()
      const old = await store.getToken('ada', 'old')
      expect([old?.expiresAt, old?.revokedAt, old?.rotatedTo]).toEqual([expected, null, 'new'])
      // A cache that holds the old token must learn that its end moved (and ask again).
      expect(await store.listRevocations(0, 10)).toEqual(expected === expiresAt ? [] : [{ seq: 1, digest: digestOf('old'), revokedAt: expected }])
    })

    test.each([
      ['another user’s token', 'bob-token', 'not_found'],
      ['an unknown id', 'nope', 'not_found'],
      ['a session', 'session', 'session'],
      ['a revoked token', 'revoked', 'revoked'],
      ['an expired token (expiring at the very moment)', 'expired', 'expired'],
      ['a token rotated already', 'rotated', 'rotated'],
    ])('refuses %s and writes nothing', async (_name, tokenId, refusal) => {
      await userWith('ada', [['session', { tokenType: 'session' }], ['revoked'], ['expired', { expiresAt: NOW + 1 }], ['rotated']])
      await userWith('bob', [['bob-token']])
      await store.revokeToken('ada', 'revoked', NOW)
      expect(await store.rotateToken(rotation('rotated', 'first', { graceUntil: NOW + 60_000 }))).toBeNull()
      const before = await store.exportTokens(null, 10)
      expect(await store.rotateToken(rotation(tokenId, 'new'))).toBe(refusal as 'not_found')
      expect(await store.exportTokens(null, 10)).toEqual(before)
    })

    test('the cap counts the owner’s other active API tokens: the successor replaces the old one, a rotated token in its grace counts', async () => {
      await userWith('ada', [['a1'], ['a2'], ['s1', { tokenType: 'session' }]])
      // At the cap of 2: a1's successor takes a1's place.
      expect(await store.rotateToken(rotation('a1', 'b1', { graceUntil: NOW + 60_000, limit: 2 }))).toBeNull()
      // a1, still live in its grace, counts beside b1 now: a2 cannot be rotated at 2.
      expect(await store.rotateToken(rotation('a2', 'b2', { limit: 2 }))).toBe('too_many')
      expect(await store.getToken('ada', 'b2')).toBeNull()
      expect((await store.getToken('ada', 'a2'))?.rotatedTo).toBeNull()
      expect(await store.rotateToken(rotation('a2', 'b2', { limit: 3 }))).toBeNull()
    })

    test('of concurrent rotations of one token exactly one wins; the others find it rotated', async () => {
      await userWith('ada', [['old']])
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.rotateToken(rotation('old', `new${i}`, { graceUntil: NOW + 60_000 }))))
      expect(results.filter((result) => result === null).length).toBe(1)
      expect(results.filter((result) => result === 'rotated').length).toBe(7)
      const winner = `new${results.indexOf(null)}`
      expect((await store.getToken('ada', 'old'))?.rotatedTo).toBe(winner)
      expect((await store.listTokens('ada', { includeRevoked: true, limit: 20 })).map((token) => token.id).sort()).toEqual([winner, 'old'].sort())
    })
  })

  describe('recordReuse', () => {
    /** ada's chain t1 → t2 → t3 → t4, each rotated at NOW + n with a minute's grace. */
    async function chain() {
      await userWith('ada', [['t1'], ['other']])
      for (const n of [1, 2, 3]) {
        const successor = newToken(`t${n + 1}`, 'ada', { createdAt: NOW + n })
        expect(await store.rotateToken({ userId: 'ada', tokenId: `t${n}`, successor, graceUntil: NOW + n + 60_000, limit: 100 })).toBeNull()
      }
    }
    const revokedAt = async (id: string) => (await store.getToken('ada', id))?.revokedAt

    test('warn: answers the live successors down the chain, nearest first, and changes nothing', async () => {
      await chain()
      const before = await store.exportTokens(null, 10)
      // At NOW + 60_002: t1 and t2 have expired (their grace is over), t3 is in its grace, t4 is live.
      expect(await store.recordReuse('t1', NOW + 60_002, false)).toEqual(['t3', 't4'])
      expect(await store.exportTokens(null, 10)).toEqual(before)
      expect(await store.recordReuse('t3', NOW + 60_002, false)).toEqual(['t4'])
      expect(await store.recordReuse('t4', NOW + 60_002, false)).toEqual([])
    })

    test('revoke: revokes every live successor down the chain at once, nothing else; the feed has them', async () => {
      await chain()
      // The chain's rotations with grace are in the feed already (their ends came earlier).
      const before = await store.lastRevocationSeq()
      expect(await store.recordReuse('t2', NOW + 60_002, true)).toEqual(['t3', 't4'])
      expect([await revokedAt('t1'), await revokedAt('t2'), await revokedAt('t3'), await revokedAt('t4'), await revokedAt('other')])
        .toEqual([null, null, NOW + 60_002, NOW + 60_002, null])
      expect((await store.findTokenByDigest(digestOf('t4')))?.token.revokedAt).toBe(NOW + 60_002)
      expect((await store.listRevocations(before, 10)).map((entry) => entry.digest.toHex()).sort()).toEqual([digestOf('t3'), digestOf('t4')].map((d) => d.toHex()).sort())
      // Again: nothing live is left down the chain.
      expect(await store.recordReuse('t1', NOW + 60_003, true)).toEqual([])
      expect(await store.lastRevocationSeq()).toBe(before + 2)
    })

    test('a chain whose successor was purged ends there', async () => {
      await chain()
      await store.revokeToken('ada', 't2', NOW - 100 * DAY_MS)
      expect(await store.purgeTokens(NOW - 90 * DAY_MS)).toBe(1)
      expect(await store.recordReuse('t1', NOW + 60_002, true)).toEqual([])
      expect(await revokedAt('t4')).toBeNull()
    })
  })

  describe('touchToken and flushTouches', () => {
    test('a use shows at once and is written at the flush', async () => {
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW + 100)
      expect((await store.getToken('ada', 't1'))?.lastUsedAt).toBe(NOW + 100)
      expect((await store.findTokenByDigest(digestOf('t1')))?.token.lastUsedAt).toBe(NOW + 100)
      expect((await database.rows('tokens'))[0]!.last_used_at).toBeNull()
      await store.flushTouches()
      expect((await database.rows('tokens'))[0]!.last_used_at).toBe(NOW + 100)
      expect((await store.getToken('ada', 't1'))?.lastUsedAt).toBe(NOW + 100)
    })

    test('a flush never moves lastUsedAt back (another instance may have written a later use)', async () => {
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW + 200)
      await store.flushTouches()
      store.touchToken('t1', NOW + 150)
      await store.flushTouches()
      expect((await database.rows('tokens'))[0]!.last_used_at).toBe(NOW + 200)
    })

    test('the address of a use shows at once and is written at the flush, beside lastUsedAt', async () => {
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW + 100, '203.0.113.7')
      expect(await store.getToken('ada', 't1')).toMatchObject({ lastUsedAt: NOW + 100, lastUsedIp: '203.0.113.7' })
      expect((await store.findTokenByDigest(digestOf('t1')))?.token).toMatchObject({ lastUsedAt: NOW + 100, lastUsedIp: '203.0.113.7' })
      await store.flushTouches()
      expect((await database.rows('tokens'))[0]).toMatchObject({ last_used_at: NOW + 100, last_used_ip: '203.0.113.7' })
    })

    test('a use without an address (an introspection) moves lastUsedAt and keeps the last address, pending or written', async () => {
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW + 100, '2001:db8::1')
      store.touchToken('t1', NOW + 200)
      expect(await store.getToken('ada', 't1')).toMatchObject({ lastUsedAt: NOW + 200, lastUsedIp: '2001:db8::1' })
      await store.flushTouches()
      store.touchToken('t1', NOW + 300, null)
      await store.flushTouches()
      expect((await database.rows('tokens'))[0]).toMatchObject({ last_used_at: NOW + 300, last_used_ip: '2001:db8::1' })
      store.touchToken('t1', NOW + 400, '198.51.100.2')
      await store.flushTouches()
      expect(await store.getToken('ada', 't1')).toMatchObject({ lastUsedAt: NOW + 400, lastUsedIp: '198.51.100.2' })
    })

    test('a flush never moves lastUsedIp to an older use', async () => {
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW + 200, '203.0.113.2')
      await store.flushTouches()
      store.touchToken('t1', NOW + 150, '203.0.113.1')
      await store.flushTouches()
      expect((await database.rows('tokens'))[0]).toMatchObject({ last_used_at: NOW + 200, last_used_ip: '203.0.113.2' })
    })

    test('a flush with nothing pending, or for a token since deleted, succeeds', async () => {
      await store.flushTouches()
      await userWith('ada', [['t1']])
      store.touchToken('t1', NOW)
      await store.deleteUser('ada')
      await store.flushTouches()
      expect(await database.rows('tokens')).toEqual([])
    })
  })

  describe('countActiveTokens', () => {
    test('counts by type the tokens neither revoked nor expired; expiring exactly now is expired', async () => {
      expect(await store.countActiveTokens(NOW)).toEqual({ session: 0, api: 0 })
      await userWith('ada', [
        ['a1'],
        ['a2', { expiresAt: NOW + 1 }],
        ['a3', { expiresAt: NOW }],
        ['a4'],
        ['s1', { tokenType: 'session', expiresAt: NOW + DAY_MS }],
        ['s2', { tokenType: 'session', expiresAt: NOW - 1 }],
      ])
      await userWith('bob', [['b1', { tokenType: 'session' }]])
      await store.revokeToken('ada', 'a4', NOW - 10)
      expect(await store.countActiveTokens(NOW)).toEqual({ session: 2, api: 2 })
    })
  })

  describe('listUsers', () => {
    test('every user by createdAt then id, with their active tokens counted by the same rule', async () => {
      await store.createUser(newUser('u2', { createdAt: NOW - 10, name: 'Two' }), true)
      await store.createUser(newUser('u1', { createdAt: NOW - 10 }), true)
      await store.createUser(newUser('u0', { createdAt: NOW }), true)
      for (const token of [newToken('t1', 'u1'), newToken('t2', 'u1', { expiresAt: NOW }), newToken('t3', 'u1'), newToken('t4', 'u2')]) await store.insertToken(token)
      await store.revokeToken('u1', 't3', NOW)
      expect(await store.listUsers(NOW)).toEqual([
        { id: 'u1', email: 'u1@example.com', name: null, createdAt: NOW - 10, activeTokens: 1 },
        { id: 'u2', email: 'u2@example.com', name: 'Two', createdAt: NOW - 10, activeTokens: 1 },
        { id: 'u0', email: 'u0@example.com', name: null, createdAt: NOW, activeTokens: 0 },
      ])
    })
  })

  describe('changePassword', () => {
    test("replaces the user's hash and revokes their sessions but the one kept; API tokens and other users' tokens stay", async () => {
      await userWith('ada', [['s1', { tokenType: 'session' }], ['s2', { tokenType: 'session' }], ['s3', { tokenType: 'session' }], ['a1']])
      await userWith('bob', [['b1', { tokenType: 'session' }]])
      await store.revokeToken('ada', 's3', NOW - 5)
      expect(await store.findTokenByDigest(digestOf('s1'))).not.toBeNull() // remembered by a lookup, then revoked
      expect(await store.changePassword('ada', 'new hash', NOW, 's2')).toBe(1)
      expect((await store.findUserByEmail('ada@example.com'))?.passwordHash).toBe('new hash')
      expect((await store.findUserByEmail('bob@example.com'))?.passwordHash).toBe('hash of bob')
      const revokedAt = Object.fromEntries((await store.listTokens('ada', { includeRevoked: true, limit: 10 })).map((t) => [t.id, t.revokedAt]))
      expect(revokedAt).toEqual({ s1: NOW, s2: null, s3: NOW - 5, a1: null })
      expect((await store.findTokenByDigest(digestOf('s1')))?.token.revokedAt).toBe(NOW)
      expect((await store.getToken('bob', 'b1'))?.revokedAt).toBeNull()
      expect(await store.changePassword('ada', 'newer hash', NOW + 1, null)).toBe(1)
    })
  })

  describe('the setup code', () => {
    test('createSetupCode keeps the first candidate and answers it ever after; setupCode reads it', async () => {
      expect(await store.setupCode()).toBeNull()
      expect(await store.createSetupCode('first code')).toBe('first code')
      expect(await store.createSetupCode('second code')).toBe('first code')
      expect(await store.setupCode()).toBe('first code')
    })

    test('the first account ends it: both answer null, and none is made any more', async () => {
      await store.createSetupCode('the code')
      await userWith('ada')
      expect(await store.setupCode()).toBeNull()
      expect(await store.createSetupCode('another')).toBeNull()
      expect(await store.setupCode()).toBeNull()
    })

    test('an import of users ends it too', async () => {
      await store.createSetupCode('the code')
      await store.importAll([newUser('u1')], batches([], 1), digestOf('secret'))
      expect(await store.setupCode()).toBeNull()
    })
  })

  describe('deleteUser', () => {
    test('removes the user and their tokens and counts the tokens; others stay', async () => {
      await userWith('ada', [['t1'], ['t2'], ['t3']])
      await userWith('bob', [['b1']])
      await store.revokeToken('ada', 't3', NOW)
      expect(await store.deleteUser('ada')).toBe(3)
      expect(await store.findUserByEmail('ada@example.com')).toBeNull()
      expect(await store.findTokenByDigest(digestOf('t1'))).toBeNull()
      expect(await store.countRows()).toEqual({ users: 1, tokens: 1 })
      expect(await store.deleteUser('nobody')).toBe(0)
    })
  })

  describe('purgeTokens', () => {
    test('deletes exactly what was revoked or expired before the cutoff, over many batches', async () => {
      const cutoff = NOW - 90 * DAY_MS
      const old = NOW - 100 * DAY_MS
      const recent = NOW - 10 * DAY_MS
      // [expiresAt, revokedAt, purged]
      const kinds: [number | null, number | null, boolean][] = [
        [null, old, true], // revoked long ago
        [old, null, true], // expired long ago
        [old, old, true], // both
        [null, cutoff, false], // revoked at the cutoff itself
        [null, recent, false], // revoked lately
        [recent, null, false], // expired lately
        [null, null, false], // active, never expires
        [NOW + DAY_MS, null, false], // active
      ]
      const tokens: StoredToken[] = Array.from({ length: 3500 }, (_, i) => {
        const [expiresAt, revokedAt] = kinds[i % kinds.length]!
        return { ...newToken(`t${String(i).padStart(4, '0')}`, 'u', { createdAt: old - DAY_MS, expiresAt }), lastUsedAt: null, lastUsedIp: null, revokedAt, rotatedTo: null }
      })
      await store.importAll([newUser('u')], batches(tokens, 1000), digestOf('secret'))
      const kept = tokens.filter((_, i) => !kinds[i % kinds.length]![2])
      expect(await store.purgeTokens(cutoff)).toBe(3500 - kept.length)
      expect((await database.rows('tokens')).map((row) => row.id)).toEqual(kept.map((token) => token.id))
      expect(await store.purgeTokens(cutoff)).toBe(0)
    })
  })

  describe('revokeLeaked', () => {
    test('revokes the live tokens among the digests, anyone’s, in one go; the revoked, expired and unknown stay as they were', async () => {
      await userWith('ada', [['live-a'], ['session-a', { tokenType: 'session', expiresAt: NOW + DAY_MS }], ['revoked-a'], ['expired-a', { expiresAt: NOW }]])
      await userWith('bob', [['live-b', { name: 'ci' }], ['kept-b']])
      await store.revokeToken('ada', 'revoked-a', NOW - 5)
      const digests = ['live-a', 'session-a', 'revoked-a', 'expired-a', 'live-b', 'unknown', 'live-a'].map(digestOf)
      const revoked = await store.revokeLeaked(digests, NOW)
      expect(revoked.toSorted((x, y) => x.id.localeCompare(y.id))).toEqual([
        { id: 'live-a', userId: 'ada', name: 'token live-a', tokenPrefix: 'vai_abcd1234' },
        { id: 'live-b', userId: 'bob', name: 'ci', tokenPrefix: 'vai_abcd1234' },
        { id: 'session-a', userId: 'ada', name: 'token session-a', tokenPrefix: 'vai_abcd1234' },
      ])
      const revokedAt = async (userId: string, id: string) => (await store.getToken(userId, id))!.revokedAt
      expect(await Promise.all([['ada', 'live-a'], ['ada', 'session-a'], ['ada', 'revoked-a'], ['ada', 'expired-a'], ['bob', 'live-b'], ['bob', 'kept-b']].map(([u, id]) => revokedAt(u!, id!)))).toEqual([
        NOW, NOW, NOW - 5, null, NOW, null,
      ])
      // Found no more: the lookup sees it at once.
      expect((await store.findTokenByDigest(digestOf('live-a')))?.token.revokedAt).toBe(NOW)
      expect(await store.revokeLeaked(digests, NOW + 1)).toEqual([])
      expect(await store.revokeLeaked([], NOW + 1)).toEqual([])
    })
  })

  describe('the revocation feed', () => {
    const entry = (seq: number, id: string, revokedAt: number) => ({ seq, digest: digestOf(id), revokedAt })

    test('every path that ends a live token adds one entry, seq up by one, in commit order', async () => {
      await userWith('ada', [['a1'], ['a2'], ['a3'], ['s1', { tokenType: 'session' }], ['s2', { tokenType: 'session' }], ['gone', { expiresAt: NOW - 1 }]])
      await userWith('bob', [['b1'], ['b2', { expiresAt: NOW - DAY_MS }]])
      expect(await store.lastRevocationSeq()).toBe(0)
      expect(await store.listRevocations(0, 10)).toEqual([])
      await store.revokeToken('ada', 'a1', NOW + 1)
      await store.revokeToken('ada', 'a1', NOW + 2) // already revoked: no second entry
      await store.changePassword('ada', 'new hash', NOW + 3, 's1') // s2 goes
      await store.revokeAllTokens('ada', NOW + 4, 'a3') // a2, s1 and the expired one
      const before = Date.now()
      await store.deleteUser('bob') // b1 was live; b2 had expired and is no revocation
      const after = Date.now()
      const entries = await store.listRevocations(0, 10)
      const named = new Map(['a1', 'a2', 's1', 's2', 'gone', 'b1'].map((id) => [digestOf(id).toHex(), id]))
      const seen = entries.map(({ seq, digest, revokedAt }) => ({ seq, id: named.get(digest.toHex()), revokedAt }))
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
      expect(seen.slice(0, 2)).toEqual([{ seq: 1, id: 'a1', revokedAt: NOW + 1 }, { seq: 2, id: 's2', revokedAt: NOW + 3 }])
      // One statement's tokens, in whatever order it reached them.
      expect(seen.slice(2, 5).map((e) => [e.id, e.revokedAt]).sort()).toEqual([['a2', NOW + 4], ['gone', NOW + 4], ['s1', NOW + 4]])
      expect(seen[5]!.id).toBe('b1')
      expect(seen[5]!.revokedAt).toBeGreaterThanOrEqual(before)
      expect(seen[5]!.revokedAt).toBeLessThanOrEqual(after)
      expect(await store.lastRevocationSeq()).toBe(6)
      expect(await store.listRevocations(2, 2)).toEqual(entries.slice(2, 4))
      expect(await store.listRevocations(6, 10)).toEqual([])
    })
    test('touches and inserts add nothing; the purge drops entries older than the cutoff and seqs go on', async () => {
      await userWith('ada', [['a1'], ['a2'], ['a3']])
      store.touchToken('a1', NOW + 1, '192.0.2.1')
      await store.flushTouches()
      expect(await store.listRevocations(0, 10)).toEqual([])
      await store.revokeToken('ada', 'a1', NOW - 100 * DAY_MS)
      await store.revokeToken('ada', 'a2', NOW)
      expect(await store.purgeTokens(NOW - 90 * DAY_MS)).toBe(1)
      expect(await store.listRevocations(0, 10)).toEqual([entry(2, 'a2', NOW)])
      await store.revokeToken('ada', 'a3', NOW + 1)
      expect(await store.listRevocations(0, 10)).toEqual([entry(2, 'a2', NOW), entry(3, 'a3', NOW + 1)])
    })
  })

  describe('login failures', () => {
    const key = digestOf('ada@example.com')
    const other = digestOf('203.0.113.7')

    test('nthLoginFailure: the nth most recent failure after `since`, or null when there are fewer', async () => {
      for (const at of [NOW + 10, NOW + 30, NOW + 20]) await store.recordLoginFailure([key], at, 0)
      expect(await store.nthLoginFailure(key, 0, 1)).toBe(NOW + 30)
      expect(await store.nthLoginFailure(key, 0, 3)).toBe(NOW + 10)
      expect(await store.nthLoginFailure(key, 0, 4)).toBeNull()
      expect(await store.nthLoginFailure(key, NOW + 10, 2)).toBe(NOW + 20)
      expect(await store.nthLoginFailure(key, NOW + 10, 3)).toBeNull()
      expect(await store.nthLoginFailure(other, 0, 1)).toBeNull()
    })

    test('recordLoginFailure records under every key and forgets, under every key, what is at or before forgetUpTo', async () => {
      await store.recordLoginFailure([key, other], NOW + 10, 0)
      await store.recordLoginFailure([key], NOW + 20, 0)
      await store.recordLoginFailure([other], NOW + 30, NOW + 10)
      expect(await store.nthLoginFailure(key, 0, 1)).toBe(NOW + 20)
      expect(await store.nthLoginFailure(key, 0, 2)).toBeNull()
      expect(await store.nthLoginFailure(other, 0, 1)).toBe(NOW + 30)
      expect(await store.nthLoginFailure(other, 0, 2)).toBeNull()
    })

    test('clearLoginFailures forgets one key only', async () => {
      await store.recordLoginFailure([key, other], NOW, 0)
      await store.clearLoginFailures(key)
      expect(await store.nthLoginFailure(key, 0, 1)).toBeNull()
      expect(await store.nthLoginFailure(other, 0, 1)).toBe(NOW)
    })
  })

  describe('countRows, exportUsers, exportTokens and importAll', () => {
    const users: StoredUser[] = [newUser('u1', { name: 'Ada ß 😀' }), newUser('u2', { createdAt: NOW - 1 })]
    const tokens: StoredToken[] = [
      { ...newToken('t1', 'u1', { tokenType: 'session', expiresAt: NOW + DAY_MS, scopes: ['*'] }), lastUsedAt: NOW - 1, lastUsedIp: '2001:db8::7', revokedAt: null, rotatedTo: null },
      // Rotated to t3 (the link is carried as stored).
      { ...newToken('t2', 'u2', { name: 'ci ß 😀', scopes: [] }), lastUsedAt: null, lastUsedIp: null, revokedAt: NOW - 2, rotatedTo: 't3' },
      { ...newToken('t3', 'u1'), lastUsedAt: NOW - 3, lastUsedIp: '203.0.113.7', revokedAt: null, rotatedTo: null },
    ]
    const secret = digestOf('the secret')

    test('what importAll writes is exported as stored: users and tokens in id order, tokens in pages', async () => {
      expect(await store.countRows()).toEqual({ users: 0, tokens: 0 })
      await store.importAll(users, batches(tokens, 2), secret)
      expect(await store.countRows()).toEqual({ users: 2, tokens: 3 })
      expect(await store.exportUsers()).toEqual(users)
      expect(await store.exportTokens(null, 10)).toEqual(tokens)
      expect(await store.exportTokens(null, 2)).toEqual(tokens.slice(0, 2))
      expect(await store.exportTokens('t2', 2)).toEqual(tokens.slice(2))
      expect(await store.exportTokens('t3', 2)).toEqual([])
      expect(await store.cursorSecret()).toEqual(secret)
      // The tokens work: found by digest, with their owner.
      expect((await store.findTokenByDigest(tokens[1]!.digest))?.user.id).toBe('u2')
    })

    test('importAll keeps the revocation feed, seqs included; the next revocation goes on from its newest', async () => {
      const feed = [1, 2, 5].map((seq) => ({ seq, digest: digestOf(`revoked ${seq}`), revokedAt: NOW - 10 + seq }))
      await store.importAll(users, batches(tokens, 2), secret, batches(feed, 2))
      expect(await store.listRevocations(0, 10)).toEqual(feed)
      await store.revokeToken('u1', 't3', NOW)
      expect(await store.listRevocations(5, 10)).toEqual([{ seq: 6, digest: tokens[2]!.digest, revokedAt: NOW }])
    })

    test('importAll refuses a database with users and writes nothing', async () => {
      await userWith('ada', [['t9']])
      const before = await store.cursorSecret()
      await expect(store.importAll(users, batches(tokens, 2), secret)).rejects.toThrow('the target database has users already; copy into an empty one')
      expect(await store.countRows()).toEqual({ users: 1, tokens: 1 })
      expect(await store.cursorSecret()).toEqual(before)
    })

    test('importAll is one transaction: a failure halfway leaves the database empty', async () => {
      async function* failing() {
        yield tokens.slice(0, 2)
        throw new Error('the source went away')
      }
      await expect(store.importAll(users, failing(), secret)).rejects.toThrow('the source went away')
      expect(await store.countRows()).toEqual({ users: 0, tokens: 0 })
      expect(await store.hasUsers()).toBe(false)
    })
  })

  describe('cursorSecret, sizeBytes and ping', () => {
    test('the cursor secret is 32 random bytes, the same on every call', async () => {
      const secret = await store.cursorSecret()
      expect(secret).toBeInstanceOf(Uint8Array)
      expect(secret.length).toBe(32)
      expect(await store.cursorSecret()).toEqual(secret)
      const another = backend.fresh()
      expect(await another.store.cursorSecret()).not.toEqual(secret)
      await another.store.close()
    })

    test('sizeBytes is a positive number of bytes; ping answers', async () => {
      expect(await store.sizeBytes()).toBeGreaterThan(0)
      expect(await store.ping()).toBeUndefined()
    })

    test('hardening 7: after a write failed for want of room, ping fails (StoreUnavailable) until room is made', async () => {
      await userWith('ada')
      const disk = await database.fillDisk()
      // A read still answers, and a healthy store's ping is a read.
      expect(await store.ping()).toBeUndefined()
      let failed: unknown
      for (let i = 0; i < 20 && !failed; i++) {
        failed = await store.insertToken(newToken(`f${i}`, 'ada', { name: '😀'.repeat(255) })).then(() => undefined, (error) => error)
      }
      expect(failed).toBeInstanceOf(StoreUnavailable)
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable)
      await disk.free()
      expect(await store.ping()).toBeUndefined()
    })
  })
})

describe.each(ENABLED)('%s backend descriptor', (name, { backend, databases: make }: TestBackend) => {
  const databases = make('contract')
  afterAll(() => databases.dropAll())

  test('a new database: migrated to the current version, doctor finds nothing to mend, the store opens on it', async () => {
    const db = await databases.create()
    expect(backendFor(db).name).toBe(name)
    const version = await backend.migrate(db)
    expect(await backend.schemaStatus(db)).toEqual({ version, current: version })
    const findings = await backend.doctor(db)
    expect(findings.filter(([level]) => level !== 'ok')).toEqual([])
    expect(findings.at(-1)).toEqual(['ok', `schema version ${version} (current)`])
    const store = await backend.open(db)
    expect(await store.hasUsers()).toBe(false)
    await store.close()
  })

  test('close writes the uses not yet written', async () => {
    const db = await databases.create()
    const store = await backend.open(db)
    await store.createUser(newUser('ada'), true)
    await store.insertToken(newToken('t1', 'ada'))
    store.touchToken('t1', NOW + 5)
    await store.close()
    const reopened = await backend.open(db)
    expect((await reopened.getToken('ada', 't1'))?.lastUsedAt).toBe(NOW + 5)
    await reopened.close()
  })

  test('backup writes a copy that opens with the same rows, or the backend says what to use instead', async () => {
    if (!backend.backup) return expect(backend.noBackup).toMatch(/^backup copies a SQLite file; /)
    const db = await databases.create()
    const store = await backend.open(db)
    await store.createUser(newUser('ada'), true)
    await store.insertToken(newToken('t1', 'ada'))
    await store.close()
    const target = await databases.create()
    expect(await backend.backup(db, target)).toBeGreaterThan(0)
    const copy = await backend.open(target, { create: false })
    expect(await copy.countRows()).toEqual({ users: 1, tokens: 1 })
    await copy.close()
  })
})

async function* batches<T>(items: T[], size: number): AsyncIterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}
