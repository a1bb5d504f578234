#!/usr/bin/env bun
// The command line: parses argv and the environment once, then runs a command.
import pkg from '../package.json'
import { createApp } from './app'
import { runAdmin } from './cli/admin'
import { CommandError } from './cli/io'
import { loadConfig, SERVE_USAGE, UsageError, type Config } from './config'
import { TOKEN_PATTERN } from './auth/token-format'
import { ADDRESS_MEMORY_MS } from './audit/events'
import { DAY_MS } from './auth/tokens'
import { accessLog, bufferedStdout } from './http/observe'
import { createMetrics, GAUGE_REFRESH_MS } from './metrics'
import { newSetupCode } from './auth/setup-code'
import { backendFor, describeDb, openStore } from './store/open'
import { StoreUnavailable } from './store/store'
import { createRevocationFeed } from './tokens/revocation-feed'
import { createDeliverer } from './notify/deliverer'
import { sendWebhook } from './notify/webhook'
import { createMailSender } from './notify/mail'
import type { DueDelivery, SendResult } from './notify/outbox'

const USAGE = `vai ${pkg.version}: self-hosted access tokens

Usage: vai [command] [options]

Commands:
  serve                run the HTTP server (the default when no command is given)
  user add             create a user (password from the terminal or stdin)
  user list            list users
  user passwd          set a user's password
  user delete          delete a user and their tokens
  tokens list          list a user's tokens
  tokens revoke-all    revoke all of a user's tokens
  tokens purge         delete tokens revoked or expired long ago
  audit                show the audit trail (one user's with --email)
  webhooks add         register an endpoint for the audit events (prints its secret once)
  webhooks list        list the endpoints
  webhooks remove      remove an endpoint
  webhooks deliveries  show recent deliveries and their state
  backup FILE          write a checked copy of the live database (SQLite)
  db copy              copy users and tokens to another database (SQLite → PostgreSQL, say)
  migrate              apply pending schema migrations
  doctor               check the database file and configuration
  healthcheck          exit 0 when the server answers on /healthz (for containers)

Each command takes --help.

Options:
  -h, --help     show this help (vai serve --help for the server's options)
  -v, --version  print the version`

// Written at most once per token per interval; also flushed on shutdown.
const TOUCH_FLUSH_MS = 60_000
const RETENTION_EVERY_MS = 60 * 60_000
// A notice is due 7 days or 1 day before its token expires: a minute late is on time.
const EXPIRY_NOTICES_EVERY_MS = 60_000
// A webhook attempt's limit (API.md → Webhooks and notices: a 2xx within 10 s).
const WEBHOOK_TIMEOUT_MS = 10_000

class RuntimeError extends Error {}

async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [first, ...rest] = argv
  if (first === '-h' || first === '--help' || first === 'help') return print(USAGE)
  if (first === '-v' || first === '--version' || first === 'version') return print(pkg.version)
  const [command, args] = first === undefined || first.startsWith('-') ? ['serve', argv] : [first, rest]
  switch (command) {
    case 'serve':
      if (args.includes('-h') || args.includes('--help')) return print(SERVE_USAGE)
      return serve(loadConfig(args, env))
    default: {
      const code = await runAdmin(argv, env)
      if (code === undefined) throw new UsageError(`unknown command '${command}' (try vai --help)`)
      return code
    }
  }
}

function print(text: string): number {
  console.log(text)
  return 0
}

