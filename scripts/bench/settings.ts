// What every part of the bench shares: where things are, the VAI_BENCH_* knobs (read
// once, when the bench starts), and what main.ts hands each part of a run.
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '../..')
export const VAI = join(ROOT, 'dist/vai')
export const BASELINE = join(ROOT, 'scripts/bench/baseline.ts')
export const FLOOR = join(ROOT, 'scripts/bench/floor.ts')
export const WRK_SCRIPT = join(ROOT, 'scripts/bench/wrk.lua')
export const OUT_DIR = join(ROOT, 'bench')

export const envInt = (name: string, fallback: number) => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer, not '${raw}'`)
  return Number(raw)
}
export const SECONDS = envInt('VAI_BENCH_SECONDS', 5)
export const ROUNDS = envInt('VAI_BENCH_ROUNDS', 2)
export const CONNECTIONS = envInt('VAI_BENCH_CONNECTIONS', 64)
export const THREADS = envInt('VAI_BENCH_THREADS', 2)
export const BIG_TOKENS = envInt('VAI_BENCH_BIG_TOKENS', 1_000_000)
export const BIG_USERS = envInt('VAI_BENCH_BIG_USERS', 1_000)
export const WARMUP_SECONDS = 1
export const STARTUP_SAMPLES = 10
export const PASSWORD = 'bench-password-1'
export const DAY_MS = 24 * 60 * 60 * 1000

/** What main.ts gives the SQLite and the PostgreSQL part. */
export interface BenchContext {
  tmp: string
  log: (line: string) => void
  wallStart: number
  binaryBytes: number
  commandLine: string // how this run was started, as the report prints it
}
