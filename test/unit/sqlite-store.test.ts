// The SQLite backend's own concerns, beyond the Store contract (test/store/contract.test.ts)
// that runs on it: the remembered lookups and PRAGMA data_version, PRAGMA user_version, and
// which of SQLite's errors are outages.
import { afterAll, describe, expect, test } from 'bun:test'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../../src/store/sqlite'
import { migrate, openDatabase, SCHEMA_VERSION, schemaVersion } from '../../src/store/sqlite-database'
import { sqliteBackend } from '../../src/store/sqlite-backend'
import { sqliteOutage } from '../../src/store/sqlite-outages'
import { DatabaseDamaged, StoreUnavailable } from '../../src/store/store'

const NOW = Date.parse('2026-11-30T00:00:00Z')
const dir = mkdtempSync(join(tmpdir(), 'vai-sqlite-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('SQLite store', () => {
  test("a lookup remembered on one connection sees another connection's revocation at once", async () => {
    const path = join(dir, 'two-connections.db')
    const server = createSqliteStore(openDatabase(path))
    const admin = createSqliteStore(openDatabase(path))
    const digest = new Uint8Array(32).fill(7)
    await server.createUser({ id: 'u', email: 'u@example.com', name: null, passwordHash: 'x', createdAt: NOW }, true)
    await server.insertToken({ id: 't', userId: 'u', name: 'n', tokenType: 'api', tokenPrefix: 'vai_x', digest, createdAt: NOW, expiresAt: null, scopes: ['*'] })
    // Twice: the second answer comes from memory.
    expect((await server.findTokenByDigest(digest))?.token.revokedAt).toBeNull()
    expect((await server.findTokenByDigest(digest))?.token.revokedAt).toBeNull()
    // The other connection's commit moves PRAGMA data_version, and the server forgets.
    expect(await admin.revokeToken('u', 't', NOW + 1)).toBe(true)
    expect((await server.findTokenByDigest(digest))?.token.revokedAt).toBe(NOW + 1)
    await admin.deleteUser('u')
    expect(await server.findTokenByDigest(digest)).toBeNull()
    await Promise.all([server.close(), admin.close()])
  })

  test('the scopes migration gives every token that existed before it full access, and no last address', async () => {
    const path = join(dir, 'before-scopes.db')
    // A file as the version before scopes (schema 3) left it.
    const old = openDatabase(path, { migrate: false })
    migrate(old, 3)
    old.run("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('u', 'u@example.com', NULL, 'x', 1)")
    old.run(`INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at) VALUES
             ('s', 'u', 'laptop', 'session', 'vai_x', x'01', 1), ('a', 'u', 'ci', 'api', 'vai_y', x'02', 2)`)
    old.close()
    const store = createSqliteStore(openDatabase(path))
    expect((await store.listTokens('u', { includeRevoked: true, limit: 10 })).map(({ id, scopes, lastUsedIp, rotatedTo }) => ({ id, scopes, lastUsedIp, rotatedTo }))).toEqual([
      { id: 'a', scopes: ['*'], lastUsedIp: null, rotatedTo: null },
      { id: 's', scopes: ['*'], lastUsedIp: null, rotatedTo: null },
    ])
    await store.close()
  })

  test('a file migrated by a newer vai is refused, untouched', () => {
    const path = join(dir, 'newer.db')
    const db = openDatabase(path)
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expect(() => openDatabase(path)).toThrow(`database schema version ${SCHEMA_VERSION + 1} is newer than this vai (${SCHEMA_VERSION}); upgrade vai`)
    const again = openDatabase(path, { migrate: false })
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION + 1)
    again.close()
  })
})