async function serve(config: Config): Promise<number> {
  let store
  let setupCode
  try {
    store = await openStore(config.db, { pool: config.dbPool, verify: true })
    // Until the first account exists, the first signup from another machine needs this code.
    setupCode = await store.createSetupCode(newSetupCode())
  } catch (error) {
    throw new RuntimeError(`cannot open database ${describeDb(config.db)}: ${(error as Error).message}`)
  }
  const stdout = bufferedStdout()
  const metrics = createMetrics(store, Date.now)
  const revocationFeed = createRevocationFeed(store)
  const app = createApp({ config, store, metrics, revocationFeed, log: accessLog(config.logFormat, stdout.write) })

  // An outage is expected weather, one line; anything else is a bug, with its stack.
  const jobFailed = (job: string, error: unknown, then = 'next try at the next run') =>
    error instanceof StoreUnavailable
      ? console.error(`vai: ${job} failed: database unavailable (${error.reason}); ${then}`)
      : console.error(`vai: ${job} failed:`, error)

  let stopped: (code: number) => void
  const exit = new Promise<number>((resolve) => (stopped = resolve))
  const timers: Timer[] = []
  let stopping = false
  let purging: Promise<void> = Promise.resolve()
  let refreshing: Promise<void> = Promise.resolve()
  const refreshGauges = () => (refreshing = metrics.refreshGauges().catch((error) => jobFailed('counting tokens for /metrics', error)))
  // With SMTP set, the mail types' events queue the owner's email too (in their transaction).
  const mail = config.smtpUrl === null ? null : createMailSender(config.smtpUrl, config.smtpFrom!, WEBHOOK_TIMEOUT_MS)
  store.setEmailNotices(mail !== null)
  const deliverer = createDeliverer({
    outbox: store,
    senders: [
      { channel: 'webhook', send: (delivery, now) => sendWebhook(delivery, now, WEBHOOK_TIMEOUT_MS) },
      ...(mail ? [{ channel: 'email' as const, send: mail.send }] : []),
    ],
    attemptMs: WEBHOOK_TIMEOUT_MS,
    settled: (delivery, result, next) => {
      metrics.delivery(delivery.channel, result.delivered ? 'delivered' : next === null ? 'failed' : 'retried')
      const line = deliveryLine(config.logFormat, delivery, result, next)
      if (line) stdout.write(`${line}\n`)
    },
    failed: (error) => jobFailed('deliveries', error, 'retried in a second'),
  })
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    stdout.flush()
    console.log(`vai: ${signal} received, finishing in-flight requests`)
    for (const timer of timers) clearInterval(timer)
    // A revocation stream never ends by itself: ended here, its clients come back to another instance.
    revocationFeed.close()
    // Stops accepting at once; resolves when the requests in flight have been answered.
    await app.server?.stop(false)
    // Attempts in flight end within their timeout; what is still queued waits in the database.
    await Promise.all([purging, refreshing, deliverer.stop()])
    mail?.close()
    // On a full disk the pending lastUsedAt values cannot be written: said in one line, and the stop goes on.
    await store.close().catch((error) => jobFailed('writing lastUsedAt at stop', error, 'these uses are lost'))
    stdout.flush()
    console.log('vai: stopped')
    stopped(0)
  }
  // Before listening, so that the first scrape finds the gauges counted.
  const servesMetrics = config.metrics || config.metricsToken !== null
  if (servesMetrics) await refreshGauges()
  // Before listening: a signal that comes the moment vai is up still stops it gracefully.
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))

  try {
    app.listen({
      port: config.port,
      hostname: config.host,
      // No limit of the runtime's: past it, Bun answers a bare 413 (no JSON, no headers)
      // before vai sees the request. The body reader counts every body itself, declared
      // or chunked, and answers the contract's 413. (1 << 40 would overflow to 256.)
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // A connection that sends nothing (a body that never comes, an idle keep-alive) is
      // closed after this; a request head must be complete within ~10 s whatever it is
      // (the runtime's own rule), and one over 16 KiB is answered 431 by the runtime.
      idleTimeout: config.idleTimeout,
      // Elysia asks for SO_REUSEPORT by default: a second vai on the same port would then
      // start too, and the kernel would split requests between two databases.
      reusePort: false,
    })
  } catch (error) {
    await store.close()
    const taken = (error as { code?: string }).code === 'EADDRINUSE'
    throw new RuntimeError(
      taken
        ? `port ${config.port} is already in use on ${config.host}: another server listens there; stop it or choose another --port`
        : `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`,
    )
  }
  const server = app.server!
  const host = server.hostname?.includes(':') ? `[${server.hostname}]` : server.hostname
  console.log(`vai ${pkg.version} listening on http://${host}:${server.port} (database ${describeDb(config.db)})`)
  for (const warning of backendFor(config.db).startWarnings?.(config.db) ?? []) console.error(`vai: warning: ${warning}`)
  if (setupCode !== null) console.log(`vai: no account yet — open http://${host}:${server.port}/?setup=${setupCode} to create the first one`)

  const flush = () => void store.flushTouches().catch((error) => jobFailed('flushing lastUsedAt', error))
  const purge = () => (purging = purgeOnce())
  const purgeOnce = async () => {
    if (stopping) return
    try {
      const now = Date.now()
      const purged = await store.purgeTokens(now - config.retentionDays * DAY_MS)
      const eventsPurged = await store.purgeEvents(now - config.auditRetentionDays * DAY_MS, now - ADDRESS_MEMORY_MS)
      const line = config.logFormat === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), event: 'retention', purged, retentionDays: config.retentionDays, eventsPurged, auditRetentionDays: config.auditRetentionDays })
        : `${new Date().toISOString()} retention purged=${purged} retention-days=${config.retentionDays} events-purged=${eventsPurged} audit-retention-days=${config.auditRetentionDays}`
      stdout.write(`${line}\n`)
    } catch (error) {
      jobFailed('retention purge', error)
    }
  }
  // Each instance looks; the store gives each notice to one of them, once (queueExpiryNotices).
  const noticeExpiring = () => void store.queueExpiryNotices(Date.now()).catch((error) => jobFailed('expiry notices', error))
  // The first purge waits a moment: the first requests come first.
  timers.push(
    setInterval(flush, TOUCH_FLUSH_MS), setInterval(purge, RETENTION_EVERY_MS), setTimeout(purge, 1000),
    setInterval(noticeExpiring, EXPIRY_NOTICES_EVERY_MS), setTimeout(noticeExpiring, 1000),
  )
  if (servesMetrics) timers.push(setInterval(refreshGauges, GAUGE_REFRESH_MS))
  deliverer.start()
  return exit
}

