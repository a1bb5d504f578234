// Webhooks end to end in one process: changes made over HTTP, queued with them, delivered by
// the deliverer to a real receiver on loopback that checks every signature with the Standard
// Webhooks reference library and with HMAC computed from the specification. The deliverer's
// clock is real time plus a skew the test moves forward, so a retry comes without waiting
// for it and the receiver's five-minute timestamp check still holds.
import { afterEach, describe, expect, test } from 'bun:test'
import { createDeliverer, GIVE_UP_AFTER_MS, nextAttempt } from '../../src/notify/deliverer'
import { newWebhookSecret, sendWebhook } from '../../src/notify/webhook'
import { login, makeApp, PASSWORD, signup, START, type TestApp } from '../support/app'
import { startReceiver, type Receiver } from '../support/receiver'

const receivers: Receiver[] = []
afterEach(() => {
  for (const receiver of receivers.splice(0)) receiver.stop()
})

interface World {
  t: TestApp
  receiver: Receiver
  secret: string
  endpointId: string
  /** Moves the deliverer's clock (not the app's). */
  skip(ms: number): void
  deliverer: ReturnType<typeof createDeliverer>
  settled: { result: string; error: string | null }[]
  /** Ticks until the outbox has nothing due and nothing in flight. */
  drain(): Promise<void>
}

async function world(options: { timeoutMs?: number; slots?: number; events?: string[] } = {}): Promise<World> {
  const t = makeApp()
  // Events at the real time, so the receiver's timestamp check (five minutes) applies.
  t.clock.advance(Date.now() - START)
  const secret = newWebhookSecret()
  const receiver = startReceiver(() => secret)
  receivers.push(receiver)
  const endpointId = crypto.randomUUID()
  await t.store.addWebhook({ id: endpointId, url: receiver.url, secret, createdAt: t.clock.now(), events: (options.events as never) ?? null })
  let skew = 0
  const timeoutMs = options.timeoutMs ?? 2_000
  const settled: World['settled'] = []
  const deliverer = createDeliverer({
    outbox: t.store,
    senders: [{ channel: 'webhook', send: (delivery, now) => sendWebhook(delivery, now, timeoutMs) }],
    now: () => Date.now() + skew,
    slots: options.slots ?? 4,
    attemptMs: timeoutMs,
    random: () => 1,
    settled: (_, result, next) => settled.push({ result: result.delivered ? 'delivered' : next === null ? 'failed' : 'retried', error: result.delivered ? null : result.error }),
  })
  const drain = async () => {
    for (let i = 0; i < 50; i++) {
      await deliverer.tick()
      await deliverer.stop()
      const due = (await t.store.listDeliveries(1000)).filter((d) => d.state === 'pending' && d.nextAttemptAt! <= Date.now() + skew)
      if (due.length === 0) return
    }
    throw new Error('the outbox did not drain')
  }
  return { t, receiver, secret, endpointId, skip: (ms) => (skew += ms), deliverer, settled, drain }
}

