// Races: many clients of one user creating, revoking one, revoking all and walking
// the list at the same time — in process (Promise.all over app.handle) and over the
// compiled binary with real sockets, the admin CLI writing to the same file meanwhile.
// Afterwards: revoke-all's counts add up, no token is both listed active and refused,
// no walk saw a token twice or missed one that existed when it began, and no client
// ever got a 5xx (where SQLITE_BUSY would surface).
import { afterAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { createLoginLimiter } from '../../src/auth/login-limiter'
import { DAY_MS, issueToken } from '../../src/auth/tokens'
import { BASE, makeApp, PASSWORD, seedUser } from '../support/app'
import { binaryInEmptyDir, killServers, startServer } from '../support/binary'

afterAll(killServers)

interface Reply { status: number; body: any; text: string }
interface Credential { id: string; plaintext: string }

interface Client {
  request(method: string, path: string, token: string, body?: unknown): Promise<Reply>
  /** A new session for the user (a client whose token was revoked logs in again). */
  freshToken(): Promise<Credential>
}

interface Outcome {
  problems: string[]
  /** revokedCount of every revoke-all, from the API (and the CLI, when it ran). */
  revokeAllCounts: number[]
  /** Token ids whose DELETE got a 204. */
  revoked204: Set<string>
  /** Every token at the end, revoked ones too. */
  final: Map<string, { revokedAt: string | null }>
  created: Credential[]
  requests: number
  walks: number
}

/** Walks every page; returns the ids in order, or a problem. */
async function walk(client: Client, token: string, includeRevoked: boolean, problems: string[]): Promise<{ ids: string[]; items: any[] } | null> {
  const ids: string[] = []
  const items: any[] = []
  let cursor: string | null = null
  do {
    const query: string = `?limit=5&includeRevoked=${includeRevoked}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const reply = await client.request('GET', `/api/v1/access-tokens${query}`, token)
    if (reply.status === 401) return null
    if (reply.status !== 200) {
      problems.push(`list answered ${reply.status}: ${reply.text.slice(0, 200)}`)
      return null
    }
    for (const item of reply.body.items) {
      ids.push(item.id)
      items.push(item)
    }
    cursor = reply.body.nextCursor
  } while (cursor)
  return { ids, items }
}

/**
 * The scenario, for any client. `extraWriters` run beside the clients (the admin CLI);
 * they return revoke-all counts of their own.
 */
async function hammer(client: Client, durationMs: number, extraWriters: () => Promise<number[]> = async () => []): Promise<Outcome> {
  const problems: string[] = []
  const revokeAllCounts: number[] = []
  const revoked204 = new Set<string>()
  const created: Credential[] = []
  const rejected = new Set<string>()
  let requests = 0
  let walks = 0
  const deadline = performance.now() + durationMs
  const running = () => performance.now() < deadline

  const call = async (method: string, path: string, credential: Credential, body?: unknown) => {
    requests++
    const reply = await client.request(method, path, credential.plaintext, body)
    if (reply.status >= 500 || /SQLITE|database is locked/i.test(reply.text)) problems.push(`${method} ${path}: ${reply.status} ${reply.text.slice(0, 200)}`)
    // A 401 is fine only if the token in hand has been revoked (checked at the end).
    if (reply.status === 401) rejected.add(credential.id)
    return reply
  }

  // Each client holds its own session; a revoke-all by another client or the CLI ends it.
  const client_ = async (role: 'create' | 'revoke' | 'revokeAll' | 'walk') => {
    let credential = await client.freshToken()
    while (running()) {
      // In process nothing else would yield to timers: every client takes its turn.
      await new Promise((resolve) => setImmediate(resolve))
      let reply: Reply | undefined
      if (role === 'create') {
        reply = await call('POST', '/api/v1/access-tokens', credential, { name: `race ${created.length}` })
        if (reply.status === 201) created.push({ id: reply.body.token.id, plaintext: reply.body.plaintext })
        else if (reply.status !== 401) problems.push(`create answered ${reply.status}`)
      } else if (role === 'revoke') {
        const target = created[Math.floor(Math.random() * created.length)]
        if (!target) {
          await Bun.sleep(1)
          continue
        }
        reply = await call('DELETE', `/api/v1/access-tokens/${target.id}`, credential)
        if (reply.status === 204) revoked204.add(target.id)
        else if (reply.status !== 401) problems.push(`revoke answered ${reply.status}`)
      } else if (role === 'revokeAll') {
        await Bun.sleep(durationMs / 6)
        reply = await call('DELETE', '/api/v1/access-tokens?exclude_current=true', credential)
        if (reply.status === 200) revokeAllCounts.push(reply.body.revokedCount)
        else if (reply.status !== 401) problems.push(`revoke-all answered ${reply.status}`)
      } else {
        // Tokens whose 201 arrived before the walk began must all be in it, exactly once.
        const before = new Set(created.map((token) => token.id))
        const includeRevoked = walks % 2 === 0
        const walked = await walk(client, credential.plaintext, includeRevoked, problems)
        requests++
        if (walked === null) reply = { status: 401, body: null, text: '' }
        else {
          walks++
          const seen = new Set(walked.ids)
          if (seen.size !== walked.ids.length) problems.push(`a walk returned a token twice: ${walked.ids.length} items, ${seen.size} distinct`)
          if (includeRevoked) {
            const missing = [...before].filter((id) => !seen.has(id))
            if (missing.length > 0) problems.push(`a walk with includeRevoked missed ${missing.length} tokens that existed when it began`)
          } else if (walked.items.some((item) => item.revokedAt !== null)) problems.push('a walk without includeRevoked listed a revoked token')
        }
      }
      if (reply?.status === 401) {
        rejected.add(credential.id)
        credential = await client.freshToken()
      }
    }
  }

  const roles = ['create', 'create', 'create', 'revoke', 'revoke', 'revokeAll', 'walk', 'walk'] as const
  const [, cliCounts] = await Promise.all([Promise.all(roles.map(client_)), extraWriters()])
  revokeAllCounts.push(...cliCounts)

  // Quiet now: look at everything once more with a new session.
  const observer = await client.freshToken()
  const all = await walk(client, observer.plaintext, true, problems)
  const final = new Map<string, { revokedAt: string | null }>((all?.items ?? []).map((item) => [item.id, item]))
  final.delete(observer.id)
  const active = new Set((await walk(client, observer.plaintext, false, problems))?.ids ?? [])
  for (const token of created) {
    const me = await client.request('GET', '/api/v1/auth/me', token.plaintext)
    if (active.has(token.id) && me.status !== 200) problems.push(`token ${token.id} is listed active but refused (${me.status})`)
    if (!active.has(token.id) && me.status !== 401) problems.push(`token ${token.id} is not listed active but authenticates (${me.status})`)
    if (!final.has(token.id)) problems.push(`token ${token.id} (201 received) is not listed at all`)
  }
  for (const id of rejected) {
    if (final.get(id)?.revokedAt == null) problems.push(`a client was refused with token ${id}, which is not revoked`)
  }
  for (const id of revoked204) if (final.get(id)?.revokedAt == null) problems.push(`token ${id}: revoke got a 204 but it is not revoked`)
  return { problems, revokeAllCounts, revoked204, final, created, requests, walks }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

test('in process: concurrent creates, revokes, revoke-alls and walks keep every count and listing exact', async () => {
  const t = makeApp({ loginLimits: { perAccount: 1e6, perClient: 1e6, windowMs: 60_000 } })
  const { user } = await seedUser(t)
  // A clock that never repeats: each revoke-all stamps its tokens with a revokedAt of its own,
  // so the tokens it revoked can be told from those revoked one by one.
  let tick = t.clock.now()
  const now = () => ++tick
  const app = createApp({ config: t.config, store: t.store, now, loginLimiter: createLoginLimiter(t.store) })
  const client: Client = {
    async request(method, path, token, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` }
      if (body !== undefined) headers['content-type'] = 'application/json'
      const response = await app.handle(new Request(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }))
      const text = await response.text()
      return { status: response.status, text, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text }
    },
    async freshToken() {
      const { plaintext, token } = await issueToken(t.store, { userId: user.id, name: 'client', tokenType: 'session', expiresAt: tick + DAY_MS, now: now() })
      return { id: token.id, plaintext }
    },
  }
  const outcome = await hammer(client, 1500)
  const revoked = [...outcome.final.entries()].filter(([, token]) => token.revokedAt !== null)
  // Group by revokedAt: one group per revoke-all (of exactly its count), one token per single revoke.
  const groups = new Map<string, string[]>()
  for (const [id, token] of revoked) groups.set(token.revokedAt!, [...(groups.get(token.revokedAt!) ?? []), id])
  const counts = outcome.revokeAllCounts.filter((n) => n > 0)
  const ones = counts.filter((n) => n === 1).length
  const singles = [...groups.values()].filter((ids) => ids.length === 1).map(([id]) => id!)
  // Each revoke-all is one group of exactly its count; the other groups are single revokes,
  // each of a token whose DELETE got a 204 (a revoke-all of one token also makes a group of one).
  const groupSizes = [...groups.values()].map((ids) => ids.length).filter((n) => n > 1)
  const individually = singles.length - ones
  console.log(
    `races in process: ${outcome.requests} requests, ${outcome.walks} walks, ${outcome.created.length} tokens created, ` +
      `${outcome.revokeAllCounts.length} revoke-alls revoking ${sum(outcome.revokeAllCounts)}, ${individually} revoked one by one, ${revoked.length} revoked in all`,
  )
  expect(outcome.problems).toEqual([])
  expect(sum(outcome.revokeAllCounts) + individually).toBe(revoked.length)
  expect(groupSizes.sort((a, b) => a - b)).toEqual(counts.filter((n) => n > 1).sort((a, b) => a - b))
  expect(singles.filter((id) => !outcome.revoked204.has(id)).length).toBeLessThanOrEqual(ones)
  expect(outcome.revokeAllCounts.length).toBeGreaterThan(0)
  expect(outcome.revoked204.size).toBeGreaterThan(0)
  expect(outcome.walks).toBeGreaterThan(2)
}, 30_000)

