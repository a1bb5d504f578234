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
// (scripts/bench-floor.ts, its own process on vai's almost empty database): a
// Bun.serve handler with no framework doing only the work those requests cannot skip,
// and for (a) the same with a cache checked against PRAGMA data_version. Every run
// records the server's CPU time (/proc/PID/stat) and wrk's, per request.
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { SQL, type Subprocess } from 'bun'
import { hashPassword } from '../src/auth/password'
import { generateToken, tokenDigest, tokenPrefix } from '../src/auth/token-format'
import { describeDb, isPostgresUrl } from '../src/store/open'
import { STEP_NAMES, STEPS_PATH, type ProfileStep, type StepName, type StepTotals } from './bench-floor'

const ROOT = resolve(import.meta.dir, '..')
const VAI = join(ROOT, 'dist/vai')
const BASELINE = join(ROOT, 'scripts/bench-baseline.ts')
const FLOOR = join(ROOT, 'scripts/bench-floor.ts')
const WRK_SCRIPT = join(ROOT, 'scripts/bench-wrk.lua')
const OUT_DIR = join(ROOT, 'bench')

const envInt = (name: string, fallback: number) => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer, not '${raw}'`)
  return Number(raw)
}
const SECONDS = envInt('VAI_BENCH_SECONDS', 5)
const ROUNDS = envInt('VAI_BENCH_ROUNDS', 2)
const CONNECTIONS = envInt('VAI_BENCH_CONNECTIONS', 64)
const THREADS = envInt('VAI_BENCH_THREADS', 2)
const BIG_TOKENS = envInt('VAI_BENCH_BIG_TOKENS', 1_000_000)
const BIG_USERS = envInt('VAI_BENCH_BIG_USERS', 1_000)
const WARMUP_SECONDS = 1
const STARTUP_SAMPLES = 10
const PASSWORD = 'bench-password-1'
const DAY_MS = 24 * 60 * 60 * 1000

// ---------------------------------------------------------------- processes

interface Running {
  proc: Subprocess
  url: string
  log: string // stdout and stderr, in a file
}

const running = new Set<Subprocess>()
let logDir = tmpdir()
let logCount = 0

const tail = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').slice(-4000) : '')

/**
 * Spawns a server and waits for the line that says where it listens. Its output
 * goes to a file, not a pipe: vai writes an access-log line per request, and
 * reading that here would spend the CPU the servers are measured on.
 */
async function startServer(cmd: string[], ready: RegExp, label: string): Promise<Running> {
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
async function startVai(db: string, extra: string[] = []): Promise<Running> {
  const label = `vai on ${redactUrl(db)}`
  const server = await startServer([VAI, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, ...extra], /listening on (http:\/\/\S+)/, label)
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(5)) {
    const status = await fetch(`${server.url}/healthz`).then((r) => r.status, () => 0)
    if (status === 200) return server
  }
  throw new Error(`${label} never answered /healthz`)
}

/** A command-line word as it may be printed: a database URL without its password. */
const redactUrl = (word: string) => (isPostgresUrl(word) ? describeDb(word) : word)

/** SIGTERM, then wait: vai answers what is in flight, flushes lastUsedAt and closes the database. */
async function stop(server: Running, label: string) {
  server.proc.kill('SIGTERM')
  const code = await server.proc.exited
  running.delete(server.proc)
  if (code !== 0) throw new Error(`${label} exited ${code} on SIGTERM:\n${tail(server.log)}${tail(`${server.log}.err`)}`)
}

/** Peak resident set size in bytes, from the kernel's high-water mark. */
function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmHWM for process ${pid}`)
  return Number(match[1]) * 1024
}

let clockTicks: number | undefined

/** CPU time (user + system, every thread) a process has used so far, in µs, from /proc/PID/stat. */
function cpuMicros(pid: number): number {
  clockTicks ??= Number(command(['getconf', 'CLK_TCK'])) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the command name in parentheses: field 3 (state) first, so utime (14) and stime (15) at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks
}

/** CPU time the whole machine has spent busy so far (every CPU; steal included), in µs, from /proc/stat. */
function machineBusyMicros(): number {
  clockTicks ??= Number(command(['getconf', 'CLK_TCK'])) || 100
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1e6) / clockTicks
}

function command(cmd: string[]): string {
  const result = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
  return (result.stdout.toString() + result.stderr.toString()).trim()
}

// ---------------------------------------------------------------- wrk

interface Request {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
}

interface WrkResult {
  rps: number
  p50: number // milliseconds
  p75: number
  p90: number
  p99: number
  requests: number
  non2xx: number
  socketErrors: number
  clientCpuUs: number // wrk's own CPU time over the run (user + system), µs
}

