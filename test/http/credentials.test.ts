// POST /api/v1/credentials/revoke: the public intake for leaked tokens. The answer never
// depends on what the strings were; only live tokens are revoked, in one statement.
import { describe, expect, test } from 'bun:test'
import { generateToken, tokenDigest } from '../../src/auth/token-format'
import { DAY_MS } from '../../src/auth/tokens'
import { makeApp, seedToken, seedUser, type Reply, type RequestOptions, type TestApp } from '../support/app'

const PATH = '/api/v1/credentials/revoke'
const report = (t: TestApp, credentials: unknown, options: RequestOptions = {}) => t.post(PATH, { body: { credentials }, ...options })
/** What a reporter sees: everything but the date and the request's own id, which move. */
const seen = (reply: Reply) => ({ status: reply.status, body: reply.body, headers: [...reply.headers].filter(([name]) => name !== 'date' && name !== 'x-request-id') })

/** A token with a vai token's shape whose checksum is wrong (a mistyped or made-up one). */
function foreignChecksum() {
  const valid = generateToken()
  return valid.slice(0, -1) + (valid.endsWith('a') ? 'b' : 'a')
}

async function fixture(t: TestApp) {
  const ada = await seedUser(t)
  const bob = await seedUser(t)
  const live = await seedToken(t, ada.user.id, { name: 'ci' })
  const revoked = await seedToken(t, ada.user.id, { name: 'old' })
  await t.store.revokeToken(ada.user.id, revoked.token.id, t.clock.now() - 1)
  const expired = await seedToken(t, ada.user.id, { name: 'expired', expiresAt: t.clock.now() })
  const bobs = await seedToken(t, bob.user.id, { name: 'bob’s' })
  const untouched = await seedToken(t, ada.user.id, { name: 'not reported' })
  return { ada, bob, live, revoked, expired, bobs, untouched }
}

const revokedAt = async (t: TestApp, token: { token: { userId: string; id: string } }) => (await t.store.getToken(token.token.userId, token.token.id))!.revokedAt

