// The SQLite file itself: opened private, in WAL mode with full syncs, its schema brought
// up to date (by whichever process gets the write lock first), and checked for damage.
import { Database } from 'bun:sqlite'
import { closeSync, existsSync, openSync } from 'node:fs'
import { MIGRATIONS } from './sqlite-migrations'
import { sqliteOutage } from './sqlite-outages'
import { DatabaseDamaged } from './store'

export const SCHEMA_VERSION = MIGRATIONS.length

export interface OpenOptions {
  /** false: refuse a missing file instead of creating an empty database. */
  create?: boolean
  /** false: leave the schema as found (for `vai doctor`). */
  migrate?: boolean
}

// How long a write waits for another process's lock (an admin command, a backup) before
// the request gets its 503.
export const BUSY_TIMEOUT_MS = 5000
// The health check's probe waits less: it runs only after a failure, and must not hold
// the process for the whole busy timeout while another holds the lock.
export const PROBE_BUSY_TIMEOUT_MS = 250

export function openDatabase(path: string, { create = true, migrate: migrating = true }: OpenOptions = {}): Database {
  if (path !== ':memory:' && !create && !existsSync(path)) throw new Error('no such file')
  if (path !== ':memory:') {
    // Create the file ourselves so that it is born private; SQLite gives the
    // -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600))
  }
  const db = new Database(path, { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  // FULL: a token whose 201 was sent survives a power cut, not only a crash.
  db.run('PRAGMA synchronous = FULL')
  db.run('PRAGMA foreign_keys = ON')
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  if (migrating) migrate(db)
  return db
}

export function schemaVersion(db: Database): number {
  return (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** Brings the schema to `upTo` (the current one; a test may build a file as an older vai left it). */
export function migrate(db: Database, upTo = MIGRATIONS.length): number {
  const apply = db.transaction((version: number) => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    for (let v = schemaVersion(db); v < upTo; v++) {
      db.run(MIGRATIONS[v]!)
      db.run(`PRAGMA user_version = ${v + 1}`)
    }
    return version
  })
  const current = schemaVersion(db)
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this vai (${MIGRATIONS.length}); upgrade vai`)
  }
  if (current < upTo) apply.immediate(current)
  return schemaVersion(db)
}

/**
 * The damage `PRAGMA quick_check` finds in the file, in one line, or null when it finds
 * none. It reads every page (0.4 s for 400,000 tokens), so `serve` runs it once, at start.
 */
export function quickCheck(db: Database): string | null {
  let found: string[]
  try {
    found = db.query<{ quick_check: string }, []>('PRAGMA quick_check').all().map((row) => row.quick_check)
  } catch (error) {
    // Damage bad enough stops the check itself.
    if (sqliteOutage(error) instanceof DatabaseDamaged) return (error as Error).message
    throw error
  }
  if (found.length === 1 && found[0] === 'ok') return null
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : ''
  return `${found[0]!.replace(/\s+/g, ' ')}${more}`
}
