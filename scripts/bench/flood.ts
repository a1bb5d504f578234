// Hostile-load figures for the hardening issue: how much a flood of cheap attacks hurts
// everyone else's requests. Each scenario starts a fresh vai binary, measures a victim's
// latency quiet, then under the attack, and prints both; run it for two binaries (before
// and after a change) in one go so that the machine's noise hits both alike.
//
//   bun scripts/bench/flood.ts --vai OLD/dist/vai --vai dist/vai [--only body,signup,metrics] [--seconds 4] [--out FILE]
//
// The figures of record are in bench/flood.md. The victim and the attackers share this one
// client process; the attackers only wait on I/O, so the victim's timings are the server's.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { vai: { type: 'string', multiple: true }, out: { type: 'string' }, seconds: { type: 'string' }, only: { type: 'string' } },
})
// Absolute: each server runs in a temporary folder of its own, where `dist/vai` names nothing.
const binaries = (values.vai ?? ['dist/vai']).map((path) => resolve(path))
const SECONDS = Number(values.seconds ?? 4)
const PASSWORD = 'flood-password-1'

interface Running { url: string; proc: Bun.Subprocess; dir: string }

async function start(vai: string, args: string[], dir = mkdtempSync(join(tmpdir(), 'vai-flood-'))): Promise<Running> {
  const proc = Bun.spawn([vai, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', join(dir, 'vai.db'), ...args], {
    cwd: dir, stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '' },
  })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`vai did not start: ${text} ${await new Response(proc.stderr).text()}`)
    text += new TextDecoder().decode(value)
  }
  // Keep draining stdout (the access log) so the pipe never fills.
  void (async () => { while (!(await reader.read()).done); })()
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!.replace('0.0.0.0', '127.0.0.1')
  return { url, proc, dir }
}

async function stop(server: Running) {
  server.proc.kill('SIGTERM')
  await server.proc.exited
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

async function account(url: string): Promise<string> {
  const email = 'victim@example.com'
  const signup = await fetch(`${url}/api/v1/auth/signup`, json({ email, password: PASSWORD }))
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`)
  const login = await fetch(`${url}/api/v1/auth/login`, json({ email, password: PASSWORD }))
  return ((await login.json()) as { plaintext: string }).plaintext
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** `loops` sequential requesters for `seconds`; latencies in ms. */
async function victim(send: () => Promise<Response>, seconds: number, loops = 2): Promise<{ p50: number; p90: number; p99: number; n: number }> {
  const times: number[] = []
  const until = performance.now() + seconds * 1000
  await Promise.all(Array.from({ length: loops }, async () => {
    while (performance.now() < until) {
      const t0 = performance.now()
      const response = await send()
      await response.arrayBuffer()
      times.push(performance.now() - t0)
    }
  }))
  times.sort((a, b) => a - b)
  const round = (ms: number) => Math.round(ms * 100) / 100
  return { p50: round(percentile(times, 50)), p90: round(percentile(times, 90)), p99: round(percentile(times, 99)), n: times.length }
}

/** Keeps `parallel` attackers busy until `stopped()`; returns how many requests they made and their statuses. */
function attack(parallel: number, send: () => Promise<Response>) {
  let running = true
  const statuses = new Map<number, number>()
  const done = Promise.all(Array.from({ length: parallel }, async () => {
    while (running) {
      try {
        const response = await send()
        await response.arrayBuffer()
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1)
      }
    }
  }))
  return async () => {
    running = false
    await done
    return Object.fromEntries(statuses)
  }
}

type Row = { binary: string; scenario: string; quiet: string; flooded: string; attack: string }

async function bodyFlood(vai: string): Promise<Row> {
  const server = await start(vai, [])
  const token = await account(server.url)
  const me = () => fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })
  const quiet = await victim(me, SECONDS)
  const brackets = '['.repeat(1024 * 1024 - 1)
  const stopAttack = attack(4, () => fetch(`${server.url}/api/v1/access-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: brackets }))
  const flooded = await victim(me, SECONDS)
  const statuses = await stopAttack()
  await stop(server)
  return { binary: vai, scenario: '(4) unauthenticated 1 MiB `[` bodies, 4 connections; victim GET /auth/me', quiet: `p50 ${quiet.p50} p99 ${quiet.p99} ms`, flooded: `p50 ${flooded.p50} p99 ${flooded.p99} ms`, attack: JSON.stringify(statuses) }
}

