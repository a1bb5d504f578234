// The processes the bench starts: servers it waits for and stops, and what /proc says
// about them (CPU time, peak RSS); free ports and the start-up time of dist/vai.
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { describeDb, isPostgresUrl } from '../../src/store/open'
import { ROOT, VAI } from './settings'

export interface Running {
  proc: Subprocess
  url: string
  log: string // stdout and stderr, in a file
}

const running = new Set<Subprocess>()
let logDir = tmpdir()
let logCount = 0

/** Where the servers' output files go from now on: the run's own temporary folder. */
export function setLogDir(dir: string) {
  logDir = dir
}

const tail = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').slice(-4000) : '')

/**
 * Spawns a server and waits for the line that says where it listens. Its output
 * goes to a file, not a pipe: vai writes an access-log line per request, and
 * reading that here would spend the CPU the servers are measured on.
 */
export async function startServer(cmd: string[], ready: RegExp, label: string): Promise<Running> {
  const log = join(logDir, `server-${++logCount}.log`)
  const proc = Bun.spawn(cmd, { stdin: 'ignore', stdout: Bun.file(log), stderr: Bun.file(`${log}.err`), cwd: ROOT })
  running.add(proc)
  const deadline = Date.now() + 15_000
  for (;;) {
    await Bun.sleep(5)
    const match = ready.exec(existsSync(log) ? readFileSync(log, 'utf8').slice(0, 4096) : '')
    if (match) return { proc, url: match[1]!, log }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill()
      throw new Error(`${label} did not start (exit ${proc.exitCode}):\n${tail(log)}${tail(`${log}.err`)}`)
    }
  }
}

/**
 * vai on a free port. Ready once /healthz answers, not at the listening line: vai
 * prints that line before it installs its SIGTERM handler, and a SIGTERM in
 * between ends it with the signal's default (exit 143) instead of a graceful stop.
 */
export async function startVai(db: string, extra: string[] = []): Promise<Running> {
  const label = `vai on ${redactUrl(db)}`
  const server = await startServer([VAI, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, ...extra], /listening on (http:\/\/\S+)/, label)
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(5)) {
    const status = await fetch(`${server.url}/healthz`).then((r) => r.status, () => 0)
    if (status === 200) return server
  }
  throw new Error(`${label} never answered /healthz`)
}

/** A command-line word as it may be printed: a database URL without its password. */
export const redactUrl = (word: string) => (isPostgresUrl(word) ? describeDb(word) : word)

/** SIGTERM, then wait: vai answers what is in flight, flushes lastUsedAt and closes the database. */
export async function stop(server: Running, label: string) {
  server.proc.kill('SIGTERM')
  const code = await server.proc.exited
  running.delete(server.proc)
  if (code !== 0) throw new Error(`${label} exited ${code} on SIGTERM:\n${tail(server.log)}${tail(`${server.log}.err`)}`)
}

/** SIGKILL, then wait: for a server a failed run leaves behind. */
export async function kill(server: Running) {
  server.proc.kill('SIGKILL')
  await server.proc.exited
  running.delete(server.proc)
}

/** SIGKILL to every process the bench started and has not stopped, without waiting: the run is over. */
export function killAll() {
  for (const proc of running) proc.kill('SIGKILL')
}

/** Peak resident set size in bytes, from the kernel's high-water mark. */
export function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmHWM for process ${pid}`)
  return Number(match[1]) * 1024
}

let clockTicks: number | undefined

/** The kernel's clock ticks a second, as the CPU figures were read with (100 until one was read). */
export const clockTicksPerSecond = () => clockTicks ?? 100

/** CPU time (user + system, every thread) a process has used so far, in µs, from /proc/PID/stat. */
export function cpuMicros(pid: number): number {
  clockTicks ??= Number(command(['getconf', 'CLK_TCK'])) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the command name in parentheses: field 3 (state) first, so utime (14) and stime (15) at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks
}

/** CPU time the whole machine has spent busy so far (every CPU; steal included), in µs, from /proc/stat. */
export function machineBusyMicros(): number {
  clockTicks ??= Number(command(['getconf', 'CLK_TCK'])) || 100
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1e6) / clockTicks
}

export function command(cmd: string[]): string {
  const result = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
  return (result.stdout.toString() + result.stderr.toString()).trim()
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

/** Milliseconds from exec to the first 200 on /healthz. */
export async function startupTime(db: string): Promise<number> {
  const port = await freePort()
  const started = Bun.nanoseconds()
  const proc = Bun.spawn([VAI, 'serve', '--port', String(port), '--host', '127.0.0.1', '--db', db], { stdout: 'ignore', stderr: 'ignore' })
  running.add(proc)
  try {
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return (Bun.nanoseconds() - started) / 1e6
      } catch {
        // not listening yet
      }
      if (proc.exitCode !== null) throw new Error(`vai exited ${proc.exitCode} before answering /healthz`)
      if (Bun.nanoseconds() - started > 10e9) throw new Error('vai did not answer /healthz within 10 s')
      await Bun.sleep(1)
    }
  } finally {
    proc.kill('SIGTERM')
    await proc.exited
    running.delete(proc)
  }
}

