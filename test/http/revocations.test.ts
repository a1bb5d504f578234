// The revocation feed: GET /api/v1/revocations (pages in seq order) and
// /revocations/stream (server-sent events, resumable), for callers with `introspect`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { tokenDigest } from '../../src/auth/token-format'
import { readEvents, until } from '../support/sse'
import type { Store } from '../../src/store/store'
import { iso, makeApp, NOT_AUTHENTICATED, seedToken, seedUser, type RequestOptions, type Seeded, type TestApp } from '../support/app'

const LIST = '/api/v1/revocations'
const STREAM = '/api/v1/revocations/stream'
const hex = (plaintext: string) => Buffer.from(tokenDigest(plaintext)).toString('hex')

const t = makeApp({ feed: { pollMs: 20, heartbeatMs: 100 } })
let service: Awaited<ReturnType<typeof seedToken>>
let ada: Seeded
/** The entries the feed must show, in order: the revoked tokens' plaintexts and when. */
const revoked: { plaintext: string; at: number }[] = []

async function revokeOne(app: TestApp, owner: Seeded, name: string) {
  const token = await seedToken(app, owner.user.id, { name })
  app.clock.advance(1000)
  const reply = await app.del(`/api/v1/access-tokens/${token.token.id}`, { token: owner.plaintext })
  expect(reply.status).toBe(204)
  return { plaintext: token.plaintext, at: app.clock.now() }
}

const entry = (seq: number) => ({ seq, digest: hex(revoked[seq - 1]!.plaintext), revokedAt: iso(revoked[seq - 1]!.at) })

beforeAll(async () => {
  const owner = await seedUser(t)
  service = await seedToken(t, owner.user.id, { name: 'gateway', scopes: ['introspect'] })
  ada = await seedUser(t)
})

describe('GET /api/v1/revocations', () => {
  const list = (query = '', options: RequestOptions = {}) => t.get(`${LIST}${query}`, { token: service.plaintext, ...options })

  test('nothing revoked yet → no items, nextAfter the after asked; Cache-Control: no-store', async () => {
    const reply = await list()
    expect([reply.status, reply.body, reply.headers.get('cache-control')]).toEqual([200, { items: [], nextAfter: 0 }, 'no-store'])
    expect((await list('?after=41')).body).toEqual({ items: [], nextAfter: 41 })
  })

  test('each revocation an entry: seq from 1, the hex SHA-256 of the plaintext, when', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) revoked.push(await revokeOne(t, ada, name))
    expect((await list()).body).toEqual({ items: [1, 2, 3, 4, 5].map(entry), nextAfter: 5 })
  })

  test('pages of `limit` after `after`, walked by nextAfter: each entry once, in order', async () => {
    const seen = []
    let after = 0
    for (;;) {
      const { body } = await list(`?after=${after}&limit=2`)
      if (body.items.length === 0) break
      seen.push(...body.items)
      after = body.nextAfter
    }
    expect(seen).toEqual([1, 2, 3, 4, 5].map(entry))
    expect((await list('?after=3&limit=1')).body).toEqual({ items: [entry(4)], nextAfter: 4 })
  })

  test('revoke-all: one entry per token it revoked', async () => {
    const bob = await seedUser(t)
    const tokens = [await seedToken(t, bob.user.id), await seedToken(t, bob.user.id)]
    t.clock.advance(1000)
    const reply = await t.del('/api/v1/access-tokens', { token: bob.plaintext })
    expect(reply.body).toEqual({ revokedCount: 2 })
    const { body } = await list('?after=5')
    expect(body.items.map((item: { digest: string }) => item.digest).sort()).toEqual(tokens.map((token) => hex(token.plaintext)).sort())
    expect(body.items.map((item: { seq: number }) => item.seq)).toEqual([6, 7])
    // In the order the statement revoked them, which the test does not choose.
    const byDigest = new Map(tokens.map((token) => [hex(token.plaintext), token.plaintext]))
    for (const item of body.items) revoked.push({ plaintext: byDigest.get(item.digest)!, at: t.clock.now() })
  })

  const NOT_AN_INTEGER = 'Input should be a valid integer, unable to parse string as an integer'
  test.each([
    ['after=-1', ['after', 'greater_than_equal', 'Input should be greater than or equal to 0']],
    ['after=x', ['after', 'int_parsing', NOT_AN_INTEGER]],
    ['after=1.5', ['after', 'int_parsing', NOT_AN_INTEGER]],
    ['limit=0', ['limit', 'greater_than_equal', 'Input should be greater than or equal to 1']],
    ['limit=1001', ['limit', 'less_than_equal', 'Input should be less than or equal to 1000']],
  ])('?%s → 422', async (query, [name, type, msg]) => {
    expect(await list(`?${query}`).then(({ status, body }) => ({ status, body }))).toEqual({ status: 422, body: { detail: [{ loc: ['query', name], msg, type }] } })
  })

  test('without a token → 401; a token without introspect → 403 insufficient_scope; the cookie is never read', async () => {
    const plain = await seedToken(t, ada.user.id, { scopes: ['tokens:read'] })
    const refusals = [await list('', { token: undefined }), await list('', { token: plain.plaintext }), await list('', { token: ada.plaintext, via: 'cookie' })]
    expect(refusals.map((reply) => [reply.status, reply.body, reply.headers.get('www-authenticate')])).toEqual([
      [401, NOT_AUTHENTICATED, 'Bearer'],
      [403, { detail: 'This token lacks the scope introspect' }, 'Bearer error="insufficient_scope", scope="introspect"'],
      [401, NOT_AUTHENTICATED, 'Bearer'],
    ])
  })
})

