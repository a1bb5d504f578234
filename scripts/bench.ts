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
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { hashPassword } from '../src/auth/password'
import { generateToken, tokenDigest, tokenPrefix } from '../src/auth/token-format'

const ROOT = resolve(import.meta.dir, '..')
const VAI = join(ROOT, 'dist/vai')
const BASELINE = join(ROOT, 'scripts/bench-baseline.ts')
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
async function startVai(db: string): Promise<Running> {
  const server = await startServer([VAI, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db], /listening on (http:\/\/\S+)/, `vai on ${db}`)
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(5)) {
    const status = await fetch(`${server.url}/healthz`).then((r) => r.status, () => 0)
    if (status === 200) return server
  }
  throw new Error(`vai on ${db} never answered /healthz`)
}

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
}

function checkWrk() {
  if (Bun.which('wrk')) return
  console.error('bench: wrk is not installed. Install it with:  apt-get install wrk   (Debian/Ubuntu)')
  process.exit(1)
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

function parseWrk(text: string): WrkResult {
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

async function wrk(baseUrl: string, request: Request, seconds: number): Promise<WrkResult> {
  const cmd = ['wrk', `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', WRK_SCRIPT]
  for (const [name, value] of Object.entries(request.headers)) cmd.push('-H', `${name}: ${value}`)
  cmd.push(baseUrl + request.path)
  const proc = Bun.spawn(cmd, {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, VAI_BENCH_METHOD: request.method, VAI_BENCH_BODY: request.body ?? '' },
  })
  const [text, errors, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`wrk failed (${code}): ${errors}${text}`)
  return parseWrk(text)
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
  const firstDay = now - 400 * DAY_MS
  const userIds: string[] = []
  const listedUser = Math.floor(BIG_USERS / 2)
  let hot: Issued | undefined
  db.transaction(() => {
    for (let u = 0; u < BIG_USERS; u++) {
      const createdAt = firstDay + u * 1000
      const id = Bun.randomUUIDv7('hex', createdAt)
      userIds.push(id)
      insertUser.run(id, `user${u}@bench.example`, `Bench user ${u}`, passwordHash, createdAt)
    }
    // Over the last 365 days, round-robin over the users: each ends with BIG_TOKENS / BIG_USERS.
    const step = (365 * DAY_MS) / BIG_TOKENS
    for (let k = 0; k < BIG_TOKENS; k++) {
      const user = k % BIG_USERS
      const nth = Math.floor(k / BIG_USERS) // this token's rank among its owner's
      const createdAt = Math.floor(now - 365 * DAY_MS + k * step)
      const session = nth % 10 === 3
      const revoked = nth % 50 === 7
      const plaintext = generateToken()
      const id = Bun.randomUUIDv7('hex', createdAt)
      insertToken.run(
        id,
        userIds[user]!,
        session ? 'Firefox on Linux' : `deploy key ${nth}`,
        session ? 'session' : 'api',
        tokenPrefix(plaintext),
        tokenDigest(plaintext),
        createdAt,
        // Nothing old enough for vai's retention purge (revoked or expired > 90 days ago), which
        // runs at start-up: the file keeps exactly BIG_TOKENS tokens for every run.
        session ? createdAt + 365 * DAY_MS : null,
        null, // as on the almost empty database, so (c) compares pages of the same shape
        revoked ? Math.max(createdAt, now - 60 * DAY_MS) : null,
      )
      if (user === listedUser && !session && !revoked) hot = { plaintext, token: { id } } // the newest one wins
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

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// ---------------------------------------------------------------- scenarios

type ServerName = 'baseline' | 'vai' | 'vai-1M'

interface Scenario {
  key: string
  title: string
  chart: string // the bar's label, under the scenario letter
  expectStatus: number
  /** The request per vai server; the baseline gets the vai one, byte for byte. */
  requests: Partial<Record<'vai' | 'vai-1M', Request>>
  target?: number // vai/baseline ratio the issue asks for
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
    { key: 'a', title: '(a) GET token, Bearer', chart: 'Bearer', expectStatus: 200, requests: { vai: getOwnToken(hot!, 'authorization'), 'vai-1M': getOwnToken(big.hot, 'authorization') }, target: 0.75 },
    { key: 'b-key', title: '(b) GET token, X-API-Key', chart: 'X-API-Key', expectStatus: 200, requests: { vai: getOwnToken(apiKey!, 'x-api-key') } },
    { key: 'b-cookie', title: '(b) GET token, cookie', chart: 'cookie', expectStatus: 200, requests: { vai: getOwnToken(small.session, 'cookie') } },
    { key: 'c', title: '(c) list, limit=50', chart: 'list 50', expectStatus: 200, requests: { vai: list(lister!), 'vai-1M': list(big.hot) }, target: 0.4 },
    { key: 'e', title: '(e) GET /auth/me', chart: '/auth/me', expectStatus: 200, requests: { vai: { method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${me!.plaintext}` } } } },
    {
      key: 'f',
      title: '(f) 401 storm, bad checksum',
      chart: '401 storm',
      expectStatus: 401,
      requests: { vai: { ...getOwnToken(hot!, 'authorization'), headers: { authorization: `Bearer ${badChecksumToken()}` } } },
      target: 0.9,
    },
    // Last: every request adds a token to the almost empty database.
    { key: 'd', title: '(d) POST token', chart: 'POST', expectStatus: 201, requests: { vai: jsonPost('/api/v1/access-tokens', { name: 'bench minted' }, { authorization: `Bearer ${minter!.plaintext}` }) } },
  ]
}

