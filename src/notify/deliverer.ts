// The outbox's worker: every second it claims the deliveries that are due (each leased to
// this instance; on PostgreSQL, FOR UPDATE SKIP LOCKED shares them out between instances),
// sends a few at a time, and records each outcome. A failed attempt is retried with
// exponential backoff and jitter until a day has passed since the event; a slow receiver
// holds one of the few slots for at most the timeout, never a request.
import type { Channel, DueDelivery, Outbox, SendResult } from './outbox'

export interface Sender {
  channel: Channel
  send(delivery: DueDelivery, now: number): Promise<SendResult>
}

export interface DelivererOptions {
  outbox: Outbox
  senders: readonly Sender[]
  now?: () => number
  /** How often it looks for due deliveries: an event goes out within about this long. */
  pollMs?: number
  /** Deliveries in flight at once. */
  slots?: number
  /** The longest one attempt may take (the senders' own timeout); the lease outlasts it. */
  attemptMs?: number
  /** Every settled attempt, for the metrics and the log. */
  settled?(delivery: DueDelivery, result: SendResult, nextAttemptAt: number | null): void
  /** A claim or settle that failed (the database is away): said once per outage, not every second. */
  failed?(error: unknown): void
  random?: () => number
}

const FIRST_RETRY_MS = 5_000
const LONGEST_WAIT_MS = 60 * 60_000
/** Retried for at least 24 hours (API.md → Webhooks and notices), then given up. */
export const GIVE_UP_AFTER_MS = 25 * 60 * 60_000

/**
 * When attempt `attempts + 1` comes after a failure: 5 s, 10 s, 20 s… doubling up to an hour,
 * each a random 50–100 % of that (so receivers coming back are not hit by every instance
 * at once); null once the event is over a day old.
 */
export function nextAttempt(now: number, attempts: number, queuedAt: number, random: () => number = Math.random): number | null {
  const wait = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_WAIT_MS)
  const at = now + Math.round(wait * (0.5 + random() / 2))
  return at - queuedAt > GIVE_UP_AFTER_MS ? null : at
}

export interface Deliverer {
  /** One look: claims what is due into the free slots and starts sending it. */
  tick(): Promise<void>
  start(): void
  /** Stops looking and waits for the attempts in flight (each ends within its timeout). */
  stop(): Promise<void>
}

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { outbox, senders } = options
  const now = options.now ?? Date.now
  const slots = options.slots ?? 4
  const attemptMs = options.attemptMs ?? 10_000
  const random = options.random ?? Math.random
  const byChannel = new Map(senders.map((sender) => [sender.channel, sender]))
  const channels = senders.map((sender) => sender.channel)
  const inFlight = new Set<Promise<void>>()
  let timer: Timer | null = null
  let looking: Promise<void> | null = null
  let failing = false
  const fail = (error: unknown) => {
    if (!failing) options.failed?.(error)
    failing = true
  }

  async function attempt(delivery: DueDelivery) {
    const result = await byChannel.get(delivery.channel)!.send(delivery, now()).catch(
      (error): SendResult => ({ delivered: false, status: null, error: `failed: ${(error as Error).message}`, retry: true }),
    )
    const at = now()
    const nextAttemptAt = result.delivered || !result.retry ? null : nextAttempt(at, delivery.attempts + 1, delivery.createdAt, random)
    try {
      await outbox.settle(delivery.id, { at, result, nextAttemptAt })
    } catch (error) {
      // The lease runs out and the delivery is claimed again: at least once, as promised.
      fail(error)
      return
    }
    options.settled?.(delivery, result, nextAttemptAt)
  }

  async function look() {
    const free = slots - inFlight.size
    if (free <= 0 || channels.length === 0) return
    const at = now()
    let due: DueDelivery[]
    try {
      // The lease outlasts an attempt by a margin, so a claim never overlaps a live attempt.
      due = await outbox.claimDue(at, free, at + attemptMs + 30_000, channels)
    } catch (error) {
      fail(error)
      return
    }
    failing = false
    for (const delivery of due) {
      const running = attempt(delivery).finally(() => inFlight.delete(running))
      inFlight.add(running)
    }
  }

  const tick = () => (looking ??= look().finally(() => (looking = null)))

  return {
    tick,
    start() {
      timer ??= setInterval(() => void tick(), options.pollMs ?? 1000)
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await looking
      await Promise.all(inFlight)
    },
  }
}
