#!/usr/bin/env bun
// The benchmark of issue 4: `bun run bench`.
//
// Builds dist/vai, runs it on loopback with fresh databases (an almost empty one
// seeded through the API, and one with 1,000,000 tokens over 1,000 users seeded
// straight into SQLite), drives each scenario with wrk as a separate process, and
// measures a bare Bun.serve answering the same bytes in the same run, interleaved
// with the vai runs so that machine noise hits both. Writes bench/results.md and
// bench/ratios.svg.
//
// Knobs (environment): VAI_BENCH_SECONDS (5), VAI_BENCH_ROUNDS (2),
// VAI_BENCH_CONNECTIONS (64), VAI_BENCH_THREADS (2), VAI_BENCH_BIG_TOKENS
// (1000000), VAI_BENCH_BIG_USERS (1000).
//
// PostgreSQL mode: `bun run bench -- --postgres URL` (or VAI_BENCH_POSTGRES=URL) also
// runs the hot path, (a), (c) and (f), on PostgreSQL: a fresh database made on that
// server for the run (dropped afterwards), the same 1M-token seed, one dist/vai and
// two dist/vai on the same database, each against the bare baseline, and the SQL
// statements each request costs. `--db-pool N` (VAI_BENCH_DB_POOL, default 10, vai's
// own default) sizes each instance's pool. `--only postgres` runs that part alone and
// replaces only the PostgreSQL section of bench/results.md; a run without PostgreSQL
// rewrites the SQLite part and keeps the PostgreSQL section as it was.
//
// Ceiling: beside baseline and vai, (a), (c) and (f) also run against the floor
// (floor.ts, its own process on vai's almost empty database): a Bun.serve handler
// with no framework doing only the work those requests cannot skip, and for (a) the
// same with a cache checked against PRAGMA data_version. Every run records the
// server's CPU time (/proc/PID/stat) and wrk's, per request.
//
// This file reads the command line and runs the parts; sqlite.ts and postgres.ts are
// the two parts, each with its report (sqlite-report.ts, postgres-report.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postgresBench } from './postgres'
import { killAll, redactUrl, setLogDir } from './processes'
import { joinResults, splitResults } from './report'
import { type BenchContext, envInt, OUT_DIR, ROOT, VAI } from './settings'
import { sqliteBench } from './sqlite'
import { checkWrk } from './wrk'

interface Options {
  sqlite: boolean
  postgres?: string
  pool: number
}

const USAGE = `Usage: bun run bench [-- [--postgres URL] [--only sqlite|postgres] [--db-pool N]]

  --postgres URL   also run (a), (c) and (f) on PostgreSQL, one and two instances, on a
                   database made for the run on that server (VAI_BENCH_POSTGRES)
  --only postgres  run only the PostgreSQL part; bench/results.md keeps its SQLite part
  --only sqlite    run only the SQLite part (the default without --postgres)
  --db-pool N      each vai instance's PostgreSQL pool (VAI_BENCH_DB_POOL, default 10)`

function usageError(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`)
  process.exit(2)
}

function parseOptions(argv: string[]): Options {
  let postgres = process.env.VAI_BENCH_POSTGRES || undefined
  let only: string | undefined
  let pool = envInt('VAI_BENCH_DB_POOL', 10)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') continue
    if (arg === '-h' || arg === '--help') {
      console.log(USAGE)
      process.exit(0)
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    const value = () => (eq === -1 ? argv[++i] : arg.slice(eq + 1)) ?? usageError(`${flag} needs a value`)
    switch (flag) {
      case '--postgres':
        postgres = value()
        break
      case '--only':
        only = value()
        if (only !== 'sqlite' && only !== 'postgres') usageError(`--only takes sqlite or postgres, not '${only}'`)
        break
      case '--db-pool': {
        const raw = value()
        if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) usageError(`--db-pool takes 1 to 1000, not '${raw}'`)
        pool = Number(raw)
        break
      }
      default:
        usageError(`unknown argument '${arg}'`)
    }
  }
  if (postgres !== undefined && !/^postgres(ql)?:\/\//i.test(postgres)) usageError('--postgres takes a postgres:// URL')
  if (only === 'postgres' && postgres === undefined) usageError('--only postgres needs --postgres URL (or VAI_BENCH_POSTGRES)')
  return { sqlite: only !== 'postgres', postgres: only === 'sqlite' ? undefined : postgres, pool }
}

/** How this run was started, as it may be printed: VAI_BENCH_* overrides, the arguments, no password. */
function commandLine(): string {
  const overrides = Object.entries(process.env)
    .filter(([k]) => k.startsWith('VAI_BENCH_'))
    .map(([k, v]) => `${k}=${redactUrl(v ?? '')} `)
    .join('')
  const args = process.argv.slice(2).filter((a) => a !== '--').map((a) => (a.startsWith('--postgres=') ? `--postgres=${redactUrl(a.slice(11))}` : redactUrl(a)))
  return `${overrides}bun run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
}

async function main() {
  const options = parseOptions(process.argv.slice(2))
  checkWrk()
  const wallStart = Bun.nanoseconds()
  const tmp = mkdtempSync(join(tmpdir(), 'vai-bench-'))
  setLogDir(tmp)
  const log = (line: string) => console.log(`[${((Bun.nanoseconds() - wallStart) / 1e9).toFixed(1).padStart(6)} s] ${line}`)
  try {
    log('building dist/vai')
    const build = Bun.spawnSync(['bun', 'run', 'build'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`)
    const ctx: BenchContext = { tmp, log, wallStart, binaryBytes: statSync(VAI).size, commandLine: commandLine() }

    const resultsPath = join(OUT_DIR, 'results.md')
    const previous = existsSync(resultsPath) ? splitResults(readFileSync(resultsPath, 'utf8')) : { sqlite: '' }
    const sqlite = options.sqlite ? await sqliteBench(ctx) : undefined
    const sqliteMd = sqlite?.md ?? previous.sqlite
    const postgres = options.postgres ? await postgresBench(ctx, options.postgres, options.pool, sqliteMd) : undefined
    // The SQLite part, then the PostgreSQL section: this run's, or the last one's, kept as it was.
    const postgresMd = postgres?.md ?? previous.postgres
    await Bun.write(resultsPath, joinResults(sqliteMd, postgresMd))
    if (sqlite) await Bun.write(join(OUT_DIR, 'ratios.svg'), sqlite.svg)
    const wallSeconds = (Bun.nanoseconds() - wallStart) / 1e9
    log(`wrote bench/results.md${sqlite ? ' and bench/ratios.svg' : ''} (${wallSeconds.toFixed(0)} s in all)`)
    for (const check of [...(sqlite?.checks ?? []), ...(postgres?.checks ?? [])]) {
      console.log(`  ${check.pass ? 'pass' : 'FAIL'}  ${check.measure}: ${check.measured} (target ${check.target})`)
    }
  } finally {
    killAll()
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
