// The Store's audit rules on every backend this run has: each change writes its event (and
// what is owed about it) in its own transaction; expiry notices once each; token addresses;
// the outbox's claims, leases and outcomes; the retention purge.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { newEvent, type EventRecord, type EventType, type Origin } from '../../src/audit/events'
import { DAY_MS } from '../../src/auth/tokens'
import { openStore } from '../../src/store/open'
import type { NewToken, Store } from '../../src/store/store'
import type { TestBackend } from '../support/backends'
import { digestOf, ENABLED, newToken, newUser, NOW } from '../support/store-fixtures'

const FROM: Origin = { ip: '203.0.113.7', userAgent: 'curl/8.5' }

/** An event as the store reads it back, its id aside. */
const event = (type: EventType, userId: string, at: number, fields: Partial<EventRecord> = {}) => ({
  id: expect.any(String),
  userId,
  type,
  at,
  tokenId: null,
  tokenPrefix: null,
  tokenName: null,
  ip: null,
  userAgent: null,
  detail: {},
  ...fields,
})
const about = (token: NewToken) => ({ tokenId: token.id, tokenPrefix: token.tokenPrefix, tokenName: token.name })

describe.each(ENABLED)('%s store: audit', (_name, backend: TestBackend) => {
  let store: Store

  beforeEach(() => {
    store = backend.fresh().store
  })
  afterEach(async () => {
    await store.close()
  })

  const userWith = async (id: string, ...tokens: NewToken[]) => {
    await store.createUser(newUser(id), true, FROM)
    for (const token of tokens) await store.insertToken(token, FROM)
  }
  /** The user's events, oldest first. */
  const trail = async (userId: string | null) => (await store.listEvents(userId, { limit: 100 })).reverse()

  describe('each change writes its event', () => {
    test('user, session and API token: user.created, login.succeeded, token.created with its scopes and end', async () => {
      const session = newToken('s1', 'ada', { tokenType: 'session', scopes: ['*'], createdAt: NOW + 1 })
      const api = newToken('t1', 'ada', { createdAt: NOW + 2, expiresAt: NOW + 30 * DAY_MS })
      await userWith('ada', session, api)
      expect(await trail('ada')).toEqual([
        event('user.created', 'ada', NOW, FROM),
        event('login.succeeded', 'ada', NOW + 1, { ...about(session), ...FROM }),
        event('token.created', 'ada', NOW + 2, { ...about(api), ...FROM, detail: { scopes: api.scopes, expiresAt: new Date(NOW + 30 * DAY_MS).toISOString() } }),
      ])
    })

    test('revoke: one token.revoked with its reason and the acting token; revoking again writes nothing', async () => {
      const api = newToken('t1', 'ada')
      await userWith('ada', api)
      expect(await store.revokeToken('ada', 't1', NOW + 5, { ...FROM, by: 's9' }, 'logout')).toBe(true)
      expect(await store.revokeToken('ada', 't1', NOW + 6, FROM)).toBe(true)
      expect(await store.revokeToken('bob', 't1', NOW + 7, FROM)).toBe(false)
      expect((await trail('ada')).slice(2)).toEqual([event('token.revoked', 'ada', NOW + 5, { ...about(api), ...FROM, detail: { reason: 'logout', by: 's9' } })])
    })

    test('revoke all: one tokens.revoked_all with the whole count, however many batches it took', async () => {
      const tokens = Array.from({ length: 7 }, (_, i) => newToken(`t${i}`, 'ada', { digest: digestOf(`t${i}`), createdAt: NOW + i }))
      await userWith('ada', ...tokens)
      expect(await store.revokeAllTokens('ada', NOW + 10, 't3', FROM)).toBe(6)
      const events = await trail('ada')
      expect(events.at(-1)).toEqual(event('tokens.revoked_all', 'ada', NOW + 10, { ...FROM, detail: { count: 6, exceptCurrent: true } }))
      expect(events.filter((e) => e.type === 'tokens.revoked_all')).toHaveLength(1)
    })

    test('rotation and reuse: token.rotated with the successor, token.reuse_detected with what it revoked', async () => {
      const old = newToken('t1', 'ada')
      await userWith('ada', old)
      const successor = newToken('t2', 'ada', { digest: digestOf('t2'), createdAt: NOW + 1 })
      expect(await store.rotateToken({ userId: 'ada', tokenId: 't1', successor, graceUntil: NOW + 60_000, limit: 100 }, FROM)).toBeNull()
      expect(await store.recordReuse('t1', NOW + 120_000, true, { ip: '198.51.100.1', userAgent: null })).toEqual(['t2'])
      expect((await trail('ada')).slice(2)).toEqual([
        event('token.rotated', 'ada', NOW + 1, { ...about(old), ...FROM, detail: { successorId: 't2', graceUntil: new Date(NOW + 60_000).toISOString() } }),
        event('token.reuse_detected', 'ada', NOW + 120_000, { ...about(old), ip: '198.51.100.1', detail: { successorIds: ['t2'], revoked: true } }),
      ])
    })

    test('a leak report: token.leak_reported for each live token it revoked, for its owner', async () => {
      const [a, b, dead] = [newToken('t1', 'ada'), newToken('t2', 'bob', { digest: digestOf('t2') }), newToken('t3', 'bob', { digest: digestOf('t3') })]
      await userWith('ada', a)
      await userWith('bob', b, dead)
      await store.revokeToken('bob', 't3', NOW + 1)
      await store.revokeLeaked([a.digest, b.digest, dead.digest], NOW + 2, FROM)
      expect((await trail('ada')).slice(2)).toEqual([event('token.leak_reported', 'ada', NOW + 2, { ...about(a), ...FROM })])
      expect((await trail('bob')).filter((e) => e.type === 'token.leak_reported')).toEqual([event('token.leak_reported', 'bob', NOW + 2, { ...about(b), ...FROM })])
    })

    test('password change and deletion: the events stay after the user is gone, the email kept for notices', async () => {
      await userWith('ada', newToken('s1', 'ada', { tokenType: 'session', scopes: ['*'] }), newToken('t1', 'ada', { digest: digestOf('t1') }))
      expect(await store.changePassword('ada', 'new hash', NOW + 1, null)).toBe(1)
      expect(await store.deleteUser('ada')).toBe(2)
      const events = await trail('ada')
      expect(events.slice(3).map(({ type, detail }) => [type, detail])).toEqual([
        ['password.changed', { sessionsRevoked: 1 }],
        ['user.deleted', { email: 'ada@example.com', tokens: 2 }],
      ])
    })

    test('an event with no change (login.rate_limited) is written alone', async () => {
      await userWith('ada')
      await store.recordEvent(newEvent('login.rate_limited', 'ada', NOW + 3, { origin: FROM, detail: { retryAfterSeconds: 60 } }))
      expect((await trail('ada')).at(-1)).toEqual(event('login.rate_limited', 'ada', NOW + 3, { ...FROM, detail: { retryAfterSeconds: 60 } }))
    })
  })

  describe('listEvents', () => {
    test('newest first, by type, after a page start, and everyone’s when userId is null', async () => {
      // Distinct times throughout: events at the same millisecond are ordered by their random id.
      await userWith('ada', newToken('t1', 'ada', { createdAt: NOW + 2 }))
      await store.createUser(newUser('bob', { createdAt: NOW + 1 }), true, FROM)
      await store.insertToken(newToken('t2', 'bob', { digest: digestOf('t2'), createdAt: NOW + 3 }), FROM)
      const ada = await store.listEvents('ada', { limit: 10 })
      expect(ada.map((e) => e.type)).toEqual(['token.created', 'user.created'])
      expect((await store.listEvents('ada', { limit: 10, type: 'user.created' })).map((e) => e.type)).toEqual(['user.created'])
      expect(await store.listEvents('ada', { limit: 10, after: { createdAt: ada[0]!.at, id: ada[0]!.id } })).toEqual([ada[1]!])
      expect((await store.listEvents(null, { limit: 10 })).map((e) => [e.userId, e.type])).toEqual([
        ['bob', 'token.created'], ['ada', 'token.created'], ['bob', 'user.created'], ['ada', 'user.created'],
      ])
      expect(await store.listEvents(null, { limit: 1 })).toHaveLength(1)
    })
  })

  describe('token addresses and token.new_ip', () => {
    test('the first use from an address is one token.new_ip; the next uses from it are none; the address it was made from is known', async () => {
      await userWith('ada', newToken('t1', 'ada'))
      store.touchToken('t1', NOW + 1000, FROM.ip)
      store.touchToken('t1', NOW + 2000, '198.51.100.4')
      store.touchToken('t1', NOW + 3000, '198.51.100.4')
      await store.flushTouches()
      store.touchToken('t1', NOW + 4000, '198.51.100.4')
      await store.flushTouches()
      expect(await store.listTokenAddresses('t1', 10)).toEqual([
        { ip: '198.51.100.4', firstSeenAt: NOW + 2000, lastSeenAt: NOW + 4000 },
        { ip: FROM.ip!, firstSeenAt: NOW, lastSeenAt: NOW + 1000 },
      ])
      const fresh = (await trail('ada')).filter((e) => e.type === 'token.new_ip')
      expect(fresh).toEqual([event('token.new_ip', 'ada', NOW + 2000, { tokenId: 't1', tokenPrefix: 'vai_abcd1234', tokenName: 'token t1', ip: '198.51.100.4' })])
    })

    test('uses switching between addresses within one flush keep each address’s first and last use', async () => {
      await userWith('ada', newToken('t1', 'ada'))
      for (const [at, ip] of [[1000, '198.51.100.1'], [2000, '198.51.100.2'], [3000, '198.51.100.1'], [4000, '198.51.100.2'], [5000, '198.51.100.3']] as const) {
        store.touchToken('t1', NOW + at, ip)
      }
      await store.flushTouches()
      expect(await store.listTokenAddresses('t1', 10)).toEqual([
        { ip: '198.51.100.3', firstSeenAt: NOW + 5000, lastSeenAt: NOW + 5000 },
        { ip: '198.51.100.2', firstSeenAt: NOW + 2000, lastSeenAt: NOW + 4000 },
        { ip: '198.51.100.1', firstSeenAt: NOW + 1000, lastSeenAt: NOW + 3000 },
        { ip: FROM.ip!, firstSeenAt: NOW, lastSeenAt: NOW },
      ])
      expect((await trail('ada')).filter((e) => e.type === 'token.new_ip').map((e) => [e.ip, e.at]).sort()).toEqual([
        ['198.51.100.1', NOW + 1000], ['198.51.100.2', NOW + 2000], ['198.51.100.3', NOW + 5000],
      ])
    })

    test('an address unused for 30 days is forgotten by the purge, and a use from it is new again', async () => {
      await userWith('ada', newToken('t1', 'ada'))
      store.touchToken('t1', NOW + 1000, '198.51.100.4')
      await store.flushTouches()
      const later = NOW + 31 * DAY_MS
      expect(await store.purgeEvents(NOW - DAY_MS, later - 30 * DAY_MS)).toBe(0)
      expect(await store.listTokenAddresses('t1', 10)).toEqual([])
      store.touchToken('t1', later, '198.51.100.4')
      await store.flushTouches()
      expect((await trail('ada')).filter((e) => e.type === 'token.new_ip').map((e) => e.at)).toEqual([NOW + 1000, later])
    })
  })

  describe('queueExpiryNotices', () => {
    const expires = NOW + 30 * DAY_MS
    const notices = async () => (await trail('ada')).filter((e) => e.type === 'token.expiring').map((e) => [e.tokenId, e.at, e.detail])

    test('7 days and 1 day before expiresAt, once each, however often and wherever it is asked', async () => {
      await userWith('ada', newToken('t1', 'ada', { expiresAt: expires }), newToken('t2', 'ada', { digest: digestOf('t2') }))
      expect(await store.queueExpiryNotices(expires - 8 * DAY_MS)).toBe(0)
      const week = expires - 7 * DAY_MS
      expect(await Promise.all([store.queueExpiryNotices(week), store.queueExpiryNotices(week + 60_000)])).toEqual(expect.arrayContaining([1, 0]))
      expect(await store.queueExpiryNotices(week + 120_000)).toBe(0)
      expect(await store.queueExpiryNotices(expires - DAY_MS)).toBe(1)
      expect(await store.queueExpiryNotices(expires - 60_000)).toBe(0)
      const iso = new Date(expires).toISOString()
      expect((await notices()).map(([id, , detail]) => [id, detail])).toEqual([['t1', { expiresAt: iso, days: 7 }], ['t1', { expiresAt: iso, days: 1 }]])
    })

    test('a token first seen within a day of its end gets the 1-day notice only; one that lives 3 days has no 7-day notice; revoked ones and sessions none', async () => {
      const short = newToken('t2', 'ada', { digest: digestOf('t2'), createdAt: NOW, expiresAt: NOW + 3 * DAY_MS })
      const revoked = newToken('t3', 'ada', { digest: digestOf('t3'), expiresAt: expires })
      const session = newToken('s1', 'ada', { digest: digestOf('s1'), tokenType: 'session', scopes: ['*'], expiresAt: expires })
      await userWith('ada', newToken('t1', 'ada', { expiresAt: expires }), short, revoked, session)
      await store.revokeToken('ada', 't3', NOW)
      expect(await store.queueExpiryNotices(NOW + 1)).toBe(0)
      expect(await store.queueExpiryNotices(NOW + 2 * DAY_MS)).toBe(1)
      expect(await store.queueExpiryNotices(expires - 12 * 3600_000)).toBe(1)
      expect(await store.queueExpiryNotices(expires - 11 * 3600_000)).toBe(0)
      expect((await notices()).map(([id, , detail]) => [id, (detail as { days: number }).days])).toEqual([['t2', 1], ['t1', 1]])
    })

    test('the notices given survive a restart: a new store on the same database gives none twice', async () => {
      const databases = backend.databases('expiry')
      const db = await databases.create()
      try {
        const first = await openStore(db)
        await first.createUser(newUser('ada'), true)
        await first.insertToken(newToken('t1', 'ada', { expiresAt: expires }))
        expect(await first.queueExpiryNotices(expires - 7 * DAY_MS)).toBe(1)
        await first.close()
        const second = await openStore(db)
        expect(await second.queueExpiryNotices(expires - 7 * DAY_MS + 60_000)).toBe(0)
        expect(await second.queueExpiryNotices(expires - DAY_MS)).toBe(1)
        expect((await second.listEvents('ada', { limit: 10, type: 'token.expiring' })).map((e) => e.detail.days)).toEqual([1, 7])
        await second.close()
      } finally {
        await databases.dropAll()
      }
    })
  })

  describe('the outbox', () => {
    const endpoint = (id: string, events: EventRecord['type'][] | null = null) => ({ id, url: `http://127.0.0.1:9/${id}`, secret: `whsec_${id}`, createdAt: NOW, events })

    test('one delivery per endpoint that takes the type, queued with the change; claimed with its event, owner and endpoint', async () => {
      await store.addWebhook(endpoint('all'))
      await store.addWebhook(endpoint('revocations', ['token.revoked']))
      const api = newToken('t1', 'ada', { createdAt: NOW + 1 })
      await userWith('ada', api)
      await store.revokeToken('ada', 't1', NOW + 2, FROM)
      expect((await store.listWebhooks()).map(({ id, events }) => [id, events])).toEqual([['all', null], ['revocations', ['token.revoked']]])
      const queued = await store.listDeliveries(10)
      expect(queued.map((d) => [d.eventType, d.endpointId, d.state, d.attempts]).sort()).toEqual([
        ['token.created', 'all', 'pending', 0], ['token.revoked', 'all', 'pending', 0], ['token.revoked', 'revocations', 'pending', 0], ['user.created', 'all', 'pending', 0],
      ])
      const due = await store.claimDue(NOW + 2, 10, NOW + 60_000, ['webhook'])
      expect(due).toHaveLength(4)
      const revoked = due.find((d) => d.endpoint?.id === 'revocations')!
      expect(revoked).toEqual({
        id: expect.any(String),
        channel: 'webhook',
        endpoint: { id: 'revocations', url: 'http://127.0.0.1:9/revocations', secret: 'whsec_revocations' },
        attempts: 0,
        createdAt: NOW + 2,
        event: { ...event('token.revoked', 'ada', NOW + 2, { ...about(api), ...FROM }), email: 'ada@example.com', name: null },
      })
      expect(await store.outboxStats()).toEqual({ pending: 4, oldestCreatedAt: NOW })
    })

    test('a lease keeps a delivery from a second claim until it ends; settle records delivered, a retry, or giving up', async () => {
      await store.addWebhook(endpoint('all'))
      await userWith('ada', newToken('t1', 'ada', { createdAt: NOW }))
      const [first, second] = await store.claimDue(NOW, 10, NOW + 60_000, ['webhook'])
      expect(await store.claimDue(NOW + 1000, 10, NOW + 61_000, ['webhook'])).toEqual([])
      await store.settle(first!.id, { at: NOW + 10, result: { delivered: true, status: 204 }, nextAttemptAt: null })
      await store.settle(second!.id, { at: NOW + 10, result: { delivered: false, status: 500, error: 'HTTP 500', retry: true }, nextAttemptAt: NOW + 5000 })
      expect(await store.claimDue(NOW + 4999, 10, NOW + 70_000, ['webhook'])).toEqual([])
      const [again] = await store.claimDue(NOW + 5000, 10, NOW + 70_000, ['webhook'])
      expect([again!.id, again!.attempts]).toEqual([second!.id, 1])
      await store.settle(again!.id, { at: NOW + 5010, result: { delivered: false, status: null, error: 'timed out after 10 s', retry: true }, nextAttemptAt: null })
      const byId = Object.fromEntries((await store.listDeliveries(10)).map((d) => [d.id, d]))
      expect(byId[first!.id]).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 204, lastError: null, nextAttemptAt: null, lastAttemptAt: NOW + 10 })
      expect(byId[second!.id]).toMatchObject({ state: 'failed', attempts: 2, lastStatus: null, lastError: 'timed out after 10 s', nextAttemptAt: null, lastAttemptAt: NOW + 5010 })
      expect(await store.outboxStats()).toEqual({ pending: 0, oldestCreatedAt: null })
      // A lease that ran out (its instance died mid-attempt) is claimed again.
      await store.revokeToken('ada', 't1', NOW + 6000)
      const [leased] = await store.claimDue(NOW + 6000, 10, NOW + 7000, ['webhook'])
      expect((await store.claimDue(NOW + 7000, 10, NOW + 8000, ['webhook'])).map((d) => d.id)).toEqual([leased!.id])
    })

    test('email deliveries for the mail types once notices are on, never claimed by a webhook-only instance; removing an endpoint drops its deliveries', async () => {
      await store.addWebhook(endpoint('all'))
      store.setEmailNotices(true)
      await userWith('ada', newToken('t1', 'ada'))
      await store.revokeLeaked([digestOf('t1')], NOW + 1, FROM)
      const email = (await store.listDeliveries(10)).filter((d) => d.channel === 'email')
      expect(email.map((d) => [d.eventType, d.endpointId])).toEqual([['token.leak_reported', null]])
      expect((await store.claimDue(NOW + 1, 10, NOW + 60_000, ['webhook'])).every((d) => d.channel === 'webhook')).toBe(true)
      expect((await store.claimDue(NOW + 1, 10, NOW + 60_000, ['email'])).map((d) => d.event.type)).toEqual(['token.leak_reported'])
      expect(await store.removeWebhook('all')).toBe(true)
      expect(await store.removeWebhook('all')).toBe(false)
      expect((await store.listDeliveries(10)).map((d) => d.channel)).toEqual(['email'])
    })

    test('the purge deletes events older than the retention, with their deliveries', async () => {
      await store.addWebhook(endpoint('all'))
      await userWith('ada', newToken('t1', 'ada', { createdAt: NOW + DAY_MS }))
      expect(await store.purgeEvents(NOW + 1, NOW)).toBe(1)
      expect((await trail('ada')).map((e) => e.type)).toEqual(['token.created'])
      expect((await store.listDeliveries(10)).map((d) => d.eventType)).toEqual(['token.created'])
    })
  })
})
