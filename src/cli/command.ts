// What every admin command is made of: its usage text and options, the --db it works on,
// and the store opened for it. The commands share the store with the server (no second
// copy of any SQL) and are safe while it runs: SQLite in WAL mode takes one writer at a
// time and the busy timeout waits for it; PostgreSQL is built for many clients.
import type { ParseArgsConfig } from 'node:util'
import { DEFAULT_CONFIG, UsageError } from '../config'
import { describeDb, openStore } from '../store/open'
import type { Store, UserRecord } from '../store/store'
import { CommandError } from './io'
import { normaliseEmail } from '../auth/email'

export type Env = Record<string, string | undefined>
export type Values = Record<string, string | boolean | undefined>

export interface Command {
  /** One line, for the list of its group's commands (`vai user --help`). */
  summary: string
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  positionals?: number
  run(values: Values, positionals: string[], env: Env): Promise<number>
}

export const DB_OPTION = { db: { type: 'string' } } as const
export const DB_HELP = '  --db PATH|URL    the SQLite file or postgres:// URL (VAI_DB, default ./vai.db)'
export const EMAIL_OPTION = { email: { type: 'string' } } as const
export const JSON_OPTION = { json: { type: 'boolean' } } as const

export const dbPath = (values: Values, env: Env) => (values.db as string | undefined) ?? (env.VAI_DB || DEFAULT_CONFIG.db)

/**
 * Opens the database and runs `body` with its store. Only `create` (user add, which
 * may come before the first start) makes a new file; elsewhere a mistyped path is
 * an error, not a fresh empty database.
 */
export async function withStore<T>(values: Values, env: Env, body: (store: Store) => Promise<T>, create = false): Promise<T> {
  const store = await open(dbPath(values, env), create)
  try {
    return await body(store)
  } finally {
    await store.close()
  }
}

export async function open(db: string, create = false): Promise<Store> {
  try {
    return await openStore(db, { create, pool: 2 })
  } catch (error) {
    throw new CommandError(`cannot open database ${describeDb(db)}: ${(error as Error).message}`)
  }
}

export function requireEmail(values: Values): string {
  const email = values.email
  if (typeof email !== 'string' || email.trim() === '') throw new UsageError('--email is required')
  return normaliseEmail(email)
}

/** withStore for a command about the user --email names: refused when there is none. */
export function withUser<T>(values: Values, env: Env, body: (store: Store, user: UserRecord, email: string) => Promise<T>): Promise<T> {
  const email = requireEmail(values)
  return withStore(values, env, async (store) => {
    const user = await store.findUserByEmail(email)
    if (!user) throw new CommandError(`no user with email ${email}`)
    return body(store, user, email)
  })
}

/** An ISO time as a table shows it: to the second, '-' for none. */
export const date = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 19).replace('T', ' '))
