// The compiled binary on PostgreSQL: moving an install with `vai db copy`, the admin
// commands on a postgres:// URL, and a URL's password kept out of everything printed.
import { describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { join } from 'node:path'
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres'
import { TEST_POSTGRES } from '../support/app'
import { binaryFixture, call, runIn, signUpAndLogIn, startServer, stopServer as stop, type Server } from '../support/binary'
import { testDatabases } from '../support/postgres'

const PASSWORD = 'correct horse battery'
const databases = testDatabases('cli')
// Set in the describe below, so that a skipped leg builds nothing.
let bin: { dir: string; vai: string }
// Every URL carries a password, which nothing vai prints may show.
const freshDatabase = () => databases.create('hunter2-not-shown')

const shown = (url: string) => url.replace('hunter2-not-shown', '***')

const serve = (db: string) => startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])

const signupAndLogin = (server: Server) => signUpAndLogIn(server, `pool-${Date.now()}@example.com`, PASSWORD)

describe.skipIf(!TEST_POSTGRES)('vai on PostgreSQL, from the command line', () => {
  bin = binaryFixture(() => databases.dropAll())

  test('db copy moves a SQLite install: tokens, revocations and cursors keep working on PostgreSQL, and back', async () => {
    const sqlite = join(bin.dir, 'before.db')
    const before = await serve(sqlite)
    // Through the API: a name may hold U+0000, which an argv cannot carry.
    expect((await call(before, 'POST', '/api/v1/auth/signup', { body: { email: 'ada@example.com', password: PASSWORD, name: 'Ada\u0000Lovelace' } })).status).toBe(201)
    const session = (await call(before, 'POST', '/api/v1/auth/login', { body: { email: 'ada@example.com', password: PASSWORD } })).body.plaintext
    const api = [] as { plaintext: string; token: { id: string } }[]
    for (const name of ['deploy', 'ci', 'backup']) api.push((await call(before, 'POST', '/api/v1/access-tokens', { token: session, body: { name } })).body)
    const feedOf = async (server: Server) => (await call(server, 'GET', '/api/v1/revocations', { token: api[0]!.plaintext })).body
    expect((await call(before, 'DELETE', `/api/v1/access-tokens/${api[2]!.token.id}`, { token: session })).status).toBe(204)
    const firstPage = (await call(before, 'GET', '/api/v1/access-tokens?limit=2&include_revoked=true', { token: session })).body
    const wholeList = (await call(before, 'GET', '/api/v1/access-tokens?limit=50&include_revoked=true', { token: session })).body
    const feed = await feedOf(before)
    expect(feed.items.length).toBe(1)
    await stop(before)

    const target = await freshDatabase()
    const copied = runIn(bin.dir, bin.vai, ['db', 'copy', '--from', sqlite, '--to', target])
    expect(copied).toEqual({ code: 0, stdout: `copied 1 user and 4 tokens from ${sqlite} to ${shown(target)}; counts verified\n`, stderr: '' })

    const after = await serve(target)
    expect(after.firstLine).toContain(`(database ${shown(target)})`)
    for (const { plaintext, token } of api.slice(0, 2)) {
      expect((await call(after, 'GET', `/api/v1/access-tokens/${token.id}`, { token: plaintext })).status).toBe(200)
    }
    const revoked = await call(after, 'GET', '/api/v1/auth/me', { token: api[2]!.plaintext })
    expect([revoked.status, revoked.body]).toEqual([401, { detail: 'Invalid or expired token' }])
    // The cursor secret moved too: a page cursor from before the move still continues the walk.
    const secondPage = await call(after, 'GET', `/api/v1/access-tokens?limit=2&include_revoked=true&cursor=${firstPage.nextCursor}`, { token: session })
    expect(secondPage.status).toBe(200)
    expect([...firstPage.items, ...secondPage.body.items].map((item: { id: string }) => item.id)).toEqual(wholeList.items.map((item: { id: string }) => item.id))
    // The revocation feed moved with its seqs: a follower resumes where it was, and the next entry goes on from there.
    expect(await feedOf(after)).toEqual(feed)
    expect((await call(after, 'DELETE', `/api/v1/access-tokens/${api[1]!.token.id}`, { token: session })).status).toBe(204)
    expect((await feedOf(after)).items.map((item: { seq: number }) => item.seq)).toEqual([1, 2])
    const me = (await call(after, 'GET', '/api/v1/auth/me', { token: session })).body
    expect(me.user).toMatchObject({ email: 'ada@example.com', name: 'Ada\u0000Lovelace' })
    await stop(after)

    // A second copy into the same database is refused and writes nothing.
    expect(runIn(bin.dir, bin.vai, ['db', 'copy', '--from', sqlite, '--to', target])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vai: copy failed, nothing was written: the target database has users already; copy into an empty one\n',
    })

    // And back again, into a new SQLite file.
    const back = join(bin.dir, 'back.db')
    expect(runIn(bin.dir, bin.vai, ['db', 'copy', '--from', target, '--to', back]).stdout).toBe(`copied 1 user and 4 tokens from ${shown(target)} to ${back}; counts verified\n`)
    const again = await serve(back)
    expect((await call(again, 'GET', `/api/v1/access-tokens/${api[0]!.token.id}`, { token: api[0]!.plaintext })).status).toBe(200)
    await stop(again)
  }, 60_000)

  test('--db-pool bounds the connections one instance opens, however many requests wait', async () => {
    const db = await freshDatabase()
    const server = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--db-pool', '3'])
    const session = await signupAndLogin(server)
    const replies = await Promise.all(Array.from({ length: 60 }, () => call(server, 'GET', '/api/v1/auth/me', { token: session })))
    expect(replies.map((reply) => reply.status)).toEqual(Array(60).fill(200))
    const watcher = new SQL({ url: TEST_POSTGRES!, max: 1 })
    const [{ n }] = await watcher`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${new URL(db).pathname.slice(1)} AND application_name = 'vai'`
    await watcher.close()
    expect(n).toBeGreaterThanOrEqual(1)
    expect(n).toBeLessThanOrEqual(3)
    await stop(server)
  })

  test('db copy needs both ends, and refuses a missing SQLite source', () => {
    expect(runIn(bin.dir, bin.vai, ['db', 'copy', '--from', 'x.db'])).toEqual({ code: 2, stdout: '', stderr: 'vai: --from and --to are required\n' })
    expect(runIn(bin.dir, bin.vai, ['db', 'copy', '--from', join(bin.dir, 'none.db'), '--to', join(bin.dir, 'other.db')])).toEqual({
      code: 1,
      stdout: '',
      stderr: `vai: cannot open database ${join(bin.dir, 'none.db')}: no such file\n`,
    })
    expect(runIn(bin.dir, bin.vai, ['db'])).toEqual({ code: 2, stdout: '', stderr: 'vai: db needs one of: copy\n' })
  })

  test('migrate, doctor, user and tokens work on a postgres:// URL; backup points to pg_dump', async () => {
    const db = await freshDatabase()
    const cli = (args: string[], stdin?: string) => runIn(bin.dir, bin.vai, [...args, '--db', db], { stdin })
    expect(cli(['migrate'])).toEqual({ code: 0, stdout: `schema version ${POSTGRES_SCHEMA_VERSION}\n`, stderr: '' })
    const doctor = cli(['doctor'])
    expect(doctor.code).toBe(0)
    expect(doctor.stdout).toMatch(new RegExp(`^ok    configuration in the environment is valid\nok    connected to PostgreSQL [0-9.]+.*, database vai_cli_\\d+_\\d+\nok    connection not encrypted, to 127\\.0\\.0\\.1 on this machine\nok    schema version ${POSTGRES_SCHEMA_VERSION} \\(current\\)\nwarn  no account yet, and no setup code: vai serve makes one at start \\(or create the first account with vai user add\\)\n$`))
    expect(cli(['user', 'add', '--email', 'bob@example.com'], `${PASSWORD}\n`).stdout).toMatch(/^created user bob@example\.com \([0-9a-f-]{36}\)\n$/)
    expect(JSON.parse(cli(['user', 'list', '--json']).stdout)).toMatchObject([{ email: 'bob@example.com', activeTokens: 0 }])
    expect(cli(['tokens', 'revoke-all', '--email', 'bob@example.com'])).toEqual({ code: 0, stdout: 'revoked 0 tokens of bob@example.com\n', stderr: '' })
    expect(cli(['backup', join(bin.dir, 'pg.bak')])).toEqual({
      code: 1,
      stdout: '',
      stderr: "vai: backup copies a SQLite file; back up PostgreSQL with pg_dump or your provider's snapshots\n",
    })
  })

  test('an unreachable server: serve exits 1 at once, doctor says so; neither prints the password', async () => {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    const db = `postgres://vai:hunter2-not-shown@127.0.0.1:${port}/vai`
    const served = runIn(bin.dir, bin.vai, ['serve', '--port', '0', '--db', db])
    expect(served).toEqual({ code: 1, stdout: '', stderr: `vai: cannot open database postgres://vai:***@127.0.0.1:${port}/vai: connection refused\n` })
    const doctor = runIn(bin.dir, bin.vai, ['doctor', '--db', db])
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toContain(`FAIL  cannot reach postgres://vai:***@127.0.0.1:${port}/vai: connection refused\n`)
    expect(doctor.stdout + doctor.stderr).not.toContain('hunter2')
  })

  // scripts/test-postgres.sh's cluster (the one that has VAI_TEST_POSTGRES_TLS) asks this one
  // role for a password (scram-sha-256); every other connection of the suite is trusted.
  test.skipIf(!process.env.VAI_TEST_POSTGRES_TLS)('a real password with URL-special characters, percent-encoded, logs in; a wrong one is refused; neither is printed', async () => {
    const password = 'p@ss:w/rd %?#é'
    const admin = new SQL({ url: TEST_POSTGRES!, max: 1 })
    try {
      await admin.unsafe(`DROP ROLE IF EXISTS vai_scram`)
      await admin.unsafe(`CREATE ROLE vai_scram LOGIN PASSWORD '${password}'`)
      const url = new URL(await freshDatabase())
      await admin.unsafe(`ALTER DATABASE ${url.pathname.slice(1)} OWNER TO vai_scram`)
      url.username = 'vai_scram'
      url.password = encodeURIComponent(password)
      const shownUrl = url.toString().replace(url.password, '***')
      expect(runIn(bin.dir, bin.vai, ['migrate', '--db', url.toString()])).toEqual({ code: 0, stdout: `schema version ${POSTGRES_SCHEMA_VERSION}\n`, stderr: '' })
      const server = await serve(url.toString())
      expect(server.firstLine).toContain(`(database ${shownUrl})`)
      expect((await call(server, 'GET', '/healthz')).status).toBe(200)
      await stop(server)

      url.password = encodeURIComponent(`${password}x`)
      const refused = runIn(bin.dir, bin.vai, ['serve', '--port', '0', '--db', url.toString()])
      expect(refused).toEqual({ code: 1, stdout: '', stderr: `vai: cannot open database ${url.toString().replace(url.password, '***')}: password authentication failed for user "vai_scram"\n` })
      for (const printed of [server.output(), server.errors(), refused.stderr]) {
        expect(printed).not.toContain(url.password)
        expect(printed).not.toContain(encodeURIComponent(password))
      }
    } finally {
      await admin.unsafe(`DROP ROLE IF EXISTS vai_scram`).catch(() => {})
      await admin.close()
    }
  })
})