/**
 * What the log says of a delivery attempt: its first failure, and the last one when it is given
 * up; nothing for a success or a retry that fails the same way again (a receiver that is down
 * for a day would otherwise fill the log).
 */
function deliveryLine(format: Config['logFormat'], delivery: DueDelivery, result: SendResult, next: number | null): string | null {
  if (result.delivered || (delivery.attempts > 0 && next !== null)) return null
  const fields = {
    delivery: delivery.id, channel: delivery.channel, endpoint: delivery.endpoint?.id ?? null, eventId: delivery.event.id,
    eventType: delivery.event.type, attempts: delivery.attempts + 1, error: result.error,
    nextAttemptAt: next === null ? null : new Date(next).toISOString(),
  }
  const event = next === null ? 'delivery_given_up' : 'delivery_failed'
  if (format === 'json') return JSON.stringify({ time: new Date().toISOString(), event, ...fields })
  const words = next === null ? `given up after ${fields.attempts} attempts` : `failed, retrying at ${fields.nextAttemptAt}`
  return `${new Date().toISOString()} ${delivery.channel} delivery ${delivery.id} of ${fields.eventType} ${fields.eventId}${fields.endpoint ? ` to endpoint ${fields.endpoint}` : ''} ${words}: ${result.error}`
}

// A token pasted where a flag's value belongs would be echoed in the one-line error,
// and from there into shell history scrollback or a service's journal. Any case: a
// lower-cased token (emails are) still gives most of it away.
const TOKEN_ANY_CASE = new RegExp(TOKEN_PATTERN.source, 'gi')
const redactTokens = (text: string) => text.replace(TOKEN_ANY_CASE, (token) => `${token.slice(0, 12)}…(redacted)`)

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError) {
      console.error(`vai: ${redactTokens(error.message)}`)
      process.exit(2)
    }
    if (error instanceof RuntimeError || error instanceof CommandError) {
      console.error(`vai: ${redactTokens(error.message)}`)
      process.exit(1)
    }
    // An admin command on a full disk or a damaged file: the operator's weather, not a bug.
    if (error instanceof StoreUnavailable) {
      console.error(`vai: database unavailable: ${redactTokens(error.reason)}`)
      process.exit(1)
    }
    console.error('vai: unexpected failure:', error)
    process.exit(1)
  },
)
