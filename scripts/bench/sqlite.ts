// The SQLite part of the bench, as it has always run: start-up times, the two
// databases (almost empty, 1M tokens), the writes (a) causes, then every scenario
// against the baseline, the floors and vai, interleaved round by round, each run's
// CPU time from /proc; the targets checked; the report (sqlite-report.ts) from it.
import { Database } from 'bun:sqlite'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ProfileStep, STEP_NAMES, type StepName, STEPS_PATH, type StepTotals } from './floor'
import { sameShape, send } from './http'
import { cpuMicros, machineBusyMicros, peakRss, type Running, startServer, startupTime, startVai, stop } from './processes'
import { type Check, fmtInt, fmtMb, fmtMs, fmtRatio, fmtUs } from './report'
import { type Run, type ServerName, SERVER_ORDER, type Summary, scenarios } from './scenarios'
import { type Issued, seedBigDatabase, seedThroughApi } from './seed'
import { BASELINE, type BenchContext, BIG_TOKENS, BIG_USERS, CONNECTIONS, FLOOR, ROOT, ROUNDS, SECONDS, STARTUP_SAMPLES, WARMUP_SECONDS } from './settings'
import { sqliteReport } from './sqlite-report'
import { mean, median, summarise, summaryOf } from './summary'
import { countWrites } from './writes'
import { type Request, wrk } from './wrk'

/** A floor's step timings since the last call (the call starts them again from zero). */
async function floorSteps(server: Running): Promise<StepTotals> {
  return (await fetch(server.url + STEPS_PATH)).json() as Promise<StepTotals>
}

/** Wall µs per answered request of each step, over a floor's runs; undefined for other servers. */
function stepsPerRequest(runs: Run[]): Record<StepName, number> | undefined {
  const timed = runs.filter((r) => r.steps)
  if (timed.length === 0) return undefined
  const requests = timed.reduce((n, r) => n + r.steps!.requests, 0)
  return Object.fromEntries(STEP_NAMES.map((name) => [name, timed.reduce((n, r) => n + r.steps!.ns[name], 0) / requests / 1000])) as Record<StepName, number>
}

/** The floor's steps timed one by one, in a process of their own: floor.ts profile. */
function profileFloor(db: string, hot: Issued, lister: Issued): ProfileStep[] {
  const result = Bun.spawnSync(['bun', FLOOR, 'profile', db, hot.plaintext, lister.plaintext], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`the floor's profile failed:\n${result.stderr.toString()}`)
  return JSON.parse(result.stdout.toString()) as ProfileStep[]
}

