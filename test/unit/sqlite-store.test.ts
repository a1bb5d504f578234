// The SQLite backend's own concerns, beyond the Store contract (test/store/contract.test.ts)
// that runs on it: the remembered lookups and PRAGMA data_version, and PRAGMA user_version.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore, openDatabase, SCHEMA_VERSION, schemaVersion } from '../../src/store/sqlite'

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
    // A file as the version before scopes left it: the current schema less the two columns.
    const old = openDatabase(path)
    old.run('ALTER TABLE tokens DROP COLUMN scopes')
    old.run('ALTER TABLE tokens DROP COLUMN last_used_ip')
    old.run(`PRAGMA user_version = ${SCHEMA_VERSION - 1}`)
    old.run("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('u', 'u@example.com', NULL, 'x', 1)")
    old.run(`INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at) VALUES
             ('s', 'u', 'laptop', 'session', 'vai_x', x'01', 1), ('a', 'u', 'ci', 'api', 'vai_y', x'02', 2)`)
    old.close()
    const store = createSqliteStore(openDatabase(path))
    expect((await store.listTokens('u', { includeRevoked: true, limit: 10 })).map(({ id, scopes, lastUsedIp }) => ({ id, scopes, lastUsedIp }))).toEqual([
      { id: 'a', scopes: ['*'], lastUsedIp: null },
      { id: 's', scopes: ['*'], lastUsedIp: null },
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
