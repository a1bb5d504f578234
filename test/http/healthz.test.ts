import { describe, expect, test } from 'bun:test'
import { makeApp } from '../helpers'

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
    const reply = await t.get('/healthz')
    expect(reply.status).toBe(503)
    expect(reply.body).toEqual({ detail: 'Database unavailable' })
  })
})
