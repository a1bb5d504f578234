// Which SQLite errors are the state of the database rather than a bug in a query.
// bun:sqlite puts SQLite's extended result code (SQLITE_IOERR_WRITE,
// SQLITE_READONLY_DBMOVED, …) in the error's `code`.
import { DatabaseDamaged, StoreUnavailable } from './store'

// Outages: the request gets a 503 and is worth repeating once the operator (or time) has
// mended the cause; stderr gets one line per 10 s saying which.
//  - FULL: the disk, or the file-size limit, is full; writes work again once space is freed.
//  - IOERR*: the kernel refused a read or a write (a failing disk, a file-size limit, a
//    vanished network mount).
//  - READONLY*: the file, its directory or its mount became read-only, or the file was
//    moved or deleted under the server.
//  - CANTOPEN*: the -wal, -shm or a temporary file cannot be opened (permissions, no inodes).
//  - BUSY, BUSY_TIMEOUT, BUSY_RECOVERY: another process (a backup, an admin command) held the
//    write lock past the busy timeout (5 s), or is recovering the WAL after a crash.
// Not outages, so still a logged 500 with its stack: SQLITE_BUSY_SNAPSHOT (a read
// transaction that tried to write after another connection did: a transaction that
// should have begun IMMEDIATE), SQLITE_ERROR (bad SQL, a missing table), SQLITE_CONSTRAINT
// (a rule the code should have checked first), SQLITE_LOCKED (the connection in conflict
// with itself), SQLITE_MISUSE, SQLITE_RANGE, SQLITE_TOOBIG (a value the schemas should have
// bounded), SQLITE_NOMEM: each is something in vai to fix, and repeating the request would
// not help.
const OUTAGE = /^SQLITE_(FULL|IOERR(_\w+)?|READONLY(_\w+)?|CANTOPEN(_\w+)?|BUSY|BUSY_TIMEOUT|BUSY_RECOVERY)$/
// Damage: a 503 too, but the file will not mend itself (DatabaseDamaged).
const DAMAGE = /^SQLITE_(CORRUPT(_\w+)?|NOTADB)$/

/** The outage a bun:sqlite error stands for, or undefined when it is a bug. */
export function sqliteOutage(error: unknown): StoreUnavailable | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  // SQLite's messages never hold bound values: safe for stderr.
  if (DAMAGE.test(code)) {
    return new DatabaseDamaged(error, `${error.message} (${code}): the database file is damaged; stop vai and restore it from a backup (vai doctor checks a file)`)
  }
  return OUTAGE.test(code) ? new StoreUnavailable(error, `${error.message} (${code})`) : undefined
}
