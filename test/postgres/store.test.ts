// The PostgreSQL backend's own concerns, beyond the Store contract (test/store/contract.test.ts)
// and the in-process suite that run on it: migrations under concurrency, what text cannot
// hold, outages and what a flush keeps.
import { afterAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { connectPostgres, createPostgresStore, migratePostgres, openPostgresStore, POSTGRES_SCHEMA_VERSION, postgresSchemaVersion } from '../../src/store/postgres'
import { StoreUnavailable, type Store } from '../../src/store/store'
import { TEST_POSTGRES } from '../support/app'

const url = TEST_POSTGRES ?? ''
const opened: SQL[] = []
let schemas = 0

/** A connection pool on a schema of its own, created empty. */
async function freshSchema(): Promise<{ schema: string; connect: () => SQL }> {
  const schema = `vai_store_${process.pid}_${++schemas}`
  const admin = new SQL({ url, max: 1 })
  await admin.unsafe(`CREATE SCHEMA ${schema}`)
  await admin.close()
  const connect = () => {
    const sql = connectPostgres(url, { pool: 4, idleTimeout: 2, connection: { search_path: schema } })
    opened.push(sql)
    return sql
  }
  return { schema, connect }
}

afterAll(async () => {
  await Promise.all(opened.map((sql) => sql.close()))
})

describe.skipIf(!TEST_POSTGRES)('PostgreSQL store', () => {
  test('five instances migrating an empty database at once: one applies, all end on the current version', async () => {
    const { connect } = await freshSchema()
    const versions = await Promise.all(Array.from({ length: 5 }, () => migratePostgres(connect())))
    expect(versions).toEqual(Array(5).fill(POSTGRES_SCHEMA_VERSION))
    const sql = connect()
    expect(await sql`SELECT version FROM vai_schema`).toEqual([{ version: POSTGRES_SCHEMA_VERSION }] as any)
    expect(await postgresSchemaVersion(sql)).toBe(POSTGRES_SCHEMA_VERSION)
  })

  test('the scopes migration gives every token that existed before it full access, and no last address', async () => {
    const { connect } = await freshSchema()
    const sql = connect()
    // A database as the version before scopes (schema 1) left it.
    await migratePostgres(sql, 1)
    await sql`INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('u', 'u@example.com', NULL, 'x', 1)`
    await sql.unsafe(`INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at) VALUES
                      ('s', 'u', 'laptop', 'session', 'vai_x', '\\x01', 1), ('a', 'u', 'ci', 'api', 'vai_y', '\\x02', 2)`)
    expect(await migratePostgres(sql)).toBe(POSTGRES_SCHEMA_VERSION)
    const store = createPostgresStore(sql)
    expect((await store.listTokens('u', { includeRevoked: true, limit: 10 })).map(({ id, scopes, lastUsedIp, rotatedTo }) => ({ id, scopes, lastUsedIp, rotatedTo }))).toEqual([
      { id: 'a', scopes: ['*'], lastUsedIp: null, rotatedTo: null },
      { id: 's', scopes: ['*'], lastUsedIp: null, rotatedTo: null },
    ])
  })

  test('a database migrated by a newer vai is refused, untouched', async () => {
    const { connect } = await freshSchema()
    const sql = connect()
    await migratePostgres(sql)
    await sql`UPDATE vai_schema SET version = ${POSTGRES_SCHEMA_VERSION + 1}`
    await expect(migratePostgres(sql)).rejects.toThrow(`database schema version ${POSTGRES_SCHEMA_VERSION + 1} is newer than this vai (${POSTGRES_SCHEMA_VERSION}); upgrade vai`)
    expect(await postgresSchemaVersion(sql)).toBe(POSTGRES_SCHEMA_VERSION + 1)
  })

  test('names keep U+0000 and every other code point, byte for byte', async () => {
    const { connect } = await freshSchema()
    const sql = connect()
    await migratePostgres(sql)
    const store = createPostgresStore(sql)
    const name = 'nul\u0000 tab\t emoji 😀 ß'
    await store.createUser({ id: 'u1', email: 'nul@example.com', name, passwordHash: 'h', createdAt: 1 }, true)
    await store.insertToken({ id: 't1', userId: 'u1', name, tokenType: 'api', tokenPrefix: 'vai_x', digest: new Uint8Array([0, 1, 255]), createdAt: 2, expiresAt: null, scopes: ['*'] })
    const found = await store.findTokenByDigest(new Uint8Array([0, 1, 255]))
    expect(found?.token.name).toBe(name)
    expect(found?.user.name).toBe(name)
  })

  test('an unreachable database is StoreUnavailable, within the connect timeout', async () => {
    // A port nothing listens on: the connection is refused at once.
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    const store = createPostgresStore(connectPostgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { pool: 1 }))
    const started = performance.now()
    const error = await store.ping().catch((caught) => caught)
    expect(error).toBeInstanceOf(StoreUnavailable)
    expect(performance.now() - started).toBeLessThan(5500)
    await expect(openPostgresStore(`postgres://postgres@127.0.0.1:${port}/postgres`)).rejects.toThrow('connection refused')
  })

  test('uses that a failed flush could not write are kept for the next one', async () => {
    const { connect } = await freshSchema()
    const sql = connect()
    await migratePostgres(sql)
    const store: Store = createPostgresStore(sql)
    await store.createUser({ id: 'u1', email: 'flush@example.com', name: null, passwordHash: 'h', createdAt: 1 }, true)
    await store.insertToken({ id: 't1', userId: 'u1', name: 'n', tokenType: 'api', tokenPrefix: 'vai_x', digest: new Uint8Array([7]), createdAt: 2, expiresAt: null, scopes: ['*'] })
    store.touchToken('t1', 100)
    // The flush's statement fails while the table is renamed away; the use must survive it.
    await sql`ALTER TABLE tokens RENAME TO tokens_away`
    await expect(store.flushTouches()).rejects.toThrow('relation "tokens" does not exist')
    await sql`ALTER TABLE tokens_away RENAME TO tokens`
    await store.flushTouches()
    expect(await sql`SELECT last_used_at FROM tokens WHERE id = 't1'`).toEqual([{ last_used_at: '100' }] as any)
  })
})
