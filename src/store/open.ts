// Which backend a --db value names: postgres:// (or postgresql://) is PostgreSQL;
// anything else is a SQLite file, with or without a sqlite: prefix.
import type { Backend, OpenStoreOptions } from './backend'
import { isPostgresUrl, postgresBackend } from './postgres-backend'
import { sqliteBackend, sqlitePath } from './sqlite-backend'
import type { Store } from './store'

export { isPostgresUrl, sqlitePath }
export type { OpenStoreOptions }

/** Every backend, in the order they are asked: the first whose matches() says yes serves. SQLite, which takes any path, last. */
export const BACKENDS: readonly Backend[] = [postgresBackend, sqliteBackend]

export const backendFor = (db: string): Backend => BACKENDS.find((backend) => backend.matches(db))!

export function openStore(db: string, options: OpenStoreOptions = {}): Promise<Store> {
  return backendFor(db).open(db, options)
}

/** The database as it may be printed: a file's full path, or the URL without its password. */
export const describeDb = (db: string): string => backendFor(db).describe(db)
