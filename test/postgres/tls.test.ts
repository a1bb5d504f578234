// The compiled binary on PostgreSQL over TLS, as a managed database wants it: the URL's
// sslmode and sslrootcert (Bun.SQL reads them) decide what vai accepts. Runs in the
// PostgreSQL leg, whose throwaway cluster (scripts/test-postgres.sh) has TLS on with
// certificates of its own: VAI_TEST_POSTGRES_TLS names their directory.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_POSTGRES } from '../support/app'
import { binaryInEmptyDir, call, killServers, runIn, signUpAndLogIn, startServer, stopServer as stop } from '../support/binary'
import { testDatabases } from '../support/postgres'

const TLS = process.env.VAI_TEST_POSTGRES_TLS
const PASSWORD = 'correct horse battery'
const UNAVAILABLE = { detail: 'Database unavailable' }
let dir: string
let vai: string
const databases = testDatabases('tls')

/** A database of its own, reached with these URL parameters and a password nothing may print. */
async function database(params: Record<string, string>, host = '127.0.0.1') {
  const url = new URL(await databases.create('hunter2-not-shown'))
  url.hostname = host
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  return { url: url.toString(), shown: url.toString().replace('hunter2-not-shown', '***'), name: url.pathname.slice(1) }
}

describe.skipIf(!TEST_POSTGRES || !TLS)('vai on PostgreSQL over TLS', () => {
  // The cluster's own superuser, in the clear, to look at vai's connections from outside.
  let admin: SQL
  const verifyFull = () => ({ sslmode: 'verify-full', sslrootcert: join(TLS!, 'ca.pem') })

  beforeAll(() => {
    ;({ dir, vai } = binaryInEmptyDir())
    admin = new SQL({ url: TEST_POSTGRES!, max: 1 })
  }, 60_000)

  afterAll(async () => {
    killServers()
    await admin.close()
    await databases.dropAll()
    rmSync(dir, { recursive: true, force: true })
  })

  test('sslmode=verify-full with the CA in sslrootcert: vai serves, and every connection it holds is encrypted', async () => {
    const db = await database(verifyFull())
    const server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db.url])
    try {
      expect(server.firstLine).toContain(`(database ${db.shown})`)
      const session = await signUpAndLogIn(server, 'ada@example.com', PASSWORD)
      const created = await call(server, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'deploy' } })
      expect(created.status).toBe(201)
      expect((await call(server, 'GET', `/api/v1/access-tokens/${created.body.token.id}`, { token: created.body.plaintext })).status).toBe(200)

      const connections = await admin`
        SELECT s.ssl, s.version FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
        WHERE a.datname = ${db.name} AND a.application_name = 'vai'`
      expect(connections.length).toBeGreaterThan(0)
      expect(connections.filter((row: { ssl: boolean }) => !row.ssl)).toEqual([])
      expect(connections[0].version).toMatch(/^TLSv1\.[23]$/)
    } finally {
      await stop(server)
    }
    expect(server.errors()).toBe('')

    const doctor = runIn(dir, vai, ['doctor', '--db', db.url])
    expect(doctor.code).toBe(0)
    expect(doctor.stdout).toMatch(/^ok {4}connection encrypted \(TLSv1\.[23]\), the server's certificate and name verified \(sslmode=verify-full\)$/m)
    expect(doctor.stdout + doctor.stderr).not.toContain('hunter2-not-shown')
  }, 30_000)

  test('a server vai cannot verify is refused at start, and the reason is said; the password is not', async () => {
    const cases: [string, Record<string, string>, string, string][] = [
      ['no sslrootcert: the system CAs do not sign it', { sslmode: 'verify-full' }, '127.0.0.1', 'unable to verify the first certificate'],
      ['sslrootcert names another CA', { sslmode: 'verify-full', sslrootcert: join(TLS!, 'stranger-ca.pem') }, '127.0.0.1', 'unable to verify the first certificate'],
      ['the certificate is for 127.0.0.1, not localhost', verifyFull(), 'localhost', "Hostname/IP does not match certificate's altnames"],
      // Bun.SQL, given a CA, verifies under a weaker mode too (libpq would check the CA only).
      ['sslmode=require with a CA that did not sign it', { sslmode: 'require', sslrootcert: join(TLS!, 'stranger-ca.pem') }, '127.0.0.1', 'unable to verify the first certificate'],
      ['sslmode=require with the CA, for another name', { sslmode: 'require', sslrootcert: join(TLS!, 'ca.pem') }, 'localhost', "Hostname/IP does not match certificate's altnames"],
    ]
    for (const [name, params, host, reason] of cases) {
      const db = await database(params, host)
      const served = runIn(dir, vai, ['serve', '--port', '0', '--db', db.url])
      expect({ name, ...served }).toEqual({ name, code: 1, stdout: '', stderr: `vai: cannot open database ${db.shown}: ${reason}\n` })
      const doctor = runIn(dir, vai, ['doctor', '--db', db.url])
      expect({ name, code: doctor.code, stderr: doctor.stderr }).toEqual({ name, code: 1, stderr: '' })
      expect(doctor.stdout).toContain(`FAIL  cannot reach ${db.shown}: ${reason}\n`)
    }
    // verify-ca checks who signed the certificate, not the name in it.
    const db = await database({ sslmode: 'verify-ca', sslrootcert: join(TLS!, 'ca.pem') }, 'localhost')
    expect(runIn(dir, vai, ['migrate', '--db', db.url]).code).toBe(0)
  }, 30_000)

  test('the server turns up with a certificate vai cannot verify: 503 meanwhile, no 500, then serving again', async () => {
    const db = await database(verifyFull())
    const server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db.url])
    const serverCertificate = async (name: string) => {
      await admin.unsafe(`ALTER SYSTEM SET ssl_cert_file = '${join(TLS!, `${name}.crt`)}'`)
      await admin.unsafe(`ALTER SYSTEM SET ssl_key_file = '${join(TLS!, `${name}.key`)}'`)
      await admin`SELECT pg_reload_conf()`
      // The reload is asynchronous: wait until a new connection is handed the new certificate.
      for (const deadline = Date.now() + 5_000; ; await Bun.sleep(50)) {
        const probe = new SQL({ url: db.url, max: 1, connectionTimeout: 2 })
        const trusted = await probe`SELECT 1`.then(() => true, () => false)
        await probe.close()
        if (trusted === (name === 'server')) break
        if (Date.now() > deadline) throw new Error(`the server did not take ${name}.crt`)
      }
    }
    try {
      const session = await signUpAndLogIn(server, 'ada@example.com', PASSWORD)

      // A rotation gone wrong, or someone posing as the database: every new connection is untrusted.
      await serverCertificate('stranger')
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name} AND application_name = 'vai'`
      for (const [path, token] of [['/healthz', undefined], ['/api/v1/auth/me', session], ['/api/v1/access-tokens', session]] as const) {
        const reply = await call(server, 'GET', path, { token })
        expect([path, reply.status, reply.body, reply.headers.get('retry-after')]).toEqual([path, 503, UNAVAILABLE, '1'])
      }
      expect(server.proc.exitCode).toBeNull()

      await serverCertificate('server')
      let health = await call(server, 'GET', '/healthz')
      for (const deadline = Date.now() + 10_000; health.status !== 200 && Date.now() < deadline; await Bun.sleep(100)) health = await call(server, 'GET', '/healthz')
      expect([health.status, health.body]).toEqual([200, { status: 'ok' }])
      expect((await call(server, 'GET', '/api/v1/auth/me', { token: session })).status).toBe(200)
    } finally {
      await admin.unsafe('ALTER SYSTEM RESET ssl_cert_file')
      await admin.unsafe('ALTER SYSTEM RESET ssl_key_file')
      await admin`SELECT pg_reload_conf()`
      await stop(server)
    }
    // Told as an outage, in a line per 10 s, never as a bug with a stack.
    const lines = server.errors().split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    // (The retention job may meet the outage too: it says so as an outage, and tries at its next run.)
    for (const line of lines) expect(line).toMatch(/^vai: (database unavailable, answering 503: \S.*|(retention purge|expiry notices) failed: database unavailable \(\S.*\); next try at the next run|deliveries failed: database unavailable \(\S.*\); retried in a second)$/)
  }, 30_000)
})
