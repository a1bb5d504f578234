// The PostgreSQL section of bench/results.md: targets, scenarios, the same figures
// beside the SQLite part's, the statements per request with how they were counted,
// other figures, every run and the method, from what postgres.ts measured.
import { type PgCount, perRequest, seqScansOf, statementsPerRequest, LONG_SECONDS, SHORT_SECONDS } from './postgres-stats'
import { type Check, everyRunTable, fmtInt, fmtMb, fmtMs, fmtPer, fmtRatio, machine } from './report'
import { PG_VAI, type PgRun, type PgScenario, type PgServer, type PgSummary } from './scenarios'
import { type BigSeed, PG_SEED_BATCH } from './seed'
import { type BenchContext, BIG_TOKENS, BIG_USERS, CONNECTIONS, ROUNDS, SECONDS, THREADS, WARMUP_SECONDS } from './settings'
import { summaryOf } from './summary'

/** What the PostgreSQL part measured, for its report. */
export interface PgFigures {
  url: string // the server's, as given (the password is never printed)
  pool: number
  tree: string // measuredTree(), read before the runs
  seconds: number
  settings: Record<string, { setting: string; unit: string | null }> // pg_settings, by name
  sharedBuffers: string
  seed: BigSeed
  plan: PgScenario[]
  runs: PgRun[]
  summaries: PgSummary[]
  counts: PgCount[]
  checks: Check[]
  rss: number[] // bytes, each instance
  tokenCount: number
}

