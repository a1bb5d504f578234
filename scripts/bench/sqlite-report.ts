// The SQLite part's report: the markdown of bench/results.md above the PostgreSQL
// section (targets, the Ceiling section, scenarios, other figures, every run, the
// method) and the chart bench/ratios.svg, from the figures sqlite.ts measured.
import { type CeilingInput, ceilingSection } from './ceiling'
import { clockTicksPerSecond } from './processes'
import { type Check, everyRunTable, fmtCpu, fmtInt, fmtMb, fmtMs, fmtRatio, machine, measuredTree, svgChart } from './report'
import type { FloorName, Run, Scenario, Summary } from './scenarios'
import type { BigSeed } from './seed'
import { type BenchContext, BIG_TOKENS, BIG_USERS, CONNECTIONS, ROUNDS, SECONDS, THREADS, WARMUP_SECONDS } from './settings'
import { median, summaryOf } from './summary'
import type { WritesResult } from './writes'

/** What the SQLite part measured, for its report. */
export interface SqliteFigures {
  plan: Scenario[]
  runs: Run[]
  summaries: Summary[]
  checks: Check[]
  ceiling: CeilingInput
  startup: { new: number[]; existing: number[]; big: number[] } // ms, each sample
  rss: { small: number; big: number } // bytes: vai on the almost empty database, on the 1M one
  big: BigSeed
  writes: WritesResult
}

