// What vai does with a database of one kind, beyond the Store: open it, migrate it, say
// where its schema stands, check it for `vai doctor`, back it up. Each backend is one
// such descriptor, listed in open.ts; the command line and the tests go through them.
import type { Store } from './store'

export interface OpenStoreOptions {
  /** PostgreSQL connections in this process's pool. */
  pool?: number
  /** SQLite: false refuses a missing file instead of creating an empty database. */
  create?: boolean
  /**
   * SQLite: refuse a damaged file (PRAGMA quick_check) rather than serve from it. `serve`
   * asks, once at start; the admin commands do not (`vai doctor` runs the full check).
   */
  verify?: boolean
}

export interface SchemaStatus {
  /** The version the database is at. */
  version: number
  /** The version this vai migrates to. */
  current: number
}

/** One line of doctor's report: fine, advice, or something that must be mended (exit 1). */
export type Finding = ['ok' | 'warn' | 'FAIL', string]

/** The database could not be opened at all, as opposed to failing at what was asked of it. */
export class CannotOpen extends Error {}

interface BackendBase {
  name: string
  /** Whether a --db value names a database of this kind. */
  matches(db: string): boolean
  /** The database as `serve` and `db copy` print it: a file's full path, or the URL without its password. */
  describe(db: string): string
  /** The database as the commands that act on it alone print it: a file as given, the URL without its password. */
  label(db: string): string
  /** Connects, migrates, and returns the store; refuses with a plain message. */
  open(db: string, options?: OpenStoreOptions): Promise<Store>
  /** Brings the schema up to date and returns its version; refuses with a plain message. */
  migrate(db: string): Promise<number>
  /** Where the schema stands, changing nothing. */
  schemaStatus(db: string): Promise<SchemaStatus>
  /** What `vai doctor` finds about the database (never throws: a failure is a finding). */
  doctor(db: string): Promise<Finding[]>
  /** What `vai serve` warns of once at start, on a database it has opened: one line each. */
  startWarnings?(db: string): string[]
}

export type Backend = BackendBase &
  (
    | {
        /**
         * Writes a consistent copy of the live database to the new file `target` and checks
         * it; returns its size in bytes. CannotOpen when the database cannot be opened.
         */
        backup(db: string, target: string): Promise<number>
        noBackup?: undefined
      }
    | { backup?: undefined; /** What `vai backup` says instead. */ noBackup: string }
  )

export const schemaFinding = ({ version, current }: SchemaStatus): Finding =>
  version === current
    ? ['ok', `schema version ${version} (current)`]
    : version < current
      ? ['FAIL', `schema version ${version} is behind ${current}: run vai migrate`]
      : ['FAIL', `schema version ${version} is newer than this vai knows (${current}): upgrade vai`]
