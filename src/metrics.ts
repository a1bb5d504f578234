// Prometheus metrics. One registry per app (never prom-client's global one), so
// tests and several apps in one process do not share counters. The gauges read from the
// database are refreshed on main.ts's timer, never per scrape: counting 100,000 tokens took
// 31-100 ms, and four scrapers doing it on every scrape moved everyone's p90 to 194 ms.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Store } from './store/store'

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' | 'reused'
export type LoginResult = 'ok' | 'failed' | 'rate_limited'

/** How often main.ts refreshes the gauges: as often as Prometheus commonly scrapes. */
export const GAUGE_REFRESH_MS = 15_000

export interface Metrics {
  registry: Registry
  request(method: string, route: string, status: number, seconds: number): void
  authFailure(reason: AuthFailure): void
  login(result: LoginResult): void
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
    async refreshGauges() {
      const [counts, bytes] = await Promise.all([store.countActiveTokens(now()), store.sizeBytes()])
      activeTokens.set({ type: 'session' }, counts.session)
      activeTokens.set({ type: 'api' }, counts.api)
      databaseSize.set(bytes)
    },
  }
}
