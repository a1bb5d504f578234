// dist/vai as an operator meets it: a SQLite file that cannot be written or is damaged
// (what stderr says, what clients and health checks get), and /metrics, whose gauges main.ts
// counts at start and then on a timer, never per scrape.
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { binaryFixture, call, runIn, signUpAndLogIn, startServer, stopServer } from '../support/binary'

const binary = binaryFixture()

const serveArgs = (db: string, ...more: string[]) => ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, ...more]
const UNAVAILABLE = { detail: 'Database unavailable' }

describe('hardening 7: disk full or damaged', () => {
  test('the disk fills while serving: 503 "Database unavailable", one line on stderr per 10 s and no stack; /healthz 503', async () => {
    // A file-size limit (ulimit -f, in KiB): past it the kernel refuses to grow the WAL,
    // as a full disk does (SQLite reports an I/O error where ENOSPC would be SQLITE_FULL).
    const server = await startServer(binary.dir, '/bin/bash', ['-c', 'ulimit -f 300; exec "$0" "$@"', binary.vai, ...serveArgs(join(binary.dir, 'full.db'))])
    const token = await signUpAndLogIn(server, 'full@example.com', 'correct horse battery')
    const statuses: number[] = []
    let failed
    while (statuses.length < 200) {
      const reply = await call(server, 'POST', '/api/v1/access-tokens', { token, body: { name: '😀'.repeat(255) } })
      statuses.push(reply.status)
      if (reply.status !== 201) {
        failed = reply
        break
      }
    }
    expect(statuses.length).toBeGreaterThan(1)
    expect([failed?.status, failed?.body, failed?.headers.get('retry-after')]).toEqual([503, UNAVAILABLE, '1'])
    for (let i = 0; i < 5; i++) expect((await call(server, 'POST', '/api/v1/auth/login', { body: { email: 'full@example.com', password: 'correct horse battery', name: '😀'.repeat(255) } })).status).toBe(503)
    const health = await call(server, 'GET', '/healthz')
    expect([health.status, health.body]).toEqual([503, UNAVAILABLE])
    await stopServer(server)
    expect(await server.proc.exited).toBe(0)
    // The session's use, still pending at the stop, is written if the file still takes it
    // (a WAL reused after a checkpoint needs no growth: it depends on the file's layout),
    // and said to be lost in one line if not: never a silent loss.
    const file = new Database(join(binary.dir, 'full.db'), { readonly: true })
    const { written } = file.query<{ written: number }, []>("SELECT count(*) AS written FROM tokens WHERE token_type = 'session' AND last_used_at IS NOT NULL").get()!
    file.close()
    expect(server.errors()).toBe(
      [
        'vai: database unavailable, answering 503: disk I/O error (SQLITE_IOERR_WRITE)',
        ...(written ? [] : ['vai: writing lastUsedAt at stop failed: database unavailable (disk I/O error (SQLITE_IOERR_WRITE)); these uses are lost']),
        '',
      ].join('\n'),
    )
  }, 60_000)

  /** A database with one user and their session, made by dist/vai, whose page holding `what` is then overwritten, as a failing disk might. */
  async function damaged(name: string, what: string): Promise<string> {
    const db = join(binary.dir, name)
    const server = await startServer(binary.dir, binary.vai, serveArgs(db))
    await signUpAndLogIn(server, `${name}@example.com`, 'correct horse battery')
    await stopServer(server)
    const file = new Database(db, { readonly: true })
    const { rootpage } = file.query<{ rootpage: number }, [string]>('SELECT rootpage FROM sqlite_schema WHERE name = ?').get(what)!
    file.close()
    const fd = openSync(db, 'r+')
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (rootpage - 1) * 4096)
    closeSync(fd)
    return db
  }

  test('a damaged file: serve exits 1 with one line before listening, and vai doctor says so', async () => {
    // The tokens' digest index: the tables read fine, quick_check finds the damage.
    const db = await damaged('damaged-index', 'sqlite_autoindex_tokens_2')
    const refused = runIn(binary.dir, binary.vai, serveArgs(db), { timeoutMs: 10_000 })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(new RegExp(`^vai: cannot open database ${db}: the file is damaged \\(quick_check: [^\\n]+\\); restore it from a backup, or see vai doctor\\n$`))
    const doctor = runIn(binary.dir, binary.vai, ['doctor', '--db', db])
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toMatch(/FAIL +integrity_check failed: /)
  }, 60_000)

  test('an admin command that meets the damage says so in one line, exit 1, no stack', async () => {
    const db = await damaged('damaged-table', 'tokens')
    const listed = runIn(binary.dir, binary.vai, ['tokens', 'list', '--email', 'damaged-table@example.com', '--db', db])
    expect(listed).toEqual({
      code: 1,
      stdout: '',
      stderr: 'vai: database unavailable: database disk image is malformed (SQLITE_CORRUPT): the database file is damaged; stop vai and restore it from a backup (vai doctor checks a file)\n',
    })
  }, 60_000)
})

describe('hardening 9: /metrics', () => {
  test('the first scrape finds the active tokens counted at start', async () => {
    const db = join(binary.dir, 'metrics.db')
    const first = await startServer(binary.dir, binary.vai, serveArgs(db))
    const session = await signUpAndLogIn(first, 'metrics@example.com', 'correct horse battery')
    await call(first, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'ci' } })
    await stopServer(first)

    const second = await startServer(binary.dir, binary.vai, serveArgs(db, '--metrics'))
    const scraped = (await call(second, 'GET', '/metrics')).body as string
    expect(scraped.split('\n').filter((line) => line.startsWith('vai_active_tokens{'))).toEqual([
      'vai_active_tokens{type="session"} 1',
      'vai_active_tokens{type="api"} 1',
    ])
    expect(scraped).toMatch(/^vai_database_size_bytes [1-9]\d*$/m)
    await stopServer(second)
    expect(second.errors()).toBe('')
  }, 30_000)
})
