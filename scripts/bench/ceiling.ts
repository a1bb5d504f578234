// The Ceiling section of the SQLite part: for (a), (c) and (f), the baseline, the
// floor(s) (floor.ts: a handler with no framework) and vai side by side, what the
// figures say about each target, and where the floor's time goes, step by step.
import { type ProfileStep, STEP_NAMES, type StepName } from './floor'
import { fmtCpu, fmtInt, fmtMs, fmtRatio } from './report'
import type { Summary } from './scenarios'
import { CONNECTIONS } from './settings'

export interface CeilingInput {
  a: Summary
  aFloor: Summary
  aCached: Summary
  c: Summary
  cFloor: Summary
  f: Summary
  fFloor: Summary
  baseline: (key: string) => Summary
  profile: ProfileStep[]
  otherLoad: number // mean CPUs the rest of the machine kept busy during the runs of (a), (c) and (f)
}

const STEP_LABELS: Record<StepName, string> = {
  route: "route: read the request's URL, match the path (for (c) parse the query)",
  credential: "credential: read the request's headers, Authorization, check format and checksum",
  sha256: 'SHA-256 of the token',
  lookup: 'SQLite: the token and its owner by digest',
  dataVersion: 'cache check: PRAGMA data_version, a Map read',
  tokenJson: 'checks, lastUsedAt, the token as JSON',
  listQuery: 'SQLite: the list statement, 51 rows',
  listJson: 'the page as JSON: 50 items, a signed nextCursor',
  response: 'new Response: the headers, a fresh x-request-id',
}

/**
 * The Ceiling section: per target, the baseline, the floor(s) and vai side by side
 * (req/s, ratio, latency, CPU per request, how busy each kept the CPUs), what the
 * figures say about the target, and where the floor's time goes. Every number in
 * the text is this run's.
 */