/** The SQLite part: everything but PostgreSQL, as the benchmark has always run. */
export async function sqliteBench(ctx: BenchContext): Promise<{ md: string; svg: string; checks: Check[]; seconds: number }> {
  const { tmp, log } = ctx
  const servers: Partial<Record<ServerName, Running>> = {}
  log('start-up time: 10 runs on a new database file, 10 on a migrated one')
  const startupNew: number[] = []
  const startupExisting: number[] = []
  const existing = join(tmp, 'startup.db')
  for (let i = 0; i < STARTUP_SAMPLES; i++) startupNew.push(await startupTime(join(tmp, `startup-new-${i}.db`)))
  for (let i = 0; i < STARTUP_SAMPLES; i++) startupExisting.push(await startupTime(existing))

  log('seeding the almost empty database through the API')
  const smallDb = join(tmp, 'small.db')
  servers.vai = await startVai(smallDb)
  const small = await seedThroughApi(servers.vai.url)
  // A consistent copy for the writes test, taken before any load touches a token.
  const writesDb = join(tmp, 'writes.db')
  {
    const snapshot = new Database(smallDb, { readonly: true })
    snapshot.run(`VACUUM INTO '${writesDb}'`)
    snapshot.close()
  }

  log(`seeding ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users straight into SQLite`)
  const bigDb = join(tmp, 'big.db')
  const big = await seedBigDatabase(bigDb)
  log(`  ${big.seconds.toFixed(1)} s, ${fmtMb(big.bytes)}`)
  const startupBig: number[] = []
  for (let i = 0; i < STARTUP_SAMPLES; i++) startupBig.push(await startupTime(bigDb))
  servers['vai-1M'] = await startVai(bigDb)

  log(`writes caused by (a): ${SECONDS} s of load on a copy, then a graceful stop`)
  const writes = await countWrites(writesDb, small.tokens[0]!)

  log('starting the floors (scripts/bench/floor.ts) on the almost empty database: plain, and cached against PRAGMA data_version')
  servers.floor = await startServer(['bun', FLOOR, 'serve', smallDb], /listening on (http:\/\/\S+)/, 'floor')
  servers['floor-cached'] = await startServer(['bun', FLOOR, 'serve', smallDb, '--cached'], /listening on (http:\/\/\S+)/, 'floor (cached)')

  const plan = scenarios(small, big)
  const runs: Run[] = []
  const bodies = new Map<string, number>() // `${scenario}/${server}` → response body bytes
  for (const scenario of plan) {
    // The baseline answers what vai answered for this request: same status, headers and bytes.
    const sample = await send(servers.vai.url, scenario.requests.vai!)
    if (sample.status !== scenario.expectStatus) throw new Error(`${scenario.title}: vai answered ${sample.status} ${sample.body}`)
    bodies.set(`${scenario.key}/vai`, Buffer.byteLength(sample.body))
    bodies.set(`${scenario.key}/baseline`, Buffer.byteLength(sample.body))
    if (scenario.requests['vai-1M']) {
      const bigSample = await send(servers['vai-1M'].url, scenario.requests['vai-1M'])
      if (bigSample.status !== scenario.expectStatus) throw new Error(`${scenario.title} (1M): vai answered ${bigSample.status} ${bigSample.body}`)
      bodies.set(`${scenario.key}/vai-1M`, Buffer.byteLength(bigSample.body))
    }
    const spec = join(tmp, `baseline-${scenario.key}.json`)
    writeFileSync(spec, JSON.stringify(sample))
    const baseline = await startServer(['bun', BASELINE, spec], /listening on (http:\/\/\S+)/, 'baseline')
    servers.baseline = baseline
    const targets: [ServerName, Running, Request][] = [['baseline', baseline, scenario.requests.vai!]]
    // The floors get vai's request, byte for byte, and must answer as vai did.
    for (const name of scenario.floors ?? []) {
      const floorSample = await send(servers[name]!.url, scenario.requests.vai!)
      log(`${scenario.title}: ${name} answers as vai: ${sameShape(`${scenario.title}: ${name}`, sample, floorSample)}`)
      bodies.set(`${scenario.key}/${name}`, Buffer.byteLength(floorSample.body))
      targets.push([name, servers[name]!, scenario.requests.vai!])
    }
    for (const name of ['vai', 'vai-1M'] as const) {
      const request = scenario.requests[name]
      if (request) targets.push([name, servers[name]!, request])
    }
    log(`${scenario.title}: warm-up, then ${ROUNDS} rounds of ${targets.map(([n]) => n).join(' / ')} × ${SECONDS} s`)
    for (const [, server, request] of targets) await wrk(server.url, request, WARMUP_SECONDS)
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order so that no server always runs first.
      const order = round % 2 === 1 ? targets : [...targets].reverse()
      for (const [name, server, request] of order) {
        const floor = name === 'floor' || name === 'floor-cached'
        if (floor) await floorSteps(server) // from zero
        const cpuBefore = cpuMicros(server.proc.pid)
        const machineBefore = machineBusyMicros()
        const result = await wrk(server.url, request, SECONDS)
        const machineCpuUs = machineBusyMicros() - machineBefore
        const serverCpuUs = cpuMicros(server.proc.pid) - cpuBefore
        const steps = floor ? await floorSteps(server) : undefined
        const otherCpuUs = Math.max(0, machineCpuUs - serverCpuUs - result.clientCpuUs)
        runs.push({ ...result, scenario: scenario.key, server: name, round, serverCpuUs, steps, otherCpuUs })
        log(
          `  round ${round} ${name.padEnd(12)} ${fmtInt(result.rps).padStart(7)} req/s  p50 ${fmtMs(result.p50)}  p99 ${fmtMs(result.p99)}  ` +
            `CPU/request: server ${fmtUs(serverCpuUs / result.requests)}, wrk ${fmtUs(result.clientCpuUs / result.requests)}; other load ${(otherCpuUs / (SECONDS * 1e6)).toFixed(2)} CPUs`,
        )
      }
    }
    await stop(baseline, 'baseline')
    delete servers.baseline
  }

  await stop(servers.floor, 'floor')
  delete servers.floor
  await stop(servers['floor-cached'], 'floor (cached)')
  delete servers['floor-cached']

  const rssSmall = peakRss(servers.vai.proc.pid)
  const rssBig = peakRss(servers['vai-1M'].proc.pid)
  await stop(servers.vai, 'vai')
  delete servers.vai
  await stop(servers['vai-1M'], 'vai (1M)')
  delete servers['vai-1M']
  {
    const check = new Database(bigDb, { readonly: true })
    const { n } = check.query('SELECT count(*) AS n FROM tokens').get() as { n: number }
    check.close()
    if (n !== BIG_TOKENS) throw new Error(`the 1M database holds ${n} tokens after the runs, not ${BIG_TOKENS}`)
  }

  log("profile of the floor's steps, in one process, no HTTP")
  const floorProfile = profileFloor(smallDb, small.tokens[0]!, small.tokens[3]!)

  // ------------------------------------------------------------ summarise
  const summaries: Summary[] = summarise(plan, SERVER_ORDER, runs, bodies, (mine) => {
    const requests = mine.reduce((n, r) => n + r.requests, 0)
    return {
      cpuPerRequest: mine.reduce((n, r) => n + r.serverCpuUs, 0) / requests,
      wrkCpuPerRequest: mine.reduce((n, r) => n + r.clientCpuUs, 0) / requests,
      steps: stepsPerRequest(mine),
    }
  })
  const find = (key: string, server: ServerName) => summaryOf(summaries, key, server)

  const a = find('a', 'vai')
  const aBase = find('a', 'baseline')
  const v = find('v', 'vai')
  const vBase = find('v', 'baseline')
  const f = find('f', 'vai')
  const c = find('c', 'vai')
  const r = find('r', 'vai')
  const rBig = find('r', 'vai-1M')
  const aBig = find('a', 'vai-1M')
  const cBig = find('c', 'vai-1M')
  const aFloor = find('a', 'floor')
  const aCached = find('a', 'floor-cached')
  const cFloor = find('c', 'floor')
  const fFloor = find('f', 'floor')
  const writesTotal = writes.commitsDuringLoad + writes.commitsAtShutdown
  const allowedWrites = Math.max(1, Math.ceil(writes.seconds / 60))
  const startupMedian = median(startupNew)
  const checks: Check[] = [
    {
      measure: 'hot path (a) throughput vs baseline',
      target: '≥ 0.75',
      measured: fmtRatio(a.ratio),
      pass: a.ratio! >= 0.75,
      ceiling: `${fmtRatio(aFloor.ratio)}; cached ${fmtRatio(aCached.ratio)}`,
    },
    {
      // Issue 13: the hot path of every protected service costs no more than (a). Its answer
      // is bigger by contract (the identity headers, the user), which the baselines pay too:
      // what vai spends beyond its baseline is what its code costs.
      measure: 'verify (v) costs no more than (a)',
      target: 'server CPU µs/request beyond its baseline ≤ (a)’s',
      measured:
        `${fmtUs(v.cpuPerRequest - vBase.cpuPerRequest)} vs ${fmtUs(a.cpuPerRequest - aBase.cpuPerRequest)} ` +
        `(${fmtUs(v.cpuPerRequest)} vs ${fmtUs(a.cpuPerRequest)} in all); req/s ${fmtInt(v.rps)} vs ${fmtInt(a.rps)}, ${fmtRatio(v.rps / a.rps)} of (a)`,
      pass: v.cpuPerRequest - vBase.cpuPerRequest <= a.cpuPerRequest - aBase.cpuPerRequest,
    },
    {
      // Issue 15: a report of 1000 strings is answered in the time of a list request.
      measure: 'leak report of 1000 strings (r) costs no more than a list (c)',
      target: 'server CPU µs/request ≤ (c)’s',
      measured:
        `${fmtUs(r.cpuPerRequest)} vs ${fmtUs(c.cpuPerRequest)}, ${fmtRatio(r.cpuPerRequest / c.cpuPerRequest)} of (c); p50 ${fmtMs(r.p50)} vs ${fmtMs(c.p50)}; ` +
        `with 1M tokens ${fmtUs(rBig.cpuPerRequest)}`,
      pass: r.cpuPerRequest <= c.cpuPerRequest,
    },
    { measure: '401 storm (f) throughput vs baseline', target: '≥ 0.90', measured: fmtRatio(f.ratio), pass: f.ratio! >= 0.9, ceiling: fmtRatio(fFloor.ratio) },
    {
      measure: '401 storm (f) cheaper than (a)',
      target: '(f) req/s > (a) req/s',
      measured: `${fmtInt(f.rps)} vs ${fmtInt(a.rps)}`,
      pass: f.rps > a.rps,
      ceiling: `floors: ${fmtInt(fFloor.rps)} vs ${fmtInt(aFloor.rps)}`,
    },
    { measure: 'list (c) throughput vs its baseline', target: '≥ 0.40', measured: fmtRatio(c.ratio), pass: c.ratio! >= 0.4, ceiling: fmtRatio(cFloor.ratio) },
    {
      measure: `p99 latency of (a) at ${CONNECTIONS} connections`,
      target: '≤ 5 ms',
      measured: fmtMs(a.p99),
      pass: a.p99 <= 5,
      ceiling: `floor's p99 ${fmtMs(aFloor.p99)}; cached ${fmtMs(aCached.p99)}`,
    },
    { measure: '(a) with 1M tokens vs almost empty', target: '≥ 0.90', measured: (aBig.rps / a.rps).toFixed(2), pass: aBig.rps / a.rps >= 0.9 },
    { measure: '(c) with 1M tokens vs almost empty', target: '≥ 0.90', measured: (cBig.rps / c.rps).toFixed(2), pass: cBig.rps / c.rps >= 0.9 },
    {
      measure: 'SQLite writes caused by (a)',
      target: '≤ 1 per token per 60 s',
      measured: `${writesTotal} commit(s), ${writes.rowsChanged} row(s) for ${fmtInt(writes.requests)} requests in ${writes.seconds} s + stop`,
      pass: writesTotal <= allowedWrites && writes.rowsChanged <= 1,
    },
    { measure: 'start-up to first healthy response (median of 10)', target: '≤ 100 ms', measured: fmtMs(startupMedian), pass: startupMedian <= 100 },
    { measure: 'peak RSS under load with 1M tokens', target: '≤ 150 MB', measured: fmtMb(rssBig), pass: rssBig <= 150 * 1024 * 1024 },
  ]

  const wallSeconds = (Bun.nanoseconds() - ctx.wallStart) / 1e9
  const ceilingRuns = runs.filter((r) => ['a', 'c', 'f'].includes(r.scenario))
  const otherLoad = mean(ceilingRuns.map((r) => r.otherCpuUs / (SECONDS * 1e6)))
  const ceiling = { a, aFloor, aCached, c, cFloor, f, fFloor, baseline: (key: string) => find(key, 'baseline'), profile: floorProfile, otherLoad }
  const report = sqliteReport(ctx, wallSeconds, {
    plan,
    runs,
    summaries,
    checks,
    ceiling,
    startup: { new: startupNew, existing: startupExisting, big: startupBig },
    rss: { small: rssSmall, big: rssBig },
    big,
    writes,
  })
  return { ...report, checks, seconds: wallSeconds }
}
