// The verifier client the package ships (client/verify.ts, `vai/verify`), against a real
// dist/vai: introspection with a cache, revocations from the feed dropping cached tokens
// at once, a cut feed turning the cache off, the Elysia plugin and the fetch wrapper
// answering like vai, and the same module running in Node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { join } from 'node:path'
import { vai } from '../../client/elysia'
import { createVerifier, withVai, type Verifier, type VerifierOptions } from '../../client/verify'
import { binaryFixture, call, signUpAndLogIn, startServer, type Server } from '../support/binary'
import { until } from '../support/sse'

const ROOT = join(import.meta.dir, '../..')
const EMAIL = 'verifier@example.com'
const bin = binaryFixture()

let server: Server
let session: string
let gateway: string
let userId: string

beforeAll(async () => {
  server = await startServer(bin.dir, bin.vai, ['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, 'verifier.db'), '--signup', 'open'])
  session = await signUpAndLogIn(server, EMAIL, 'correct horse')
  gateway = (await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'gateway', scopes: ['introspect'] } })).body.plaintext
  userId = (await call(server, 'GET', '/api/v1/auth/me', { token: session })).body.user.id
}, 30_000)

const verifiers: Verifier[] = []
afterAll(() => verifiers.forEach((verifier) => verifier.close()))

/** A verifier of vai at `url` (the server by default) that counts the introspections it makes. */
function countingVerifier(options: Partial<VerifierOptions> = {}) {
  const counted = { introspections: 0 }
  const verifier = createVerifier({
    url: server.url,
    token: gateway,
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith('/auth/introspect')) counted.introspections++
      return fetch(input, init)
    }) as typeof fetch,
    ...options,
  })
  verifiers.push(verifier)
  return { verifier, counted }
}

async function newToken(name: string, scopes: string[] = ['deploy:staging']) {
  const created = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name, scopes } })
  return created.body as { plaintext: string; token: { id: string } }
}

const revoke = async (id: string) => expect((await call(server, 'DELETE', `/api/v1/access-tokens/${id}`, { token: session })).status).toBe(204)

describe('createVerifier', () => {
  test('a live token: who it is, from introspection; asked again, from the cache', async () => {
    const { verifier, counted } = countingVerifier()
    await until(() => verifier.following)
    const { plaintext, token } = await newToken('ci')
    const identity = { userId, email: EMAIL, tokenId: token.id, tokenType: 'api' as const, scopes: ['deploy:staging'], expiresAt: null }
    expect(await verifier.check(plaintext)).toEqual({ active: true, identity })
    expect(await verifier.check(plaintext)).toEqual({ active: true, identity })
    expect(counted.introspections).toBe(1)
    expect(await verifier.check('vai_not-a-token')).toEqual({ active: false })
    expect(await verifier.check('')).toEqual({ active: false })
  })

  test('a cached token revoked on the server is refused within 1 s, long before its cache time (60 s)', async () => {
    const { verifier, counted } = countingVerifier({ cacheMs: 60_000 })
    await until(() => verifier.following)
    const { plaintext, token } = await newToken('revoked soon')
    expect((await verifier.check(plaintext)).active).toBe(true)
    await revoke(token.id)
    const revokedAt = performance.now()
    let answer = await verifier.check(plaintext)
    while (answer.active && performance.now() - revokedAt < 2000) {
      await Bun.sleep(10)
      answer = await verifier.check(plaintext)
    }
    const refusedAfter = performance.now() - revokedAt
    console.log(`verifier: revoked token refused ${refusedAfter.toFixed(0)} ms after the revocation's answer (cache time 60 s)`)
    expect(answer).toEqual({ active: false })
    expect(refusedAfter).toBeLessThan(1000)
    // Cache hits until the feed dropped it, then one introspection that said no.
    expect(counted.introspections).toBe(2)
  })

  test('with the feed cut (a proxy in between), it stops trusting its cache and asks vai every time, until the feed is back', async () => {
    const proxy = cuttableProxy(server.url)
    const states: string[] = []
    const { verifier, counted } = countingVerifier({ url: proxy.url, onFeed: (state) => states.push(state) })
    try {
      await until(() => verifier.following)
      const { plaintext } = await newToken('cut')
      await verifier.check(plaintext)
      await verifier.check(plaintext)
      expect(counted.introspections).toBe(1)

      proxy.cut()
      await until(() => !verifier.following)
      for (let i = 0; i < 3; i++) expect((await verifier.check(plaintext)).active).toBe(true)
      expect(counted.introspections).toBe(4)

      proxy.restore()
      await until(() => verifier.following, 5000)
      await verifier.check(plaintext)
      await verifier.check(plaintext)
      expect(counted.introspections).toBe(5)
      expect(states).toEqual(['following', 'lost', 'following'])
    } finally {
      proxy.stop()
    }
  }, 15_000)
})

test('a feed silent past staleMs counts as lost (a stalled proxy, a frozen host): the cache goes off, the feed is asked for again', async () => {
  // vai's heartbeat comes every 10 s: a staleMs of 300 ms sees every quiet moment as a stall.
  const states: string[] = []
  const { verifier, counted } = countingVerifier({ staleMs: 300, onFeed: (state) => states.push(state) })
  await until(() => states.length >= 3, 3000)
  expect(states.slice(0, 3)).toEqual(['following', 'lost', 'following'])
  const { plaintext } = await newToken('stalled')
  await until(() => !verifier.following, 3000)
  await verifier.check(plaintext)
  await verifier.check(plaintext)
  expect(counted.introspections).toBe(2)
})

