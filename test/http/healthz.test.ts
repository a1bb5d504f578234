import { afterEach, beforeEach, describe, expect, setSystemTime, spyOn, test } from 'bun:test'
import { StoreUnavailable } from '../../src/store/store'
import { makeApp, PASSWORD, seedUser } from '../support/app'

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