export function sqliteReport(ctx: BenchContext, wallSeconds: number, x: SqliteFigures): { md: string; svg: string } {
  const { plan, runs, summaries, checks, big, writes } = x
  const m = machine(ctx.tmp)
  const md: string[] = []
  md.push('# vai benchmark')
  md.push('')
  md.push(`Produced by \`${ctx.commandLine}\` (scripts/bench/main.ts) on ${new Date().toISOString()}; the whole run took ${wallSeconds.toFixed(0)} s.`)
  md.push('')
  md.push(
    `Machine: ${m.cpus} CPUs (${m.model}), ${m.memory} RAM, ${m.kernel}, Bun ${m.bun}, ${m.wrk}; databases on ${m.filesystem}. ` +
      `wrk shares the machine with the servers: ${THREADS} threads, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds per server, loopback only.`,
  )
  md.push('')
  md.push(measuredTree())
  md.push('')
  md.push('![vai/baseline throughput ratios](ratios.svg)')
  md.push('')
  md.push('## Targets (issue 4)')
  md.push('')
  md.push(
    '*ceiling (floor/baseline)*: the same figure for the floor, a handler with no framework doing only the work the request cannot skip, ' +
      'measured in the same run (see [Ceiling](#ceiling-what-a-handler-with-no-framework-reaches)).',
  )
  md.push('')
  md.push('| measure | target | measured | result | ceiling (floor/baseline) |')
  md.push('|---|---|---|---|---|')
  for (const check of checks) md.push(`| ${check.measure} | ${check.target} | ${check.measured} | ${check.pass ? 'pass' : '**FAIL**'} | ${check.ceiling ?? '—'} |`)
  md.push('')
  md.push(...ceilingSection(x.ceiling))
  md.push('## Scenarios')
  md.push('')
  md.push(
    'Each figure is the mean of the rounds. *baseline* is a bare `Bun.serve` (scripts/bench/baseline.ts, its own process) answering ' +
      "every request with the status, headers and body vai sent for the scenario's request; *vai* is dist/vai on the almost empty database " +
      `(one user, one session, 60 API tokens made through the API); *vai-1M* is dist/vai on ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users; ` +
      '*floor* and *floor-cached* (for (a), (c) and (f) only) are the handlers with no framework of the Ceiling section, on the almost empty database. ' +
      'CPU per request: the server process\'s user + system time over its runs (/proc/PID/stat), and wrk\'s, divided by the requests wrk counted.',
  )
  md.push('')
  md.push('| scenario | server | response bytes | req/s | p50 | p99 | ÷ baseline | 1M/empty | server CPU µs/request | wrk CPU µs/request |')
  md.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const s of summaries) {
    const vsEmpty = s.server === 'vai-1M' ? (s.rps / summaryOf(summaries, s.scenario.key, 'vai').rps).toFixed(2) : '—'
    md.push(
      `| ${s.scenario.title} | ${s.server} | ${s.bytes} | ${fmtInt(s.rps)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtRatio(s.ratio)} | ${vsEmpty} | ${fmtCpu(s.cpuPerRequest)} | ${fmtCpu(s.wrkCpuPerRequest)} |`,
    )
  }
  md.push('')
  md.push('## Other figures')
  md.push('')
  md.push('| measure | value |')
  md.push('|---|---|')
  md.push(`| binary size (dist/vai) | ${fmtMb(ctx.binaryBytes)} (${fmtInt(ctx.binaryBytes)} bytes) |`)
  md.push(`| start-up, exec to first 200 on /healthz, new database file (median of 10) | ${fmtMs(median(x.startup.new))} (${x.startup.new.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| start-up, migrated almost empty database (median of 10) | ${fmtMs(median(x.startup.existing))} (${x.startup.existing.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| start-up, 1M-token database (median of 10) | ${fmtMs(median(x.startup.big))} (${x.startup.big.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| peak RSS (VmHWM), vai on the almost empty database, after all its scenarios | ${fmtMb(x.rss.small)} |`)
  md.push(`| peak RSS (VmHWM), vai on the 1M-token database, after (a) and (c) | ${fmtMb(x.rss.big)} |`)
  md.push(`| 1M-token database: seeding time (one transaction), file size | ${big.seconds.toFixed(1)} s, ${fmtMb(big.bytes)} |`)
  md.push(`| writes test: requests of (a) on one token | ${fmtInt(writes.requests)} in ${writes.seconds} s |`)
  md.push(`| writes test: commits while the load ran (WAL commit frames) | ${writes.commitsDuringLoad} |`)
  md.push(`| writes test: PRAGMA data_version changes seen by a second connection, polled every 10 ms | ${writes.dataVersionChangesDuringLoad} |`)
  md.push(`| writes test: commits on graceful stop (SIGTERM) | ${writes.commitsAtShutdown} |`)
  md.push(
    `| writes test: rows whose last_used_at changed | ${writes.rowsChanged}${writes.changedIsHotToken ? ' (the token under load)' : ''}; the value written is ${Math.abs(writes.lastUsedAtLag)} ms ${writes.lastUsedAtLag >= 0 ? 'before' : 'after'} the bench saw wrk finish |`,
  )
  md.push('')
  md.push('## Every run')
  md.push('')
  md.push(
    '*other load*: what else kept the machine busy during the run (other processes, the bench itself, time the hypervisor took), in CPUs of the 2: /proc/stat less the server and wrk.',
  )
  md.push('')
  md.push(
    ...everyRunTable(plan, runs, [
      ['server CPU µs/request', (r) => fmtCpu(r.serverCpuUs / r.requests)],
      ['wrk CPU µs/request', (r) => fmtCpu(r.clientCpuUs / r.requests)],
      ['other load (CPUs)', (r) => (r.otherCpuUs / (SECONDS * 1e6)).toFixed(2)],
    ]),
  )
  md.push('')
  md.push('## Method')
  md.push('')
  md.push(
    [
      '- Every run is `wrk -t' + THREADS + ' -c' + CONNECTIONS + ' -d' + SECONDS + 's --latency -s scripts/bench/wrk.lua` against 127.0.0.1, after a ' +
        `${WARMUP_SECONDS} s warm-up per server and scenario; rounds alternate the order of the servers.`,
      '- The baseline gets the same request bytes as vai and answers with the bytes vai answered (captured with one request just before), so the two differ only by what vai does per request.',
      '- (r) is `POST /api/v1/credentials/revoke` with 1000 well-formed tokens nobody holds (every one passes the checksum, so every one is looked up, in one statement), each request from another address through `X-Forwarded-For` (the limit is 60 per address per hour): issue 15 holds it to the cost of a list request (c).',
      "- (v) is `GET /api/v1/auth/verify?scope=deploy:staging` with (a)'s token (full access, so it holds the scope): the check a reverse proxy makes before every request it lets through. Issue 13 holds it to (a)'s cost; its answer is bigger by contract (the identity headers, the user beside the token), which its baseline sends too, so the target compares what vai spends beyond each baseline.",
      "- The almost empty database is seeded through the API. The 1M database is migrated by starting dist/vai on an empty file, then filled with bun:sqlite in one transaction using the server's column layout and its token functions (generateToken, tokenDigest, tokenPrefix): tokens made over a year, round-robin over the users, 10% sessions (one-year expiry), 2% revoked (within the last 60 days, so that vai's start-up retention purge deletes nothing; the count is checked after the runs), last_used_at left empty as on the almost empty database so that both serve pages of the same shape.",
      '- Writes caused by (a): a separate dist/vai on a copy of the almost empty database serves (a) on one token; a second SQLite connection stays open (so the stopping server leaves its WAL in place) and the WAL\'s commit frames are counted before the load, after it, and after SIGTERM, along with the rows whose last_used_at changed.',
      "- vai's stdout (its access log, one line per request) goes to a file, as under systemd or Docker it goes to a collector; the bench process does not read it during the runs.",
      '- Start-up: exec of dist/vai on a free port, then GET /healthz every millisecond until a 200.',
      '- Peak RSS: VmHWM from /proc/PID/status of each vai process, read after its last run.',
      '- Floors: scripts/bench/floor.ts, started once (plain and cached) on the almost empty database while vai serves it, each its own `bun` process like the baseline; ' +
        "each floor's answer to the scenario's request is compared with vai's before the runs (status, headers but x-request-id, JSON keys and value types, size within 4 bytes) and the bench stops if they differ. " +
        'The floor imports the store\'s own statements (src/store/sqlite.ts), so it cannot drift from them.',
      `- CPU: utime + stime of the server process from /proc/PID/stat (all its threads; ${clockTicksPerSecond()} ticks a second) just before and after each run; wrk's from its resource usage at exit.`,
    ].join('\n'),
  )
  md.push('')

  const targets = new Map(plan.filter((s) => s.target !== undefined).map((s) => [s.key, s.target!]))
  const chartRows = summaries.filter((s) => s.server === 'vai' || s.server === 'vai-1M')
  const floorMarks = new Map<string, { server: FloorName; ratio: number }[]>()
  for (const s of summaries) {
    if (s.server === 'floor' || s.server === 'floor-cached') floorMarks.set(s.scenario.key, [...(floorMarks.get(s.scenario.key) ?? []), { server: s.server, ratio: s.ratio! }])
  }
  return { md: md.join('\n'), svg: svgChart(chartRows, targets, floorMarks) }
}
