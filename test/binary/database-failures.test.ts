// dist/vai on a SQLite file that cannot be written or is damaged: what the operator
// sees on stderr and what clients and health checks get.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { binaryInEmptyDir, call, killServers, runIn, signUpAndLogIn, startServer, stopServer } from '../support/binary'

let dir: string
let vai: string

beforeAll(() => ({ dir, vai } = binaryInEmptyDir()), 60_000)
afterAll(() => {
  killServers()
  rmSync(dir, { recursive: true, force: true })
})

const serveArgs = (db: string) => ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db]
const UNAVAILABLE = { detail: 'Database unavailable' }

describe('hardening 7: disk full or damaged', () => {
  test('the disk fills while serving: 503 "Database unavailable", one line on stderr per 10 s and no stack; /healthz 503', async () => {
    // A file-size limit (ulimit -f, in KiB): past it the kernel refuses to grow the WAL,
    // as a full disk does (SQLite reports an I/O error where ENOSPC would be SQLITE_FULL).
    const server = await startServer(dir, '/bin/bash', ['-c', 'ulimit -f 300; exec "$0" "$@"', vai, ...serveArgs(join(dir, 'full.db'))])
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
    // The session's use, still pending at the stop, cannot be written either.
    expect(server.errors()).toBe([
      'vai: database unavailable, answering 503: disk I/O error (SQLITE_IOERR_WRITE)',
      'vai: writing lastUsedAt at stop failed: database unavailable (disk I/O error (SQLITE_IOERR_WRITE)); these uses are lost',
      '',
    ].join('\n'))
  }, 60_000)

  test('a damaged file: serve exits 1 with one line before listening, and vai doctor says so', async () => {
    const db = join(dir, 'damaged.db')
    const server = await startServer(dir, vai, serveArgs(db))
    await signUpAndLogIn(server, 'damaged@example.com', 'correct horse battery')
    await stopServer(server)
    // Overwrite the page that holds the tokens' digest index, as a failing disk might.
    const file = new Database(db, { readonly: true })
    const { rootpage } = file.query<{ rootpage: number }, []>("SELECT rootpage FROM sqlite_schema WHERE tbl_name = 'tokens' AND name LIKE 'sqlite_autoindex_tokens_%' ORDER BY name DESC").get()!
    file.close()
    const fd = openSync(db, 'r+')
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (rootpage - 1) * 4096)
    closeSync(fd)

    const refused = runIn(dir, vai, serveArgs(db), { timeoutMs: 10_000 })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(new RegExp(`^vai: cannot open database ${db}: the file is damaged \\(quick_check: [^\\n]+\\); restore it from a backup, or see vai doctor\\n$`))
    const doctor = runIn(dir, vai, ['doctor', '--db', db])
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toMatch(/FAIL +integrity_check failed: /)
  }, 60_000)
})
