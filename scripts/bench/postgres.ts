// The PostgreSQL part of the bench: (a), (c) and (f) on a database made for the run,
// seeded with the 1M tokens, served by one dist/vai and by two, each interleaved
// with the bare baseline; then the SQL statements each request costs, counted from
// PostgreSQL's statistics; the targets checked; the report (postgres-report.ts).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SQL } from 'bun'
import { send } from './http'
import {
  answeredRequests,
  countOf,
  databaseUrl,
  LONG_SECONDS,
  type PgCount,
  perRequest,
  pgStats,
  SHORT_SECONDS,
  seqScansOf,
  statementsPerRequest,
  statsDelta,
  waitForNoVaiBackends,
} from './postgres-stats'
import { postgresReport } from './postgres-report'
import { kill, peakRss, redactUrl, type Running, startServer, startVai, stop } from './processes'
import { type Check, fmtInt, fmtMb, fmtMs, fmtPer, fmtRatio, measuredTree } from './report'
import { PG_SERVER_ORDER, PG_VAI, type PgRun, type PgScenario, type PgServer, pgScenarios } from './scenarios'
import { seedPostgres } from './seed'
import { BASELINE, type BenchContext, BIG_TOKENS, BIG_USERS, CONNECTIONS, ROUNDS, SECONDS, WARMUP_SECONDS } from './settings'
import { summarise, summaryOf } from './summary'
import { wrkMany } from './wrk'

interface PgResult {
  md: string
  seconds: number
  checks: Check[]
}

/**
 * (a), (c) and (f) on PostgreSQL: a fresh database on the server `url` names, the
 * 1M seed, then one dist/vai and two dist/vai on that database, each interleaved
 * with the bare baseline as in the SQLite part; then a counting pass per scenario
 * and instance count for the SQL statements per request. Drops the database after.
 */
