import { describe, expect, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import { createSqliteStore, openDatabase, SCHEMA_VERSION, schemaVersion } from '../../src/store/sqlite'

const NOW = Date.parse('2026-11-30T00:00:00Z')

describe('SQLite store', () => {
  test('a new database is migrated to the current schema', () => {
    expect(schemaVersion(openDatabase(':memory:'))).toBe(SCHEMA_VERSION)
  })

  test('purgeTokens deletes exactly what ended before the cutoff, over many batches', async () => {
    const db = openDatabase(':memory:')
    const store = createSqliteStore(db)
    await store.createUser({ id: 'u', email: 'u@example.com', name: null, passwordHash: 'x', createdAt: NOW }, true)
    const insert = db.query('INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    const old = NOW - 100 * DAY_MS
    const recent = NOW - 10 * DAY_MS
    // [expires_at, revoked_at, purged?]
    const kinds: [number | null, number | null, boolean][] = [
      [null, old, true], // revoked long ago
      [old, null, true], // expired long ago
      [old, old, true], // both
      [null, recent, false], // revoked lately
      [recent, null, false], // expired lately
      [null, null, false], // active, never expires
      [NOW + DAY_MS, null, false], // active
    ]
    let expected = 0
    db.transaction(() => {
      for (let i = 0; i < 3500; i++) {
        const [expiresAt, revokedAt, purged] = kinds[i % kinds.length]!
        if (purged) expected++
        insert.run(`t${i}`, 'u', 'n', 'api', 'vai_xxxxxxxx', crypto.getRandomValues(new Uint8Array(32)), old - DAY_MS, expiresAt, revokedAt)
      }
    })()
    expect(await store.purgeTokens(NOW - 90 * DAY_MS)).toBe(expected)
    expect(db.query('SELECT count(*) AS n FROM tokens').get()).toEqual({ n: 3500 - expected })
    expect(await store.purgeTokens(NOW - 90 * DAY_MS)).toBe(0)
  })
})