test('two processes: the server under concurrent load while the admin CLI revokes all, adds users and backs up the same file', async () => {
  const { dir, vai } = binaryInEmptyDir()
  const db = join(dir, 'race.db')
  const server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--signup', 'open'])
  try {
    const email = 'racer@example.com'
    const json = { 'content-type': 'application/json' }
    expect((await fetch(`${server.url}/api/v1/auth/signup`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) })).status).toBe(201)
    const client: Client = {
      async request(method, path, token, body) {
        const response = await fetch(server.url + path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : json) },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const text = await response.text()
        return { status: response.status, text, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text }
      },
      async freshToken() {
        let response = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) })
        // More logins at once than argon2 may queue are told "Server busy": as a client should, come back after Retry-After.
        while (response.status === 503 && response.headers.has('retry-after')) {
          await Bun.sleep(Number(response.headers.get('retry-after')) * 1000)
          response = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) })
        }
        if (response.status !== 200) throw new Error(`login answered ${response.status}`)
        const body = (await response.json()) as { plaintext: string; token: { id: string } }
        return { id: body.token.id, plaintext: body.plaintext }
      },
    }
    const cli: { args: string[]; code: number; stderr: string }[] = []
    const runCli = async (args: string[], stdin?: string) => {
      const proc = Bun.spawn([vai, ...args, '--db', db], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdin: stdin === undefined ? 'ignore' : new TextEncoder().encode(stdin), stdout: 'pipe', stderr: 'pipe' })
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
      cli.push({ args, code, stderr })
      return stdout
    }
    // The CLI, over and over for as long as the clients run: its revoke-alls count too.
    const cliWriters = async () => {
      const counts: number[] = []
      for (let i = 0; i < 3; i++) {
        counts.push(Number(/^revoked (\d+) tokens? of /.exec(await runCli(['tokens', 'revoke-all', '--email', email]))?.[1]))
        await runCli(['user', 'add', '--email', `cli-${i}@example.com`], 'cli user password\n')
        await runCli(['backup', join(dir, `backup-${i}.db`)])
      }
      return counts
    }
    const outcome = await hammer(client, 3000, cliWriters)
    const revoked = [...outcome.final.values()].filter((token) => token.revokedAt !== null).length
    console.log(
      `races over the binary: ${outcome.requests} requests, ${outcome.walks} walks, ${outcome.created.length} tokens created, ` +
        `${outcome.revokeAllCounts.length} revoke-alls (API and CLI) revoking ${sum(outcome.revokeAllCounts)}, ${outcome.revoked204.size} revokes with a 204, ` +
        `${revoked} revoked in all; ${cli.length} CLI runs`,
    )
    expect(outcome.problems).toEqual([])
    expect(cli.filter((run) => run.code !== 0)).toEqual([])
    // Over real time, revokedAt stamps can coincide: the counts bound the total from both sides.
    expect(sum(outcome.revokeAllCounts)).toBeLessThanOrEqual(revoked)
    expect(revoked).toBeLessThanOrEqual(sum(outcome.revokeAllCounts) + outcome.revoked204.size)
    const file = new Database(db, { readonly: true })
    expect(file.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check).toBe('ok')
    file.close()
  } finally {
    server.proc.kill('SIGTERM')
    await server.proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
