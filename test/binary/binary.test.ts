// The compiled executable over a real port: build, flags, embedded assets, signals.
import { describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import pkg from '../../package.json'
import { generateToken } from '../../src/auth/token-format'
import { binaryFixture, call, runIn, signUpAndLogIn, startServer } from '../support/binary'
import { readEvents, until } from '../support/sse'

const bin = binaryFixture()

const run = (args: string[], env: Record<string, string> = {}) => runIn(bin.dir, bin.vai, args, { env })

const start = (args: string[], env: Record<string, string> = {}) => startServer(bin.dir, bin.vai, args, env)

describe('dist/vai', () => {
  test('--version prints the version', () => {
    expect(run(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })

  test.each([[['--help']], [['serve', '--help']]])('%j prints usage and exits 0', (args) => {
    const result = run(args)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: vai')
  })

  test.each([
    [['--bogus'], "vai: Unknown option '--bogus'"],
    [['serve', '--port', 'abc'], "vai: invalid --port 'abc': expected a port number from 0 to 65535"],
    [['serve', '--signup', 'maybe'], "vai: invalid --signup 'maybe': expected 'open' or 'closed'"],
    [['frob'], "vai: unknown command 'frob' (try vai --help)"],
    [['serve', '--db-pool', '0'], "vai: invalid --db-pool '0': expected a whole number of connections from 1 to 1000"],
    [
      ['serve', '--cookie-domain', 'https://example.com'],
      "vai: invalid --cookie-domain 'https://example.com': expected a host name like example.com (no scheme, port, path or IP address; two labels at least)",
    ],
    // The URL holds a password: a refused one is not echoed.
    [
      ['serve', '--smtp-url', 'http://vai:s3cret@mail.example.com', '--smtp-from', 'vai@example.com'],
      'vai: invalid --smtp-url: expected smtp://[user:password@]host[:port] or smtps://…, with the user and password percent-encoded',
    ],
    [['serve', '--smtp-url', 'smtp://vai:s3cret@mail.example.com:587'], 'vai: --smtp-url needs --smtp-from (VAI_SMTP_FROM): the address the notices come from'],
    [['serve', '--smtp-from', 'not an address'], "vai: invalid --smtp-from 'not an address': expected an address like vai@example.com or 'vai <vai@example.com>'"],
  ])('bad usage %p is one line on stderr and exit 2', (args, line) => {
    expect(run(args)).toEqual({ code: 2, stdout: '', stderr: `${line}\n` })
  })

  test('a token pasted into the command line is not echoed back', () => {
    const token = generateToken()
    for (const args of [[token], ['user', 'add', '--email', token]]) {
      const result = run(args)
      expect(result.code).not.toBe(0)
      expect(result.stderr.toLowerCase()).toContain(`${token.slice(0, 12)}…(redacted)`.toLowerCase())
      expect(result.stderr.toLowerCase()).not.toContain(token.toLowerCase())
    }
  })

  test('a bad environment twin is a usage error too', () => {
    expect(run([], { VAI_SESSION_DAYS: '0' })).toEqual({
      code: 2,
      stdout: '',
      stderr: "vai: invalid VAI_SESSION_DAYS '0': expected a whole number of days from 1 to 3650\n",
    })
    expect(run([], { VAI_DB_POOL: '1001' })).toEqual({
      code: 2,
      stdout: '',
      stderr: "vai: invalid VAI_DB_POOL '1001': expected a whole number of connections from 1 to 1000\n",
    })
  })

  test('serves the contract end to end, then stops cleanly on SIGTERM', async () => {
    const db = join(bin.dir, 'e2e.db')
    // The flag wins over its twin: PORT says 1, --port 0 picks a free port.
    const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', db], { PORT: '1', VAI_SIGNUP: 'closed' })
    expect(server.firstLine).toMatch(new RegExp(`^vai ${pkg.version} listening on http://127\\.0\\.0\\.1:\\d+ \\(database ${db}\\)$`))
    const api = (path: string, init: RequestInit = {}) => fetch(server.url + path, init)
    const json = { 'content-type': 'application/json' }

    expect(await (await api('/healthz')).json()).toEqual({ status: 'ok' })
    const signup = await api('/api/v1/auth/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: 'Ada@Example.com', password: 'correct horse' }) })
    expect(signup.status).toBe(201)

    const login = await api('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse' }) })
    expect(login.status).toBe(200)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    expect(cookie).toMatch(/^vai_token=vai_[0-9A-Za-z]{38}$/)

    const created = await api('/api/v1/access-tokens', { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ name: 'deploy' }) })
    expect(created.status).toBe(201)
    const { plaintext, token } = (await created.json()) as { plaintext: string; token: { id: string } }

    const list = await api('/api/v1/access-tokens', { headers: { authorization: `Bearer ${plaintext}` } })
    const page = (await list.json()) as { items: { id: string; tokenType: string }[]; nextCursor: string | null }
    expect(page.nextCursor).toBeNull()
    expect(page.items.map((item) => item.tokenType)).toEqual(['api', 'session'])
    expect(page.items[0]!.id).toBe(token.id)

    const revoked = await api('/api/v1/access-tokens?exclude_current=false', { method: 'DELETE', headers: { 'x-api-key': plaintext } })
    expect(await revoked.json()).toEqual({ revokedCount: 2 })
    expect((await api('/api/v1/auth/me', { headers: { cookie } })).status).toBe(401)

    server.proc.kill('SIGTERM')
    const started = performance.now()
    expect(await server.proc.exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(5000)
    // Closed cleanly: the file opens and is whole.
    const check = new Database(db, { readonly: true })
    expect(check.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    expect(check.query('SELECT count(*) AS n FROM tokens WHERE revoked_at IS NOT NULL').get()).toEqual({ n: 2 })
    check.close()
    expect(statSync(db).mode & 0o777).toBe(0o600)
  }, 30_000)

  // Hardening 1: Elysia listens with SO_REUSEPORT unless told not to, so a second serve on the
  // same port used to start and take half the requests to another (empty, claimable) database.
  test('serve refuses a port that is already taken: exit 1, one line naming the port', async () => {
    const first = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, 'first.db')])
    const port = new URL(first.url).port
    try {
      const second = runIn(bin.dir, bin.vai, ['serve', '--port', port, '--host', '127.0.0.1', '--db', join(bin.dir, 'second.db')], { timeoutMs: 5000 })
      expect(second).toEqual({
        code: 1,
        stdout: '',
        stderr: `vai: port ${port} is already in use on 127.0.0.1: another server listens there; stop it or choose another --port\n`,
      })
      // The first server still answers every request, from its own database.
      for (let i = 0; i < 20; i++) expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
    } finally {
      first.proc.kill('SIGTERM')
      expect(await first.proc.exited).toBe(0)
    }
  }, 30_000)

  // The peer address comes from the runtime (in process there is none): the flag, its twin and the access log, for real.
  test('hardening 11: --trusted-proxies decides whose X-Forwarded-For the access log believes', async () => {
    const clientsLogged = async (args: string[], env: Record<string, string>) => {
      const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, `proxies-${args.length}.db`), ...args], env)
      try {
        for (const headers of [{}, { 'x-forwarded-for': '6.6.6.6, 198.51.100.1' }] as Record<string, string>[]) {
          expect((await fetch(`${server.url}/healthz`, { headers })).status).toBe(200)
        }
        await Bun.sleep(100)
        return [...server.output().matchAll(/GET \/healthz 200 .* client=(\S+)$/gm)].map((match) => match[1])
      } finally {
        server.proc.kill('SIGTERM')
        await server.proc.exited
      }
    }
    // Loopback is trusted by default: vai's own host stands for a proxy in front of it.
    expect(await clientsLogged([], {})).toEqual(['127.0.0.1', '198.51.100.1'])
    expect(await clientsLogged([], { VAI_TRUSTED_PROXIES: '10.0.0.0/8' })).toEqual(['127.0.0.1', '127.0.0.1'])
    expect(await clientsLogged(['--trusted-proxies', '127.0.0.1'], { VAI_TRUSTED_PROXIES: '10.0.0.0/8' })).toEqual(['127.0.0.1', '198.51.100.1'])
  }, 30_000)

  test('--cookie-domain and VAI_COOKIE_DOMAIN put Domain on the session cookie, the flag winning', async () => {
    const domainOf = async (args: string[], env: Record<string, string>) => {
      const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, `domain-${args.length}.db`), ...args], env)
      try {
        const json = { 'content-type': 'application/json' }
        const body = JSON.stringify({ email: 'ada@example.com', password: 'correct horse' })
        expect((await fetch(`${server.url}/api/v1/auth/signup`, { method: 'POST', headers: json, body })).status).toBe(201)
        const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: json, body })
        expect(login.status).toBe(200)
        return /; Domain=([^;]+);/.exec(login.headers.get('set-cookie')!)?.[1]
      } finally {
        server.proc.kill('SIGTERM')
        await server.proc.exited
      }
    }
    expect(await domainOf([], { VAI_COOKIE_DOMAIN: '.Example.org' })).toBe('example.org')
    expect(await domainOf(['--cookie-domain', 'example.com'], { VAI_COOKIE_DOMAIN: 'example.org' })).toBe('example.com')
  }, 30_000)

  test('SIGTERM lets the requests in flight finish', async () => {
    const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, 'inflight.db')])
    const json = { 'content-type': 'application/json' }
    const credentials = JSON.stringify({ email: 'grace@example.com', password: 'correct horse' })
    expect((await fetch(`${server.url}/api/v1/auth/signup`, { method: 'POST', headers: json, body: credentials })).status).toBe(201)
    // Open the connections first (kept alive), so the logins below are surely
    // accepted before the signal: a connection still being set up may be refused.
    await Promise.all(Array.from({ length: 4 }, () => fetch(`${server.url}/healthz`).then((r) => r.arrayBuffer())))
    // Login hashes with argon2: slow enough to still be running when the signal lands.
    const logins = Array.from({ length: 4 }, () => fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: json, body: credentials }))
    await Bun.sleep(20)
    server.proc.kill('SIGTERM')
    const statuses = await Promise.all(logins.map(async (login) => (await login).status))
    expect(statuses).toEqual([200, 200, 200, 200])
    expect(await server.proc.exited).toBe(0)
    const check = new Database(join(bin.dir, 'inflight.db'), { readonly: true })
    expect(check.query("SELECT count(*) AS n FROM tokens WHERE token_type = 'session'").get()).toEqual({ n: 4 })
    check.close()
  }, 30_000)

  test('a revocation stream outlives the idle timeout, and SIGTERM ends it at once', async () => {
    const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, 'stream.db'), '--signup', 'open', '--idle-timeout', '1'])
    const session = await signUpAndLogIn(server, 'sse@example.com', 'correct horse')
    const gateway = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'gateway', scopes: ['introspect'] } })
    const victim = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'victim' } })
    const stream = await fetch(`${server.url}/api/v1/revocations/stream`, { headers: { authorization: `Bearer ${gateway.body.plaintext}` } })
    const log = readEvents(stream)
    // Past the 1 s idle timeout, with nothing to say (the runtime checks timeouts every 4 s or so).
    await Bun.sleep(6000)
    expect((await call(server, 'DELETE', `/api/v1/access-tokens/${victim.body.token.id}`, { token: session })).status).toBe(204)
    await until(() => log.events.length === 1)
    expect([log.ended, log.events[0]!.id, log.events[0]!.event]).toEqual([false, '1', 'revoked'])
    const signalled = performance.now()
    server.proc.kill('SIGTERM')
    expect(await server.proc.exited).toBe(0)
    await log.reading
    expect(performance.now() - signalled).toBeLessThan(2000)
    expect(log.ended).toBe(true)
  }, 30_000)

  test('serves Swagger UI with its assets from inside the binary', async () => {
    const server = await start(['--port', '0', '--host', '127.0.0.1', '--db', join(bin.dir, 'docs.db')])
    try {
      const page = await (await fetch(`${server.url}/swagger`)).text()
      const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('data:'))
      expect(assets.length).toBeGreaterThanOrEqual(2)
      for (const asset of assets) {
        expect(asset.startsWith('/')).toBe(true)
        const response = await fetch(server.url + asset)
        expect(response.status).toBe(200)
        // Swagger UI's own files are large; its few-line initialiser (swagger-init.js) is not.
        expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(asset.endsWith('swagger-init.js') ? 100 : 10_000)
      }
      const doc = (await (await fetch(`${server.url}/swagger/json`)).json()) as { openapi: string }
      expect(doc.openapi).toBe('3.0.3')
    } finally {
      server.proc.kill('SIGINT')
      expect(await server.proc.exited).toBe(0)
    }
  }, 30_000)
})
