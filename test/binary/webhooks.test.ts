// Webhooks from the compiled binary, on the suite's backend: `vai webhooks` add, list, remove
// and deliveries, what they refuse, and dist/vai delivering to a real receiver on loopback
// that checks every signature (test/support/receiver.ts): within 2 s of the change, and with
// nothing lost when the process is killed with SIGKILL between the change and the delivery.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { Database } from 'bun:sqlite'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_POSTGRES } from '../support/app'
import { binaryInEmptyDir, call, killServers, runIn, signUpAndLogIn, startServer, stopServer } from '../support/binary'
import { testDatabases } from '../support/postgres'
import { startReceiver, type Receiver } from '../support/receiver'

const PASSWORD = 'correct horse battery'
let dir: string
let vai: string
const databases = testDatabases('webhooks')
const receivers: Receiver[] = []

beforeAll(() => {
  ;({ dir, vai } = binaryInEmptyDir())
})
afterAll(async () => {
  killServers()
  for (const receiver of receivers) receiver.stop()
  if (TEST_POSTGRES) await databases.dropAll()
  rmSync(dir, { recursive: true, force: true })
})

let files = 0
const newDb = async () => (TEST_POSTGRES ? databases.create() : join(dir, `webhooks-${++files}.db`))
const cli = (db: string, args: string[]) => runIn(dir, vai, [...args, '--db', db])
const serve = (db: string, ...flags: string[]) => startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, ...flags])

/** Registers the receiver's URL; the secret vai printed once. */
function addEndpoint(db: string, url: string, events?: string): { id: string; secret: string } {
  const added = cli(db, ['webhooks', 'add', '--url', url, '--json', ...(events ? ['--events', events] : [])])
  expect([added.code, added.stderr]).toEqual([0, ''])
  return JSON.parse(added.stdout)
}

