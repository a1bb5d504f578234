// Prometheus metrics. One registry per app (never prom-client's global one), so
// tests and several apps in one process do not share counters. The gauges read from the
// database are refreshed on main.ts's timer, never per scrape: counting 100,000 tokens took
// 31-100 ms, and four scrapers doing it on every scrape moved everyone's p90 to 194 ms.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Store } from './store/store'

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' | 'reused'
export type LoginResult = 'ok' | 'failed' | 'rate_limited'
/** An attempt's outcome: delivered, to be retried, or given up after a day of retries. */
export type DeliveryResult = 'delivered' | 'retried' | 'failed'

/** How often main.ts refreshes the gauges: as often as Prometheus commonly scrapes. */
export const GAUGE_REFRESH_MS = 15_000

export interface Metrics {
  registry: Registry
  request(method: string, route: string, status: number, seconds: number): void
  authFailure(reason: AuthFailure): void
  login(result: LoginResult): void
  delivery(channel: 'webhook' | 'email', result: DeliveryResult): void
  /** Reads the database's gauges (active tokens, size) into the registry; scrapes show the last values read. */
  refreshGauges(): Promise<void>
}

export function createMetrics(store: Store, now: () => number): Metrics {
  const registry = new Registry()
  const requests = new Counter({
    name: 'vai_http_requests_total',
    help: 'HTTP requests answered, by route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'vai_http_request_duration_seconds',
    help: 'Time from receiving a request to answering it.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const authFailures = new Counter({
    name: 'vai_auth_failures_total',
    help: 'Requests refused authentication, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const logins = new Counter({
    name: 'vai_logins_total',
    help: 'Login attempts by outcome.',
    labelNames: ['result'] as const,
    registers: [registry],
  })
  const deliveries = new Counter({
    name: 'vai_deliveries_total',
    help: 'Webhook and email delivery attempts by this instance, by channel and result.',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  })
  for (const channel of ['webhook', 'email'] as const) {
    for (const result of ['delivered', 'retried', 'failed'] as const) deliveries.inc({ channel, result }, 0)
  }
  for (const reason of ['missing', 'malformed', 'unknown', 'expired', 'revoked', 'reused'] as const) authFailures.inc({ reason }, 0)
  for (const result of ['ok', 'failed', 'rate_limited'] as const) logins.inc({ result }, 0)

  const activeTokens = new Gauge({
    name: 'vai_active_tokens',
    help: `Tokens neither revoked nor expired, by type (counted every ${GAUGE_REFRESH_MS / 1000} s).`,
    labelNames: ['type'] as const,
    registers: [registry],
  })
  const databaseSize = new Gauge({
    name: 'vai_database_size_bytes',
    help: `Size of the database on disk (read every ${GAUGE_REFRESH_MS / 1000} s).`,
    registers: [registry],
  })

  const outboxPending = new Gauge({
    name: 'vai_outbox_pending',
    help: `Deliveries queued and not yet delivered or given up, all instances' (read every ${GAUGE_REFRESH_MS / 1000} s).`,
    registers: [registry],
  })
  const outboxOldest = new Gauge({
    name: 'vai_outbox_oldest_pending_seconds',
    help: `Age of the oldest delivery still pending; 0 when none (read every ${GAUGE_REFRESH_MS / 1000} s).`,
    registers: [registry],
  })

  // Resolving labels hashes them on every call; a request's few combinations are kept.
  const children = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>()

  return {
    registry,
    request(method, route, status, seconds) {
      const key = `${method} ${route} ${status}`
      let child = children.get(key)
      if (!child) {
        child = { count: requests.labels(method, route, String(status)), time: duration.labels(method, route) }
        children.set(key, child)
      }
      child.count.inc()
      child.time.observe(seconds)
    },
    authFailure(reason) {
      authFailures.inc({ reason })
    },
    login(result) {
      logins.inc({ result })
    },
    delivery(channel, result) {
      deliveries.inc({ channel, result })
    },
    async refreshGauges() {
      const at = now()
      const [counts, bytes, outbox] = await Promise.all([store.countActiveTokens(at), store.sizeBytes(), store.outboxStats()])
      activeTokens.set({ type: 'session' }, counts.session)
      activeTokens.set({ type: 'api' }, counts.api)
      databaseSize.set(bytes)
      outboxPending.set(outbox.pending)
      outboxOldest.set(outbox.oldestCreatedAt === null ? 0 : Math.max(0, (at - outbox.oldestCreatedAt) / 1000))
    },
  }
}