describe('POST /api/v1/credentials/revoke', () => {
  test('one batch of live, revoked, expired, malformed, foreign-checksum and other users’ tokens → 202 {"received":N}; only the live ones revoked', async () => {
    const t = makeApp()
    const f = await fixture(t)
    const strings = [f.live.plaintext, f.ada.plaintext, f.revoked.plaintext, f.expired.plaintext, 'not a token', foreignChecksum(), f.bobs.plaintext, '']
    const reply = await report(t, strings)
    expect([reply.status, reply.body]).toEqual([202, { received: 8 }])
    const now = t.clock.now()
    expect(await Promise.all([f.live, f.ada, f.revoked, f.expired, f.bobs, f.untouched].map((token) => revokedAt(t, token)))).toEqual([now, now, now - 1, null, now, null])
    // They authenticate no more; the feed has them, once each.
    expect((await t.get('/api/v1/auth/me', { token: f.live.plaintext })).status).toBe(401)
    // After the fixture's own revocation (seq 1).
    const feed = await t.store.listRevocations(1, 10)
    expect(feed.map((entry) => entry.digest.toHex()).sort()).toEqual([f.live, f.ada, f.bobs].map((token) => tokenDigest(token.plaintext).toHex()).sort())
  })

  test('the answer is the same whether any string was a live token or not: no oracle', async () => {
    const t = makeApp()
    const f = await fixture(t)
    const answers = [
      await report(t, [f.live.plaintext]),
      await report(t, [f.live.plaintext]), // revoked by now
      await report(t, [generateToken()]),
      await report(t, [foreignChecksum()]),
      await report(t, ['x']),
    ].map(seen)
    for (const answer of answers) expect(answer).toEqual(answers[0]!)
  })

  test('the same token 1000 times: received 1000, revoked once, one feed entry', async () => {
    const t = makeApp()
    const f = await fixture(t)
    expect((await report(t, Array(1000).fill(f.live.plaintext))).body).toEqual({ received: 1000 })
    expect(await revokedAt(t, f.live)).toBe(t.clock.now())
    const feed = await t.store.listRevocations(1, 10)
    expect(feed.map(({ seq, digest, revokedAt }) => ({ seq, digest: digest.toHex(), revokedAt }))).toEqual([{ seq: 2, digest: tokenDigest(f.live.plaintext).toHex(), revokedAt: t.clock.now() }])
  })

  test('1000 strings of 1 KiB, and a string of 10 KB: received, looked up not at all, nothing changed', async () => {
    const t = makeApp()
    const f = await fixture(t)
    expect((await report(t, Array(1000).fill('vai_'.padEnd(1024, 'x')))).body).toEqual({ received: 1000 })
    expect((await report(t, ['x'.repeat(10_000), f.live.plaintext.padEnd(10_000, 'A')])).body).toEqual({ received: 2 })
    expect(await revokedAt(t, f.live)).toBeNull()
  })

  test('public: a token on the request is neither needed nor read', async () => {
    const t = makeApp()
    const f = await fixture(t)
    const reply = await report(t, [f.bobs.plaintext], { token: 'vai_not-even-well-formed' })
    expect([reply.status, reply.body]).toEqual([202, { received: 1 }])
    expect(await revokedAt(t, f.bobs)).toBe(t.clock.now())
  })

  const items = (n: number) => Array(n).fill('x')
  test.each([
    ['an empty list', { credentials: [] }, [['credentials'], 'List should have at least 1 item after validation, not 0', 'too_short']],
    ['1001 items', { credentials: items(1001) }, [['credentials'], 'List should have at most 1000 items after validation, not 1001', 'too_long']],
    ['a string, not a list', { credentials: 'vai_x' }, [['credentials'], 'Input should be a valid list', 'list_type']],
    ['a list holding a number', { credentials: ['x', 7] }, [['credentials', 1], 'Input should be a valid string', 'string_type']],
    ['no credentials', {}, [['credentials'], 'Field required', 'missing']],
    ['a key more', { credentials: ['x'], tokens: [] }, [['tokens'], 'Extra inputs are not permitted', 'extra_forbidden']],
  ] as const)('%s → 422, nothing revoked', async (_name, body, [loc, msg, type]) => {
    const t = makeApp()
    const f = await fixture(t)
    const reply = await t.post(PATH, { body })
    expect([reply.status, reply.body]).toEqual([422, { detail: [{ loc: ['body', ...loc], msg, type }] }])
    expect(await revokedAt(t, f.live)).toBeNull()
  })

  test('a body that is not JSON → 422 json_invalid; over 1 MiB → 413', async () => {
    const t = makeApp()
    const invalid = await t.post(PATH, { rawBody: '{"credentials":[', headers: { 'content-type': 'application/json' } })
    expect([invalid.status, invalid.body.detail[0].type]).toEqual([422, 'json_invalid'])
    const large = await report(t, ['x'.repeat(1 << 20)])
    expect([large.status, large.body]).toEqual([413, { detail: 'Request body is larger than 1048576 bytes (1 MiB)' }])
  })

  test('over 60 requests per client address per hour → 429 with Retry-After, whatever the body; other addresses go on; an hour later it is allowed again', async () => {
    const t = makeApp()
    const f = await fixture(t)
    const from = (peer: string) => ({ peer })
    for (let i = 0; i < 60; i++) {
      expect((await report(t, i % 2 ? ['x'] : 'not a list', from('203.0.113.9'))).status).toBe(i % 2 ? 202 : 422)
      t.clock.advance(1000)
    }
    const refused = await report(t, [f.live.plaintext], from('203.0.113.9'))
    // The first of the 60 leaves the window 3600 s after it came, 60 s ago.
    expect([refused.status, refused.body, refused.headers.get('retry-after')]).toEqual([429, { detail: 'Too many leak reports from this address; try again later' }, '3540'])
    expect(await revokedAt(t, f.live)).toBeNull()
    // A refused request is not counted: it does not move the wait.
    expect((await report(t, ['x'], from('203.0.113.9'))).headers.get('retry-after')).toBe('3540')
    // IPv6 clients by their /64; another address is another client.
    expect((await report(t, ['x'], from('198.51.100.1'))).status).toBe(202)
    t.clock.advance(3540 * 1000)
    expect((await report(t, [f.live.plaintext], from('203.0.113.9'))).status).toBe(202)
    expect(await revokedAt(t, f.live)).toBe(t.clock.now())
  })

  test('IPv6 reporters are counted by their /64', async () => {
    const t = makeApp({ reportLimits: { perClient: 2, windowMs: 60 * 60_000 } })
    expect((await report(t, ['x'], { peer: '2001:db8:1:2::1' })).status).toBe(202)
    expect((await report(t, ['x'], { peer: '2001:db8:1:2::ffff' })).status).toBe(202)
    expect((await report(t, ['x'], { peer: '2001:db8:1:2:aaaa::1' })).status).toBe(429)
    expect((await report(t, ['x'], { peer: '2001:db8:1:3::1' })).status).toBe(202)
  })

  test('an expired session is no live token either', async () => {
    const t = makeApp()
    const ada = await seedUser(t)
    t.clock.advance(t.config.sessionDays * DAY_MS)
    expect((await report(t, [ada.plaintext])).status).toBe(202)
    expect(await revokedAt(t, ada)).toBeNull()
  })
})
