// Forward authentication behind real proxies: nginx (auth_request) and Caddy (forward_auth)
// with the README's configurations (contrib/, addresses swapped for loopback ports) in front
// of a small app, dist/vai checking every request. What the app sees is what it would trust.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { binaryInEmptyDir, call, killServers, signUpAndLogIn, startServer, type Server } from '../support/binary'
import { CADDY_CONFIG, caddyBinary, NGINX_CONFIG, nginxBinary, startCaddy, startNginx, type Proxy } from '../support/proxies'

const PASSWORD = 'correct horse battery'
const EMAIL = 'ada@example.com'

let dir: string
let vai: Server
let app: ReturnType<typeof Bun.serve>
const proxies: Proxy[] = []
let session: string
const tokens: Record<'reader' | 'writer' | 'other', string> = { reader: '', writer: '', other: '' }

/** A free loopback port, for a proxy that cannot be told to pick one. */
function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

async function mint(scopes: string[]): Promise<string> {
  const created = await call(vai, 'POST', '/api/v1/access-tokens', { token: session, body: { name: scopes.join(' '), scopes } })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`)
  return created.body.plaintext
}

const missing = [!nginxBinary && 'nginx', !caddyBinary && 'caddy'].filter(Boolean)
if (missing.length > 0) console.warn(`forward-auth tests skipped: ${missing.join(' and ')} not installed (apt-get install nginx caddy)`)

describe.skipIf(missing.length > 0)('forward authentication behind real proxies', () => {
  beforeAll(async () => {
    const copy = binaryInEmptyDir()
    dir = copy.dir
    vai = await startServer(dir, copy.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', join(dir, 'vai.db')])
    // The protected app: says what it was told about the caller.
    app = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (request) =>
        Response.json({
          method: request.method,
          path: new URL(request.url).pathname,
          remoteUser: request.headers.get('remote-user'),
          remoteEmail: request.headers.get('remote-email'),
          userId: request.headers.get('x-vai-user-id'),
          scopes: request.headers.get('x-vai-scopes'),
        }),
    })
    session = await signUpAndLogIn(vai, EMAIL, PASSWORD)
    tokens.reader = await mint(['app:read'])
    tokens.writer = await mint(['app:read', 'app:write'])
    tokens.other = await mint(['tokens:read'])
    const addresses = { vai: `127.0.0.1:${new URL(vai.url).port}`, app: `127.0.0.1:${app.port}` }
    proxies.push(await startNginx(dir, { ...addresses, port: freePort() }), await startCaddy(dir, { ...addresses, port: freePort() }))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()))
    app?.stop(true)
    killServers()
    rmSync(dir, { recursive: true, force: true })
  })

  const through = (proxy: Proxy, path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${proxy.url}${path}`, { method: init.method ?? 'GET', headers: { accept: 'application/json', ...init.headers }, redirect: 'manual' })

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  describe.each(['nginx', 'caddy'])('%s', (name) => {
    const proxy = () => proxies.find((p) => p.name === name)!

    test('no token: 401, and the app is never asked', async () => {
      const response = await through(proxy(), '/reports')
      expect(response.status).toBe(401)
    })

    test('a browser page without a session goes to the console to sign in, and comes back', async () => {
      const response = await through(proxy(), '/reports?week=49', { headers: { accept: 'text/html,application/xhtml+xml' } })
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toBe(`https://vai.example.com/?rd=http://127.0.0.1:${new URL(proxy().url).port}/reports?week=49`)
    })

    test('a token without the scope: 403', async () => {
      expect((await through(proxy(), '/reports', { headers: bearer(tokens.other) })).status).toBe(403)
    })

    test('with the scope: the app sees who it is (Remote-User, X-Vai-Scopes), whatever the client claimed', async () => {
      const response = await through(proxy(), '/reports', { headers: { ...bearer(tokens.reader), 'remote-user': 'mallory@example.com', 'x-vai-scopes': '*' } })
      expect(response.status).toBe(200)
      const seen = await response.json()
      expect(seen).toEqual({ method: 'GET', path: '/reports', remoteUser: EMAIL, remoteEmail: EMAIL, userId: expect.any(String), scopes: 'app:read' })
    })

    test('a write with a read-only token: 403; with app:write: through', async () => {
      expect((await through(proxy(), '/reports', { method: 'POST', headers: bearer(tokens.reader) })).status).toBe(403)
      const written = await through(proxy(), '/reports', { method: 'DELETE', headers: bearer(tokens.writer) })
      expect(written.status).toBe(200)
      expect(await written.json()).toMatchObject({ method: 'DELETE', remoteUser: EMAIL, scopes: 'app:read app:write' })
    })

    test('the browser session cookie passes (a session has every scope)', async () => {
      const response = await through(proxy(), '/reports', { headers: { cookie: `theme=dark; vai_token=${session}` } })
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ remoteUser: EMAIL, scopes: '*' })
    })

    test('Basic, for tools that speak nothing else: the token is the password', async () => {
      const basic = `Basic ${btoa(`ci:${tokens.reader}`)}`
      expect((await through(proxy(), '/reports', { headers: { authorization: basic } })).status).toBe(200)
    })
  })

  test('a revoked token is refused by both proxies on the very next request', async () => {
    const token = await mint(['app:read'])
    for (const proxy of proxies) expect((await through(proxy, '/reports', { headers: bearer(token) })).status).toBe(200)
    const me = await call(vai, 'GET', '/api/v1/auth/me', { token })
    expect((await call(vai, 'DELETE', `/api/v1/access-tokens/${me.body.token.id}`, { token: session })).status).toBe(204)
    for (const proxy of proxies) expect((await through(proxy, '/reports', { headers: bearer(token) })).status).toBe(401)
  })

  test('the README shows these very files', () => {
    const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8')
    for (const file of [NGINX_CONFIG, CADDY_CONFIG, join(import.meta.dir, '../../contrib/traefik/vai-forward-auth.yml')]) expect(readme).toContain(readFileSync(file, 'utf8').trimEnd())
  })
})