async function signupFlood(vai: string): Promise<Row> {
  const server = await start(vai, [])
  await account(server.url)
  // The victim logs in from another loopback address, so that a per-client limit on the attacker is not the victim's.
  const login = () => {
    const t0 = performance.now()
    const curl = Bun.spawnSync(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.2', '-H', 'content-type: application/json',
      '-d', JSON.stringify({ email: 'victim@example.com', password: PASSWORD }), `${server.url}/api/v1/auth/login`])
    return { ms: performance.now() - t0, status: curl.stdout.toString() }
  }
  const logins = (n: number) => Array.from({ length: n }, login)
  const summary = (runs: { ms: number; status: string }[]) => {
    const ms = runs.map((r) => r.ms).sort((a, b) => a - b)
    return `median ${Math.round(percentile(ms, 50))} max ${Math.round(ms.at(-1)!)} ms (${[...new Set(runs.map((r) => r.status))].join(',')})`
  }
  const quiet = logins(5)
  const body = JSON.stringify({ email: 'stranger@example.com', password: 'stranger-password' })
  const stopAttack = attack(60, () => fetch(`${server.url}/api/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }))
  await Bun.sleep(300)
  const flooded = logins(5)
  const statuses = await stopAttack()
  await stop(server)
  return { binary: vai, scenario: '(3) 60 concurrent closed signups from one address; victim logs in from another', quiet: summary(quiet), flooded: summary(flooded), attack: JSON.stringify(statuses) }
}

async function metricsScrape(vai: string, tokens: number): Promise<Row> {
  const server = await start(vai, ['--metrics'])
  const token = await account(server.url)
  // Many tokens, made through the API's own create route in parallel batches.
  const create = () => fetch(`${server.url}/api/v1/access-tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"name":"bulk"}' })
  const made = await seedTokens(tokens, create)
  const me = () => fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })
  const scrape0 = performance.now()
  await (await fetch(`${server.url}/metrics`)).text()
  const scrapeMs = Math.round(performance.now() - scrape0)
  const quiet = await victim(me, SECONDS)
  const stopAttack = attack(4, () => fetch(`${server.url}/metrics`))
  const flooded = await victim(me, SECONDS)
  const statuses = await stopAttack()
  await stop(server)
  return { binary: vai, scenario: `(9) 4 scrapers on /metrics, ${made} tokens (one scrape: ${scrapeMs} ms); victim GET /auth/me`, quiet: `p90 ${quiet.p90} p99 ${quiet.p99} ms`, flooded: `p90 ${flooded.p90} p99 ${flooded.p99} ms`, attack: JSON.stringify(statuses) }
}

async function seedTokens(n: number, create: () => Promise<Response>): Promise<number> {
  let made = 0
  while (made < n) {
    const batch = await Promise.all(Array.from({ length: Math.min(64, n - made) }, create))
    for (const response of batch) if (response.status === 201) made++
      else throw new Error(`seeding: ${response.status} ${await response.text()}`)
  }
  return made
}

const METRIC_TOKENS = Number(process.env.VAI_FLOOD_TOKENS ?? 20_000)
const SCENARIOS: Record<string, (vai: string) => Promise<Row>> = {
  body: bodyFlood,
  signup: signupFlood,
  metrics: (vai) => metricsScrape(vai, METRIC_TOKENS),
}
const chosen = values.only ? values.only.split(',') : Object.keys(SCENARIOS)
const rows: Row[] = []
for (const name of chosen) {
  const scenario = SCENARIOS[name]
  if (!scenario) throw new Error(`unknown scenario ${name}: choose from ${Object.keys(SCENARIOS).join(', ')}`)
  for (const vai of binaries) {
    const row = await scenario(vai)
    console.log(JSON.stringify(row))
    rows.push(row)
  }
}
const table = ['| binary | scenario | quiet | under attack | attack statuses |', '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.binary} | ${r.scenario} | ${r.quiet} | ${r.flooded} | ${r.attack} |`)].join('\n')
console.log(table)
if (values.out) await Bun.write(values.out, `${table}\n`)