describe('hardening 7: disk full or damaged', () => {
  const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code })

  test.each([
    ['SQLITE_FULL', 'outage'],
    ['SQLITE_IOERR', 'outage'],
    ['SQLITE_IOERR_WRITE', 'outage'],
    ['SQLITE_IOERR_FSYNC', 'outage'],
    ['SQLITE_READONLY', 'outage'],
    ['SQLITE_READONLY_DBMOVED', 'outage'],
    ['SQLITE_CANTOPEN', 'outage'],
    ['SQLITE_BUSY', 'outage'],
    ['SQLITE_BUSY_TIMEOUT', 'outage'],
    ['SQLITE_CORRUPT', 'damage'],
    ['SQLITE_CORRUPT_INDEX', 'damage'],
    ['SQLITE_NOTADB', 'damage'],
    ['SQLITE_BUSY_SNAPSHOT', 'bug'],
    ['SQLITE_ERROR', 'bug'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'bug'],
    ['SQLITE_LOCKED', 'bug'],
    ['SQLITE_MISUSE', 'bug'],
    ['SQLITE_TOOBIG', 'bug'],
    ['SQLITE_NOMEM', 'bug'],
  ])('%s is %s', (code, kind) => {
    const outage = sqliteOutage(sqliteError(code, 'what SQLite said'))
    expect(outage instanceof DatabaseDamaged ? 'damage' : outage instanceof StoreUnavailable ? 'outage' : outage === undefined ? 'bug' : outage).toBe(kind)
    if (kind === 'outage') expect(outage!.reason).toBe(`what SQLite said (${code})`)
  })

  /** A file with a user and 300 tokens, closed, whose tokens table's first page is then overwritten. */
  async function damagedFile(name: string): Promise<string> {
    const path = join(dir, name)
    const db = openDatabase(path)
    const store = createSqliteStore(db)
    await store.createUser({ id: 'u', email: 'u@example.com', name: null, passwordHash: 'x', createdAt: NOW }, true)
    for (let i = 0; i < 300; i++) {
      await store.insertToken({ id: `t${i}`, userId: 'u', name: 'n', tokenType: 'api', tokenPrefix: 'vai_x', digest: new Uint8Array(32).fill(i % 256).map((b, j) => (j === 0 ? i >> 8 : b)), createdAt: NOW + i, expiresAt: null, scopes: ['*'] })
    }
    const { rootpage } = db.query<{ rootpage: number }, []>("SELECT rootpage FROM sqlite_schema WHERE name = 'tokens'").get()!
    const { page_size } = db.query<{ page_size: number }, []>('PRAGMA page_size').get()!
    // The last connection's close checkpoints the WAL into the file.
    await store.close()
    const fd = openSync(path, 'r+')
    writeSync(fd, Buffer.alloc(page_size, 0xa5), 0, page_size, (rootpage - 1) * page_size)
    closeSync(fd)
    return path
  }

  test('damage found while serving: that call and ping get DatabaseDamaged, and ping keeps failing though other writes succeed', async () => {
    const store = createSqliteStore(openDatabase(await damagedFile('damaged-later.db')))
    const failed = await store.listTokens('u', { includeRevoked: true, limit: 50 }).catch((error) => error)
    expect(failed).toBeInstanceOf(DatabaseDamaged)
    expect(failed.reason).toBe('database disk image is malformed (SQLITE_CORRUPT): the database file is damaged; stop vai and restore it from a backup (vai doctor checks a file)')
    await expect(store.ping()).rejects.toBeInstanceOf(DatabaseDamaged)
    // The users table is sound: a write lands, and the file is still damaged.
    await store.createUser({ id: 'v', email: 'v@example.com', name: null, passwordHash: 'x', createdAt: NOW }, true)
    await expect(store.ping()).rejects.toBeInstanceOf(DatabaseDamaged)
    await store.close()
  })

  test('serve opens with verify: a damaged file is refused, in one line, and left unmigrated; the admin commands still open it', async () => {
    const path = await damagedFile('damaged-at-start.db')
    const refused = await sqliteBackend.open(path, { verify: true }).catch((error: Error) => error)
    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toMatch(/^the file is damaged \(quick_check: [^\n]+\); restore it from a backup, or see vai doctor$/)
    const store = await sqliteBackend.open(path, {})
    await store.close()
    const sound = await sqliteBackend.open(join(dir, 'sound.db'), { verify: true })
    await sound.close()
  })
})

describe('long work in slices that let requests run between them', () => {
  /** A store on :memory: with one user holding `n` active tokens. */
  async function userWithTokens(n: number) {
    const store = createSqliteStore(openDatabase(':memory:'))
    const tokens = Array.from({ length: n }, (_, i) => ({
      id: `t${String(i).padStart(6, '0')}`, userId: 'u', name: 'n', tokenType: 'api' as const, tokenPrefix: 'vai_x',
      digest: new Uint8Array(new Bun.CryptoHasher('sha256').update(String(i)).digest()), createdAt: NOW - i, expiresAt: null, scopes: ['*'], lastUsedAt: null, lastUsedIp: null, revokedAt: null, rotatedTo: null,
    }))
    await store.importAll([{ id: 'u', email: 'u@example.com', name: null, passwordHash: 'x', createdAt: NOW }], (async function* () { yield tokens })(), new Uint8Array(32))
    return store
  }

  /** How many turns of the event loop other work got while `work` ran. */
  async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
    let turns = 0
    let done = false
    const other = (async () => {
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve))
        turns++
      }
    })()
    await work()
    done = true
    await other
    return turns
  }

  test('hardening 10: revoke-all of 5,000 tokens lets other work run between its batches of 1,000', async () => {
    const store = await userWithTokens(5000)
    expect(await turnsDuring(async () => expect(await store.revokeAllTokens('u', NOW, null)).toBe(5000))).toBeGreaterThanOrEqual(4)
    await store.close()
  })

  test('hardening 9: counting 25,000 active tokens for the gauges lets other work run between slices', async () => {
    const store = await userWithTokens(25_000)
    expect(await turnsDuring(async () => expect(await store.countActiveTokens(NOW)).toEqual({ session: 0, api: 25_000 }))).toBeGreaterThanOrEqual(2)
    await store.close()
  })
})
