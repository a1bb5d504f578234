// SQLite as vai's commands see it: a file (or ':memory:'), named with or without a
// sqlite: prefix. Any --db value that names no other backend is one.
import { Database } from 'bun:sqlite'
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { CannotOpen, schemaFinding, type Backend, type Finding } from './backend'
import { createSqliteStore } from './sqlite'
import { migrate, openDatabase, quickCheck, SCHEMA_VERSION, schemaVersion } from './sqlite-database'

export const sqlitePath = (db: string) => db.replace(/^sqlite:(\/\/)?/i, '')

const schemaStatusOf = (db: Database) => ({ version: schemaVersion(db), current: SCHEMA_VERSION })

/** Opens the file as it is, neither created nor migrated, for `body`. */
function inspect<T>(path: string, body: (db: Database) => T): T {
  const db = openDatabase(path, { create: false, migrate: false })
  try {
    return body(db)
  } finally {
    db.close()
  }
}

/**
 * A consistent copy of a live database (other processes may keep writing), checked
 * by opening it and running integrity_check. Returns its size in bytes.
 */
function backupDatabase(db: Database, target: string): number {
  if (existsSync(target)) throw new Error(`${target} exists already; choose a new file`)
  // Born private like the database: it holds password hashes and token digests.
  closeSync(openSync(target, 'wx', 0o600))
  db.run('VACUUM INTO ?', [target])
  chmodSync(target, 0o600)
  const copy = new Database(target, { readonly: true })
  try {
    const result = copy.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()
    if (result?.integrity_check !== 'ok') throw new Error(`the copy failed integrity_check: ${result?.integrity_check}`)
  } finally {
    copy.close()
  }
  return statSync(target).size
}

const modeOf = (path: string) => statSync(path).mode & 0o777

/** What is wrong with the file's mode, or null when only its owner may read it. */
function exposure(path: string, mode = modeOf(path)): string | null {
  return (mode & 0o077) === 0 ? null : `${path} has mode ${mode.toString(8)}: others can read password hashes and token digests; run chmod 600 ${path}`
}

/** The file's mode, integrity, journal mode and schema version. */
function checkFile(path: string): Finding[] {
  const findings: Finding[] = []
  try {
    const mode = modeOf(path)
    const exposed = exposure(path, mode)
    findings.push(exposed === null ? ['ok', `${path} is private (mode ${mode.toString(8)})`] : ['FAIL', exposed])
    inspect(path, (db) => {
      const integrity = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check
      findings.push(integrity === 'ok' ? ['ok', 'integrity_check: ok'] : ['FAIL', `integrity_check failed: ${integrity}; restore from a backup`])
      const journal = db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode
      findings.push(journal === 'wal' ? ['ok', 'journal mode: wal'] : ['FAIL', `journal mode is ${journal}, not wal`])
      findings.push(schemaFinding(schemaStatusOf(db)))
    })
  } catch (error) {
    findings.push(['FAIL', `cannot open database ${path}: ${(error as Error).message}`])
  }
  return findings
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  // Listed last in BACKENDS: whatever the others do not claim is a file path.
  matches: () => true,
  describe(db) {
    const path = sqlitePath(db)
    return path === ':memory:' ? path : resolve(path)
  },
  label: sqlitePath,
  async open(db, { create, verify } = {}) {
    // Checked before migrating: a damaged file is not written to.
    const opened = openDatabase(sqlitePath(db), { create, migrate: !verify })
    try {
      if (verify) {
        const damage = quickCheck(opened)
        if (damage !== null) throw new Error(`the file is damaged (quick_check: ${damage}); restore it from a backup, or see vai doctor`)
        migrate(opened)
      }
    } catch (error) {
      opened.close()
      throw error
    }
    return createSqliteStore(opened)
  },
  async migrate(db) {
    // Opening migrates (and, as serve would, creates a missing file).
    const opened = openDatabase(sqlitePath(db))
    try {
      return schemaVersion(opened)
    } finally {
      opened.close()
    }
  },
  async schemaStatus(db) {
    return inspect(sqlitePath(db), schemaStatusOf)
  },
  async doctor(db) {
    return checkFile(sqlitePath(db))
  },
  startWarnings(db) {
    const path = sqlitePath(db)
    if (path === ':memory:') return []
    const exposed = exposure(path)
    return exposed === null ? [] : [exposed]
  },
  async backup(db, target) {
    let opened: Database
    try {
      opened = openDatabase(sqlitePath(db), { create: false, migrate: false })
    } catch (error) {
      throw new CannotOpen((error as Error).message, { cause: error })
    }
    try {
      return backupDatabase(opened, target)
    } finally {
      opened.close()
    }
  },
}