/** An open stream and what it has said so far. */
async function openStream(app: TestApp, token: string, query = '', headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const response = await app.app.handle(
    new Request(`http://localhost${STREAM}${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal }),
  )
  return Object.assign(readEvents(response), { response, close: () => controller.abort() })
}

const asEvent = (seq: number) => ({ id: String(seq), event: 'revoked', data: JSON.stringify(entry(seq)) })

describe('GET /api/v1/revocations/stream', () => {
  const streams: { close(): void }[] = []
  afterAll(() => streams.forEach((stream) => stream.close()))
  const open = async (query = '', headers: Record<string, string> = {}) => {
    const stream = await openStream(t, service.plaintext, query, headers)
    streams.push(stream)
    return stream
  }

  test('text/event-stream, not stored nor buffered by a proxy; every entry from the start, then each new one as it happens', async () => {
    const stream = await open()
    expect([stream.response.status, stream.response.headers.get('content-type'), stream.response.headers.get('cache-control'), stream.response.headers.get('x-accel-buffering')]).toEqual([
      200,
      'text/event-stream',
      'no-store',
      'no',
    ])
    await until(() => stream.events.length === 7)
    expect(stream.retry).toBe(1000)
    revoked.push(await revokeOne(t, ada, 'later'))
    await until(() => stream.events.length === 8)
    expect(stream.events).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(asEvent))
  })

  test('resumes after Last-Event-ID, which wins over ?after: each entry exactly once, in order', async () => {
    const resumed = await open('?after=1', { 'last-event-id': '6' })
    const fromQuery = await open('?after=7')
    await until(() => resumed.events.length === 2 && fromQuery.events.length === 1)
    revoked.push(await revokeOne(t, ada, 'after resuming'))
    await until(() => resumed.events.length === 3 && fromQuery.events.length === 2)
    await Bun.sleep(100) // a few more polls: nothing is sent twice
    expect(resumed.events).toEqual([7, 8, 9].map(asEvent))
    expect(fromQuery.events).toEqual([8, 9].map(asEvent))
  })

  test('a comment line while nothing happens', async () => {
    const stream = await open('?after=9')
    await until(() => stream.comments.filter((comment) => comment.trim() === 'still here').length >= 2, 1000)
    expect(stream.events).toEqual([])
  })

  test.each([
    ['-1', 'greater_than_equal', 'Input should be greater than or equal to 0'],
    ['seven', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
  ])('Last-Event-ID: %s → 422', async (value, type, msg) => {
    const reply = await t.get(STREAM, { token: service.plaintext, headers: { 'last-event-id': value } })
    expect([reply.status, reply.body]).toEqual([422, { detail: [{ loc: ['header', 'last-event-id'], msg, type }] }])
  })

  test('a token without introspect → 403 before any stream', async () => {
    const plain = await seedToken(t, ada.user.id, { scopes: ['tokens:read'] })
    const reply = await t.get(STREAM, { token: plain.plaintext })
    expect([reply.status, reply.body]).toEqual([403, { detail: 'This token lacks the scope introspect' }])
  })

  test('a client that does not read is dropped once unreadLimitBytes wait for it (what waits goes with it); one that reads gets everything', async () => {
    const app = makeApp({ feed: { pollMs: 10, unreadLimitBytes: 2000 } })
    const owner = await seedUser(app)
    const gateway = await seedToken(app, owner.user.id, { scopes: ['introspect'] })
    const open = (token: string) => app.app.handle(new Request(`http://localhost${STREAM}`, { headers: { authorization: `Bearer ${token}` } }))
    const idle = await open(gateway.plaintext)
    const reader = readEvents(await open(gateway.plaintext))
    // 30 entries of ~170 bytes: 5 KB for each stream.
    for (let i = 0; i < 30; i++) await revokeOne(app, owner, `t${i}`)
    await until(() => reader.events.length === 30)
    await Bun.sleep(50)
    const unread = idle.body!.getReader()
    const chunks: string[] = []
    const failure = await (async () => {
      for (;;) {
        const { value, done } = await unread.read()
        if (done) return 'ended'
        chunks.push(new TextDecoder().decode(value))
      }
    })().catch((error: Error) => error.message)
    expect([failure, chunks.join('').length < 2000 + 512]).toEqual(['the client does not read the revocation stream', true])
    expect(reader.ended).toBe(false)
  })

  test.each([
    ['a stop', (app: TestApp) => app.revocationFeed.close()],
    ['a store that fails', (_app: TestApp, fail: () => void) => fail()],
  ])('the feed ending (%s) ends the stream, which the client resumes from its Last-Event-ID', async (_name, end) => {
    let failing = false
    // The feed's reads fail once `failing` is set, as they would with the database gone.
    const wrapStore = (store: Store): Store =>
      Object.assign(Object.create(store), {
        lastRevocationSeq: () => (failing ? Promise.reject(new Error('the database went away')) : store.lastRevocationSeq()),
      })
    const app = makeApp({ feed: { pollMs: 20 }, wrapStore })
    const owner = await seedUser(app)
    const gateway = await seedToken(app, owner.user.id, { scopes: ['introspect'] })
    const stream = await openStream(app, gateway.plaintext)
    await until(() => stream.retry !== undefined)
    await end(app, () => {
      failing = true
    })
    await stream.reading
    expect(stream.ended).toBe(true)
  })
})