function checkWrk() {
  if (Bun.which('wrk')) return
  console.error('bench: wrk is not installed. Install it with:  apt-get install wrk   (Debian/Ubuntu)')
  process.exit(1)
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

function parseWrk(text: string): Omit<WrkResult, 'clientCpuUs'> {
  const number = (re: RegExp) => {
    const match = re.exec(text)
    if (!match) throw new Error(`cannot read ${re} in wrk's output:\n${text}`)
    return match
  }
  const percentile = (p: number) => {
    const [, value, unit] = number(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'))
    return Number(value) * UNIT_MS[unit!]!
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  return {
    rps: Number(number(/^Requests\/sec:\s+([\d.]+)/m)[1]),
    p50: percentile(50),
    p75: percentile(75),
    p90: percentile(90),
    p99: percentile(99),
    requests: Number(number(/(\d+) requests in /)[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  }
}

async function wrk(baseUrl: string, request: Request, seconds: number, { threads = THREADS, connections = CONNECTIONS } = {}): Promise<WrkResult> {
  const cmd = ['wrk', `-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', WRK_SCRIPT]
  for (const [name, value] of Object.entries(request.headers)) cmd.push('-H', `${name}: ${value}`)
  cmd.push(baseUrl + request.path)
  const proc = Bun.spawn(cmd, {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, VAI_BENCH_METHOD: request.method, VAI_BENCH_BODY: request.body ?? '' },
  })
  const [text, errors, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`wrk failed (${code}): ${errors}${text}`)
  return { ...parseWrk(text), clientCpuUs: Number(proc.resourceUsage()?.cpuTime.total ?? 0) }
}

/**
 * Load on several servers at once: one wrk per server, all started together, the
 * connections and threads shared out between them. Throughput and counts add up;
 * each latency percentile is the worse of the servers'.
 */
async function wrkMany(baseUrls: string[], request: Request, seconds: number): Promise<WrkResult> {
  if (baseUrls.length === 1) return wrk(baseUrls[0]!, request, seconds)
  const threads = Math.max(1, Math.floor(THREADS / baseUrls.length))
  const share = (i: number) => Math.floor(CONNECTIONS / baseUrls.length) + (i < CONNECTIONS % baseUrls.length ? 1 : 0)
  const results = await Promise.all(baseUrls.map((url, i) => wrk(url, request, seconds, { threads, connections: Math.max(threads, share(i)) })))
  const sum = (pick: (r: WrkResult) => number) => results.reduce((n, r) => n + pick(r), 0)
  const worst = (pick: (r: WrkResult) => number) => Math.max(...results.map(pick))
  return {
    rps: sum((r) => r.rps),
    p50: worst((r) => r.p50),
    p75: worst((r) => r.p75),
    p90: worst((r) => r.p90),
    p99: worst((r) => r.p99),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    socketErrors: sum((r) => r.socketErrors),
    clientCpuUs: sum((r) => r.clientCpuUs),
  }
}

// ---------------------------------------------------------------- HTTP seeding

interface Captured {
  status: number
  headers: Record<string, string>
  body: string
}

async function send(baseUrl: string, request: Request): Promise<Captured> {
  const response = await fetch(baseUrl + request.path, { method: request.method, headers: request.headers, body: request.body })
  const headers: Record<string, string> = {}
  // Bun.serve adds these itself; every other header vai sends the baseline sends too.
  for (const [name, value] of response.headers) if (!['date', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value
  return { status: response.status, headers, body: await response.text() }
}

async function sendJson<T>(baseUrl: string, request: Request, expected: number): Promise<{ json: T; response: Captured }> {
  const response = await send(baseUrl, request)
  if (response.status !== expected) throw new Error(`${request.method} ${request.path}: ${response.status} ${response.body}`)
  return { json: JSON.parse(response.body) as T, response }
}

/**
 * Checks that a floor answers as vai does: the same status, the same header names
 * and values (but the request id), the same JSON keys all the way down, the same
 * value types where neither is null, and a body within a few bytes of vai's.
 * Returns what it checked, for the log; throws when something differs.
 */
function sameShape(label: string, vai: Captured, floor: Captured): string {
  const problems: string[] = []
  if (floor.status !== vai.status) problems.push(`status ${floor.status}, vai's ${vai.status}`)
  const names = (c: Captured) => Object.keys(c.headers).sort().join(', ')
  if (names(floor) !== names(vai)) problems.push(`headers [${names(floor)}], vai's [${names(vai)}]`)
  for (const [name, value] of Object.entries(vai.headers)) {
    if (name !== 'x-request-id' && name in floor.headers && floor.headers[name] !== value) problems.push(`${name}: '${floor.headers[name]}', vai's '${value}'`)
  }
  const compare = (path: string, a: unknown, b: unknown) => {
    if (a === null || b === null) return
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return problems.push(`${path}: not the same array`)
      a.forEach((item, i) => compare(`${path}[${i}]`, item, b[i]))
    } else if (typeof a === 'object' && typeof b === 'object') {
      const keysA = Object.keys(a as object).join(',')
      const keysB = Object.keys(b as object).join(',')
      if (keysA !== keysB) return problems.push(`${path}: keys ${keysA}, vai's ${keysB}`)
      for (const key of Object.keys(a as object)) compare(`${path}.${key}`, (a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    } else if (typeof a !== typeof b) problems.push(`${path}: ${typeof a}, vai's ${typeof b}`)
  }
  try {
    compare('body', JSON.parse(floor.body), JSON.parse(vai.body))
  } catch (error) {
    problems.push(`body is not JSON: ${(error as Error).message}`)
  }
  const bytes = Buffer.byteLength(floor.body)
  const vaiBytes = Buffer.byteLength(vai.body)
  if (Math.abs(bytes - vaiBytes) > 4) problems.push(`${bytes} bytes, vai's ${vaiBytes}`)
  if (problems.length > 0) throw new Error(`${label} does not answer as vai does: ${problems.join('; ')}\nfloor: ${floor.body.slice(0, 400)}\nvai:   ${vai.body.slice(0, 400)}`)
  return `status ${floor.status}, the same ${Object.keys(vai.headers).length} headers, the same JSON keys, ${bytes} bytes (vai ${vaiBytes})`
}

interface Issued {
  plaintext: string
  token: { id: string }
}

const jsonPost = (path: string, body: unknown, headers: Record<string, string> = {}): Request => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

interface SmallSeed {
  session: Issued // the login: its plaintext is the cookie
  tokens: Issued[]
}

/** The almost empty database: one user, a session and 60 API tokens, all made through the API. */
async function seedThroughApi(baseUrl: string): Promise<SmallSeed> {
  await sendJson(baseUrl, jsonPost('/api/v1/auth/signup', { email: 'bench@example.com', password: PASSWORD, name: 'Bench' }), 201)
  const { json: session } = await sendJson<Issued>(baseUrl, jsonPost('/api/v1/auth/login', { email: 'bench@example.com', password: PASSWORD }), 200)
  const tokens: Issued[] = []
  for (let i = 0; i < 60; i++) {
    const request = jsonPost('/api/v1/access-tokens', { name: `bench key ${i}` }, { authorization: `Bearer ${session.plaintext}` })
    tokens.push((await sendJson<Issued>(baseUrl, request, 201)).json)
  }
  return { session, tokens }
}

// ---------------------------------------------------------------- 1M-token database

interface BigSeed {
  hot: Issued // a token of the listed user, with its plaintext
  seconds: number
  bytes: number
}

interface BigUser {
  id: string
  email: string
  name: string
  createdAt: number
}

interface BigToken {
  id: string
  userId: string
  name: string
  tokenType: 'session' | 'api'
  tokenPrefix: string
  digest: Uint8Array
  plaintext: string
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  /** An API token, not revoked, of the user whose page (c) lists: the last one is the hot token. */
  hotCandidate: boolean
}

/** The users of the 1M seed, one a second from 400 days ago. */
function bigUsers(now: number): BigUser[] {
  const firstDay = now - 400 * DAY_MS
  const users: BigUser[] = []
  for (let u = 0; u < BIG_USERS; u++) {
    const createdAt = firstDay + u * 1000
    users.push({ id: Bun.randomUUIDv7('hex', createdAt), email: `user${u}@bench.example`, name: `Bench user ${u}`, createdAt })
  }
  return users
}

/**
 * The tokens of the 1M seed in creation order, made with the server's own token
 * functions (generateToken, tokenDigest, tokenPrefix), so every one authenticates.
 */
function* bigTokens(now: number, users: BigUser[]): Generator<BigToken> {
  const listedUser = Math.floor(BIG_USERS / 2)
  // Over the last 365 days, round-robin over the users: each ends with BIG_TOKENS / BIG_USERS.
  const step = (365 * DAY_MS) / BIG_TOKENS
  for (let k = 0; k < BIG_TOKENS; k++) {
    const user = k % BIG_USERS
    const nth = Math.floor(k / BIG_USERS) // this token's rank among its owner's
    const createdAt = Math.floor(now - 365 * DAY_MS + k * step)
    const session = nth % 10 === 3
    const revoked = nth % 50 === 7
    const plaintext = generateToken()
    yield {
      id: Bun.randomUUIDv7('hex', createdAt),
      userId: users[user]!.id,
      name: session ? 'Firefox on Linux' : `deploy key ${nth}`,
      tokenType: session ? 'session' : 'api',
      tokenPrefix: tokenPrefix(plaintext),
      digest: tokenDigest(plaintext),
      plaintext,
      createdAt,
      // Nothing old enough for vai's retention purge (revoked or expired > 90 days ago), which
      // runs at start-up: the database keeps exactly BIG_TOKENS tokens for every run.
      expiresAt: session ? createdAt + 365 * DAY_MS : null,
      revokedAt: revoked ? Math.max(createdAt, now - 60 * DAY_MS) : null,
      hotCandidate: user === listedUser && !session && !revoked,
    }
  }
}

/**
 * 1,000,000 tokens over 1,000 users, inserted in creation order (as a year of use
 * would have written them) in one transaction with prepared statements. The schema
 * is the server's own: it migrates the empty file first.
 */
async function seedBigDatabase(path: string): Promise<BigSeed> {
  await stop(await startVai(path), 'vai (migrating the 1M database)')
  const started = Bun.nanoseconds()
  const db = new Database(path)
  // Seeding only: nothing here must survive a power cut, and a big cache keeps the digest index in memory.
  db.run('PRAGMA synchronous = OFF')
  db.run('PRAGMA cache_size = -524288')
  const passwordHash = await hashPassword(PASSWORD) // one argon2id hash, shared: seeding logs nobody in
  const now = Date.now()
  const insertUser = db.prepare('INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
  const insertToken = db.prepare(
    `INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at, last_used_at, revoked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  let hot: Issued | undefined
  db.transaction(() => {
    const users = bigUsers(now)
    for (const user of users) insertUser.run(user.id, user.email, user.name, passwordHash, user.createdAt)
    for (const t of bigTokens(now, users)) {
      insertToken.run(
        t.id,
        t.userId,
        t.name,
        t.tokenType,
        t.tokenPrefix,
        t.digest,
        t.createdAt,
        t.expiresAt,
        null, // as on the almost empty database, so (c) compares pages of the same shape
        t.revokedAt,
      )
      if (t.hotCandidate) hot = { plaintext: t.plaintext, token: { id: t.id } } // the newest one wins
    }
  })()
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
  if (!hot) throw new Error('the 1M seed made no usable token')
  return { hot, seconds: (Bun.nanoseconds() - started) / 1e9, bytes: statSync(path).size }
}

// ---------------------------------------------------------------- writes caused by (a)

/** Commit frames in a WAL file, and the salt that tells one WAL generation from the next. */
function walCommits(path: string): { commits: number; salt: string } {
  if (!existsSync(path)) return { commits: 0, salt: '' }
  const wal = readFileSync(path)
  if (wal.length < 32) return { commits: 0, salt: '' }
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  let commits = 0
  // Frames of the current generation carry its salts; a frame with a non-zero
  // "database size" field is the last frame of a committed transaction.
  for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break
    if (wal.readUInt32BE(offset + 4) !== 0) commits++
  }
  return { commits, salt: `${salt1}.${salt2}` }
}

function commitsSince(before: { commits: number; salt: string }, after: { commits: number; salt: string }) {
  return before.salt === after.salt ? after.commits - before.commits : after.commits
}

interface WritesResult {
  requests: number
  seconds: number
  commitsDuringLoad: number
  dataVersionChangesDuringLoad: number
  commitsAtShutdown: number
  rowsChanged: number
  changedIsHotToken: boolean
  lastUsedAtLag: number // ms between the end of the load and the written lastUsedAt
}

/**
 * Runs (a) against its own server on a copy of the seeded database, holding a
 * second connection open so the server's close leaves the WAL to be read, and
 * counts: commits while the load runs (WAL commit frames, and PRAGMA data_version
 * polled every 10 ms), commits on graceful shutdown, and rows whose last_used_at
 * changed.
 */
async function countWrites(copy: string, hot: Issued): Promise<WritesResult> {
  const server = await startVai(copy)
  const reader = new Database(copy, { readonly: true })
  const lastUsed = () =>
    new Map((reader.query('SELECT id, last_used_at FROM tokens').all() as { id: string; last_used_at: number | null }[]).map((r) => [r.id, r.last_used_at]))
  const rowsBefore = lastUsed()
  const dataVersion = () => (reader.query('PRAGMA data_version').get() as { data_version: number }).data_version
  const walBefore = walCommits(`${copy}-wal`)
  let version = dataVersion()
  let versionChanges = 0
  let polling = true
  const poller = (async () => {
    while (polling) {
      await Bun.sleep(10)
      const now = dataVersion()
      if (now !== version) versionChanges++
      version = now
    }
  })()
  const load = await wrk(server.url, getOwnToken(hot, 'authorization'), SECONDS)
  const loadEnded = Date.now()
  polling = false
  await poller
  const walAfterLoad = walCommits(`${copy}-wal`)
  await stop(server, 'vai (writes test)')
  const walAfterStop = walCommits(`${copy}-wal`)
  const rowsAfter = lastUsed()
  reader.close()
  const changed = [...rowsAfter].filter(([id, at]) => rowsBefore.get(id) !== at)
  const hotAt = rowsAfter.get(hot.token.id) ?? 0
  if (load.non2xx > 0) throw new Error(`writes test: ${load.non2xx} non-2xx answers`)
  return {
    requests: load.requests,
    seconds: SECONDS,
    commitsDuringLoad: commitsSince(walBefore, walAfterLoad),
    dataVersionChangesDuringLoad: versionChanges,
    commitsAtShutdown: commitsSince(walAfterLoad, walAfterStop),
    rowsChanged: changed.length,
    changedIsHotToken: changed.length === 1 && changed[0]![0] === hot.token.id,
    lastUsedAtLag: loadEnded - hotAt,
  }
}

// ---------------------------------------------------------------- start-up

async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

/** Milliseconds from exec to the first 200 on /healthz. */
async function startupTime(db: string): Promise<number> {
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

/** The floor's steps timed one by one, in a process of their own: scripts/bench-floor.ts profile. */
function profileFloor(db: string, hot: Issued, lister: Issued): ProfileStep[] {
  const result = Bun.spawnSync(['bun', FLOOR, 'profile', db, hot.plaintext, lister.plaintext], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`the floor's profile failed:\n${result.stderr.toString()}`)
  return JSON.parse(result.stdout.toString()) as ProfileStep[]
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// ---------------------------------------------------------------- scenarios

type FloorName = 'floor' | 'floor-cached'
type ServerName = 'baseline' | FloorName | 'vai' | 'vai-1M'
/** The order of the servers in the tables: the bare baseline, the floors, vai. */
const SERVER_ORDER: ServerName[] = ['baseline', 'floor-cached', 'floor', 'vai', 'vai-1M']

interface Scenario {
  key: string
  title: string
  chart: string // the bar's label, under the scenario letter
  expectStatus: number
  /** The request per vai server; the baseline gets the vai one, byte for byte. */
  requests: Partial<Record<'vai' | 'vai-1M', Request>>
  target?: number // vai/baseline ratio the issue asks for
  /** The floors that serve the vai request too, on vai's database. */
  floors?: FloorName[]
}

const getOwnToken = (issued: Issued, carrier: 'authorization' | 'x-api-key' | 'cookie'): Request => ({
  method: 'GET',
  path: `/api/v1/access-tokens/${issued.token.id}`,
  headers:
    carrier === 'authorization'
      ? { authorization: `Bearer ${issued.plaintext}` }
      : carrier === 'x-api-key'
        ? { 'x-api-key': issued.plaintext }
        : { cookie: `vai_token=${issued.plaintext}` },
})

const list = (issued: Issued): Request => ({ method: 'GET', path: '/api/v1/access-tokens?limit=50', headers: { authorization: `Bearer ${issued.plaintext}` } })

/** Well shaped (prefix, length, alphabet) but with a checksum that does not match. */
function badChecksumToken(): string {
  const good = generateToken()
  const last = good.at(-1)!
  return good.slice(0, -1) + (last === 'A' ? 'B' : 'A')
}

function scenarios(small: SmallSeed, big: BigSeed): Scenario[] {
  const [hot, apiKey, me, lister, minter] = small.tokens
  return [
    { key: 'a', title: '(a) GET token, Bearer', chart: 'Bearer', expectStatus: 200, requests: { vai: getOwnToken(hot!, 'authorization'), 'vai-1M': getOwnToken(big.hot, 'authorization') }, target: 0.75, floors: ['floor', 'floor-cached'] },
    { key: 'b-key', title: '(b) GET token, X-API-Key', chart: 'X-API-Key', expectStatus: 200, requests: { vai: getOwnToken(apiKey!, 'x-api-key') } },
    { key: 'b-cookie', title: '(b) GET token, cookie', chart: 'cookie', expectStatus: 200, requests: { vai: getOwnToken(small.session, 'cookie') } },
    { key: 'c', title: '(c) list, limit=50', chart: 'list 50', expectStatus: 200, requests: { vai: list(lister!), 'vai-1M': list(big.hot) }, target: 0.4, floors: ['floor'] },
    { key: 'e', title: '(e) GET /auth/me', chart: '/auth/me', expectStatus: 200, requests: { vai: { method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${me!.plaintext}` } } } },
    {
      key: 'f',
      title: '(f) 401 storm, bad checksum',
      chart: '401 storm',
      expectStatus: 401,
      requests: { vai: { ...getOwnToken(hot!, 'authorization'), headers: { authorization: `Bearer ${badChecksumToken()}` } } },
      target: 0.9,
      floors: ['floor'],
    },
    // Last: every request adds a token to the almost empty database.
    { key: 'd', title: '(d) POST token', chart: 'POST', expectStatus: 201, requests: { vai: jsonPost('/api/v1/access-tokens', { name: 'bench minted' }, { authorization: `Bearer ${minter!.plaintext}` }) } },
  ]
}

interface Run extends WrkResult {
  scenario: string
  server: ServerName
  round: number
  serverCpuUs: number // the server process's CPU time over the run, µs
  steps?: StepTotals // a floor's own timing of its handler's steps over the run
  otherCpuUs: number // CPU the rest of the machine was busy with over the run (other processes, steal), µs
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length

interface Summary {
  scenario: Scenario
  server: ServerName
  rps: number
  p50: number
  p99: number
  non2xx: number
  socketErrors: number
  ratio: number | null // vai/baseline
  bytes: number // response body size on this server
  cpuPerRequest: number // server CPU µs per request wrk counted
  wrkCpuPerRequest: number // wrk's CPU µs per request
  steps?: Record<StepName, number> // a floor's handler steps, wall µs per request it answered
}

// ---------------------------------------------------------------- report

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`)
const fmtUs = (us: number) => `${us.toFixed(1)} µs`
const fmtCpu = (us: number) => us.toFixed(1)
const fmtRatio = (r: number | null) => (r === null ? '—' : r.toFixed(2))
const fmtMb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

function machine(tmp: string) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const meminfo = readFileSync('/proc/meminfo', 'utf8')
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0)
  return {
    cpus: command(['nproc']),
    model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    bun: Bun.version,
    kernel: command(['uname', '-sr']),
    wrk: command(['wrk', '--version']).split('\n')[0]!.replace(/\s+Copyright.*/, ''),
    filesystem: command(['df', '--output=fstype', tmp]).split('\n').at(-1)!.trim(),
  }
}

interface Check {
  measure: string
  target: string
  measured: string
  pass: boolean
  ceiling?: string // what the floor measured for the same figure
}

interface CeilingInput {
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
function ceilingSection(x: CeilingInput): string[] {
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
    '*floor* is scripts/bench-floor.ts: a `Bun.serve` handler with no framework, in its own process, on the same database file as *vai* (the almost empty one), ' +
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
      '(scripts/bench-floor.ts profile: best of 5 batches, no HTTP, warm caches). *Outside the steps* is the server CPU per request less the steps: ' +
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

/** vai's bars, with the issue's targets and, as thin blue marks on the same bar, the floors' ratios. */
function svgChart(summaries: Summary[], targets: Map<string, number>, floors: Map<string, { server: FloorName; ratio: number }[]>): string {
  const bars = summaries.filter((s) => s.ratio !== null)
  const width = 760
  const height = 356
  const left = 60
  const top = 40
  const bottom = 86
  const plotHeight = height - top - bottom
  const max = Math.max(1.1, ...bars.map((b) => b.ratio!)) * 1.05
  const y = (value: number) => top + plotHeight * (1 - value / max)
  const slot = (width - left - 20) / bars.length
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">vai throughput as a fraction of a bare Bun.serve (same run, same bytes)</text>`,
  ]
  for (let tick = 0; tick <= max; tick += 0.25) {
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${tick.toFixed(2)}</text>`)
  }
  out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#888" stroke-dasharray="2 3"/>`)
  bars.forEach((bar, i) => {
    const x = left + i * slot + slot * 0.18
    const w = slot * 0.64
    const target = bar.server === 'vai' ? targets.get(bar.scenario.key) : undefined
    const color = target === undefined ? '#7a8ca3' : bar.ratio! >= target ? '#2e8b57' : '#c0392b'
    out.push(`<rect x="${x.toFixed(1)}" y="${y(bar.ratio!).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(0) - y(bar.ratio!)).toFixed(1)}" fill="${color}"/>`)
    // Labels stack upwards from the bar's top: its value, then each floor's, none over another.
    // A floor just above the bar takes the value's place: the value goes inside the bar if it
    // is tall enough, else above the floors' labels.
    const marks = (bar.server === 'vai' ? (floors.get(bar.scenario.key) ?? []) : []).toSorted((m, n) => m.ratio - n.ratio)
    const valueLabel = (at: number, fill = '#111') =>
      out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${at.toFixed(1)}" text-anchor="middle" font-weight="600" fill="${fill}">${bar.ratio!.toFixed(2)}</text>`)
    let room = y(bar.ratio!) - 5 // the lowest baseline the next label may take
    const valueFirst = marks.every((m) => y(bar.ratio!) - y(m.ratio) >= 18)
    const valueInside = !valueFirst && y(0) - y(bar.ratio!) >= 18
    if (valueFirst) {
      valueLabel(room)
      room -= 13
    } else if (valueInside) valueLabel(y(bar.ratio!) + 14, '#fff')
    for (const mark of marks) {
      const my = y(mark.ratio)
      const labelY = Math.min(my - 3, room)
      const dash = mark.server === 'floor-cached' ? ' stroke-dasharray="3 2"' : ''
      out.push(`<line x1="${x.toFixed(1)}" x2="${(x + w).toFixed(1)}" y1="${my.toFixed(1)}" y2="${my.toFixed(1)}" stroke="#1f5fa8" stroke-width="2"${dash}/>`)
      out.push(`<text x="${(x + 2).toFixed(1)}" y="${labelY.toFixed(1)}" font-size="9" fill="#1f5fa8">${mark.server === 'floor' ? 'floor' : 'cached'} ${mark.ratio.toFixed(2)}</text>`)
      room = labelY - 11
    }
    if (!valueFirst && !valueInside) valueLabel(room - 2)
    if (target !== undefined) {
      out.push(`<line x1="${(x - 6).toFixed(1)}" x2="${(x + w + 6).toFixed(1)}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#111" stroke-width="2" stroke-dasharray="5 3"/>`)
      out.push(`<text x="${(x + w + 7).toFixed(1)}" y="${(y(target) + 4).toFixed(1)}" font-size="10">${target.toFixed(2)}</text>`)
    }
    const lx = (x + w / 2).toFixed(1)
    out.push(`<text x="${lx}" y="${y(0) + 16}" text-anchor="middle" font-weight="600">${esc(bar.scenario.title.slice(0, 3))}</text>`)
    out.push(`<text x="${lx}" y="${y(0) + 31}" text-anchor="middle" font-size="11">${esc(bar.scenario.chart)}</text>`)
    if (bar.server === 'vai-1M') out.push(`<text x="${lx}" y="${y(0) + 45}" text-anchor="middle" font-size="11">1M tokens</text>`)
  })
  out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`)
  out.push(
    `<text x="${width - 20}" y="${height - 20}" text-anchor="end" font-size="10" fill="#555">bars: vai req/s ÷ baseline req/s; dashed black: the issue's target (green: met, red: missed, grey: none)</text>`,
    `<text x="${width - 20}" y="${height - 7}" text-anchor="end" font-size="10" fill="#1f5fa8">blue marks: the floor, a handler with no framework doing the same work (solid), and with a data_version-checked cache (dotted)</text>`,
  )
  out.push('</svg>')
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------- PostgreSQL

const PG_SEED_BATCH = 20_000
const PG_START = '<!-- bench:postgres:start (scripts/bench.ts replaces this section on a PostgreSQL run) -->'
const PG_END = '<!-- bench:postgres:end -->'

type PgServer = 'baseline' | 'vai-pg' | 'vai-pg ×2'
const PG_VAI: { server: Exclude<PgServer, 'baseline'>; instances: number }[] = [
  { server: 'vai-pg', instances: 1 },
  { server: 'vai-pg ×2', instances: 2 },
]

interface PgScenario {
  key: string
  title: string // the SQLite scenario of the same request, by its title
  expectStatus: number
  request: Request
}

interface PgRun extends WrkResult {
  scenario: string
  server: PgServer
  round: number
}

interface PgSummary {
  scenario: PgScenario
  server: PgServer
  rps: number
  p50: number
  p99: number
  non2xx: number
  ratio: number | null
  bytes: number
}

/** What PostgreSQL's statistics say the bench database did. */
interface PgStats {
  statements: number // transactions committed or rolled back: vai runs every statement on its own
  indexScans: Map<string, number> // 'table.index' → scans
  seqScans: Map<string, number> // table → sequential scans
}

interface PgCount {
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

const perRequest = (count: PgCount, n: number) => (count.requests === 0 ? 0 : n / count.requests)
const fmtPer = (value: number, digits: number) => (Math.abs(value) < 0.5 * 10 ** -digits ? 0 : value).toFixed(digits)

/** Requests a stopped vai answered under /api/, from its access log (one line per request). */
function answeredRequests(server: Running): number {
  return readFileSync(server.log, 'utf8').match(/^\S+ (GET|POST|DELETE|PATCH|PUT) \/api\//gm)?.length ?? 0
}

/** A database on the same server as `url`, by name. */
function databaseUrl(url: string, name: string): string {
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
async function pgStats(admin: SQL, reader: SQL, dbName: string): Promise<PgStats> {
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

function statsDelta(before: PgStats, after: PgStats): PgStats {
  const minus = (a: Map<string, number>, b: Map<string, number>) => new Map([...a].map(([k, v]) => [k, v - (b.get(k) ?? 0)]))
  return { statements: after.statements - before.statements, indexScans: minus(after.indexScans, before.indexScans), seqScans: minus(after.seqScans, before.seqScans) }
}

/**
 * A backend flushes its statistics at most once a second while busy, and the rest
 * only after 10 s idle or when it exits: counting waits for vai's connections to be
 * gone (a graceful stop closes its pool), then a moment for the exit's flush.
 */
async function waitForNoVaiBackends(admin: SQL, dbName: string) {
  for (const deadline = Date.now() + 15_000; ; await Bun.sleep(20)) {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${dbName} AND application_name = 'vai'`
    if (Number(row.n) === 0) break
    if (Date.now() > deadline) throw new Error(`vai's connections to ${dbName} are still open 15 s after it stopped`)
  }
  await Bun.sleep(250)
}

interface PgSeed {
  hot: Issued
  seconds: number
  bytes: number
}

/**
 * The same 1M tokens as the SQLite seed (bigUsers, bigTokens: the server's token
 * functions, so each one authenticates), bulk-inserted in one transaction, batches
 * of rows sent as one JSON parameter each and expanded by json_to_recordset. The
 * schema is the server's own: dist/vai migrates the empty database first. Then
 * VACUUM ANALYZE, as autovacuum would have left a database that old.
 */
async function seedPostgres(dbUrl: string): Promise<PgSeed> {
  await stop(await startVai(dbUrl), 'vai (migrating the PostgreSQL database)')
  const started = Bun.nanoseconds()
  const sql = new SQL({ url: dbUrl, max: 1 })
  try {
    const passwordHash = await hashPassword(PASSWORD)
    const now = Date.now()
    let hot: Issued | undefined
    await sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = off`
      const users = bigUsers(now)
      const userRows = users.map((u) => ({ id: u.id, email: u.email, name: u.name, created_at: u.createdAt }))
      await tx`
        INSERT INTO users (id, email, name, password_hash, created_at)
        SELECT id, email, convert_to(name, 'UTF8'), ${passwordHash}, created_at
        FROM json_to_recordset(${JSON.stringify(userRows)}::text::json) AS v(id text, email text, name text, created_at bigint)`
      let batch: unknown[] = []
      const insert = async () => {
        if (batch.length === 0) return
        await tx`
          INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at, last_used_at, revoked_at)
          SELECT id, user_id, convert_to(name, 'UTF8'), token_type, token_prefix, decode(digest, 'hex'), created_at, expires_at, NULL, revoked_at
          FROM json_to_recordset(${JSON.stringify(batch)}::text::json)
            AS v(id text, user_id text, name text, token_type text, token_prefix text, digest text, created_at bigint, expires_at bigint, revoked_at bigint)`
        batch = []
      }
      for (const t of bigTokens(now, users)) {
        batch.push({
          id: t.id,
          user_id: t.userId,
          name: t.name,
          token_type: t.tokenType,
          token_prefix: t.tokenPrefix,
          digest: Buffer.from(t.digest).toString('hex'),
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          revoked_at: t.revokedAt,
        })
        if (t.hotCandidate) hot = { plaintext: t.plaintext, token: { id: t.id } } // the newest one wins
        if (batch.length === PG_SEED_BATCH) await insert()
      }
      await insert()
    })
    await sql.unsafe('VACUUM (ANALYZE) users, tokens')
    // Not to have a checkpoint of the seed's pages land in a measured run; needs the right, so best effort.
    await sql.unsafe('CHECKPOINT').catch(() => {})
    const [size] = await sql`SELECT pg_database_size(current_database())::int8 AS bytes`
    if (!hot) throw new Error('the PostgreSQL seed made no usable token')
    return { hot, seconds: (Bun.nanoseconds() - started) / 1e9, bytes: Number(size.bytes) }
  } finally {
    await sql.close()
  }
}

interface PgResult {
  md: string
  seconds: number
  checks: Check[]
}

interface BenchContext {
  tmp: string
  log: (line: string) => void
  wallStart: number
  binaryBytes: number
}

/** A row of the SQLite part's scenario table, for the side-by-side table. */
function sqliteRow(sqliteMd: string, title: string, server: string) {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^\\| ${esc(title)} \\| ${esc(server)} \\| \\d+ \\| ([\\d,]+) \\| ([^|]+) \\| ([^|]+) \\| ([^|]+) \\|`, 'm').exec(sqliteMd)
  return match ? { rps: match[1]!, p50: match[2]!.trim(), p99: match[3]!.trim(), ratio: match[4]!.trim() } : undefined
}

/**
 * (a), (c) and (f) on PostgreSQL: a fresh database on the server `url` names, the
 * 1M seed, then one dist/vai and two dist/vai on that database, each interleaved
 * with the bare baseline as in the SQLite part; then a counting pass per scenario
 * and instance count for the SQL statements per request. Drops the database after.
 */
async function postgresBench(ctx: BenchContext, url: string, pool: number, sqliteMd: string, commandLine: string): Promise<PgResult> {
  const { tmp, log } = ctx
  const started = Bun.nanoseconds()
  // The tree dist/vai was just built from, before a long run gives it time to move.
  const commit = command(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = command(['git', '-C', ROOT, 'status', '--porcelain', '--', 'src']) !== ''
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

    const plan: PgScenario[] = [
      { key: 'a', title: '(a) GET token, Bearer', expectStatus: 200, request: getOwnToken(seed.hot, 'authorization') },
      { key: 'c', title: '(c) list, limit=50', expectStatus: 200, request: list(seed.hot) },
      {
        key: 'f',
        title: '(f) 401 storm, bad checksum',
        expectStatus: 401,
        request: { ...getOwnToken(seed.hot, 'authorization'), headers: { authorization: `Bearer ${badChecksumToken()}` } },
      },
    ]

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
      for (const server of ['baseline', 'vai-pg', 'vai-pg ×2'] as const) bodies.set(`${scenario.key}/${server}`, Buffer.byteLength(sample.body))
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
    const SHORT_SECONDS = WARMUP_SECONDS
    const LONG_SECONDS = WARMUP_SECONDS + SECONDS
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
    const summaries: PgSummary[] = []
    for (const scenario of plan) {
      const of = (server: PgServer) => runs.filter((r) => r.scenario === scenario.key && r.server === server)
      const baselineRps = mean(of('baseline').map((r) => r.rps))
      for (const server of ['baseline', 'vai-pg', 'vai-pg ×2'] as const) {
        const mine = of(server)
        const rps = mean(mine.map((r) => r.rps))
        summaries.push({
          scenario,
          server,
          rps,
          p50: mean(mine.map((r) => r.p50)),
          p99: mean(mine.map((r) => r.p99)),
          non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
          ratio: server === 'baseline' ? null : rps / baselineRps,
          bytes: bodies.get(`${scenario.key}/${server}`)!,
        })
      }
    }
    for (const s of summaries) {
      if (s.server === 'baseline') continue
      const requests = runs.filter((r) => r.scenario === s.scenario.key && r.server === s.server).reduce((n, r) => n + r.requests, 0)
      const expected = s.scenario.expectStatus < 300 ? 0 : requests
      if (s.non2xx !== expected) throw new Error(`${s.scenario.title} on ${s.server}: ${s.non2xx} non-2xx answers of ${requests}, expected ${expected}`)
    }
    const find = (key: string, server: PgServer) => summaries.find((s) => s.scenario.key === key && s.server === server)!
    const countOf = (key: string, server: PgServer) => counts.find((c) => c.scenario.key === key && c.server === server)!
    const qpr = (key: string, server: PgServer) => {
      const c = countOf(key, server)
      return perRequest(c, c.statements)
    }
    const seqOn = (c: PgCount, table: string) => c.seqScans.get(table) ?? 0
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
          measured: String(seqOn(countOf('a', server), 'tokens')),
          pass: seqOn(countOf('a', server), 'tokens') === 0,
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
    const m = machine(tmp)
    const version = settings.server_version!.setting
    const target = new URL(url)
    const md: string[] = []
    md.push('## PostgreSQL')
    md.push('')
    md.push(
      `Produced by \`${commandLine}\` (scripts/bench.ts) on ${new Date().toISOString()}; the PostgreSQL part took ${seconds.toFixed(0)} s ` +
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
    md.push(`Measured tree: commit ${commit}${dirty ? ', with uncommitted changes in src/' : ''}.`)
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
        `| ${c.scenario.title} | ${PG_VAI.find((v) => v.server === c.server)!.instances} | ${fmtInt(c.raw.short.requests)} / ${fmtInt(c.raw.short.statements)}; ${fmtInt(c.raw.long.requests)} / ${fmtInt(c.raw.long.statements)} | ${fmtInt(c.requests)} (${fmtInt(c.wrkRequests)}) | ${fmtInt(c.statements)} | ${fmtPer(perRequest(c, c.statements), 3)} | ${scans || 'none'} | ${seqOn(c, 'tokens')}, ${seqOn(c, 'users')} |`,
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
    md.push(`| tokens in the database after the runs (checked) | ${fmtInt(Number(tokenCount))} |`)
    md.push('')
    md.push('### Every run')
    md.push('')
    md.push('| scenario | round | server | req/s | p50 | p75 | p90 | p99 | requests | non-2xx | socket errors |')
    md.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of runs) {
      const title = plan.find((s) => s.key === r.scenario)!.title
      md.push(
        `| ${title} | ${r.round} | ${r.server} | ${fmtInt(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p75)} | ${fmtMs(r.p90)} | ${fmtMs(r.p99)} | ${fmtInt(r.requests)} | ${fmtInt(r.non2xx)} | ${r.socketErrors} |`,
      )
    }
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
    log(`PostgreSQL part done in ${seconds.toFixed(0)} s`)
    return { md: md.join('\n'), seconds, checks }
  } finally {
    for (const server of mine) {
      server.proc.kill('SIGKILL')
      await server.proc.exited
      running.delete(server.proc)
    }
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

// ---------------------------------------------------------------- command line

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

/** bench/results.md as its SQLite part and its PostgreSQL section. */
function splitResults(text: string): { sqlite: string; postgres?: string } {
  const start = text.indexOf(PG_START)
  const end = text.indexOf(PG_END)
  if (start === -1 || end === -1 || end < start) return { sqlite: text }
  return {
    sqlite: (text.slice(0, start).trimEnd() + '\n' + text.slice(end + PG_END.length).replace(/^\s+/, '')).trimEnd() + '\n',
    postgres: text.slice(start + PG_START.length, end).trim(),
  }
}

// ---------------------------------------------------------------- main

/** The SQLite part: everything but PostgreSQL, as the benchmark has always run. */
async function sqliteBench({ tmp, log, wallStart, binaryBytes }: BenchContext): Promise<{ md: string; svg: string; checks: Check[]; seconds: number }> {
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

  log('starting the floors (scripts/bench-floor.ts) on the almost empty database: plain, and cached against PRAGMA data_version')
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
  const summaries: Summary[] = []
  for (const scenario of plan) {
    const of = (server: ServerName) => runs.filter((r) => r.scenario === scenario.key && r.server === server)
    const baselineRps = mean(of('baseline').map((r) => r.rps))
    for (const server of SERVER_ORDER) {
      const mine = of(server)
      if (mine.length === 0) continue
      const rps = mean(mine.map((r) => r.rps))
      const requests = mine.reduce((n, r) => n + r.requests, 0)
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
        cpuPerRequest: mine.reduce((n, r) => n + r.serverCpuUs, 0) / requests,
        wrkCpuPerRequest: mine.reduce((n, r) => n + r.clientCpuUs, 0) / requests,
        steps: stepsPerRequest(mine),
      })
    }
  }
  const find = (key: string, server: ServerName) => summaries.find((s) => s.scenario.key === key && s.server === server)!
  // Status sanity: a scenario that expects 2xx must get only 2xx, the 401 storm only 401s.
  for (const s of summaries) {
    if (s.server === 'baseline') continue
    const requests = runs.filter((r) => r.scenario === s.scenario.key && r.server === s.server).reduce((n, r) => n + r.requests, 0)
    const expected = s.scenario.expectStatus < 300 ? 0 : requests
    if (s.non2xx !== expected) throw new Error(`${s.scenario.title} on ${s.server}: ${s.non2xx} non-2xx answers of ${requests}, expected ${expected}`)
  }

  const a = find('a', 'vai')
  const f = find('f', 'vai')
  const c = find('c', 'vai')
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

  const wallSeconds = (Bun.nanoseconds() - wallStart) / 1e9
  const m = machine(tmp)
  const md: string[] = []
  md.push('# vai benchmark')
  md.push('')
  md.push(`Produced by \`${commandLine()}\` (scripts/bench.ts) on ${new Date().toISOString()}; the whole run took ${wallSeconds.toFixed(0)} s.`)
  md.push('')
  md.push(
    `Machine: ${m.cpus} CPUs (${m.model}), ${m.memory} RAM, ${m.kernel}, Bun ${m.bun}, ${m.wrk}; databases on ${m.filesystem}. ` +
      `wrk shares the machine with the servers: ${THREADS} threads, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds per server, loopback only.`,
  )
  md.push('')
  const commit = command(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = command(['git', '-C', ROOT, 'status', '--porcelain', '--', 'src']) !== ''
  md.push(`Measured tree: commit ${commit}${dirty ? ', with uncommitted changes in src/' : ''}.`)
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
  const ceilingRuns = runs.filter((r) => ['a', 'c', 'f'].includes(r.scenario))
  const otherLoad = mean(ceilingRuns.map((r) => r.otherCpuUs / (SECONDS * 1e6)))
  md.push(...ceilingSection({ a, aFloor, aCached, c, cFloor, f, fFloor, baseline: (key) => find(key, 'baseline'), profile: floorProfile, otherLoad }))
  md.push('## Scenarios')
  md.push('')
  md.push(
    'Each figure is the mean of the rounds. *baseline* is a bare `Bun.serve` (scripts/bench-baseline.ts, its own process) answering ' +
      "every request with the status, headers and body vai sent for the scenario's request; *vai* is dist/vai on the almost empty database " +
      `(one user, one session, 60 API tokens made through the API); *vai-1M* is dist/vai on ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users; ` +
      '*floor* and *floor-cached* (for (a), (c) and (f) only) are the handlers with no framework of the Ceiling section, on the almost empty database. ' +
      'CPU per request: the server process\'s user + system time over its runs (/proc/PID/stat), and wrk\'s, divided by the requests wrk counted.',
  )
  md.push('')
  md.push('| scenario | server | response bytes | req/s | p50 | p99 | ÷ baseline | 1M/empty | server CPU µs/request | wrk CPU µs/request |')
  md.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const s of summaries) {
    const vsEmpty = s.server === 'vai-1M' ? (s.rps / find(s.scenario.key, 'vai').rps).toFixed(2) : '—'
    md.push(
      `| ${s.scenario.title} | ${s.server} | ${s.bytes} | ${fmtInt(s.rps)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtRatio(s.ratio)} | ${vsEmpty} | ${fmtCpu(s.cpuPerRequest)} | ${fmtCpu(s.wrkCpuPerRequest)} |`,
    )
  }
  md.push('')
  md.push('## Other figures')
  md.push('')
  md.push('| measure | value |')
  md.push('|---|---|')
  md.push(`| binary size (dist/vai) | ${fmtMb(binaryBytes)} (${fmtInt(binaryBytes)} bytes) |`)
  md.push(`| start-up, exec to first 200 on /healthz, new database file (median of 10) | ${fmtMs(startupMedian)} (${startupNew.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| start-up, migrated almost empty database (median of 10) | ${fmtMs(median(startupExisting))} (${startupExisting.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| start-up, 1M-token database (median of 10) | ${fmtMs(median(startupBig))} (${startupBig.map((t) => t.toFixed(0)).join(', ')} ms) |`)
  md.push(`| peak RSS (VmHWM), vai on the almost empty database, after all its scenarios | ${fmtMb(rssSmall)} |`)
  md.push(`| peak RSS (VmHWM), vai on the 1M-token database, after (a) and (c) | ${fmtMb(rssBig)} |`)
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
  md.push('| scenario | round | server | req/s | p50 | p75 | p90 | p99 | requests | non-2xx | socket errors | server CPU µs/request | wrk CPU µs/request | other load (CPUs) |')
  md.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of runs) {
    const title = plan.find((s) => s.key === r.scenario)!.title
    md.push(
      `| ${title} | ${r.round} | ${r.server} | ${fmtInt(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p75)} | ${fmtMs(r.p90)} | ${fmtMs(r.p99)} | ${fmtInt(r.requests)} | ${fmtInt(r.non2xx)} | ${r.socketErrors} | ${fmtCpu(r.serverCpuUs / r.requests)} | ${fmtCpu(r.clientCpuUs / r.requests)} | ${(r.otherCpuUs / (SECONDS * 1e6)).toFixed(2)} |`,
    )
  }
  md.push('')
  md.push('## Method')
  md.push('')
  md.push(
    [
      '- Every run is `wrk -t' + THREADS + ' -c' + CONNECTIONS + ' -d' + SECONDS + 's --latency -s scripts/bench-wrk.lua` against 127.0.0.1, after a ' +
        `${WARMUP_SECONDS} s warm-up per server and scenario; rounds alternate the order of the servers.`,
      '- The baseline gets the same request bytes as vai and answers with the bytes vai answered (captured with one request just before), so the two differ only by what vai does per request.',
      "- The almost empty database is seeded through the API. The 1M database is migrated by starting dist/vai on an empty file, then filled with bun:sqlite in one transaction using the server's column layout and its token functions (generateToken, tokenDigest, tokenPrefix): tokens made over a year, round-robin over the users, 10% sessions (one-year expiry), 2% revoked (within the last 60 days, so that vai's start-up retention purge deletes nothing; the count is checked after the runs), last_used_at left empty as on the almost empty database so that both serve pages of the same shape.",
      '- Writes caused by (a): a separate dist/vai on a copy of the almost empty database serves (a) on one token; a second SQLite connection stays open (so the stopping server leaves its WAL in place) and the WAL\'s commit frames are counted before the load, after it, and after SIGTERM, along with the rows whose last_used_at changed.',
      "- vai's stdout (its access log, one line per request) goes to a file, as under systemd or Docker it goes to a collector; the bench process does not read it during the runs.",
      '- Start-up: exec of dist/vai on a free port, then GET /healthz every millisecond until a 200.',
      '- Peak RSS: VmHWM from /proc/PID/status of each vai process, read after its last run.',
      '- Floors: scripts/bench-floor.ts, started once (plain and cached) on the almost empty database while vai serves it, each its own `bun` process like the baseline; ' +
        "each floor's answer to the scenario's request is compared with vai's before the runs (status, headers but x-request-id, JSON keys and value types, size within 4 bytes) and the bench stops if they differ. " +
        'The floor copies the store\'s SQL and checks at start that src/store/sqlite.ts still has that text.',
      `- CPU: utime + stime of the server process from /proc/PID/stat (all its threads; ${clockTicks ?? 100} ticks a second) just before and after each run; wrk's from its resource usage at exit.`,
    ].join('\n'),
  )
  md.push('')

  const targets = new Map(plan.filter((s) => s.target !== undefined).map((s) => [s.key, s.target!]))
  const chartRows = summaries.filter((s) => s.server === 'vai' || s.server === 'vai-1M')
  const floorMarks = new Map<string, { server: FloorName; ratio: number }[]>()
  for (const s of summaries) {
    if (s.server === 'floor' || s.server === 'floor-cached') floorMarks.set(s.scenario.key, [...(floorMarks.get(s.scenario.key) ?? []), { server: s.server, ratio: s.ratio! }])
  }
  return { md: md.join('\n'), svg: svgChart(chartRows, targets, floorMarks), checks, seconds: wallSeconds }
}

async function main() {
  const options = parseOptions(process.argv.slice(2))
  checkWrk()
  const wallStart = Bun.nanoseconds()
  const tmp = mkdtempSync(join(tmpdir(), 'vai-bench-'))
  logDir = tmp
  const log = (line: string) => console.log(`[${((Bun.nanoseconds() - wallStart) / 1e9).toFixed(1).padStart(6)} s] ${line}`)
  try {
    log('building dist/vai')
    const build = Bun.spawnSync(['bun', 'run', 'build'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`)
    const ctx: BenchContext = { tmp, log, wallStart, binaryBytes: statSync(VAI).size }

    const resultsPath = join(OUT_DIR, 'results.md')
    const previous = existsSync(resultsPath) ? splitResults(readFileSync(resultsPath, 'utf8')) : { sqlite: '' }
    const sqlite = options.sqlite ? await sqliteBench(ctx) : undefined
    const sqliteMd = sqlite?.md ?? previous.sqlite
    const postgres = options.postgres ? await postgresBench(ctx, options.postgres, options.pool, sqliteMd, commandLine()) : undefined
    // The SQLite part, then the PostgreSQL section: this run's, or the last one's, kept as it was.
    const postgresMd = postgres?.md ?? previous.postgres
    const text = postgresMd === undefined ? sqliteMd : `${sqliteMd.trimEnd()}\n\n${PG_START}\n${postgresMd.trimEnd()}\n${PG_END}\n`
    await Bun.write(resultsPath, text)
    if (sqlite) await Bun.write(join(OUT_DIR, 'ratios.svg'), sqlite.svg)
    const wallSeconds = (Bun.nanoseconds() - wallStart) / 1e9
    log(`wrote bench/results.md${sqlite ? ' and bench/ratios.svg' : ''} (${wallSeconds.toFixed(0)} s in all)`)
    for (const check of [...(sqlite?.checks ?? []), ...(postgres?.checks ?? [])]) {
      console.log(`  ${check.pass ? 'pass' : 'FAIL'}  ${check.measure}: ${check.measured} (target ${check.target})`)
    }
  } finally {
    for (const proc of running) proc.kill('SIGKILL')
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
