// The backends the suite runs on, each with what a test needs beyond its Store: an empty
// database of its own, the rows as stored, and a way to break it. SQLite always;
// PostgreSQL when VAI_TEST_POSTGRES names a server. test/support/app.ts builds every app on
// the one this run is for; test/store/contract.test.ts runs the Store's rules on all.
import { SQL } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Backend } from '../../src/store/backend'
import { connectPostgres, createPostgresStore, migratePostgres } from '../../src/store/postgres'
import { postgresBackend } from '../../src/store/postgres-backend'
import { createSqliteStore } from '../../src/store/sqlite'
import { openDatabase } from '../../src/store/sqlite-database'
import { sqliteBackend } from '../../src/store/sqlite-backend'
import type { Store } from '../../src/store/store'
import { testDatabases } from './postgres'

/** The PostgreSQL server the suite runs on, or undefined for SQLite. */
export const TEST_POSTGRES = process.env.VAI_TEST_POSTGRES || undefined

/** A persisted row, the same shape on both backends: snake_case, numbers, the digest in hex. */
export type Row = Record<string, string | number | null>
export type Table = 'users' | 'tokens'

export interface TestDatabase {
  store: Store
  /** Every row of a table, as stored; for checking what was persisted, never for setting up. */
  rows(table: Table): Promise<Row[]>
  /** Makes every later query fail the way a bug would (not as an outage would). */
  break(): Promise<void>
  /**
   * Fills the disk: from now on a write that needs new space fails as it does on a full
   * disk (SQLite: SQLITE_FULL, the database held to its current pages by max_page_count;
   * PostgreSQL: disk_full, raised by triggers), until `free` makes room again.
   */
  fillDisk(): Promise<{ free(): Promise<void> }>
}

export interface TestBackend {
  backend: Backend
  /** Whether this run has the backend. */
  enabled: boolean
  /** What an app's config.db names on it. */
  db: string
  /** An empty, migrated database of its own, in process; its store is usable at once. */
  fresh(): TestDatabase
  /** Databases a vai process or a descriptor can open by --db value, and their removal. */
  databases(label: string): { create(): Promise<string>; dropAll(): Promise<void> }
}

const sqlite: TestBackend = {
  backend: sqliteBackend,
  enabled: true,
  db: ':memory:',
  fresh() {
    const db = openDatabase(':memory:')
    return {
      store: createSqliteStore(db),
      async rows(table) {
        return db.query<Record<string, unknown>, []>(`SELECT * FROM ${table} ORDER BY id`).all().map(normaliseRow)
      },
      async break() {
        db.close()
      },
      async fillDisk() {
        // The free pages go to a filler first, so that only room left inside pages remains.
        db.run('CREATE TABLE IF NOT EXISTS filler (x BLOB)')
        const pages = db.query<{ page_count: number }, []>('PRAGMA page_count').get()!.page_count
        db.run(`PRAGMA max_page_count = ${pages}`)
        try {
          for (;;) db.run('INSERT INTO filler VALUES (zeroblob(1000))')
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_FULL') throw error
        }
        return { free: async () => void db.run('PRAGMA max_page_count = 1073741823') }
      },
    }
  },
  databases(label) {
    let dir: string | undefined
    let files = 0
    return {
      async create() {
        dir ??= mkdtempSync(join(tmpdir(), `vai-${label}-`))
        return join(dir, `${++files}.db`)
      },
      async dropAll() {
        if (dir) rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

let admin: SQL | undefined
let schemas = 0

const postgres: TestBackend = {
  backend: postgresBackend,
  enabled: TEST_POSTGRES !== undefined,
  db: TEST_POSTGRES ?? '',
  fresh() {
    // A schema per database, made before the store's first query: the store waits for it.
    const url = TEST_POSTGRES!
    const schema = `vai_test_${process.pid}_${++schemas}`
    admin ??= new SQL({ url, max: 2 })
    const sql = connectPostgres(url, { pool: 4, idleTimeout: 2, connection: { search_path: schema } })
    const ready = admin.unsafe(`CREATE SCHEMA ${schema}`).then(() => migratePostgres(sql)).then(() => createPostgresStore(sql))
    return {
      store: deferredStore(ready),
      async rows(table) {
        await ready
        return (await sql.unsafe(`SELECT * FROM ${table} ORDER BY id`)).map(normaliseRow)
      },
      async break() {
        await ready
        await sql.unsafe('DROP TABLE tokens, users CASCADE')
      },
      async fillDisk() {
        await ready
        const tables = ['users', 'tokens', 'login_failures', 'meta']
        await sql.unsafe(`
          CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
          ${tables.map((table) => `CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION disk_full();`).join('\n')}`)
        return { free: async () => void (await sql.unsafe('DROP FUNCTION disk_full() CASCADE')) }
      },
    }
  },
  databases: testDatabases,
}

export const TEST_BACKENDS: readonly TestBackend[] = [sqlite, postgres]

/** The backend this run's apps are built on. */
export const SUITE_BACKEND = TEST_POSTGRES ? postgres : sqlite

function normaliseRow(row: Record<string, unknown>): Row {
  const out: Row = {}
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array) out[key] = key === 'digest' ? Buffer.from(value).toString('hex') : new TextDecoder().decode(value)
    else if (typeof value === 'string' && key.endsWith('_at')) out[key] = Number(value)
    else out[key] = value as string | number | null
  }
  return out
}

/** A Store usable at once whose calls wait until the real one is ready. */
function deferredStore(ready: Promise<Store>): Store {
  let store: Store | undefined
  void ready.then((opened) => (store = opened))
  return new Proxy({} as Store, {
    get(_, name: keyof Store) {
      if (name === 'touchToken') {
        return (id: string, at: number, ip?: string | null) => (store ? store.touchToken(id, at, ip) : void ready.then((s) => s.touchToken(id, at, ip)))
      }
      return async (...args: unknown[]) => ((await ready)[name] as (...a: unknown[]) => unknown)(...args)
    },
  })
}
