// What PostgreSQL's own statistics say the bench database did: statements (one
// transaction each in vai) and index and sequential scans, read before and after a
// counting pass, and the requests the stopped instances' access logs show.
import { readFileSync } from 'node:fs'
import type { SQL } from 'bun'
import type { Running } from './processes'
import type { PgScenario, PgServer } from './scenarios'
import { SECONDS, WARMUP_SECONDS } from './settings'

/** The two counting passes of a scenario, short and long: their difference is what the extra requests cost. */
export const SHORT_SECONDS = WARMUP_SECONDS
export const LONG_SECONDS = WARMUP_SECONDS + SECONDS

/** What PostgreSQL's statistics say the bench database did. */
export interface PgStats {
  statements: number // transactions committed or rolled back: vai runs every statement on its own
  indexScans: Map<string, number> // 'table.index' → scans
  seqScans: Map<string, number> // table → sequential scans
}

export interface PgCount {
  scenario: PgScenario
  server: Exclude<PgServer, 'baseline'>
  requests: number // answered by vai, from its access log
  wrkRequests: number // of which wrk read the answer before it stopped
  /** The two passes the figures are the difference of. */
  raw: { short: { requests: number; statements: number }; long: { requests: number; statements: number } }
  statements: number // long pass minus short pass
  indexScans: Map<string, number> // long pass minus short pass
  seqScans: Map<string, number>
}

export const perRequest = (count: PgCount, n: number) => (count.requests === 0 ? 0 : n / count.requests)

/** Requests a stopped vai answered under /api/, from its access log (one line per request). */
export function answeredRequests(server: Running): number {
  return readFileSync(server.log, 'utf8').match(/^\S+ (GET|POST|DELETE|PATCH|PUT) \/api\//gm)?.length ?? 0
}

/** A database on the same server as `url`, by name. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/**
 * Statement and scan counters of the bench database. The statement count comes from
 * pg_stat_database, read over `admin` (a connection to another database, so that
 * reading adds nothing to it); the scans from the bench database's own views, read
 * over `reader`, whose one query touches catalogs only (the one transaction it adds
 * to each window is in the control too, and so cancels out).
 */
let lastReaderQuery = 0
export async function pgStats(admin: SQL, reader: SQL, dbName: string): Promise<PgStats> {
  const [db] = await admin`SELECT (xact_commit + xact_rollback)::int8 AS n FROM pg_stat_database WHERE datname = ${dbName}`
  // A backend flushes its counters as it goes idle only if its last flush is 1 s old, else
  // 10 s later: spaced out so, the reader's own transaction lands in the window it opens.
  await Bun.sleep(Math.max(0, lastReaderQuery + 1100 - Date.now()))
  lastReaderQuery = Date.now()
  const rows: { kind: string; rel: string; idx: string | null; n: string }[] = await reader`
    SELECT 'idx' AS kind, relname AS rel, indexrelname AS idx, idx_scan::int8 AS n FROM pg_stat_user_indexes
    UNION ALL
    SELECT 'seq', relname, NULL, seq_scan::int8 FROM pg_stat_user_tables`
  const stats: PgStats = { statements: Number(db.n), indexScans: new Map(), seqScans: new Map() }
  for (const row of rows) {
    if (row.kind === 'idx') stats.indexScans.set(`${row.rel}.${row.idx}`, Number(row.n))
    else stats.seqScans.set(row.rel, Number(row.n))
  }
  return stats
}

export function statsDelta(before: PgStats, after: PgStats): PgStats {
  const minus = (a: Map<string, number>, b: Map<string, number>) => new Map([...a].map(([k, v]) => [k, v - (b.get(k) ?? 0)]))
  return { statements: after.statements - before.statements, indexScans: minus(after.indexScans, before.indexScans), seqScans: minus(after.seqScans, before.seqScans) }
}

/**
 * A backend flushes its statistics at most once a second while busy, and the rest
 * only after 10 s idle or when it exits: counting waits for vai's connections to be
 * gone (a graceful stop closes its pool), then a moment for the exit's flush.
 */
export async function waitForNoVaiBackends(admin: SQL, dbName: string) {
  for (const deadline = Date.now() + 15_000; ; await Bun.sleep(20)) {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${dbName} AND application_name = 'vai'`
    if (Number(row.n) === 0) break
    if (Date.now() > deadline) throw new Error(`vai's connections to ${dbName} are still open 15 s after it stopped`)
  }
  await Bun.sleep(250)
}

/** Sequential scans a counting pass made of `table`. */
export const seqScansOf = (count: PgCount, table: string) => count.seqScans.get(table) ?? 0

/** The counting of a scenario on one instance or on two. */
export const countOf = (counts: PgCount[], key: string, server: PgServer) => counts.find((c) => c.scenario.key === key && c.server === server)!

/** SQL statements per request of a scenario on one instance or on two. */
export function statementsPerRequest(counts: PgCount[], key: string, server: PgServer): number {
  const c = countOf(counts, key, server)
  return perRequest(c, c.statements)
}