/** A row of the SQLite part's scenario table, for the side-by-side table. */
function sqliteRow(sqliteMd: string, title: string, server: string) {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^\\| ${esc(title)} \\| ${esc(server)} \\| \\d+ \\| ([\\d,]+) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\|`, 'm').exec(sqliteMd)
  return match ? { rps: match[1]!, p50: match[2]!.trim(), p99: match[3]!.trim(), ratio: match[4]!.trim() } : undefined
}

export function postgresReport(ctx: BenchContext, sqliteMd: string, x: PgFigures): string {
  const { pool, seconds, settings, sharedBuffers, seed, plan, runs, summaries, counts, checks, rss, tokenCount } = x
  const find = (key: string, server: PgServer) => summaryOf(summaries, key, server)
  const qpr = (key: string, server: PgServer) => statementsPerRequest(counts, key, server)
  const m = machine(ctx.tmp)
  const version = settings.server_version!.setting
  const target = new URL(x.url)
  const md: string[] = []
  md.push('## PostgreSQL')
  md.push('')
  md.push(
    `Produced by \`${ctx.commandLine}\` (scripts/bench/main.ts) on ${new Date().toISOString()}; the PostgreSQL part took ${seconds.toFixed(0)} s ` +
      `(${seed.seconds.toFixed(0)} s of it seeding). The SQLite sections above come from their own run (see its first line).`,
  )
  md.push('')
  md.push(
    `PostgreSQL ${version} at ${target.hostname}:${target.port || '5432'}, on the same machine: a fresh database made for the run (\`CREATE DATABASE\`) and dropped after it. ` +
      `Server settings: fsync ${settings.fsync!.setting}, synchronous_commit ${settings.synchronous_commit!.setting}, shared_buffers ${sharedBuffers}, max_connections ${settings.max_connections!.setting}. ` +
      `vai: \`dist/vai serve --db postgres://…/${'<database>'} --db-pool ${pool}\`, so a pool of ${pool} connections per instance (${pool * 2} with two instances).`,
  )
  md.push('')
  md.push(
    `Machine: ${m.cpus} CPUs (${m.model}), ${m.memory} RAM, ${m.kernel}, Bun ${m.bun}, ${m.wrk}. ` +
      `**PostgreSQL, the vai instance(s), the baseline and wrk all share these ${m.cpus} CPUs**: every vai figure here pays for PostgreSQL's own CPU time (parsing the protocol, running the query) on the cores vai and wrk use, ` +
      `which the SQLite figures do not (SQLite runs inside vai), and a second instance brings no cores of its own: it competes with the first, PostgreSQL and wrk for the same ${m.cpus}. ` +
      `wrk: ${THREADS} threads, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds per server, loopback only.`,
  )
  md.push('')
  md.push(x.tree)
  md.push('')
  md.push('### Targets (issue 4, and the PostgreSQL issue: one indexed query per hot-path request)')
  md.push('')
  md.push('| measure | target | measured | result |')
  md.push('|---|---|---|---|')
  for (const check of checks) md.push(`| ${check.measure} | ${check.target} | ${check.measured} | ${check.pass ? 'pass' : '**FAIL**'} |`)
  md.push('')
  md.push('### Scenarios')
  md.push('')
  md.push(
    'Each figure is the mean of the rounds. *baseline* is the same bare `Bun.serve` as above, answering with the bytes vai sent; ' +
      `*vai-pg* is one dist/vai on PostgreSQL with ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users (made as the SQLite part's *vai-1M* database is); ` +
      '*vai-pg ×2* is two dist/vai on that same database, each loaded by its own wrk with half the connections and threads, started together: ' +
      'req/s is the sum of the two, p50 and p99 the worse of the two. Queries per request: SQL statements PostgreSQL ran per answered request, from the counting pass below.',
  )
  md.push('')
  md.push('| scenario | server | response bytes | req/s | p50 | p99 | vai/baseline | queries per request |')
  md.push('|---|---|---:|---:|---:|---:|---:|---:|')
  for (const s of summaries) {
    const q = s.server === 'baseline' ? '—' : fmtPer(qpr(s.scenario.key, s.server), 2)
    md.push(`| ${s.scenario.title} | ${s.server} | ${s.bytes} | ${fmtInt(s.rps)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtRatio(s.ratio)} | ${q} |`)
  }
  md.push('')
  const sqliteDate = /^Produced by .* on (\S+?);/m.exec(sqliteMd)?.[1]
  const besides = plan.map((scenario) => {
    // The SQLite part runs (f) on the almost empty database only; (a) and (c) on the 1M one too.
    const sqliteServer = scenario.key === 'f' ? 'vai' : 'vai-1M'
    return { scenario, sqliteServer, row: sqliteRow(sqliteMd, scenario.title, sqliteServer) }
  })
  if (besides.some((b) => b.row)) {
    md.push('### Beside SQLite')
    md.push('')
    md.push(
      `SQLite figures from the scenario table above${sqliteDate ? ` (run of ${sqliteDate})` : ''}: *vai-1M* for (a) and (c), the same 1M seed; *vai* for (f), which the SQLite part runs on the almost empty database only (a 401 storm never reaches the database). ` +
        'The two parts ran at different times, so compare the vai/baseline ratios, each measured against its own interleaved baseline, before the raw req/s.',
    )
    md.push('')
    md.push('| scenario | SQLite req/s | SQLite vai/baseline | SQLite p99 | PG ×1 req/s | PG ×1 vai/baseline | PG ×1 p99 | PG ×2 req/s | PG ×2 vai/baseline | PG ×2 p99 | PG queries per request |')
    md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const { scenario, sqliteServer, row } of besides) {
      const one = find(scenario.key, 'vai-pg')
      const two = find(scenario.key, 'vai-pg ×2')
      const sqliteCells = row ? `${row.rps} (${sqliteServer}) | ${row.ratio} | ${row.p99}` : '— | — | —'
      md.push(
        `| ${scenario.title} | ${sqliteCells} | ${fmtInt(one.rps)} | ${fmtRatio(one.ratio)} | ${fmtMs(one.p99)} | ${fmtInt(two.rps)} | ${fmtRatio(two.ratio)} | ${fmtMs(two.p99)} | ${fmtPer(qpr(scenario.key, 'vai-pg'), 2)} |`,
      )
    }
    md.push('')
  }
  md.push('### SQL statements per request')
  md.push('')
  md.push(
    `Counted on fresh instances after the throughput runs: start the instance(s), read PostgreSQL's counters, run the scenario (one wrk per instance as above), ` +
      'stop the instance(s) gracefully, wait until their connections are gone (an exiting backend flushes its statistics), read again. ' +
      'Statements: `xact_commit + xact_rollback` of the database in pg_stat_database (vai runs each statement as its own transaction, one round trip); scans: pg_stat_user_indexes and pg_stat_user_tables. ' +
      "Requests: the lines of the instances' access logs, so the requests still in flight when wrk stopped (answered by vai, not read by wrk) count too. " +
      `Each scenario is counted twice, for ${SHORT_SECONDS} s and for ${LONG_SECONDS} s, and the figures are the differences: an instance also runs a fixed number of statements whatever its load ` +
      '(the migration check at start, the first retention purge, a first round trip on each new pool connection, the last lastUsedAt flush at stop), which the difference takes out. ' +
      'pg_stat_statements is not used: it needs shared_preload_libraries, which only a restart of the server changes.',
  )
  md.push('')
  md.push('| scenario | instances | passes, short; long: requests / statements | difference: requests answered (wrk read) | difference: statements | statements per request | index scans per request | sequential scans: tokens, users |')
  md.push('|---|---:|---|---:|---:|---:|---|---:|')
  for (const c of counts) {
    const scans = [...c.indexScans]
      .filter(([, n]) => perRequest(c, n) >= 0.005)
      .map(([name, n]) => `${name} ${perRequest(c, n).toFixed(2)}`)
      .join(', ')
    md.push(
      `| ${c.scenario.title} | ${PG_VAI.find((v) => v.server === c.server)!.instances} | ${fmtInt(c.raw.short.requests)} / ${fmtInt(c.raw.short.statements)}; ${fmtInt(c.raw.long.requests)} / ${fmtInt(c.raw.long.statements)} | ${fmtInt(c.requests)} (${fmtInt(c.wrkRequests)}) | ${fmtInt(c.statements)} | ${fmtPer(perRequest(c, c.statements), 3)} | ${scans || 'none'} | ${seqScansOf(c, 'tokens')}, ${seqScansOf(c, 'users')} |`,
    )
  }
  md.push('')
  md.push('### Other figures')
  md.push('')
  md.push('| measure | value |')
  md.push('|---|---|')
  md.push(`| seeding ${fmtInt(BIG_TOKENS)} tokens (one transaction, batches of ${fmtInt(PG_SEED_BATCH)} rows) and VACUUM ANALYZE | ${seed.seconds.toFixed(1)} s |`)
  md.push(`| database size after seeding (pg_database_size) | ${fmtMb(seed.bytes)} |`)
  md.push(`| peak RSS (VmHWM) of the two instances, after all their scenarios | ${rss.map(fmtMb).join(', ')} |`)
  md.push(`| tokens in the database after the runs (checked) | ${fmtInt(tokenCount)} |`)
  md.push('')
  md.push('### Every run')
  md.push('')
  md.push(...everyRunTable(plan, runs))
  md.push('')
  md.push('### Method')
  md.push('')
  md.push(
    [
      `- The database is migrated by starting dist/vai on it once, then seeded with the SQLite part's generator (same users, same token mix, the server's generateToken/tokenDigest/tokenPrefix, so every token authenticates), sent in batches of ${fmtInt(PG_SEED_BATCH)} rows as one JSON parameter each and expanded with json_to_recordset in one transaction, then VACUUM ANALYZE and a CHECKPOINT.`,
      `- Two dist/vai serve the database throughout the throughput runs, each with \`--db-pool ${pool}\`; *vai-pg* loads the first only (the second sits idle), *vai-pg ×2* both at once.`,
      `- Every run is wrk against 127.0.0.1 after a ${WARMUP_SECONDS} s warm-up per server and scenario, rounds alternating the order of the servers; *baseline* and *vai-pg* get \`wrk -t${THREADS} -c${CONNECTIONS}\`, *vai-pg ×2* gets two \`wrk -t${Math.max(1, Math.floor(THREADS / 2))} -c${Math.floor(CONNECTIONS / 2)}\` at once, one per instance.`,
      '- The baseline answers every request with the status, headers and bytes vai answered for it (captured just before), as in the SQLite part.',
      "- The tokens are counted after all runs: vai's start-up retention purge finds nothing to delete in this seed.",
    ].join('\n'),
  )
  md.push('')
  return md.join('\n')
}
