// wrk, the load generator, as a separate process: one run against one server, or one
// wrk per server at once, and what its output says (req/s, latency percentiles,
// counts), with its own CPU time. wrk.lua sets each scenario's method and body.
import { CONNECTIONS, THREADS, WRK_SCRIPT } from './settings'

export interface Request {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
  /** Each request from another client address (X-Forwarded-For): for a route limited per address. */
  varyClient?: boolean
}

export interface WrkResult {
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

export function checkWrk() {
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

export async function wrk(baseUrl: string, request: Request, seconds: number, { threads = THREADS, connections = CONNECTIONS } = {}): Promise<WrkResult> {
  const cmd = ['wrk', `-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', WRK_SCRIPT]
  for (const [name, value] of Object.entries(request.headers)) cmd.push('-H', `${name}: ${value}`)
  cmd.push(baseUrl + request.path)
  const proc = Bun.spawn(cmd, {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, VAI_BENCH_METHOD: request.method, VAI_BENCH_BODY: request.body ?? '', VAI_BENCH_VARY_CLIENT: request.varyClient ? '1' : '' },
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
export async function wrkMany(baseUrls: string[], request: Request, seconds: number): Promise<WrkResult> {
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
