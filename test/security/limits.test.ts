// Limits that hold over a real socket, against the compiled binary: a login flood leaves
// the hot path its throughput, slow and idle clients are cut off, an oversized head gets
// a clean 431. (Bodies over 1 MiB → 413: test/http/protocol.test.ts, "request bodies".)
import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import net from 'node:net'
import { availableParallelism } from 'node:os'
import { verifyPassword } from '../../src/auth/password'
import { binaryInEmptyDir, killServers, startServer, type Server } from '../support/binary'
import { makeApp, PASSWORD } from '../support/app'

let server: Server
let port: number
let bearer: string
let slow: { bodyNeverSent: Promise<Exchange>; idleKeepAlive: Promise<Exchange>; heads: Promise<Exchange[]> }

beforeAll(async () => {
  const { dir, vai } = binaryInEmptyDir()
  server = await startServer(dir, vai, ['--port', '0', '--host', '127.0.0.1', '--db', 'vai.db', '--idle-timeout', '1'])
  port = Number(new URL(server.url).port)
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  expect((await post('/api/v1/auth/signup', { email: 'ada@example.com', password: PASSWORD })).status).toBe(201)
  bearer = ((await (await post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).json()) as { plaintext: string }).plaintext
  const head = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`)]
  slow = {
    bodyNeverSent: exchange(['POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{']),
    idleKeepAlive: exchange(['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n']),
    heads: Promise.all(Array.from({ length: 50 }, () => exchange(head, { gapMs: 500, giveUpMs: 25_000 }))),
  }
}, 30_000)

afterAll(() => killServers())

interface Exchange {
  /** The whole response as text, '' when the server closed without answering. */
  text: string
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number
}

/**
 * Opens a TCP connection (from `localAddress` if given), writes `chunks` with `gapMs`
 * between them, and waits for the server to close it, or with `oneResponse` only until
 * a whole response has come.
 */
function exchange(
  chunks: string[],
  options: { gapMs?: number; localAddress?: string; giveUpMs?: number; oneResponse?: boolean } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress })
    let text = ''
    let open = true
    const done = () => {
      if (!open) return
      open = false
      clearTimeout(giveUp)
      resolve({ text, closedAfterMs: performance.now() - started })
    }
    const giveUp = setTimeout(() => {
      socket.destroy()
      done()
    }, options.giveUpMs ?? 20_000)
    socket.on('data', (data) => {
      text += data.toString()
      const head = text.indexOf('\r\n\r\n')
      if (options.oneResponse && head !== -1 && text.length - head - 4 >= Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0)) {
        socket.destroy()
        done()
      }
    })
    socket.on('close', done)
    socket.on('error', done)
    void (async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0) await Bun.sleep(options.gapMs ?? 0)
        if (!open) return
        socket.write(chunk)
      }
    })()
  })
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)

describe('oversized request heads', () => {
  test('a cookie that takes the head over 16 KiB → the runtime\'s bare 431, and the server goes on', async () => {
    const { text } = await exchange([`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nCookie: vai_token=${'a'.repeat(20_000)}\r\n\r\n`])
    expect(statusOf(text)).toBe(431)
    const after = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })
    expect(after.status).toBe(200)
  })

  test('many headers adding up past 16 KiB → 431', async () => {
    const headers = Array.from({ length: 400 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(40)}\r\n`).join('')
    const { text } = await exchange([`GET /healthz HTTP/1.1\r\nHost: x\r\n${headers}\r\n`])
    expect(statusOf(text)).toBe(431)
  })

  test.each([
    ['a 15 KiB vai_token cookie', { cookie: `vai_token=vai_${'a'.repeat(15_000)}` }, 401, { detail: 'Invalid or expired token' }],
    ['a 14 KiB cookie of many pairs, none ours', { cookie: Array.from({ length: 1200 }, (_, i) => `c${i}=xxxxx`).join('; ') }, 401, { detail: 'Not authenticated' }],
    ['a 15 KiB Authorization header', { authorization: `Bearer ${'b'.repeat(15_000)}` }, 401, { detail: 'Invalid or expired token' }],
  ])('%s, under the limit → the contract\'s answer', async (_name, headers, status, body) => {
    const response = await fetch(`${server.url}/api/v1/auth/me`, { headers })
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual(body)
  })

  test('in-process, a 1 MiB cookie is still just an invalid token', async () => {
    const t = makeApp()
    const reply = await t.get('/api/v1/auth/me', { headers: { cookie: `vai_token=${'a'.repeat(1024 * 1024)}` } })
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual({ detail: 'Invalid or expired token' })
  })
})

// What src/auth/password.ts lets hash at once (half the cores) plus what it lets wait (2 × cores).
const HASH_CAPACITY = Math.max(1, Math.floor(availableParallelism() / 2)) + 2 * availableParallelism()

