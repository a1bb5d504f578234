// No secret reaches what vai writes: a realistic session over the compiled binary
// (signup, logins, creates, tokens in odd places, bad requests, revokes, the admin
// CLI), once with the plain access log and once with --log-format json. Everything
// the processes wrote (stdout and stderr of the server and of every CLI run), every
// error response and the /metrics page are searched for every plaintext issued, every
// password, each token's SHA-256 digest (hex, base64, base64url) and every cookie value.
import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeApp, seedUser } from '../support/app'
import { binaryInEmptyDir, killServers, startServer } from '../support/binary'

afterAll(killServers)

const PASSWORD = 'secret password 7f3a9c'
const NEW_PASSWORD = 'another secret 51be02'
const CLI_PASSWORD = 'cli secret password e9d4'
const OTHER_COOKIE = 'unrelated-cookie-value-0c1d2e'

interface Heard {
  /** What must never show. */
  secrets: Set<string>
  /** Everything written or answered where a secret must not be. */
  haystack: string[]
  requests: number
}

async function session(url: string, vai: string, dir: string, db: string, heard: Heard) {
  const { secrets, haystack } = heard
  const email = 'keeper@example.com'
  const json = { 'content-type': 'application/json' }
  const plaintexts: string[] = []
  const remember = (plaintext: string) => {
    plaintexts.push(plaintext)
    secrets.add(plaintext)
    const digest = new Bun.CryptoHasher('sha256').update(plaintext).digest()
    for (const encoding of ['hex', 'base64', 'base64url'] as const) secrets.add(Buffer.from(digest).toString(encoding))
    secrets.add(Buffer.from(digest).toString('hex').toUpperCase())
  }
  for (const password of [PASSWORD, NEW_PASSWORD, CLI_PASSWORD, OTHER_COOKIE]) secrets.add(password)

  /** Sends a request; error answers join the haystack, and so do success answers that carry no plaintext. */
  const send = async (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
    heard.requests++
    const response = await fetch(url + path, { ...init, headers: { 'user-agent': 'curl/8.5.0', ...init.headers } })
    const text = await response.text()
    const carriesPlaintext = response.status === 201 && path.endsWith('/access-tokens') || (response.status === 200 && path.endsWith('/login'))
    if (!carriesPlaintext) haystack.push(`${response.status} ${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`)
    return { status: response.status, text, json: () => JSON.parse(text) }
  }
  const login = async (password = PASSWORD, extra: Record<string, string> = {}) => {
    const reply = await send('/api/v1/auth/login', { method: 'POST', headers: { ...json, ...extra }, body: JSON.stringify({ email, password }) })
    if (reply.status === 200) remember(reply.json().plaintext)
    return reply
  }
  const create = async (token: string, name: string) => {
    const reply = await send('/api/v1/access-tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ name }) })
    expect(reply.status).toBe(201)
    remember(reply.json().plaintext)
    return reply.json() as { plaintext: string; token: { id: string } }
  }

  // Signup and logins, a wrong password, a locked-out account.
  expect((await send('/api/v1/auth/signup', { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) })).status).toBe(201)
  expect((await login()).status).toBe(200)
  const session1 = plaintexts.at(-1)!
  expect((await login(PASSWORD, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' })).status).toBe(200)
  expect((await login(NEW_PASSWORD)).status).toBe(401)
  const api = await create(session1, 'deploy key')
  const api2 = await create(session1, 'ci key')
  const tampered = api.plaintext.slice(0, -1) + (api.plaintext.endsWith('a') ? 'b' : 'a')
  secrets.add(tampered)

  // Every carrier, good and bad.
  for (const token of [session1, api.plaintext, tampered]) {
    await send('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
    await send('/api/v1/auth/me', { headers: { 'x-api-key': token } })
    await send('/api/v1/auth/me', { headers: { cookie: `${'other'}=${OTHER_COOKIE}; vai_token=${token}` } })
    await send('/api/v1/auth/me', { headers: { authorization: `Basic ${btoa(`user:${token}`)}` } })
  }
  // Tokens where they do not belong: query strings, paths, bodies, odd headers.
  const odd = api2.plaintext
  await send(`/api/v1/access-tokens?token=${odd}&cursor=${odd}&limit=${odd}&tokenType=${odd}`, { headers: { 'x-api-key': session1 } })
  await send(`/api/v1/access-tokens?access_token=${odd}`)
  await send(`/api/v1/access-tokens/${odd}`, { headers: { authorization: `Bearer ${session1}` } })
  await send(`/api/v1/access-tokens/${odd}`, { method: 'DELETE', headers: { authorization: `Bearer ${session1}` } })
  await send(`/${odd}`)
  await send(`/api/v1/${odd}/me`, { method: 'PATCH' })
  await send('/api/v1/auth/me', { method: 'POST', headers: { authorization: `Bearer ${odd}` } })
  await send('/api/v1/access-tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${session1}` }, body: JSON.stringify({ name: 7, token: odd, expiresInDays: odd }) })
  await send('/api/v1/access-tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${session1}` }, body: `{"name": "${odd}` })
  await send('/api/v1/access-tokens', { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${session1}` }, body: odd })
  await send('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email: odd, password: odd }) })
  await send('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email, password: 7, name: odd.repeat(10) }) })
  await send('/api/v1/auth/signup', { method: 'POST', headers: json, body: JSON.stringify({ email, password: NEW_PASSWORD }) })
  await send('/api/v1/auth/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: 'x', password: CLI_PASSWORD.slice(0, 5) + odd }) })
  await send('/api/v1/auth/me', { headers: { authorization: `Bearer ${session1}`, 'x-request-id': odd, 'x-forwarded-for': odd, referer: `https://example.com/?t=${odd}` } })
  await send('/api/v1/access-tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${session1}` }, body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) + odd }) })
  await send('/metrics', { headers: { authorization: `Bearer ${odd}` } })

  // Lock the account out: 429s with the password in the body.
  for (let i = 0; i < 6; i++) await send('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email: 'nobody@example.com', password: `${PASSWORD}-${i}` }) })

  // Revokes and logout, then the dead tokens again.
  expect((await send(`/api/v1/access-tokens/${api.token.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${session1}` } })).status).toBe(204)
  await send('/api/v1/auth/me', { headers: { authorization: `Bearer ${api.plaintext}` } })
  expect((await send('/api/v1/access-tokens?exclude_current=true', { method: 'DELETE', headers: { authorization: `Bearer ${session1}` } })).status).toBe(200)
  expect((await send('/api/v1/auth/logout', { method: 'POST', headers: { cookie: `vai_token=${session1}` } })).status).toBe(204)
  await send('/api/v1/auth/me', { headers: { cookie: `vai_token=${session1}` } })
  await send('/api/v1/access-tokens', { headers: { authorization: `Bearer ${odd}` } })

  // The metrics page, as an operator scrapes it.
  haystack.push((await send('/metrics')).text)

  // The admin CLI on the same file, errors included.
  const cli = async (args: string[], stdin?: string) => {
    const proc = Bun.spawn([vai, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdin: stdin === undefined ? 'ignore' : new TextEncoder().encode(stdin), stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    haystack.push(stdout, stderr)
    return stdout
  }
  await cli(['user', 'add', '--email', 'cli@example.com', '--db', db], `${CLI_PASSWORD}\n`)
  await cli(['user', 'add', '--email', 'cli@example.com', '--db', db], `${CLI_PASSWORD}\n`)
  await cli(['user', 'add', '--email', 'short@example.com', '--db', db], 'short\n')
  await cli(['user', 'passwd', '--email', email, '--db', db], `${NEW_PASSWORD}\n`)
  await cli(['user', 'list', '--db', db])
  await cli(['user', 'list', '--json', '--db', db])
  await cli(['tokens', 'list', '--email', email, '--db', db])
  await cli(['tokens', 'list', '--email', email, '--json', '--db', db])
  await cli(['tokens', 'revoke-all', '--email', email, '--db', db])
  await cli(['tokens', 'list', '--email', odd, '--db', db])
  await cli(['backup', join(dir, `backup-${Date.now()}.db`), '--db', db])
  await cli(['doctor', '--db', db])
  await cli(['serve', '--metrics-token', odd, '--port', 'nope'])
  expect((await login(NEW_PASSWORD)).status).toBe(200)
}

describe.each(['plain', 'json'])('with the %s access log', (format) => {
  test('no plaintext, password, digest or cookie value appears in anything vai wrote', async () => {
    const { dir, vai } = binaryInEmptyDir()
    const db = join(dir, 'secrets.db')
    const heard: Heard = { secrets: new Set(), haystack: [], requests: 0 }
    const server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--log-format', format, '--metrics'])
    try {
      await session(server.url, vai, dir, db, heard)
    } finally {
      // SIGTERM: the server flushes its buffered log and says goodbye.
      server.proc.kill('SIGTERM')
      await server.drained()
      rmSync(dir, { recursive: true, force: true })
    }
    heard.haystack.push(server.output(), server.errors())
    const everything = heard.haystack.join('\n')
    // The log did see the session: one line per request.
    expect(everything.split('\n').filter((line) => line.includes('/api/v1/auth/me')).length).toBeGreaterThan(10)
    const found = [...heard.secrets].filter((secret) => everything.includes(secret))
    console.log(`secrets (${format} log): ${heard.requests} requests, ${heard.secrets.size} secrets searched for in ${everything.length} characters written or answered: ${found.length} found`)
    // Where each one was found, so that a failure says which channel leaked.
    const where = found.map((secret) => {
      const at = everything.indexOf(secret)
      return `${secret.slice(0, 12)}… in: ${everything.slice(Math.max(0, at - 200), at + secret.length + 50).replaceAll(secret, '<SECRET>')}`
    })
    expect(where).toEqual([])
  }, 60_000)
})

test('a token sent as X-Request-Id is not taken as the request id (which the log writes)', async () => {
  const t = makeApp()
  const { plaintext } = await seedUser(t)
  const logged = await t.get('/healthz', { headers: { 'x-request-id': plaintext } })
  expect(logged.headers.get('x-request-id')).not.toBe(plaintext)
  expect(logged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  // An ordinary id from a proxy is still kept.
  expect((await t.get('/healthz', { headers: { 'x-request-id': 'req-42.abc' } })).headers.get('x-request-id')).toBe('req-42.abc')
})
