import { afterEach, beforeEach, describe, expect, setSystemTime, spyOn, test } from 'bun:test'
import { StoreUnavailable } from '../../src/store/store'
import { BACKEND, makeApp, PASSWORD, seedUser, signup, type Reply, type Row, type Seeded, type TestApp } from '../support/app'

describe('GET /healthz', () => {
  test('200 {"status":"ok"} with no credential', async () => {
    const reply = await makeApp().get('/healthz')
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ status: 'ok' })
    expect(reply.headers.get('content-type')).toStartWith('application/json')
  })

  test('a bad credential does not matter on a public route', async () => {
    const reply = await makeApp().get('/healthz', { token: 'garbage' })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ status: 'ok' })
  })

  test('not ok while the database does not answer', async () => {
    const t = makeApp()
    await t.store.close()
    const logged = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const reply = await t.get('/healthz')
      expect(reply.status).toBe(503)
      expect(reply.body).toEqual({ detail: 'Database unavailable' })
      expect(reply.headers.get('retry-after')).toBe('1')
      expect(logged.mock.calls.length).toBe(1)
      expect(logged.mock.calls[0]![0]).toStartWith('vai: database unavailable, answering 503: ')
    } finally {
      logged.mockRestore()
    }
  })
})

describe('while the database is unreachable', () => {
  // The store as an outage leaves it: every call fails with StoreUnavailable (the
  // PostgreSQL backend's translation of a refused or lost connection).
  const outage = () => {
    const down = { on: false }
    const t = makeApp({
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, name) {
            const value = Reflect.get(target, name)
            if (typeof value !== 'function' || name === 'touchToken') return value
            return (...args: unknown[]) => (down.on ? Promise.reject(new StoreUnavailable(new Error('connection refused'))) : value.apply(target, args))
          },
        }),
    })
    return { t, down }
  }
  // Where the renderer tells the operator about the outage.
  let logged: ReturnType<typeof spyOn>
  beforeEach(() => void (logged = spyOn(console, 'error').mockImplementation(() => {})))
  afterEach(() => {
    logged.mockRestore()
    setSystemTime()
  })

  test('every route that needs it answers 503 {"detail":"Database unavailable"} with Retry-After: 1, and recovers with it', async () => {
    const { t, down } = outage()
    const ada = await seedUser(t)
    down.on = true
    const requests: [string, string, object?][] = [
      ['GET', '/healthz'],
      ['GET', '/api/v1/auth/me'],
      ['GET', '/api/v1/access-tokens'],
      ['POST', '/api/v1/access-tokens', { name: 'x' }],
      ['POST', '/api/v1/auth/login', { email: ada.email, password: PASSWORD }],
      ['POST', '/api/v1/auth/signup', { email: 'new@example.com', password: PASSWORD }],
    ]
    for (const [method, path, body] of requests) {
      const reply = await t.request(method, path, { token: ada.plaintext, body })
      expect([method, path, reply.status, reply.body, reply.headers.get('retry-after'), reply.headers.get('content-type')]).toEqual([
        method, path, 503, { detail: 'Database unavailable' }, '1', 'application/json;charset=utf-8',
      ])
    }
    down.on = false
    expect((await t.get('/healthz')).status).toBe(200)
    expect((await t.get('/api/v1/auth/me', { token: ada.plaintext })).status).toBe(200)
  })

  test('the operator is told why, in one line per 10 s however many requests fail', async () => {
    const { t, down } = outage()
    const ada = await seedUser(t)
    down.on = true
    const start = Date.now()
    setSystemTime(start)
    for (let i = 0; i < 6; i++) expect((await t.get('/api/v1/auth/me', { token: ada.plaintext })).status).toBe(503)
    expect(logged.mock.calls).toEqual([['vai: database unavailable, answering 503: connection refused']])
    setSystemTime(start + 9_999)
    expect((await t.get('/healthz')).status).toBe(503)
    expect(logged.mock.calls.length).toBe(1)
    setSystemTime(start + 10_000)
    expect((await t.get('/healthz')).status).toBe(503)
    expect(logged.mock.calls).toEqual([
      ['vai: database unavailable, answering 503: connection refused'],
      ['vai: database unavailable, answering 503: connection refused (6 more 503s since the last such line)'],
    ])
  })
})

describe('hardening 7: disk full or damaged', () => {
  // A name as long as one may be (255 emoji, 1020 bytes): a few of them fill what room is
  // left inside the pages once the disk is full.
  const LONG_NAME = '😀'.repeat(255)
  const WRITES: [string, (t: TestApp, ada: Seeded) => Promise<Reply>, number][] = [
    ['creating a token', (t, ada) => t.post('/api/v1/access-tokens', { token: ada.plaintext, body: { name: LONG_NAME } }), 201],
    ['logging in', (t, ada) => t.post('/api/v1/auth/login', { body: { email: ada.email, password: PASSWORD, name: LONG_NAME } }), 200],
    ['signing up', (t) => signup(t, { name: LONG_NAME }), 201],
  ]
  const tables = async (t: TestApp) => [await t.rows('users'), await t.rows('tokens')]
  let logged: ReturnType<typeof spyOn>
  beforeEach(() => void (logged = spyOn(console, 'error').mockImplementation(() => {})))
  afterEach(() => logged.mockRestore())

  test.each(WRITES)(
    '%s on a full disk: 503 "Database unavailable" with Retry-After: 1, nothing written, one line on stderr; /healthz 503 until room is made',
    async (_name, write, success) => {
      const t = makeApp()
      const ada = await seedUser(t)
      expect((await t.get('/healthz')).status).toBe(200)
      const disk = await t.fillDisk()
      // Whatever room is left inside pages takes a few writes; then none fits.
      let reply: Reply | undefined
      let before: Row[][] = []
      for (let i = 0; i < 20; i++) {
        before = await tables(t)
        reply = await write(t, ada)
        if (reply.status !== success) break
      }
      expect([reply!.status, reply!.body, reply!.headers.get('retry-after')]).toEqual([503, { detail: 'Database unavailable' }, '1'])
      expect(await tables(t)).toEqual(before)
      const health = await t.get('/healthz')
      expect([health.status, health.body, health.headers.get('retry-after')]).toEqual([503, { detail: 'Database unavailable' }, '1'])
      // One line, the reason in it, no stack: the second 503 within 10 s is only counted.
      expect(logged.mock.calls).toEqual([[expect.stringMatching(BACKEND === 'sqlite'
        ? /^vai: database unavailable, answering 503: database or disk is full \(SQLITE_FULL\)$/
        : /^vai: database unavailable, answering 503: could not extend file: No space left on device$/)]])

      await disk.free()
      expect(await t.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
      expect((await write(t, ada)).status).toBe(success)
    },
  )

  test('while healthy, /healthz writes nothing: a full disk is found by the write that fails, not by the health check', async () => {
    const t = makeApp()
    await seedUser(t)
    await t.fillDisk()
    expect((await t.get('/healthz')).status).toBe(200)
    expect(logged.mock.calls).toEqual([])
  })
})
