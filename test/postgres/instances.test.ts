// Several dist/vai processes on one PostgreSQL database behave as one service: what one
// instance writes, the others see on their very next request. Runs only when
// VAI_TEST_POSTGRES names a PostgreSQL server this test may create databases on.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL, type Socket, type TCPSocketListener } from 'bun'
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres'
import { binaryFixture, call, setupCodeOf, signUpAndLogIn, startServer, type Reply, type Server } from '../support/binary'
import { testDatabases } from '../support/postgres'
import { readEvents, until } from '../support/sse'

const ADMIN_URL = process.env.VAI_TEST_POSTGRES

const PASSWORD = 'correct horse battery'
const INVALID_TOKEN = { detail: 'Invalid or expired token' }
const UNAVAILABLE = { detail: 'Database unavailable' }
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

let emails = 0
const uniqueEmail = (label: string) => `${label}-${++emails}@example.com`
const median = (values: number[]) => values.toSorted((x, y) => x - y)[Math.floor(values.length / 2)]!

/** A new account, signed up and logged in on one instance: its email and a session plaintext. */
async function account(server: Server): Promise<{ email: string; session: string }> {
  const email = uniqueEmail('user')
  return { email, session: await signUpAndLogIn(server, email, PASSWORD) }
}

async function createToken(server: Server, session: string, name: string): Promise<{ plaintext: string; token: Record<string, unknown> & { id: string } }> {
  const created = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name } })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`)
  return created.body
}

/** Waits (up to 5 s) until `count` sessions of this database matching `where` wait on a lock; how many did. */
async function waitForLockWaiters(db: SQL, count: number, where: string): Promise<number> {
  let waiting = 0
  for (const deadline = Date.now() + 5000; waiting < count && Date.now() < deadline; await Bun.sleep(20)) {
    ;[{ waiting }] = await db.unsafe(`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND ${where}`)
  }
  return waiting
}

/**
 * A TCP proxy in front of PostgreSQL that the test can pull out and put back: down()
 * stops listening and cuts every open connection, as a crashed or restarted database
 * would; up() listens again on the same port; stall() keeps every connection open but
 * lets nothing through, as a network partition or a frozen host would.
 */
function databaseProxy(target: { hostname: string; port: number }) {
  // One side of a proxied connection; the upstream side has no socket until it connects.
  interface End {
    socket?: Socket<End>
    peer?: End
    closed?: boolean
    /** Bytes this side could not take yet: not connected, or its send buffer full. */
    backlog: Uint8Array[]
  }
  const sockets = new Set<Socket<End>>()
  let listener: TCPSocketListener<End> | undefined
  let port = 0
  let stalled = false

  const send = (to: End, chunk: Uint8Array) => {
    if (stalled) return
    if (!to.socket || to.backlog.length > 0) return void to.backlog.push(chunk.slice())
    const written = to.socket.write(chunk)
    if (written < chunk.length) to.backlog.push(chunk.slice(written))
  }
  const drain = (socket: Socket<End>) => {
    const { backlog } = socket.data
    while (backlog.length > 0) {
      const written = socket.write(backlog[0]!)
      if (written < backlog[0]!.length) return void (backlog[0] = backlog[0]!.subarray(written))
      backlog.shift()
    }
  }
  const forget = (socket: Socket<End>) => {
    socket.data.closed = true
    sockets.delete(socket)
    socket.data.peer?.socket?.end()
  }

  return {
    get port() {
      return port
    },
    up() {
      stalled = false
      listener = Bun.listen<End>({
        hostname: '127.0.0.1',
        port,
        socket: {
          open(socket) {
            const client: End = { socket, backlog: [] }
            const upstream: End = { peer: client, backlog: [] }
            client.peer = upstream
            socket.data = client
            sockets.add(socket)
            Bun.connect<End>({
              ...target,
              data: upstream,
              socket: {
                open(connected) {
                  upstream.socket = connected
                  sockets.add(connected)
                  if (client.closed) connected.end()
                  else drain(connected)
                },
                data: (_, chunk) => send(client, chunk),
                drain,
                close: forget,
                error: forget,
              },
            }).catch(() => socket.end())
          },
          data: (socket, chunk) => send(socket.data.peer!, chunk),
          drain,
          close: forget,
          error: forget,
        },
      })
      port = listener.port
    },
    stall() {
      stalled = true
    },
    down() {
      listener?.stop(true)
      listener = undefined
      for (const socket of sockets) socket.terminate()
      sockets.clear()
    },
  }
}

describe.skipIf(!ADMIN_URL)('several vai instances on one PostgreSQL database', () => {
  // A database of its own for each use, so that runs (and tests) never see each other.
  const databases = testDatabases('inst')
  const freshDatabase = () => databases.create()

  /** One vai whose connections to a fresh database go through a databaseProxy. */
  async function serveThroughProxy() {
    const target = new URL(await freshDatabase())
    const proxy = databaseProxy({ hostname: target.hostname, port: Number(target.port) })
    proxy.up()
    const viaProxy = new URL(target)
    viaProxy.port = String(proxy.port)
    return { proxy, server: await serve(viaProxy.toString()) }
  }

  const serve = (db: string) => startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--signup', 'open'])

  const bin = binaryFixture(() => databases.dropAll())

  describe('two instances, A and B', () => {
    let url: string
    let db: SQL
    let a: Server
    let b: Server

    beforeAll(async () => {
      url = await freshDatabase()
      // Two connections: one may hold rows locked while the other looks on.
      db = new SQL({ url, max: 2 })
      a = await serve(url)
      b = await serve(url)
    }, 30_000)

    afterAll(async () => {
      await db.close()
    })

    test('a token created on A authenticates on B', async () => {
      const { session } = await account(a)
      const created = await createToken(a, session, 'made on A')
      const seen = await call(b, 'GET', `/api/v1/access-tokens/${created.token.id}`, { token: created.plaintext })
      expect(seen.status).toBe(200)
      // Only the last use moves: B has just seen it, from loopback.
      expect(seen.body).toEqual({ ...created.token, lastUsedAt: expect.stringMatching(ISO), lastUsedIp: '127.0.0.1' })
    })

    test('a revocation on B is refused on A on the very next request', async () => {
      const { session } = await account(a)
      const created = await createToken(a, session, 'revoked on B')
      // Used on A first: whatever A remembers of it must not outlive the revocation.
      expect((await call(a, 'GET', '/api/v1/auth/me', { token: created.plaintext })).status).toBe(200)

      const revoked = await call(b, 'DELETE', `/api/v1/access-tokens/${created.token.id}`, { token: session })
      expect(revoked.status).toBe(204)
      expect(revoked.body).toBe('')

      const refused = await call(a, 'GET', '/api/v1/auth/me', { token: created.plaintext })
      expect(refused.status).toBe(401)
      expect(refused.body).toEqual(INVALID_TOKEN)
      expect(refused.headers.get('www-authenticate')).toBe('Bearer')
    })

    test('a revocation on A is on B’s revocation stream within 1 s of A’s answer', async () => {
      const { session } = await account(a)
      const gateway = await call(b, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'gateway', scopes: ['introspect'] } })
      const head = await call(b, 'GET', '/api/v1/revocations?after=0&limit=1000', { token: gateway.body.plaintext })
      const following = new AbortController()
      const stream = await fetch(`${b.url}/api/v1/revocations/stream?after=${head.body.nextAfter}`, {
        headers: { authorization: `Bearer ${gateway.body.plaintext}` },
        signal: following.signal,
      })
      const arrived = new Map<string, number>()
      const log = readEvents(stream, (event) => arrived.set(JSON.parse(event.data).digest, performance.now()))
      try {
        const delays: number[] = []
        for (let i = 0; i < 10; i++) {
          const victim = await createToken(a, session, `victim ${i}`)
          const digest = new Bun.CryptoHasher('sha256').update(victim.plaintext).digest('hex')
          expect((await call(a, 'DELETE', `/api/v1/access-tokens/${victim.token.id}`, { token: session })).status).toBe(204)
          const answered = performance.now()
          await until(() => arrived.has(digest), 1000)
          delays.push(arrived.get(digest)! - answered)
        }
        console.log(`revocation on A → B's stream, 10 revocations: median ${median(delays).toFixed(0)} ms, max ${Math.max(...delays).toFixed(0)} ms`)
        // Each event once, seq increasing by one.
        const seqs = log.events.map((event) => Number(event.id))
        expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => head.body.nextAfter + 1 + i))
      } finally {
        following.abort()
        await log.reading
      }
    })

    test('revoke-all on A and B at once: the counts add up to exactly the tokens that were active', async () => {
      const { session } = await account(a)
      const created = await Promise.all(Array.from({ length: 24 }, (_, i) => createToken(i % 2 ? a : b, session, `r${i}`)))
      const listed = await call(a, 'GET', '/api/v1/access-tokens?limit=200', { token: session })
      // Less the session, which the default exclude_current=true keeps.
      const active = listed.body.items.length - 1
      expect(active).toBe(created.length)

      // Left alone, one UPDATE is over before the other begins. With the rows held, both
      // are sure to be inside their UPDATE at once: the case where counts could go wrong.
      const holder = await db.reserve()
      await holder`BEGIN`
      await holder`SELECT id FROM tokens WHERE id IN ${holder(created.map(({ token }) => token.id))} FOR UPDATE`
      const both = Promise.all([
        call(a, 'DELETE', '/api/v1/access-tokens', { token: session }),
        call(b, 'DELETE', '/api/v1/access-tokens', { token: session }),
      ])
      const waiting = await waitForLockWaiters(db, 2, "query LIKE '%UPDATE tokens SET revoked_at%'")
      await holder`COMMIT`
      holder.release()
      const [fromA, fromB] = await both
      expect(waiting).toBe(2)
      expect([fromA.status, fromB.status]).toEqual([200, 200])
      expect(fromA.body).toEqual({ revokedCount: expect.any(Number) })
      expect(fromB.body).toEqual({ revokedCount: expect.any(Number) })
      expect(fromA.body.revokedCount + fromB.body.revokedCount).toBe(active)

      const after = await Promise.all(created.map(({ plaintext }, i) => call(i % 2 ? b : a, 'GET', '/api/v1/auth/me', { token: plaintext })))
      expect(after.map(({ status, body }) => [status, body])).toEqual(created.map(() => [401, INVALID_TOKEN]))
      expect((await call(b, 'GET', '/api/v1/auth/me', { token: session })).status).toBe(200)
    })

    test('pages walked alternately on A and B: every token once, in the single-instance order', async () => {
      const { session } = await account(a)
      // Created on both at once: many share a millisecond, and the id breaks the tie.
      await Promise.all(Array.from({ length: 40 }, (_, i) => createToken(i % 2 ? a : b, session, `p${i}`)))

      const walk = async (on: (page: number) => Server) => {
        const ids: string[] = []
        let cursor: string | null = null
        for (let page = 0; page === 0 || cursor !== null; page++) {
          const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
          const reply = await call(on(page), 'GET', `/api/v1/access-tokens?limit=7${query}`, { token: session })
          expect(reply.status).toBe(200)
          expect(reply.body.items.length).toBeGreaterThan(0)
          ids.push(...reply.body.items.map((token: { id: string }) => token.id))
          cursor = reply.body.nextCursor
        }
        return ids
      }
      const single = await walk(() => a)
      const alternating = await walk((page) => (page % 2 ? b : a))
      expect(single.length).toBe(41) // the 40 and the session
      expect(new Set(single).size).toBe(41)
      expect(alternating).toEqual(single)
    })

    test('login limits count failures on every instance: 3 on A, 2 on B, then 429 on both', async () => {
      const { email } = await account(a)
      const fail = (on: Server) => call(on, 'POST', '/api/v1/auth/login', { body: { email, password: 'not the password' } })
      // The first failure was recorded between these two instants; it leaves the window 5 minutes later.
      const firstSent = Date.now()
      let firstAnswered = 0
      for (const on of [a, a, a, b, b]) {
        const failed = await fail(on)
        firstAnswered ||= Date.now()
        expect(failed.status).toBe(401)
        expect(failed.body).toEqual({ detail: 'Invalid email or password' })
      }
      for (const on of [a, b]) {
        // The right password: refused all the same, before it is even checked.
        const sent = Date.now()
        const blocked = await call(on, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })
        const answered = Date.now()
        expect(blocked.status).toBe(429)
        expect(blocked.body).toEqual({ detail: 'Too many failed login attempts; try again later' })
        // Retry-After is the seconds until then, within what the test's own timings can tell.
        const retryAfter = Number(blocked.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((firstSent + 300_000 - answered) / 1000))
        expect(retryAfter).toBeLessThanOrEqual(Math.ceil((firstAnswered + 300_000 - sent) / 1000))
        expect(blocked.headers.get('set-cookie')).toBeNull()
      }
    })

    test('lastUsedAt is written once per flush, not per request; a graceful stop writes what is pending', async () => {
      // An instance of its own: SIGTERM ends it, and no other instance uses its token.
      const c = await serve(url)
      const { session } = await account(c)
      const created = await createToken(c, session, 'busy')
      for (let i = 0; i < 5; i++) {
        const replies = await Promise.all(Array.from({ length: 10 }, () => call(c, 'GET', '/api/v1/auth/me', { token: created.plaintext })))
        expect(replies.map(({ status }) => status)).toEqual(replies.map(() => 200))
      }
      const shown = await call(c, 'GET', `/api/v1/access-tokens/${created.token.id}`, { token: session })
      expect(shown.status).toBe(200)
      expect(shown.body.lastUsedAt).toMatch(ISO)
      // The flush is 60 s away: 50 uses, and still not one write.
      expect(await db`SELECT last_used_at FROM tokens WHERE id = ${created.token.id}`).toEqual([{ last_used_at: null }])

      c.proc.kill('SIGTERM')
      expect(await c.proc.exited).toBe(0)
      await c.drained()
      expect(c.output()).toContain('vai: stopped\n')
      const [row] = await db`SELECT last_used_at FROM tokens WHERE id = ${created.token.id}`
      expect(Number(row.last_used_at)).toBe(Date.parse(shown.body.lastUsedAt))
    })
  })

  test('two instances starting at once on an empty database both come up; the schema is made once', async () => {
    const url = await freshDatabase()
    const db = new SQL({ url, max: 2 })
    try {
      // Started a few milliseconds apart, two migrations would rarely overlap. A table
      // the test is still creating holds up whichever instance migrates first, so the
      // second surely arrives while the first is mid-migration; then it goes away.
      const holder = await db.reserve()
      await holder`BEGIN`
      await holder`CREATE TABLE vai_schema (version integer NOT NULL)`
      const starting = Promise.all([serve(url), serve(url)])
      const waiting = await waitForLockWaiters(db, 2, "application_name = 'vai'")
      await holder`ROLLBACK`
      holder.release()
      const servers = await starting
      expect(waiting).toBe(2)

      for (const server of servers) {
        expect(server.firstLine).toMatch(/^vai \S+ listening on http:\/\/127\.0\.0\.1:\d+ \(database postgres:\/\/.*\)$/)
        const health = await call(server, 'GET', '/healthz')
        expect([health.status, health.body]).toEqual([200, { status: 'ok' }])
      }
      expect(await db`SELECT version FROM vai_schema`).toEqual([{ version: POSTGRES_SCHEMA_VERSION }])
      // A second run of the first migration would have drawn a second cursor secret.
      expect(await db`SELECT key FROM meta ORDER BY key`).toEqual([{ key: 'cursor_secret' }, { key: 'setup_code' }])
      // hardening 6: starting together on a database without accounts, both print one setup code.
      const [first, second] = await Promise.all(servers.map(setupCodeOf))
      expect(second).toBe(first)
      for (const server of servers) server.proc.kill('SIGTERM')
      expect(await Promise.all(servers.map((server) => server.proc.exited))).toEqual([0, 0])
    } finally {
      await db.close()
    }
  })

  test('the database goes away and comes back: 503 meanwhile, then the same process serves again', async () => {
    const { proxy, server } = await serveThroughProxy()
    try {
      const { session } = await account(server)
      expect((await call(server, 'GET', '/healthz')).status).toBe(200)
      expect((await call(server, 'GET', '/api/v1/auth/me', { token: session })).status).toBe(200)

      proxy.down()
      for (const [path, token] of [['/healthz', undefined], ['/api/v1/auth/me', session]] as const) {
        const refused = await call(server, 'GET', path, { token })
        expect(refused.status).toBe(503)
        expect(refused.body).toEqual(UNAVAILABLE)
        expect(refused.headers.get('retry-after')).toBe('1')
        expect(refused.headers.get('content-type')).toBe('application/json;charset=utf-8')
      }
      expect(server.proc.exitCode).toBeNull()

      proxy.up()
      let health: Reply | undefined
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(100)) {
        health = await call(server, 'GET', '/healthz')
        if (health.status === 200) break
      }
      expect([health?.status, health?.body]).toEqual([200, { status: 'ok' }])
      const me = await call(server, 'GET', '/api/v1/auth/me', { token: session })
      expect(me.status).toBe(200)
      expect(me.body.token.tokenType).toBe('session')
      expect(server.proc.exitCode).toBeNull()
      // An outage is not a bug: no stack, one line with the reason (both 503s within 10 s).
      const lines = server.errors().split('\n').filter(Boolean)
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) expect(line).toMatch(/^vai: database unavailable, answering 503: \S.*$/)
    } finally {
      server.proc.kill('SIGTERM')
      await server.proc.exited
      proxy.down()
    }
  }, 30_000)

  test('the database stops answering without closing anything: 503 within the 5 s deadline, not a hung request', async () => {
    const { proxy, server } = await serveThroughProxy()
    try {
      const { session } = await account(server)
      expect((await call(server, 'GET', '/api/v1/auth/me', { token: session })).status).toBe(200)

      proxy.stall()
      const started = performance.now()
      const replies = await Promise.all([call(server, 'GET', '/healthz'), call(server, 'GET', '/api/v1/auth/me', { token: session })])
      const waited = performance.now() - started
      for (const reply of replies) {
        expect([reply.status, reply.body, reply.headers.get('retry-after')]).toEqual([503, UNAVAILABLE, '1'])
      }
      expect(waited).toBeGreaterThan(4500)
      expect(waited).toBeLessThan(8000)

      // The partition heals the way they do: the stuck connections break, new ones work.
      proxy.down()
      proxy.up()
      let health: Reply | undefined
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(100)) {
        health = await call(server, 'GET', '/healthz')
        if (health.status === 200) break
      }
      expect(health?.status).toBe(200)
      expect((await call(server, 'GET', '/api/v1/auth/me', { token: session })).status).toBe(200)
      // The 503s say why, in one line; the background jobs may have run into the stall too:
      // one plain line each, no stack.
      const lines = server.errors().split('\n').filter(Boolean)
      expect(lines.find((line) => line.includes('answering 503'))).toBe('vai: database unavailable, answering 503: no answer within 5000 ms')
      for (const line of lines) {
        expect(line).toMatch(/^vai: ((retention purge|flushing lastUsedAt|expiry notices) failed: database unavailable \(.+\); next try at the next run|deliveries failed: database unavailable \(.+\); retried in a second|database unavailable, answering 503: .+)$/)
      }
    } finally {
      server.proc.kill('SIGTERM')
      await server.proc.exited
      proxy.down()
    }
  }, 30_000)
})