describe('a login flood', () => {
  test('a blocked caller is refused before any argon2 work', async () => {
    const t = makeApp({ loginLimits: { perAccount: 2, perClient: 100, windowMs: 60_000 } })
    const attempt = () => t.post('/api/v1/auth/login', { body: { email: 'victim@example.com', password: 'wrong password' } })
    expect((await attempt()).status).toBe(401)
    expect((await attempt()).status).toBe(401)
    const verify = spyOn(Bun.password, 'verify')
    try {
      for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(429)
      expect(verify).not.toHaveBeenCalled()
    } finally {
      verify.mockRestore()
    }
  })

  test('argon2 runs on at most half the cores at once, however many logins wait (as many as may: 2 × cores)', async () => {
    const original = Bun.password.verify.bind(Bun.password)
    let active = 0
    let peak = 0
    const spy = spyOn(Bun.password, 'verify').mockImplementation(async (...args: Parameters<typeof original>) => {
      peak = Math.max(peak, ++active)
      try {
        return await original(...args)
      } finally {
        active--
      }
    })
    try {
      // A cheap hash: what is counted is how many run together, not how long each takes.
      const hash = await Bun.password.hash('secret', { algorithm: 'argon2id', memoryCost: 1024, timeCost: 1 })
      const results = await Promise.all(Array.from({ length: HASH_CAPACITY }, (_, i) => verifyPassword(i === 0 ? 'secret' : 'wrong', hash)))
      expect(results).toEqual([true, ...Array(HASH_CAPACITY - 1).fill(false)])
    } finally {
      spy.mockRestore()
    }
    expect(peak).toBe(Math.max(1, Math.floor(availableParallelism() / 2)))
  })

  /** GET /auth/me with a Bearer token from `workers` loops for `ms`; requests per second. */
  async function hotPathRate(ms: number, workers = 4): Promise<number> {
    const until = performance.now() + ms
    let count = 0
    await Promise.all(Array.from({ length: workers }, async () => {
      while (performance.now() < until) {
        const response = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })
        await response.arrayBuffer()
        if (response.status !== 200) throw new Error(`hot path answered ${response.status}`)
        count++
      }
    }))
    return count / (ms / 1000)
  }

  /**
   * Wrong passwords for ever new accounts, `inFlight` at a time, each from another
   * loopback address: a crowd each of whose members stays under the rate limiter's bar
   * (20 failures per address), so every attempt costs an argon2 verification.
   */
  function flood(inFlight: number) {
    let stopped = false
    let sent = 0
    const statuses: Record<number, number> = {}
    const loop = async (lane: number) => {
      while (!stopped) {
        const n = sent++
        const body = JSON.stringify({ email: `flood-${n}@example.com`, password: 'wrong password' })
        const address = `127.0.${1 + (n % 250)}.${2 + ((n / 250) | 0) % 250}`
        const { text } = await exchange(
          [`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`],
          { localAddress: address, oneResponse: true },
        )
        statuses[statusOf(text)] = (statuses[statusOf(text)] ?? 0) + 1
        void lane
      }
    }
    const lanes = Array.from({ length: inFlight }, (_, lane) => loop(lane))
    return {
      async stop() {
        stopped = true
        await Promise.all(lanes)
        return { sent, statuses }
      },
    }
  }

  test('keeps at least 30% of the hot path\'s throughput (argon2 runs on half the cores at most)', async () => {
    await hotPathRate(300) // warm up
    const alone = await hotPathRate(1_500)
    // As many in flight as may hash or wait, up to 8: each costs an argon2 verification, none
    // is turned away as "Server busy" (those would be a flood of cheap requests, another test).
    const attack = flood(Math.min(8, HASH_CAPACITY))
    await Bun.sleep(300)
    const during = await hotPathRate(1_500)
    const { sent, statuses } = await attack.stop()
    const ratio = during / alone
    console.log(
      `hot path: ${Math.round(alone)} req/s alone, ${Math.round(during)} req/s during a flood of ${sent} failed logins ` +
        `(${JSON.stringify(statuses)}); ratio ${ratio.toFixed(2)}`,
    )
    expect(statuses[401]).toBeGreaterThan(0)
    expect(statuses[429] ?? 0).toBe(0)
    expect(statuses[503] ?? 0).toBe(0)
    expect(ratio).toBeGreaterThanOrEqual(0.3)
  }, 15_000)
})

// Last, because it waits: the sockets it checks were opened when the server started, so
// the runtime's ~10 s deadline for a request head ran while the tests above did.
describe('slow and idle clients', () => {
  test('a request whose body never comes is cut off after the idle timeout (1 s here; 10 s would be the default)', async () => {
    const { text, closedAfterMs } = await slow.bodyNeverSent
    console.log(`body never sent: closed after ${Math.round(closedAfterMs)} ms`)
    expect(text).toBe('')
    expect(closedAfterMs).toBeLessThan(6_000)
  }, 15_000)

  test('an idle keep-alive connection is closed after the idle timeout', async () => {
    const { text, closedAfterMs } = await slow.idleKeepAlive
    console.log(`idle keep-alive: closed after ${Math.round(closedAfterMs)} ms`)
    expect(statusOf(text)).toBe(200)
    expect(closedAfterMs).toBeLessThan(6_000)
  }, 15_000)

  test('while 50 clients trickle their request heads, others are served at once', async () => {
    const started = performance.now()
    const response = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })
    expect(response.status).toBe(200)
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test('a request head trickled a line every 0.5 s is cut off by the runtime (~10 s), unanswered', async () => {
    const results = await slow.heads
    const worst = Math.max(...results.map((result) => result.closedAfterMs))
    console.log(`50 trickled heads: all closed, the last after ${Math.round(worst)} ms`)
    for (const result of results) expect(result.text).toBe('')
    expect(worst).toBeLessThan(16_000)
  }, 20_000)
})