describe('vai webhooks', () => {
  let db: string
  beforeAll(async () => {
    db = await newDb()
    expect(cli(db, ['migrate']).code).toBe(0)
  })

  test.each([
    ['ftp://files.example.com/in', 'vai: invalid --url: ftp is not http or https\n'],
    ['javascript:alert(1)', 'vai: invalid --url: javascript is not http or https\n'],
    ['https://hooks:s3cr3t-pass@example.com/in', 'vai: invalid --url: it carries credentials (user:password@); the signature authenticates vai instead\n'],
    ['not a url', 'vai: invalid --url: not a URL\n'],
  ])('add --url %s is refused, exit 2, and nothing is added', (url, stderr) => {
    const added = cli(db, ['webhooks', 'add', '--url', url])
    expect(added).toEqual({ code: 2, stdout: '', stderr })
    expect(cli(db, ['webhooks', 'list', '--json']).stdout).toBe('[]\n')
  })

  test('add without --url, or with an event type that is none, is refused, exit 2', () => {
    expect(cli(db, ['webhooks', 'add'])).toEqual({ code: 2, stdout: '', stderr: 'vai: --url is required\n' })
    const bad = cli(db, ['webhooks', 'add', '--url', 'https://example.com/in', '--events', 'token.revoked,token.stolen'])
    expect([bad.code, bad.stdout]).toEqual([2, ''])
    expect(bad.stderr).toStartWith("vai: invalid --events 'token.stolen': expected a comma-separated list of login.succeeded, ")
    expect(cli(db, ['webhooks', 'list', '--json']).stdout).toBe('[]\n')
  })

  test('add prints the secret once; list shows the endpoints without it; remove takes one away', () => {
    const added = cli(db, ['webhooks', 'add', '--url', 'https://hooks.example.com/vai?team=ops', '--events', 'token.revoked,token.leak_reported'])
    expect(added.code).toBe(0)
    const [line, secretLine] = added.stdout.trimEnd().split('\n')
    const id = /^endpoint ([0-9a-f-]{36}) added: https:\/\/hooks\.example\.com\/vai\?team=ops \(token\.revoked, token\.leak_reported\)$/.exec(line!)?.[1]
    expect(id).toBeDefined()
    const secret = /^secret: (whsec_[A-Za-z0-9+/]{43}=)$/.exec(secretLine!)?.[1]
    expect(Buffer.from(secret!.slice(6), 'base64')).toHaveLength(32)
    expect(added.stderr).toBe('vai: the secret is shown this once; the receiver checks each webhook-signature with it\n')
    const all = addEndpoint(db, 'http://127.0.0.1:9/all')

    const listed = cli(db, ['webhooks', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([
      { id, url: 'https://hooks.example.com/vai?team=ops', events: ['token.leak_reported', 'token.revoked'], createdAt: expect.any(String) },
      { id: all.id, url: 'http://127.0.0.1:9/all', events: null, createdAt: expect.any(String) },
    ])
    const table = cli(db, ['webhooks', 'list'])
    expect(table.stdout).toContain(`${id}  https://hooks.example.com/vai?team=ops  token.leak_reported,token.revoked`)
    expect(table.stdout + cli(db, ['webhooks', 'list', '--json']).stdout).not.toContain(secret!)

    expect(cli(db, ['webhooks', 'remove', id!])).toEqual({ code: 0, stdout: `endpoint ${id} removed\n`, stderr: '' })
    expect(cli(db, ['webhooks', 'remove', id!])).toEqual({ code: 1, stdout: '', stderr: `vai: no webhook endpoint ${id}\n` })
    expect(cli(db, ['webhooks', 'remove', all.id]).code).toBe(0)
    expect(cli(db, ['webhooks', 'list']).stdout).toBe('no webhook endpoints (vai webhooks add --url URL)\n')
  })
})

describe('vai doctor and the webhook queue', () => {
  test('says how many deliveries wait; warns once the oldest has waited over an hour', async () => {
    const db = await newDb()
    expect(cli(db, ['migrate']).code).toBe(0)
    expect(cli(db, ['doctor']).stdout).not.toContain('webhook deliveries')
    addEndpoint(db, 'http://127.0.0.1:9/nobody-listens')
    expect(cli(db, ['doctor']).stdout).toContain('ok    webhook deliveries: none waiting (1 endpoint)\n')
    // No vai serve runs: the user's event waits in the queue.
    expect(runIn(dir, vai, ['user', 'add', '--email', 'ops@example.com', '--db', db], { stdin: `${PASSWORD}\n` }).code).toBe(0)
    expect(cli(db, ['doctor']).stdout).toContain('ok    webhook deliveries: 1 pending, the oldest queued 0 min ago\n')
    const twoHours = 2 * 3_600_000
    if (TEST_POSTGRES) {
      const sql = new SQL(db)
      await sql`UPDATE deliveries SET created_at = created_at - ${twoHours}`
      await sql.close()
    } else {
      const sqlite = new Database(db)
      sqlite.run('UPDATE deliveries SET created_at = created_at - ?', [twoHours])
      sqlite.close()
    }
    const doctor = cli(db, ['doctor'])
    expect(doctor.code).toBe(0)
    expect(doctor.stdout).toContain('warn  webhook deliveries: 1 pending, the oldest queued 2 h ago: is a receiver down, or no vai serve running? (vai webhooks deliveries shows the last answers)\n')
  })
})

describe('dist/vai delivers', () => {
  test('each change’s event reaches the receiver within 2 s of the answer, signed; deliveries shows it delivered', async () => {
    const db = await newDb()
    let secret = ''
    const receiver = startReceiver(() => secret)
    receivers.push(receiver)
    expect(cli(db, ['migrate']).code).toBe(0)
    ;({ secret } = addEndpoint(db, receiver.url))
    const server = await serve(db)
    const answered = Date.now()
    const session = await signUpAndLogIn(server, 'ada@example.com', PASSWORD)
    const created = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'deploy' } })
    const changed = Date.now()
    await receiver.waitFor((got) => got.length >= 3, 5_000)
    const latest = Math.max(...receiver.received.map((r) => r.at)) - changed
    console.log(`webhooks: 3 events from dist/vai, the last received ${latest} ms after its change was answered (${changed - answered} ms of requests)`)
    expect(latest).toBeLessThan(2_000)
    expect(receiver.received.map((r) => [r.type, r.verified])).toEqual([['user.created', true], ['login.succeeded', true], ['token.created', true]])
    expect(receiver.received[2]!.body.data).toMatchObject({ email: 'ada@example.com', tokenPrefix: created.body.token.tokenPrefix, tokenId: created.body.token.id })
    await stopServer(server)
    const deliveries = JSON.parse(cli(db, ['webhooks', 'deliveries', '--json']).stdout)
    expect(deliveries.map((d: { eventType: string; state: string; attempts: number; lastStatus: number }) => [d.eventType, d.state, d.attempts, d.lastStatus])).toEqual([
      ['token.created', 'delivered', 1, 204], ['login.succeeded', 'delivered', 1, 204], ['user.created', 'delivered', 1, 204],
    ])
    expect(cli(db, ['webhooks', 'deliveries']).stdout).toMatch(/^ID +EVENT +CHANNEL +ENDPOINT +STATE +ATTEMPTS +LAST +NEXT\n/)
  }, 20_000)

  test('killed with SIGKILL between the change and the delivery: the next start delivers every event', async () => {
    const db = await newDb()
    let secret = ''
    // Down at first: vai tries, fails, and is killed before any event gets through.
    const probe = startReceiver(() => secret)
    const port = probe.port
    const url = probe.url
    probe.stop()
    expect(cli(db, ['migrate']).code).toBe(0)
    ;({ secret } = addEndpoint(db, url))
    const first = await serve(db)
    const session = await signUpAndLogIn(first, 'grace@example.com', PASSWORD)
    const created = await call(first, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'deploy' } })
    expect((await call(first, 'DELETE', `/api/v1/access-tokens/${created.body.token.id}`, { token: session })).status).toBe(204)
    for (let deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(50)) {
      const attempted = JSON.parse(cli(db, ['webhooks', 'deliveries', '--json']).stdout).filter((d: { attempts: number }) => d.attempts > 0)
      if (attempted.length > 0) break
    }
    first.proc.kill('SIGKILL')
    await first.drained()
    const queued = JSON.parse(cli(db, ['webhooks', 'deliveries', '--json']).stdout) as { eventId: string; state: string }[]
    expect(queued.map((d) => d.state)).toEqual(['pending', 'pending', 'pending', 'pending'])
    expect(first.output()).toContain('webhook delivery')

    const receiver = startReceiver(() => secret, port)
    receivers.push(receiver)
    const second = await serve(db)
    // The first retry comes within 10 s of the failed attempt (5 s at most, with jitter).
    await receiver.waitFor((got) => new Set(got.map((r) => r.id)).size >= 4, 12_000)
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(queued.map((d) => d.eventId)))
    expect(receiver.received.every((r) => r.verified)).toBe(true)
    expect(receiver.received.map((r) => r.type).sort()).toEqual(['login.succeeded', 'token.created', 'token.revoked', 'user.created'])
    await stopServer(second)
  }, 30_000)
})

