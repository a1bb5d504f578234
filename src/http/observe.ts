import { Elysia } from 'elysia'
import { TOKEN_PATTERN } from '../auth/token-format'
import type { Caller } from '../auth/tokens'
import type { Metrics } from '../metrics'
import { clientOf } from './forwarded'

export interface AccessLogEntry {
  time: string
  method: string
  route: string
  status: number
  durationMs: number
  requestId: string
  userId: string | null
  /** The client's address: the TCP peer's, or behind a trusted proxy the one it forwarded for. */
  client: string
}

export type AccessLog = (entry: AccessLogEntry) => void

/**
 * Lines for stdout, written together once per turn of the event loop through Bun's
 * file sink: a write per request, or node's stream machinery, cost more than the
 * request (measured: +12% requests/s on the hot path against process.stdout.write).
 */
export function bufferedStdout(): { write(line: string): void; flush(): void } {
  const sink = Bun.stdout.writer({ highWaterMark: 64 * 1024 })
  let scheduled = false
  const flush = () => {
    scheduled = false
    sink.flush()
  }
  return {
    write(line) {
      sink.write(line)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
  }
}

/**
 * One line per request. Only the route template is written, never the path,
 * query, headers or body: those are where secrets travel. The client's address is
 * written last, as vai worked it out (never a header's text as sent).
 */
export function accessLog(format: 'plain' | 'json', write: (line: string) => void): AccessLog {
  if (format === 'json') return (entry) => write(`${JSON.stringify(entry)}\n`)
  return (entry) =>
    write(`${entry.time} ${entry.method} ${entry.route} ${entry.status} ${entry.durationMs}ms id=${entry.requestId} user=${entry.userId ?? '-'} client=${entry.client}\n`)
}

// An incoming id is kept when it looks like one (a proxy's or a client's), so a
// request can be followed across services; anything else is replaced. A vai token
// would pass for one, and the id is logged: a client that puts its token there by
// mistake must not have it written to the log.
const SANE_REQUEST_ID = /^[\w.:\-]{1,128}$/

/** Request ids, the access log and request metrics, for every request. */
export function observe(metrics: Metrics, log: AccessLog) {
  const started = new WeakMap<Request, number>()
  return new Elysia({ name: 'observe' })
    .onRequest(({ request, set }) => {
      const incoming = request.headers.get('x-request-id')
      set.headers['x-request-id'] = incoming && SANE_REQUEST_ID.test(incoming) && !TOKEN_PATTERN.test(incoming) ? incoming : crypto.randomUUID()
      started.set(request, performance.now())
    })
    .onAfterResponse({ as: 'global' }, (context) => {
      const { request, route, set } = context
      const seconds = (performance.now() - (started.get(request) ?? performance.now())) / 1000
      // Unmatched requests have no template; one label keeps their paths out of the metrics.
      const template = route || '(unmatched)'
      const status = typeof set.status === 'number' ? set.status : 200
      metrics.request(request.method, template, status, seconds)
      log({
        time: new Date().toISOString(),
        method: request.method,
        route: template,
        status,
        durationMs: Math.round(seconds * 100_000) / 100,
        requestId: String(set.headers['x-request-id']),
        userId: (context as { caller?: Caller }).caller?.user.id ?? null,
        client: clientOf(request).address,
      })
    })
}
