// A webhook receiver on loopback, as a service that trusts vai's webhooks runs one: each
// request's signature is checked twice, by the Standard Webhooks reference library
// (standardwebhooks, which also refuses a timestamp over five minutes off) and by HMAC-SHA256
// computed here from the specification's words, and every request is recorded. What it
// answers is the test's to choose: a status, a delay, a redirect, a huge body.
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

export interface Received {
  id: string
  timestamp: number
  type: string
  body: { type: string; timestamp: string; data: Record<string, unknown> & { userId: string; email: string } }
  at: number
  /** Both checks passed. */
  verified: boolean
  headers: Record<string, string>
}

export type Answer = { status?: number; delayMs?: number; headers?: Record<string, string>; body?: string | Uint8Array }

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** How the next requests are answered (default: 204 at once); called per request. */
  answer: (request: Received) => Answer
  /** The distinct webhook-ids delivered with a 2xx, and how many requests each took. */
  deliveredIds(): Map<string, number>
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>
  stop(): void
}

/** HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed by the base64-decoded part after whsec_. */
export function expectedSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

export function startReceiver(secret: () => string, port = 0): Receiver {
  const received: Received[] = []
  const delivered: string[] = []
  const receiver: Receiver = {
    url: '',
    port: 0,
    received,
    answer: () => ({}),
    deliveredIds() {
      const counts = new Map<string, number>()
      for (const entry of received) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1)
      return new Map([...counts].filter(([id]) => delivered.includes(id)))
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`the receiver did not get what was waited for in ${timeoutMs} ms; it got ${received.length}: ${received.map((r) => r.type).join(', ')}`)
        await Bun.sleep(20)
      }
    },
    stop: () => server.stop(true),
  }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port,
    idleTimeout: 60,
    async fetch(request) {
      const text = await request.text()
      const headers = Object.fromEntries(request.headers)
      let verified = false
      try {
        new Webhook(secret()).verify(text, headers)
        verified = headers['webhook-signature'] === expectedSignature(secret(), headers['webhook-id']!, headers['webhook-timestamp']!, text)
      } catch {
        verified = false
      }
      const body = JSON.parse(text)
      const entry: Received = { id: headers['webhook-id']!, timestamp: Number(headers['webhook-timestamp']), type: body.type, body, at: Date.now(), verified, headers }
      received.push(entry)
      const answer = receiver.answer(entry)
      if (answer.delayMs) await Bun.sleep(answer.delayMs)
      const status = answer.status ?? 204
      if (status >= 200 && status < 300) delivered.push(entry.id)
      return new Response(answer.body ?? null, { status, headers: answer.headers })
    },
  })
  receiver.port = server.port!
  receiver.url = `http://127.0.0.1:${server.port}/hooks/vai`
  return receiver
}