export async function postgresBench(ctx: BenchContext, url: string, pool: number, sqliteMd: string): Promise<PgResult> {
  const { tmp, log } = ctx
  const started = Bun.nanoseconds()
  // The tree dist/vai was just built from, before a long run gives it time to move.
  const tree = measuredTree()
  const dbName = `vai_bench_${process.pid}_${Date.now()}`
  const dbUrl = databaseUrl(url, dbName)
  const vaiArgs = ['--db-pool', String(pool)]
  const admin = new SQL({ url, max: 1 })
  let reader: SQL | undefined
  let created = false
  const mine = new Set<Running>()
  const startInstance = async () => {
    const server = await startVai(dbUrl, vaiArgs)
    mine.add(server)
    return server
  }
  const stopInstance = async (server: Running, label: string) => {
    await stop(server, label)
    mine.delete(server)
  }
  try {
    const settings = Object.fromEntries(
      ((await admin`
        SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'track_counts')`) as {
        name: string
        setting: string
        unit: string | null
      }[]).map((r) => [r.name, r]),
    )
    if (settings.track_counts?.setting !== 'on') throw new Error('PostgreSQL has track_counts off: the statement counts would read 0')
    const shared = settings.shared_buffers!
    const sharedBuffers = shared.unit === '8kB' ? fmtMb(Number(shared.setting) * 8192) : `${shared.setting}${shared.unit ?? ''}`
    log(`PostgreSQL ${settings.server_version!.setting} at ${redactUrl(url)}: creating database ${dbName}`)
    await admin.unsafe(`CREATE DATABASE ${dbName}`)
    created = true

    log(`seeding ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users into PostgreSQL`)
    const seed = await seedPostgres(dbUrl)
    log(`  ${seed.seconds.toFixed(1)} s, ${fmtMb(seed.bytes)}`)
    reader = new SQL({ url: dbUrl, max: 1 })

    const plan = pgScenarios(seed.hot)

    // ---------------------------------------------------------- throughput
    log(`starting two dist/vai on ${dbName}, --db-pool ${pool} each`)
    const instances = [await startInstance(), await startInstance()]
    const urlsOf = (server: Exclude<PgServer, 'baseline'>) => instances.slice(0, PG_VAI.find((v) => v.server === server)!.instances).map((s) => s.url)
    const runs: PgRun[] = []
    const bodies = new Map<string, number>()
    for (const scenario of plan) {
      const samples = await Promise.all(instances.map((s) => send(s.url, scenario.request)))
      for (const sample of samples) {
        if (sample.status !== scenario.expectStatus) throw new Error(`${scenario.title} on PostgreSQL: vai answered ${sample.status} ${sample.body}`)
      }
      const sample = samples[0]!
      for (const server of PG_SERVER_ORDER) bodies.set(`${scenario.key}/${server}`, Buffer.byteLength(sample.body))
      const spec = join(tmp, `baseline-pg-${scenario.key}.json`)
      writeFileSync(spec, JSON.stringify(sample))
      const baseline = await startServer(['bun', BASELINE, spec], /listening on (http:\/\/\S+)/, 'baseline')
      const targets: [PgServer, string[]][] = [['baseline', [baseline.url]], ...PG_VAI.map(({ server }): [PgServer, string[]] => [server, urlsOf(server)])]
      log(`${scenario.title} on PostgreSQL: warm-up, then ${ROUNDS} rounds of ${targets.map(([n]) => n).join(' / ')} × ${SECONDS} s`)
      for (const [, urls] of targets) await wrkMany(urls, scenario.request, WARMUP_SECONDS)
      for (let round = 1; round <= ROUNDS; round++) {
        const order = round % 2 === 1 ? targets : [...targets].reverse()
        for (const [server, urls] of order) {
          const result = await wrkMany(urls, scenario.request, SECONDS)
          runs.push({ ...result, scenario: scenario.key, server, round })
          log(`  round ${round} ${server.padEnd(9)} ${fmtInt(result.rps).padStart(7)} req/s  p50 ${fmtMs(result.p50)}  p99 ${fmtMs(result.p99)}`)
        }
      }
      await stop(baseline, 'baseline')
    }
    const rss = instances.map((s) => peakRss(s.proc.pid))
    for (const [i, server] of instances.entries()) await stopInstance(server, `vai on PostgreSQL (instance ${i + 1})`)

    // ---------------------------------------------------------- statements per request
    // Fresh instances per pass, stopped before reading: see waitForNoVaiBackends. Each
    // instance also costs a fixed number of statements whatever its load (the migration
    // check, the first retention purge, preparing on each new pool connection, the last
    // lastUsedAt flush), so each scenario runs twice, short and long, and the count is
    // the difference: the statements the extra requests cost.
    const countPass = async (count: number, scenario: PgScenario, seconds: number) => {
      const servers: Running[] = []
      for (let i = 0; i < count; i++) servers.push(await startInstance())
      const before = await pgStats(admin, reader!, dbName)
      const result = await wrkMany(
        servers.map((s) => s.url),
        scenario.request,
        seconds,
      )
      const expectedNon2xx = scenario.expectStatus < 300 ? 0 : result.requests
      if (result.non2xx !== expectedNon2xx) throw new Error(`${scenario.title} on PostgreSQL (counting): ${result.non2xx} non-2xx of ${result.requests}`)
      for (const server of servers) await stopInstance(server, 'vai on PostgreSQL (counting)')
      await waitForNoVaiBackends(admin, dbName)
      // Every request vai answered, including those in flight when wrk stopped, whose statements ran too.
      const requests = servers.reduce((n, server) => n + answeredRequests(server), 0)
      if (requests < result.requests) throw new Error(`vai's access log shows ${requests} requests, wrk saw ${result.requests} answered`)
      return { requests, wrkRequests: result.requests, stats: statsDelta(before, await pgStats(admin, reader!, dbName)) }
    }
    const counts: PgCount[] = []
    for (const { server, instances: count } of PG_VAI) {
      log(`statements per request, ${count} instance${count > 1 ? 's' : ''}: each scenario for ${SHORT_SECONDS} s and for ${LONG_SECONDS} s on fresh instances`)
      for (const scenario of plan) {
        const short = await countPass(count, scenario, SHORT_SECONDS)
        const long = await countPass(count, scenario, LONG_SECONDS)
        const net = statsDelta(short.stats, long.stats)
        const c: PgCount = {
          scenario,
          server,
          requests: long.requests - short.requests,
          wrkRequests: long.wrkRequests - short.wrkRequests,
          statements: net.statements,
          indexScans: net.indexScans,
          seqScans: net.seqScans,
          raw: { short: { requests: short.requests, statements: short.stats.statements }, long: { requests: long.requests, statements: long.stats.statements } },
        }
        if (c.requests <= 0) throw new Error(`${scenario.title} on PostgreSQL: the long counting pass answered no more requests than the short one`)
        counts.push(c)
        log(`  ${scenario.title}: ${fmtInt(c.statements)} statements for ${fmtInt(c.requests)} requests = ${fmtPer(perRequest(c, c.statements), 3)} per request`)
      }
    }

    const [{ n: tokenCount }] = await reader`SELECT count(*)::int8 AS n FROM tokens`
    if (Number(tokenCount) !== BIG_TOKENS) throw new Error(`the PostgreSQL database holds ${tokenCount} tokens after the runs, not ${BIG_TOKENS}`)

    // ---------------------------------------------------------- summarise
    const summaries = summarise(plan, PG_SERVER_ORDER, runs, bodies, () => ({}))
    const find = (key: string, server: PgServer) => summaryOf(summaries, key, server)
    const qpr = (key: string, server: PgServer) => statementsPerRequest(counts, key, server)
    const checks: Check[] = []
    for (const { server, instances: n } of PG_VAI) {
      const label = n === 1 ? 'one instance' : 'two instances'
      const a = find('a', server)
      const q = qpr('a', server)
      checks.push(
        { measure: `hot path (a): SQL statements per request, ${label}`, target: '1', measured: fmtPer(q, 3), pass: Math.abs(q - 1) < 0.01 },
        {
          measure: `hot path (a): sequential scans of tokens (${fmtInt(BIG_TOKENS)} rows), ${label}`,
          target: '0 (indexed)',
          measured: String(seqScansOf(countOf(counts, 'a', server), 'tokens')),
          pass: seqScansOf(countOf(counts, 'a', server), 'tokens') === 0,
        },
        { measure: `hot path (a) throughput vs baseline, ${label}`, target: '≥ 0.75', measured: fmtRatio(a.ratio), pass: a.ratio! >= 0.75 },
        { measure: `401 storm (f) throughput vs baseline, ${label}`, target: '≥ 0.90', measured: fmtRatio(find('f', server).ratio), pass: find('f', server).ratio! >= 0.9 },
        { measure: `401 storm (f): SQL statements per request, ${label}`, target: '0', measured: fmtPer(qpr('f', server), 3), pass: qpr('f', server) < 0.005 },
        { measure: `list (c) throughput vs its baseline, ${label}`, target: '≥ 0.40', measured: fmtRatio(find('c', server).ratio), pass: find('c', server).ratio! >= 0.4 },
        { measure: `p99 latency of (a) at ${CONNECTIONS} connections, ${label}`, target: '≤ 5 ms', measured: fmtMs(a.p99), pass: a.p99 <= 5 },
      )
    }

    // ---------------------------------------------------------- report
    const seconds = (Bun.nanoseconds() - started) / 1e9
    const md = postgresReport(ctx, sqliteMd, { url, pool, tree, seconds, settings, sharedBuffers, seed, plan, runs, summaries, counts, checks, rss, tokenCount: Number(tokenCount) })
    log(`PostgreSQL part done in ${seconds.toFixed(0)} s`)
    return { md, seconds, checks }
  } finally {
    for (const server of mine) await kill(server)
    await reader?.close().catch(() => {})
    if (created) {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
        log(`dropped database ${dbName}`)
      } catch (error) {
        console.error(`bench: could not drop database ${dbName}: ${(error as Error).message}`)
      }
    }
    await admin.close().catch(() => {})
  }
}