export function ceilingSection(x: CeilingInput): string[] {
  const us = (n: number) => `${n.toFixed(1)} µs`
  const alone = (name: StepName) => x.profile.find((p) => p.step === name)?.us ?? 0
  const under = (s: Summary, name: StepName) => s.steps?.[name] ?? 0
  const stepSum = (s: Summary) => STEP_NAMES.reduce((n, name) => n + under(s, name), 0)
  const busy = (s: Summary, perRequest: number) => (s.rps * perRequest) / 1e6
  // The server CPU per request a server as busy as the floor could spend and still answer `target` × the baseline's req/s.
  const budget = (target: number, base: Summary, floor: Summary) => (busy(floor, floor.cpuPerRequest) * 1e6) / (target * base.rps)
  const md: string[] = []
  md.push('## Ceiling: what a handler with no framework reaches')
  md.push('')
  md.push(
    '*floor* is scripts/bench/floor.ts: a `Bun.serve` handler with no framework, in its own process, on the same database file as *vai* (the almost empty one), ' +
      "that does only what the measured request cannot skip: read the credential, check the token's format and checksum (src/auth/token-format.ts), " +
      "SHA-256 it, look it up with the statement of vai's SQLite store (the token and its owner), refuse it if revoked or expired, note lastUsedAt in memory, " +
      "and answer the contract's JSON with the headers vai sends (the security headers, a fresh x-request-id, WWW-Authenticate on a 401); for (c) it then runs " +
      "the store's list statement for 51 rows and renders 50 items and a signed nextCursor. No access log, no metrics, no schema validation, no router. " +
      '*floor-cached* is the same but keeps the token lookups in a Map, emptied whenever `PRAGMA data_version`, read on every request, says another connection ' +
      "(vai) committed: the cheapest cache that still sees a revocation at once. Before the runs each floor's answer was checked against vai's " +
      '(status, headers, JSON keys, size). *server CPU* is the server process\'s user + system time over its runs (all threads, /proc/PID/stat) per request wrk counted, ' +
      '*wrk CPU* the same for wrk; *busy* is that time per second of run, in CPUs (the machine has 2, which the server and wrk share). ' +
      `The CPU figures are much steadier than req/s on this machine; during the runs of (a), (c) and (f) the rest of the machine kept ${x.otherLoad.toFixed(2)} CPUs busy on average (Every run, last column). ` +
      'The floor also times each step of its handler while it serves (last table).',
  )
  md.push('')
  const table = (key: string, servers: Summary[], target: { ratio: number; p99?: number }) => {
    const base = x.baseline(key)
    const all = [base, ...servers]
    md.push(`| measure | target | ${all.map((s) => s.server).join(' | ')} |`)
    md.push(`|---|---|${all.map(() => '---:').join('|')}|`)
    const row = (measure: string, goal: string, cell: (s: Summary) => string) => md.push(`| ${measure} | ${goal} | ${all.map(cell).join(' | ')} |`)
    row('req/s', '', (s) => fmtInt(s.rps))
    row('÷ baseline', `≥ ${target.ratio.toFixed(2)}`, (s) => (s.ratio === null ? '1' : `**${fmtRatio(s.ratio)}**`))
    row('p50', '', (s) => fmtMs(s.p50))
    row('p99', target.p99 === undefined ? '' : `≤ ${target.p99} ms`, (s) => fmtMs(s.p99))
    row('server CPU µs/request', '', (s) => `**${fmtCpu(s.cpuPerRequest)}**`)
    row('… more than the baseline', '', (s) => (s === base ? '—' : fmtCpu(s.cpuPerRequest - base.cpuPerRequest)))
    row('server busy (CPUs)', '', (s) => busy(s, s.cpuPerRequest).toFixed(2))
    row('wrk CPU µs/request', '', (s) => fmtCpu(s.wrkCpuPerRequest))
    row('wrk busy (CPUs)', '', (s) => busy(s, s.wrkCpuPerRequest).toFixed(2))
    md.push('')
  }
  const verdict = (target: number, floor: Summary) =>
    floor.ratio! < target
      ? `**The target, ${target.toFixed(2)}, lies above what even the floor reaches on this machine: ${fmtRatio(floor.ratio)}.**`
      : `**The floor reaches the target here (${fmtRatio(floor.ratio)} ≥ ${target.toFixed(2)}): the gap is vai's own.**`
  const budgetSentence = (target: number, base: Summary, floor: Summary, floors: string) => {
    const room = budget(target, base, floor)
    return (
      `The server runs its JavaScript on one thread, and req/s is the CPU it gets divided by the CPU each request costs: the floor kept ${busy(floor, floor.cpuPerRequest).toFixed(2)} CPUs busy, wrk ${busy(floor, floor.wrkCpuPerRequest).toFixed(2)}. ` +
      `At ${target.toFixed(2)} of the baseline's ${fmtInt(base.rps)} req/s, a server as busy as the floor may spend ${us(room)} per request; ${floors}` +
      (floor.cpuPerRequest > room ? ', more than that before any framework runs.' : ', which fits: what the floor misses in req/s is not its CPU.')
    )
  }

  // ---- (a)
  {
    const base = x.baseline('a')
    const { a, aFloor, aCached } = x
    md.push('### (a) GET token, Bearer: target ≥ 0.75 of the baseline, p99 ≤ 5 ms')
    md.push('')
    table('a', [aCached, aFloor, a], { ratio: 0.75, p99: 5 })
    md.push(
      `${verdict(0.75, aFloor)} With its cache it reaches ${fmtRatio(aCached.ratio)}; vai ${fmtRatio(a.ratio)}. ` +
        `Per request, in server CPU: the baseline spends ${us(base.cpuPerRequest)}, what every server here pays (Bun.serve reading the request and writing the answer, the loopback socket). ` +
        `The floor spends ${us(aFloor.cpuPerRequest)}, ${us(aFloor.cpuPerRequest - base.cpuPerRequest)} more. Timed inside it under load, its handler's steps take ${us(stepSum(aFloor))} a request: ` +
        `the SQLite lookup ${us(under(aFloor, 'lookup'))} (${us(alone('lookup'))} alone in a loop), the response with its headers and fresh request id ${us(under(aFloor, 'response'))}, ` +
        `the checks and the token's JSON ${us(under(aFloor, 'tokenJson'))}, the credential ${us(under(aFloor, 'credential'))}, SHA-256 ${us(under(aFloor, 'sha256'))}, the route ${us(under(aFloor, 'route'))}; ` +
        `the other ${us(aFloor.cpuPerRequest - stepSum(aFloor))} are spent outside the handler's steps, in Bun.serve, the socket and the runtime (garbage collection included), ` +
        `where the baseline, which sends one constant response, spends ${us(base.cpuPerRequest)} in all. ` +
        `With the cache, the hash and the lookup give way to the data_version check (${us(under(aCached, 'dataVersion'))} under load: a read transaction too) and the floor spends ${us(aCached.cpuPerRequest)}. ` +
        `vai spends ${us(a.cpuPerRequest)}: ${us(a.cpuPerRequest - aFloor.cpuPerRequest)} more than the floor and ${us(a.cpuPerRequest - aCached.cpuPerRequest)} more than the floor with its cache, ` +
        "for Elysia's routing and lifecycle hooks, schema validation, the access log, the metrics, and whatever of the lookup it does not keep. " +
        "That is all that vai's code can win back: with none of it, vai would be one of the two floors. " +
        budgetSentence(0.75, base, aFloor, `the floor needs ${us(aFloor.cpuPerRequest)}, its cached form ${us(aCached.cpuPerRequest)}`) +
        ` So the ceiling for (a) on this machine is the floor's ${fmtRatio(aFloor.ratio)}, ${fmtRatio(aCached.ratio)} with a revocation-safe cache; vai is at ${((a.ratio! / aFloor.ratio!) * 100).toFixed(0)}% of the first.`,
    )
    md.push('')
    const mean = (s: Summary) => (CONNECTIONS / s.rps) * 1000 // ms, Little's law
    const spread = aFloor.p99 / mean(aFloor)
    const needed = CONNECTIONS / (0.005 / spread)
    md.push(
      `**p99 ≤ 5 ms at ${CONNECTIONS} connections.** wrk keeps ${CONNECTIONS} requests in flight, so latency is mostly queueing: the mean latency is ${CONNECTIONS} ÷ req/s (Little's law), ` +
        `${fmtMs(mean(aFloor))} for the floor, ${fmtMs(mean(aCached))} cached, ${fmtMs(mean(a))} for vai, ${fmtMs(mean(base))} for the baseline. ` +
        `Measured p99: floor ${fmtMs(aFloor.p99)}, cached ${fmtMs(aCached.p99)}, vai ${fmtMs(a.p99)}, the baseline itself ${fmtMs(base.p99)}. ` +
        (aFloor.p99 > 5
          ? `The floor's p99 is ${spread.toFixed(1)}× its mean; with that spread, a p99 of 5 ms needs a mean of ${fmtMs(5 / spread)}, that is ${fmtInt(needed)} req/s` +
            (needed > base.rps ? `, more than even the baseline answers (${fmtInt(base.rps)}). ` : `, ${(needed / base.rps).toFixed(2)} of the baseline's req/s. `) +
            (aCached.p99 <= 5
              ? `Only the cached floor meets 5 ms (${fmtMs(aCached.p99)}): at this concurrency the p99 target is a throughput target in disguise, within reach only of a handler at least as lean as the floor with its cache.`
              : `Neither floor meets it (${fmtInt(aFloor.rps)} and ${fmtInt(aCached.rps)} req/s): at this concurrency the p99 target is a throughput target in disguise, and above the same ceiling.`)
          : `The floor meets it${aCached.p99 <= 5 ? ', and so does the cache' : ''}: vai misses it through its per-request CPU, which sets its throughput and so its queue.`),
    )
    md.push('')
  }

  // ---- (c)
  {
    const base = x.baseline('c')
    const { a, aFloor, c, cFloor } = x
    const auth = under(cFloor, 'credential') + under(cFloor, 'sha256') + under(cFloor, 'lookup')
    md.push('### (c) list, limit=50: target ≥ 0.40 of the baseline')
    md.push('')
    table('c', [cFloor, c], { ratio: 0.4 })
    md.push(
      `${verdict(0.4, cFloor)} vai: ${fmtRatio(c.ratio)}. The baseline sends the same ${fmtInt(cFloor.bytes)}-byte page for ${us(base.cpuPerRequest)} of server CPU; ` +
        `the floor spends ${us(cFloor.cpuPerRequest)}, ${us(cFloor.cpuPerRequest - base.cpuPerRequest)} more. Under load its list statement takes ${us(under(cFloor, 'listQuery'))} (${us(alone('listQuery'))} alone), ` +
        `rendering the 50 tokens and the cursor ${us(under(cFloor, 'listJson'))} (${us(alone('listJson'))} alone), authenticating ${us(auth)}, the response ${us(under(cFloor, 'response'))}; ` +
        `outside the steps, ${us(cFloor.cpuPerRequest - stepSum(cFloor))}. vai spends ${us(c.cpuPerRequest)}, ${us(c.cpuPerRequest - cFloor.cpuPerRequest)} more than the floor ` +
        `(in (a) the difference was ${us(a.cpuPerRequest - aFloor.cpuPerRequest)}: vai's layer costs more with a bigger answer). ` +
        budgetSentence(0.4, base, cFloor, `the list statement and the rendering alone take ${us(under(cFloor, 'listQuery') + under(cFloor, 'listJson'))} and the floor in all ${us(cFloor.cpuPerRequest)}`) +
        ` The ceiling for (c) is the floor's ${fmtRatio(cFloor.ratio)}; vai is at ${((c.ratio! / cFloor.ratio!) * 100).toFixed(0)}% of it.`,
    )
    md.push('')
  }

  // ---- (f)
  {
    const base = x.baseline('f')
    const { f, fFloor } = x
    md.push('### (f) 401 storm, bad checksum: target ≥ 0.90 of the baseline')
    md.push('')
    table('f', [fFloor, f], { ratio: 0.9 })
    md.push(
      `${verdict(0.9, fFloor)} vai: ${fmtRatio(f.ratio)}. The floor does little beyond the baseline: under load, the route ${us(under(fFloor, 'route'))}, ` +
        `the credential with its format and checksum check ${us(under(fFloor, 'credential'))}, the 401 with its headers and a fresh request id ${us(under(fFloor, 'response'))}. ` +
        `Per request the baseline spends ${us(base.cpuPerRequest)} of server CPU, the floor ${us(fFloor.cpuPerRequest)}, vai ${us(f.cpuPerRequest)}: ` +
        `${us(f.cpuPerRequest - fFloor.cpuPerRequest)} more than the floor for the same 401, which is Elysia's request handling and hooks, the access log and the metrics. ` +
        budgetSentence(0.9, base, fFloor, `the floor needs ${us(fFloor.cpuPerRequest)}`) +
        ` The ceiling for (f) is the floor's ${fmtRatio(fFloor.ratio)}; vai is at ${((f.ratio! / fFloor.ratio!) * 100).toFixed(0)}% of it.`,
    )
    md.push('')
  }

  // ---- the steps
  const columns: [string, Summary][] = [
    ['(a) floor-cached', x.aCached],
    ['(a) floor', x.aFloor],
    ['(c) floor', x.cFloor],
    ['(f) floor', x.fFloor],
  ]
  md.push("### Where the floor's time goes")
  md.push('')
  md.push(
    "Each step of the floor's handler, timed inside the running floor during its runs (Bun.nanoseconds() around each step, summed, divided by the requests it answered; wall time, " +
      'which on a thread that is not preempted is its CPU time), beside the same step timed alone after the runs, in a loop in a process of its own ' +
      '(scripts/bench/floor.ts profile: best of 5 batches, no HTTP, warm caches). *Outside the steps* is the server CPU per request less the steps: ' +
      'Bun.serve parsing the request and writing the answer, the socket, the runtime. µs per request.',
  )
  md.push('')
  md.push(`| step | alone, in a loop | ${columns.map(([name]) => name).join(' | ')} |`)
  md.push(`|---|---:|${columns.map(() => '---:').join('|')}|`)
  const cell = (n: number) => (n === 0 ? '—' : n.toFixed(1))
  for (const name of STEP_NAMES) {
    if (columns.every(([, s]) => under(s, name) === 0)) continue
    md.push(`| ${STEP_LABELS[name]} | ${alone(name) ? alone(name).toFixed(2) : '—'} | ${columns.map(([, s]) => cell(under(s, name))).join(' | ')} |`)
  }
  md.push(`| **the steps, in all** | | ${columns.map(([, s]) => `**${stepSum(s).toFixed(1)}**`).join(' | ')} |`)
  md.push(`| outside the steps | | ${columns.map(([, s]) => (s.cpuPerRequest - stepSum(s)).toFixed(1)).join(' | ')} |`)
  md.push(`| **server CPU per request** | | ${columns.map(([, s]) => `**${s.cpuPerRequest.toFixed(1)}**`).join(' | ')} |`)
  md.push(`| the baseline's server CPU per request, same scenario | | ${columns.map(([, s]) => x.baseline(s.scenario.key).cpuPerRequest.toFixed(1)).join(' | ')} |`)
  const vaiOf = (key: string) => (key === 'a' ? x.a : key === 'c' ? x.c : x.f)
  md.push(`| vai's server CPU per request, same scenario | | ${columns.map(([, s]) => vaiOf(s.scenario.key).cpuPerRequest.toFixed(1)).join(' | ')} |`)
  md.push('')
  return md
}