describe('the Elysia plugin and the fetch wrapper answer like vai', () => {
  const refusals = async (handle: (request: Request) => Promise<Response> | Response) => {
    const { plaintext: scoped } = await newToken('scoped', ['deploy:staging'])
    const { plaintext: other } = await newToken('other', ['app:read'])
    const ask = async (headers: Record<string, string>) => {
      const response = await handle(new Request('http://localhost/deploy', { headers }))
      return [response.status, await response.json(), response.headers.get('www-authenticate')]
    }
    return {
      none: await ask({}),
      invalid: await ask({ authorization: 'Bearer vai_unknown' }),
      lacking: await ask({ 'x-api-key': other }),
      allowed: await ask({ authorization: `Bearer ${scoped}` }),
    }
  }
  const expected = (tokenScopes: string[]) => ({
    none: [401, { detail: 'Not authenticated' }, 'Bearer'],
    invalid: [401, { detail: 'Invalid or expired token' }, 'Bearer'],
    lacking: [403, { detail: 'This token lacks the scope deploy:staging' }, 'Bearer error="insufficient_scope", scope="deploy:staging"'],
    allowed: [200, { email: EMAIL, scopes: tokenScopes }, null],
  })

  test('Elysia: `{ vai: scope }` on a route; the caller as `vai` on the context', async () => {
    const { verifier } = countingVerifier()
    const app = new Elysia().use(vai(verifier)).get('/deploy', ({ vai }) => ({ email: vai.email, scopes: vai.scopes }), { vai: 'deploy:staging' })
    expect(await refusals((request) => app.handle(request))).toEqual(expected(['deploy:staging']))
  })

  test('fetch wrapper: withVai(verifier, handler, { scopes })', async () => {
    const { verifier } = countingVerifier()
    const handler = withVai(verifier, (_request, identity) => Response.json({ email: identity.email, scopes: identity.scopes }), { scopes: ['deploy:staging'] })
    expect(await refusals(handler)).toEqual(expected(['deploy:staging']))
  })

  test('vai unreachable → 503 Token service unavailable, Retry-After: 1', async () => {
    const { verifier } = countingVerifier({ url: 'http://127.0.0.1:9' })
    const response = await withVai(verifier, () => new Response('never'))(new Request('http://localhost/', { headers: { authorization: 'Bearer vai_x' } }))
    expect([response.status, await response.json(), response.headers.get('retry-after')]).toEqual([503, { detail: 'Token service unavailable' }, '1'])
  })
})

test('Node imports `vai/verify` (the JavaScript that prepack builds) and checks a token', async () => {
  const built = Bun.spawnSync(['node', join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'client/tsconfig.json')], { cwd: ROOT })
  expect(built.stderr.toString() + built.stdout.toString()).toBe('')
  const { plaintext, token } = await newToken('from node', ['app:read'])
  const script = `
    import { createVerifier } from 'vai/verify'
    const verifier = createVerifier({ url: process.env.VAI_URL, token: process.env.VAI_GATEWAY })
    const answer = await verifier.check(process.env.VAI_TOKEN)
    verifier.close()
    console.log(JSON.stringify(answer))`
  const node = Bun.spawn(['node', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', VAI_URL: server.url, VAI_GATEWAY: gateway, VAI_TOKEN: plaintext },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, out, err] = await Promise.all([node.exited, new Response(node.stdout).text(), new Response(node.stderr).text()])
  expect([code, err]).toEqual([0, ''])
  expect(JSON.parse(out)).toEqual({ active: true, identity: { userId, email: EMAIL, tokenId: token.id, tokenType: 'api', scopes: ['app:read'], expiresAt: null } })
}, 30_000)

/** An HTTP proxy on loopback in front of vai whose streams the test can cut (and keep cut) and restore. */
function cuttableProxy(target: string) {
  let cut = false
  const cutters = new Set<() => void>()
  const proxy = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const { pathname, search } = new URL(request.url)
      if (cut && pathname.endsWith('/stream')) return new Response('cut', { status: 502 })
      const upstream = await fetch(`${target}${pathname}${search}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === 'GET' ? undefined : await request.arrayBuffer(),
      })
      const reader = upstream.body!.getReader()
      // Passed on chunk by chunk; cutting ends the client's stream and drops vai's.
      let cutter = () => {}
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          cutter = () => {
            controller.close()
            void reader.cancel()
          }
          cutters.add(cutter)
        },
        async pull(controller) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }))
          if (!cutters.has(cutter)) return
          if (!done) return controller.enqueue(value)
          cutters.delete(cutter)
          controller.close()
        },
      })
      return new Response(body, { status: upstream.status, headers: upstream.headers })
    },
  })
  return {
    url: `http://127.0.0.1:${proxy.port}`,
    cut() {
      cut = true
      for (const cutter of cutters) cutter()
      cutters.clear()
    },
    restore() {
      cut = false
    },
    stop: () => proxy.stop(true),
  }
}