describe('webhooks', () => {
  test('every event is POSTed once, signed, with the contract’s headers and body; the data names the owner and the token', async () => {
    const w = await world()
    const email = 'ada@example.com'
    expect((await signup(w.t, { email, name: 'Ada' })).status).toBe(201)
    const session = await login(w.t, email, PASSWORD, { 'user-agent': 'curl/8.5.0' })
    const created = await w.t.post('/api/v1/access-tokens', { token: session.plaintext, body: { name: 'ci', scopes: ['tokens:read'] } })
    expect(created.status).toBe(201)
    expect((await w.t.del(`/api/v1/access-tokens/${created.body.token.id}`, { token: session.plaintext })).status).toBe(204)
    expect((await w.t.post('/api/v1/auth/login', { body: { email, password: 'wrong password!' } })).status).toBe(401)
    await w.drain()

    const events = (await w.t.store.listEvents(null, { limit: 100 })).reverse()
    expect(events.map((e) => e.type)).toEqual(['user.created', 'login.succeeded', 'token.created', 'token.revoked', 'login.failed'])
    expect(w.receiver.received.map((r) => r.id)).toEqual(events.map((e) => e.id))
    for (const entry of w.receiver.received) {
      expect(entry.verified).toBe(true)
      expect(entry.headers['content-type']).toBe('application/json')
      expect(entry.timestamp).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 10)
    }
    const revoked = w.receiver.received.find((r) => r.type === 'token.revoked')!
    const event = events.find((e) => e.type === 'token.revoked')!
    expect(revoked.body).toEqual({
      type: 'token.revoked',
      timestamp: new Date(event.at).toISOString(),
      data: {
        id: event.id, type: 'token.revoked', at: new Date(event.at).toISOString(), userId: event.userId, email,
        tokenId: created.body.token.id, tokenPrefix: created.body.token.tokenPrefix, ip: '127.0.0.1', userAgent: null,
        detail: { by: session.token.id },
      },
    })
    expect(w.receiver.received.find((r) => r.type === 'login.succeeded')!.body.data.userAgent).toBe('curl/8.5.0')
    expect(JSON.stringify(w.receiver.received)).not.toContain(created.body.plaintext)
    expect(JSON.stringify(w.receiver.received)).not.toContain(session.plaintext)
    expect((await w.t.store.listDeliveries(100)).map((d) => [d.state, d.attempts, d.lastStatus])).toEqual(events.map(() => ['delivered', 1, 204]))
    expect(w.settled.map((s) => s.result)).toEqual(events.map(() => 'delivered'))
  })

  test('an endpoint with --events gets only those types', async () => {
    const w = await world({ events: ['token.created'] })
    const ada = await signup(w.t)
    const session = await login(w.t, ada.body.email)
    await w.t.post('/api/v1/access-tokens', { token: session.plaintext, body: { name: 'a' } })
    await w.drain()
    expect(w.receiver.received.map((r) => r.type)).toEqual(['token.created'])
  })

  test('500s are retried with the same webhook-id, each attempt signed anew, until a 2xx; the first retry within 10 s', async () => {
    const w = await world()
    let failures = 2
    w.receiver.answer = () => (failures-- > 0 ? { status: 500, body: 'down' } : { status: 200 })
    await signup(w.t)
    await w.deliverer.tick()
    await w.deliverer.stop()
    let [delivery] = await w.t.store.listDeliveries(10)
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 500, lastError: 'HTTP 500' })
    // random() = 1 is the longest wait: the first retry is 5 s after the failure.
    expect(delivery!.nextAttemptAt! - delivery!.lastAttemptAt!).toBe(5_000)
    await w.deliverer.tick()
    await w.deliverer.stop()
    expect(w.receiver.received).toHaveLength(1) // not due yet
    w.skip(5_000)
    await w.drain()
    w.skip(10_000)
    await w.drain()
    ;[delivery] = await w.t.store.listDeliveries(10)
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 200, lastError: null })
    expect(new Set(w.receiver.received.map((r) => r.id)).size).toBe(1)
    expect(w.receiver.received.map((r) => r.verified)).toEqual([true, true, true])
    expect(new Set(w.receiver.received.map((r) => r.headers['webhook-signature'])).size).toBe(3)
    expect(w.settled.map((s) => s.result)).toEqual(['retried', 'retried', 'delivered'])
  })

  test('a receiver slower than the timeout is an attempt that failed, retried; the API answers meanwhile', async () => {
    const w = await world({ timeoutMs: 300 })
    w.receiver.answer = () => ({ delayMs: 2_000 })
    const ada = await signup(w.t)
    const sending = w.deliverer.tick().then(() => w.deliverer.stop())
    const started = performance.now()
    expect((await w.t.post('/api/v1/auth/login', { body: { email: ada.body.email, password: PASSWORD } })).status).toBe(200)
    expect(performance.now() - started).toBeLessThan(250)
    await sending
    const delivery = (await w.t.store.listDeliveries(10)).find((d) => d.eventType === 'user.created')
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null, lastError: 'timed out after 0.3 s' })
  })

  test('a redirect is not followed: the attempt failed, the other host gets nothing', async () => {
    const w = await world()
    const elsewhere = startReceiver(() => w.secret)
    receivers.push(elsewhere)
    w.receiver.answer = () => ({ status: 307, headers: { location: elsewhere.url } })
    await signup(w.t)
    await w.drain()
    await Bun.sleep(50)
    expect(elsewhere.received).toEqual([])
    expect((await w.t.store.listDeliveries(10))[0]).toMatchObject({ state: 'pending', lastStatus: 307, lastError: 'HTTP 307 (redirects are not followed)' })
  })

  test('a huge answer is not read: delivered at once', async () => {
    const w = await world()
    const chunk = new Uint8Array(1 << 20)
    let sent = 0
    w.receiver.answer = () => ({
      status: 200,
      body: new ReadableStream({ pull: (controller) => (sent++ < 1024 ? controller.enqueue(chunk) : controller.close()) }) as never,
    })
    await signup(w.t)
    const started = performance.now()
    await w.drain()
    expect(performance.now() - started).toBeLessThan(1_500)
    expect((await w.t.store.listDeliveries(10))[0]).toMatchObject({ state: 'delivered', lastStatus: 200 })
    expect(sent).toBeLessThan(512)
  })

  test('at most `slots` attempts are in flight at once', async () => {
    const w = await world({ slots: 2 })
    let open = 0
    let most = 0
    w.receiver.answer = () => {
      most = Math.max(most, ++open)
      setTimeout(() => open--, 200)
      return { delayMs: 200 }
    }
    for (let i = 0; i < 6; i++) await signup(w.t)
    await w.drain()
    expect(w.receiver.received).toHaveLength(6)
    expect(most).toBe(2)
  })

  test('an endpoint that never answers 2xx is given up a day after the event, and said so', async () => {
    const w = await world()
    w.receiver.answer = () => ({ status: 503 })
    await signup(w.t)
    await w.drain()
    w.skip(GIVE_UP_AFTER_MS)
    await w.drain()
    const [delivery] = await w.t.store.listDeliveries(10)
    expect(delivery).toMatchObject({ state: 'failed', attempts: 2, nextAttemptAt: null, lastStatus: 503 })
    expect(w.settled.map((s) => s.result)).toEqual(['retried', 'failed'])
    w.skip(GIVE_UP_AFTER_MS)
    await w.drain()
    expect(w.receiver.received).toHaveLength(2)
  })

  test('a refused connection is an attempt that failed, in a few words', async () => {
    const w = await world()
    w.receiver.stop()
    await signup(w.t)
    await w.drain()
    expect((await w.t.store.listDeliveries(10))[0]).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null, lastError: 'connection failed (ECONNREFUSED)' })
  })
})

describe('the backoff', () => {
  test('5 s, 10 s, 20 s… doubling to an hour, 50–100 % of it, and none once the event is over 25 h old', () => {
    const queued = 1_000_000
    expect([1, 2, 3, 4, 10, 11, 20].map((attempts) => nextAttempt(queued, attempts, queued, () => 1)! - queued)).toEqual([
      5_000, 10_000, 20_000, 40_000, 2_560_000, 3_600_000, 3_600_000,
    ])
    expect(nextAttempt(queued, 1, queued, () => 0)! - queued).toBe(2_500)
    expect(nextAttempt(queued + GIVE_UP_AFTER_MS - 5_000, 30, queued, () => 1)).toBeNull()
    // Retried for at least 24 hours: the waits add up past a day before the last one.
    let at = queued
    let attempts = 0
    while (true) {
      const next = nextAttempt(at, ++attempts, queued, () => 1)
      if (next === null) break
      at = next
    }
    expect(at - queued).toBeGreaterThan(24 * 3_600_000)
    expect(attempts).toBeLessThan(40)
  })
})
