// From the runs of a part (SQLite or PostgreSQL) to one figure per scenario and
// server: the mean of the rounds, the ratio to the same scenario's baseline, and the
// check that every answer had the status the scenario expects.
import type { WrkResult } from './wrk'

export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One wrk run of a scenario against one server (or, on PostgreSQL, a set of instances). */
export interface ScenarioRun<Server extends string> extends WrkResult {
  scenario: string // the scenario's key
  server: Server
  round: number
}

/** What a summary needs of a scenario. */
interface SummarisedScenario {
  key: string
  title: string
  expectStatus: number
}

export interface ServerSummary<S extends SummarisedScenario, Server extends string> {
  scenario: S
  server: Server
  rps: number
  p50: number
  p99: number
  non2xx: number
  socketErrors: number
  ratio: number | null // vai/baseline
  bytes: number // response body size on this server
}

/**
 * The mean of the rounds per scenario and server, in the order of `servers` (those
 * with no runs left out), with what `more` adds from the same runs. Throws when a
 * server answered other than the scenario expects: only 2xx where it expects a 2xx,
 * and only non-2xx (the 401 storm) where it does not.
 */
export function summarise<S extends SummarisedScenario, Server extends string, R extends ScenarioRun<Server>, More>(
  plan: S[],
  servers: readonly Server[],
  runs: R[],
  bodies: Map<string, number>, // `${scenario}/${server}` → response body bytes
  more: (mine: R[]) => More,
): (ServerSummary<S, Server> & More)[] {
  const summaries: (ServerSummary<S, Server> & More)[] = []
  for (const scenario of plan) {
    const of = (server: Server | 'baseline') => runs.filter((r) => r.scenario === scenario.key && r.server === server)
    const baselineRps = mean(of('baseline').map((r) => r.rps))
    for (const server of servers) {
      const mine = of(server)
      if (mine.length === 0) continue
      const rps = mean(mine.map((r) => r.rps))
      summaries.push({
        scenario,
        server,
        rps,
        p50: mean(mine.map((r) => r.p50)),
        p99: mean(mine.map((r) => r.p99)),
        non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
        socketErrors: mine.reduce((n, r) => n + r.socketErrors, 0),
        ratio: server === 'baseline' ? null : rps / baselineRps,
        bytes: bodies.get(`${scenario.key}/${server}`)!,
        ...more(mine),
      })
    }
  }
  for (const s of summaries) {
    if (s.server === 'baseline') continue
    const requests = runs.filter((r) => r.scenario === s.scenario.key && r.server === s.server).reduce((n, r) => n + r.requests, 0)
    const expected = s.scenario.expectStatus < 300 ? 0 : requests
    if (s.non2xx !== expected) throw new Error(`${s.scenario.title} on ${s.server}: ${s.non2xx} non-2xx answers of ${requests}, expected ${expected}`)
  }
  return summaries
}

/** The summary of one scenario on one server; there is one for every pair that ran. */
export const summaryOf = <T extends { scenario: { key: string }; server: string }>(summaries: T[], key: string, server: T['server']): T =>
  summaries.find((s) => s.scenario.key === key && s.server === server)!
