// Which backend a --db value names: postgres:// (or postgresql://) is PostgreSQL;
// anything else is a SQLite file, with or without a sqlite: prefix.
import { resolve } from 'node:path'
import { isPostgresUrl, openPostgresStore } from './postgres'
import { createSqliteStore, openDatabase } from './sqlite'
import type { Store } from './store'

export { isPostgresUrl }

export interface OpenStoreOptions {
  /** PostgreSQL connections in this process's pool. */
  pool?: number
  /** SQLite: false refuses a missing file instead of creating an empty database. */
  create?: boolean
}

export const sqlitePath = (db: string) => db.replace(/^sqlite:(\/\/)?/i, '')

export async function openStore(db: string, { pool, create }: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) return openPostgresStore(db, { pool })
  return createSqliteStore(openDatabase(sqlitePath(db), { create }))
}

/** The database as it may be printed: a file's full path, or the URL without its password. */
export function describeDb(db: string): string {
  if (isPostgresUrl(db)) {
    try {
      const url = new URL(db)
      if (url.password) url.password = '***'
      return url.toString()
    } catch {
      return 'postgres://…'
    }
  }
  const path = sqlitePath(db)
  return path === ':memory:' ? path : resolve(path)
}
