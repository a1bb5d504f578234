// A webhook delivery per the Standard Webhooks specification (standardwebhooks.com): the
// body, its signature, and one attempt's POST. Redirects are not followed and the
// receiver's body is never read: a 2xx within the timeout is delivered, anything else is
// retried by the deliverer.
import { createHmac, randomBytes } from 'node:crypto'
import pkg from '../../package.json'
import type { DueDelivery, OutboxEvent, SendResult } from './outbox'

const SECRET_PREFIX = 'whsec_'

/** A new endpoint secret: whsec_ + base64 of 32 random bytes (API.md → Webhooks and notices). */
export const newWebhookSecret = () => SECRET_PREFIX + randomBytes(32).toString('base64')

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the secret's decoded bytes. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** The body: `{"type","timestamp","data"}`, data the event's fields with its owner's id and email. */
export function payload(event: OutboxEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      id: event.id,
      type: event.type,
      at: new Date(event.at).toISOString(),
      userId: event.userId,
      email: event.email,
      tokenId: event.tokenId,
      tokenPrefix: event.tokenPrefix,
      ip: event.ip,
      userAgent: event.userAgent,
      detail: event.detail,
    },
  })
}

/**
 * Why a URL cannot be an endpoint (null when it can): http or https only, and no user name
 * or password in it (they would be shown by `vai webhooks list` and sent in the clear).
 */
export function endpointUrlProblem(text: string): string | null {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'not a URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol.slice(0, -1)} is not http or https`
  if (url.username !== '' || url.password !== '') return 'it carries credentials (user:password@); the signature authenticates vai instead'
  return null
}

/** What a failed fetch says, in a few words (never the URL, which may carry a query secret). */
function failure(error: unknown, timeoutMs: number): string {
  const name = (error as Error)?.name
  if (name === 'TimeoutError' || name === 'AbortError') return `timed out after ${timeoutMs / 1000} s`
  const code = (error as { code?: string })?.code
  return code ? `connection failed (${code})` : 'connection failed'
}

/** One attempt: POSTs the event to the delivery's endpoint, signed at `now`. */
export async function sendWebhook(delivery: DueDelivery, now: number, timeoutMs: number): Promise<SendResult> {
  const endpoint = delivery.endpoint!
  const body = payload(delivery.event)
  const timestamp = Math.floor(now / 1000)
  let response: Response
  try {
    response = await fetch(endpoint.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': `vai/${pkg.version} (webhooks)`,
        'webhook-id': delivery.event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature(endpoint.secret, delivery.event.id, timestamp, body),
      },
      body,
    })
  } catch (error) {
    return { delivered: false, status: null, error: failure(error, timeoutMs), retry: true }
  }
  // Whatever the receiver says back is not ours to read: a huge body costs nothing.
  void response.body?.cancel().catch(() => {})
  if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status }
  const error = response.status >= 300 && response.status < 400 ? `HTTP ${response.status} (redirects are not followed)` : `HTTP ${response.status}`
  return { delivered: false, status: response.status, error, retry: true }
}