interface Run extends WrkResult {
  scenario: string
  server: ServerName
  round: number
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
}

// ---------------------------------------------------------------- report

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`)
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
}

function svgChart(summaries: Summary[], targets: Map<string, number>): string {
  const bars = summaries.filter((s) => s.ratio !== null)
  const width = 760
  const height = 340
  const left = 60
  const top = 40
  const bottom = 70
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
    out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(y(bar.ratio!) - 5).toFixed(1)}" text-anchor="middle" font-weight="600">${bar.ratio!.toFixed(2)}</text>`)
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
    `<text x="${width - 20}" y="${height - 8}" text-anchor="end" font-size="10" fill="#555">bars: vai req/s ÷ baseline req/s; dashed black: the issue's target (green: met, red: missed, grey: none)</text>`,
  )
  out.push('</svg>')
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------- main

async function main() {
  checkWrk()
  const wallStart = Bun.nanoseconds()
  const tmp = mkdtempSync(join(tmpdir(), 'vai-bench-'))
  logDir = tmp
  const log = (line: string) => console.log(`[${((Bun.nanoseconds() - wallStart) / 1e9).toFixed(1).padStart(6)} s] ${line}`)
  const servers: Partial<Record<ServerName, Running>> = {}
  try {
    log('building dist/vai')
    const build = Bun.spawnSync(['bun', 'run', 'build'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`)
    const binaryBytes = statSync(VAI).size

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
      const targets: [ServerName, string, Request][] = [['baseline', baseline.url, scenario.requests.vai!]]
      for (const name of ['vai', 'vai-1M'] as const) {
        const request = scenario.requests[name]
        if (request) targets.push([name, servers[name]!.url, request])
      }
      log(`${scenario.title}: warm-up, then ${ROUNDS} rounds of ${targets.map(([n]) => n).join(' / ')} × ${SECONDS} s`)
      for (const [, url, request] of targets) await wrk(url, request, WARMUP_SECONDS)
      for (let round = 1; round <= ROUNDS; round++) {
        // Alternate the order so that neither side always runs first.
        const order = round % 2 === 1 ? targets : [...targets].reverse()
        for (const [name, url, request] of order) {
          const result = await wrk(url, request, SECONDS)
          runs.push({ ...result, scenario: scenario.key, server: name, round })
          log(`  round ${round} ${name.padEnd(8)} ${fmtInt(result.rps).padStart(7)} req/s  p50 ${fmtMs(result.p50)}  p99 ${fmtMs(result.p99)}`)
        }
      }
      await stop(baseline, 'baseline')
      delete servers.baseline
    }

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

    // ------------------------------------------------------------ summarise
    const summaries: Summary[] = []
    for (const scenario of plan) {
      const of = (server: ServerName) => runs.filter((r) => r.scenario === scenario.key && r.server === server)
      const baselineRps = mean(of('baseline').map((r) => r.rps))
      for (const server of ['baseline', 'vai', 'vai-1M'] as const) {
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
    const writesTotal = writes.commitsDuringLoad + writes.commitsAtShutdown
    const allowedWrites = Math.max(1, Math.ceil(writes.seconds / 60))
    const startupMedian = median(startupNew)
    const checks: Check[] = [
      { measure: 'hot path (a) throughput vs baseline', target: '≥ 0.75', measured: fmtRatio(a.ratio), pass: a.ratio! >= 0.75 },
      { measure: '401 storm (f) throughput vs baseline', target: '≥ 0.90', measured: fmtRatio(f.ratio), pass: f.ratio! >= 0.9 },
      { measure: '401 storm (f) cheaper than (a)', target: '(f) req/s > (a) req/s', measured: `${fmtInt(f.rps)} vs ${fmtInt(a.rps)}`, pass: f.rps > a.rps },
      { measure: 'list (c) throughput vs its baseline', target: '≥ 0.40', measured: fmtRatio(c.ratio), pass: c.ratio! >= 0.4 },
      { measure: `p99 latency of (a) at ${CONNECTIONS} connections`, target: '≤ 5 ms', measured: fmtMs(a.p99), pass: a.p99 <= 5 },
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
    const overrides = Object.entries(process.env)
      .filter(([k]) => k.startsWith('VAI_BENCH_'))
      .map(([k, v]) => `${k}=${v} `)
      .join('')
    const md: string[] = []
    md.push('# vai benchmark')
    md.push('')
    md.push(`Produced by \`${overrides}bun run bench\` (scripts/bench.ts) on ${new Date().toISOString()}; the whole run took ${wallSeconds.toFixed(0)} s.`)
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
    md.push('| measure | target | measured | result |')
    md.push('|---|---|---|---|')
    for (const check of checks) md.push(`| ${check.measure} | ${check.target} | ${check.measured} | ${check.pass ? 'pass' : '**FAIL**'} |`)
    md.push('')
    md.push('## Scenarios')
    md.push('')
    md.push(
      'Each figure is the mean of the rounds. *baseline* is a bare `Bun.serve` (scripts/bench-baseline.ts, its own process) answering ' +
        "every request with the status, headers and body vai sent for the scenario's request; *vai* is dist/vai on the almost empty database " +
        `(one user, one session, 60 API tokens made through the API); *vai-1M* is dist/vai on ${fmtInt(BIG_TOKENS)} tokens over ${fmtInt(BIG_USERS)} users.`,
    )
    md.push('')
    md.push('| scenario | server | response bytes | req/s | p50 | p99 | vai/baseline | 1M/empty |')
    md.push('|---|---|---:|---:|---:|---:|---:|---:|')
    for (const s of summaries) {
      const vsEmpty = s.server === 'vai-1M' ? (s.rps / find(s.scenario.key, 'vai').rps).toFixed(2) : '—'
      md.push(`| ${s.scenario.title} | ${s.server} | ${s.bytes} | ${fmtInt(s.rps)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtRatio(s.ratio)} | ${vsEmpty} |`)
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
    md.push('| scenario | round | server | req/s | p50 | p75 | p90 | p99 | requests | non-2xx | socket errors |')
    md.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of runs) {
      const title = plan.find((s) => s.key === r.scenario)!.title
      md.push(
        `| ${title} | ${r.round} | ${r.server} | ${fmtInt(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p75)} | ${fmtMs(r.p90)} | ${fmtMs(r.p99)} | ${fmtInt(r.requests)} | ${fmtInt(r.non2xx)} | ${r.socketErrors} |`,
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
      ].join('\n'),
    )
    md.push('')

    const targets = new Map(plan.filter((s) => s.target !== undefined).map((s) => [s.key, s.target!]))
    const chartRows = summaries.filter((s) => s.server !== 'baseline')
    await Bun.write(join(OUT_DIR, 'results.md'), md.join('\n'))
    await Bun.write(join(OUT_DIR, 'ratios.svg'), svgChart(chartRows, targets))
    log(`wrote bench/results.md and bench/ratios.svg (${wallSeconds.toFixed(0)} s in all)`)
    for (const check of checks) console.log(`  ${check.pass ? 'pass' : 'FAIL'}  ${check.measure}: ${check.measured} (target ${check.target})`)
  } finally {
    for (const proc of running) proc.kill('SIGKILL')
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