describe.skipIf(!TEST_POSTGRES)('two instances on one PostgreSQL database', () => {
  test('each event is delivered by one of them: SKIP LOCKED shares the outbox out, no event twice', async () => {
    const db = await newDb()
    let secret = ''
    const receiver = startReceiver(() => secret)
    receivers.push(receiver)
    // Slow enough that both instances find work waiting at every look.
    receiver.answer = () => ({ delayMs: 100 })
    expect(cli(db, ['migrate']).code).toBe(0)
    ;({ secret } = addEndpoint(db, receiver.url))
    const [a, b] = await Promise.all([serve(db, '--metrics', '--signup', 'open'), serve(db, '--metrics', '--signup', 'open')])
    // One at a time: password hashing is bounded, and a burst of signups is answered 503.
    const sessions: string[] = []
    for (let i = 0; i < 12; i++) sessions.push(await signUpAndLogIn(i % 2 ? a! : b!, `user-${i}@example.com`, PASSWORD))
    await Promise.all(sessions.map((session, i) => call(i % 2 ? b! : a!, 'POST', '/api/v1/access-tokens', { token: session, body: { name: `t${i}` } })))
    const events = 12 * 3
    await receiver.waitFor((got) => new Set(got.map((r) => r.id)).size >= events, 20_000)
    await Bun.sleep(1_500) // a second delivery of any of them would come by now
    const counts = [...receiver.deliveredIds().values()]
    const sent = async (server: typeof a) => Number(/^vai_deliveries_total\{channel="webhook",result="delivered"\} (\d+)$/m.exec((await call(server!, 'GET', '/metrics')).body)?.[1])
    const [byA, byB] = await Promise.all([sent(a), sent(b)])
    console.log(`webhooks on two instances: ${events} events, ${receiver.received.length} requests, A sent ${byA}, B sent ${byB}, duplicates ${counts.filter((n) => n > 1).length}`)
    expect(counts).toHaveLength(events)
    expect(counts.every((n) => n === 1)).toBe(true)
    expect(byA + byB).toBe(events)
    expect(receiver.received.every((r) => r.verified)).toBe(true)
    await Promise.all([stopServer(a!), stopServer(b!)])
  }, 40_000)
})
