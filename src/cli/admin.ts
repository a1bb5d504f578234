// Administration commands. They share the store with the server (no second copy
// of any SQL) and are safe while it runs: SQLite in WAL mode takes one writer at
// a time and the busy timeout waits for it; PostgreSQL is built for many clients.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { statSync } from 'node:fs'
import { Value } from '@sinclair/typebox/value'
import { hashPassword } from '../auth/password'
import { DAY_MS } from '../auth/tokens'
import { DEFAULT_CONFIG, loadConfig, UsageError } from '../config'
import { presentToken, presentUser } from '../http/present'
import { SignupBody } from '../schemas'
import { describeDb, isPostgresUrl, openStore, sqlitePath } from '../store/open'
import { connectPostgres, describePostgresError, migratePostgres, POSTGRES_SCHEMA_VERSION, postgresSchemaVersion } from '../store/postgres'
import { backupDatabase, openDatabase, SCHEMA_VERSION, schemaVersion } from '../store/sqlite'
import type { Store, StoredToken, TokenRecord, UserRecord } from '../store/store'
import { CommandError, confirm, printTable, readSecret } from './io'

type Env = Record<string, string | undefined>
type Values = Record<string, string | boolean | undefined>

interface Command {
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  positionals?: number
  run(values: Values, positionals: string[], env: Env): Promise<number>
}

const DB_OPTION = { db: { type: 'string' } } as const
const DB_HELP = '  --db PATH|URL    the SQLite file or postgres:// URL (VAI_DB, default ./vai.db)'
const EMAIL_OPTION = { email: { type: 'string' } } as const
const JSON_OPTION = { json: { type: 'boolean' } } as const

export const DEFAULT_RETENTION_DAYS = 90

const dbPath = (values: Values, env: Env) => (values.db as string | undefined) ?? (env.VAI_DB || DEFAULT_CONFIG.db)

/**
 * Opens the database and runs `body` with its store. Only `create` (user add, which
 * may come before the first start) makes a new file; elsewhere a mistyped path is
 * an error, not a fresh empty database.
 */
async function withStore<T>(values: Values, env: Env, body: (store: Store) => Promise<T>, create = false): Promise<T> {
  const store = await open(dbPath(values, env), create)
  try {
    return await body(store)
  } finally {
    await store.close()
  }
}

async function open(db: string, create = false): Promise<Store> {
  try {
    return await openStore(db, { create, pool: 2 })
  } catch (error) {
    throw new CommandError(`cannot open database ${describeDb(db)}: ${(error as Error).message}`)
  }
}

function requireEmail(values: Values): string {
  const email = values.email
  if (typeof email !== 'string' || email.trim() === '') throw new UsageError('--email is required')
  return email.trim().toLowerCase()
}

async function requireUser(store: Store, email: string): Promise<UserRecord> {
  const user = await store.findUserByEmail(email)
  if (!user) throw new CommandError(`no user with email ${email}`)
  return user
}

async function newPassword(): Promise<string> {
  const password = await readSecret('New password: ')
  if (!Value.Check(SignupBody.properties.password, password)) {
    throw new CommandError('the password must be 8 to 256 characters')
  }
  if (process.stdin.isTTY && (await readSecret('Repeat it: ')) !== password) {
    throw new CommandError('the passwords do not match')
  }
  return password
}

async function allTokens(store: Store, userId: string): Promise<TokenRecord[]> {
  const tokens: TokenRecord[] = []
  for (let page = await store.listTokens(userId, { includeRevoked: true, limit: 500 }); page.length > 0; ) {
    tokens.push(...page)
    const last = page.at(-1)!
    page = await store.listTokens(userId, { includeRevoked: true, limit: 500, after: last })
  }
  return tokens
}

const date = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 19).replace('T', ' '))

function status(token: TokenRecord, now: number): string {
  if (token.revokedAt !== null) return 'revoked'
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired'
  return 'active'
}

const COMMANDS: Record<string, Command> = {
  'user add': {
    usage: `Usage: vai user add --email EMAIL [--name NAME] [--db PATH]

Creates a user, even while signup is closed. The password is read from the
terminal without echo, or from the first line of stdin:
  printf '%s\\n' "$PASSWORD" | vai user add --email ada@example.com

${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, name: { type: 'string' } },
    async run(values, _, env) {
      const email = requireEmail(values)
      if (!Value.Check(SignupBody.properties.email, email)) throw new UsageError(`'${email}' is not a valid email address`)
      const name = (values.name as string | undefined) ?? null
      if (name !== null && !Value.Check(SignupBody.properties.name, name)) throw new UsageError('--name must be at most 255 characters')
      const password = await newPassword()
      return withStore(values, env, async (store) => {
        const at = Date.now()
        const result = await store.createUser({ id: Bun.randomUUIDv7('hex', at), email, name, passwordHash: await hashPassword(password), createdAt: at }, true)
        if ('refused' in result) throw new CommandError(`${email} is already registered`)
        console.log(`created user ${email} (${result.created.id})`)
        return 0
      }, true)
    },
  },
  'user list': {
    usage: `Usage: vai user list [--json] [--db PATH]\n\n  --json           one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...JSON_OPTION },
    async run(values, _, env) {
      return withStore(values, env, async (store) => {
        const users = await store.listUsers(Date.now())
        if (values.json) {
          console.log(JSON.stringify(users.map((user) => ({ ...presentUser(user), activeTokens: user.activeTokens }))))
        } else {
          printTable(['EMAIL', 'NAME', 'CREATED', 'ACTIVE TOKENS', 'ID'], users.map((user) => [user.email, user.name ?? '-', date(presentUser(user).createdAt), String(user.activeTokens), user.id]))
        }
        return 0
      })
    },
  },
  'user passwd': {
    usage: `Usage: vai user passwd --email EMAIL [--db PATH]\n\nSets a new password, read like \`user add\` reads it. Existing tokens stay valid.\n\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION },
    async run(values, _, env) {
      const email = requireEmail(values)
      return withStore(values, env, async (store) => {
        const user = await requireUser(store, email)
        await store.setPasswordHash(user.id, await hashPassword(await newPassword()))
        console.log(`password changed for ${email}`)
        return 0
      })
    },
  },
  'user delete': {
    usage: `Usage: vai user delete --email EMAIL [--yes] [--db PATH]\n\nDeletes the user and all their tokens. Asks first unless --yes.\n\n  --yes            do not ask\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, yes: { type: 'boolean' } },
    async run(values, _, env) {
      const email = requireEmail(values)
      return withStore(values, env, async (store) => {
        const user = await requireUser(store, email)
        if (!values.yes && !(await confirm(`Delete ${email} and all their tokens?`))) throw new CommandError('not deleted')
        const tokens = await store.deleteUser(user.id)
        console.log(`deleted user ${email} and ${tokens} token${tokens === 1 ? '' : 's'}`)
        return 0
      })
    },
  },
  'tokens list': {
    usage: `Usage: vai tokens list --email EMAIL [--json] [--db PATH]\n\nEvery token of the user, revoked ones too, newest first.\n\n  --json           one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, ...JSON_OPTION },
    async run(values, _, env) {
      const email = requireEmail(values)
      return withStore(values, env, async (store) => {
        const tokens = await allTokens(store, (await requireUser(store, email)).id)
        const now = Date.now()
        if (values.json) {
          console.log(JSON.stringify(tokens.map(presentToken)))
        } else {
          printTable(
            ['PREFIX', 'TYPE', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS', 'ID'],
            tokens.map((token) => {
              const shown = presentToken(token)
              return [token.tokenPrefix, token.tokenType, token.name, date(shown.createdAt), date(shown.expiresAt), date(shown.lastUsedAt), status(token, now), token.id]
            }),
          )
        }
        return 0
      })
    },
  },
  'tokens revoke-all': {
    usage: `Usage: vai tokens revoke-all --email EMAIL [--db PATH]\n\nRevokes every session and API token of the user and prints how many.\n\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION },
    async run(values, _, env) {
      const email = requireEmail(values)
      return withStore(values, env, async (store) => {
        const count = await store.revokeAllTokens((await requireUser(store, email)).id, Date.now(), null)
        console.log(count)
        return 0
      })
    },
  },
  'tokens purge': {
    usage: `Usage: vai tokens purge [--retention-days N] [--db PATH]\n\nDeletes tokens revoked or expired more than N days ago (default ${DEFAULT_RETENTION_DAYS}) and prints how many.\n\n  --retention-days N  (VAI_RETENTION_DAYS)\n${DB_HELP}`,
    options: { ...DB_OPTION, 'retention-days': { type: 'string' } },
    async run(values, _, env) {
      const raw = (values['retention-days'] as string | undefined) ?? env.VAI_RETENTION_DAYS
      if (raw !== undefined && raw !== '' && !/^\d+$/.test(raw)) {
        throw new UsageError(`invalid --retention-days '${raw}': expected a whole number of days`)
      }
      const days = raw === undefined || raw === '' ? DEFAULT_RETENTION_DAYS : Number(raw)
      return withStore(values, env, async (store) => {
        console.log(await store.purgeTokens(Date.now() - days * DAY_MS))
        return 0
      })
    },
  },
  backup: {
    usage: `Usage: vai backup FILE [--db PATH]\n\nWrites a consistent copy of the live database to FILE (which must not exist),\nchecks that it opens and passes integrity_check, and prints its size.\n\n${DB_HELP}`,
    options: DB_OPTION,
    positionals: 1,
    async run(values, [target], env) {
      const db0 = dbPath(values, env)
      if (isPostgresUrl(db0)) throw new CommandError('backup copies a SQLite file; back up PostgreSQL with pg_dump or your provider\'s snapshots')
      const path = sqlitePath(db0)
      let db
      try {
        db = openDatabase(path, { create: false, migrate: false })
      } catch (error) {
        throw new CommandError(`cannot open database ${path}: ${(error as Error).message}`)
      }
      try {
        const size = backupDatabase(db, target!)
        console.log(`backed up ${path} to ${target} (${size} bytes, integrity ok)`)
        return 0
      } catch (error) {
        throw new CommandError(`backup failed: ${(error as Error).message}`)
      } finally {
        db.close()
      }
    },
  },
  migrate: {
    usage: `Usage: vai migrate [--db PATH]\n\nApplies pending schema migrations (serve does this at start too) and prints the schema version.\n\n${DB_HELP}`,
    options: DB_OPTION,
    async run(values, _, env) {
      const db0 = dbPath(values, env)
      if (isPostgresUrl(db0)) {
        const sql = connectPostgres(db0, { pool: 1 })
        try {
          console.log(`schema version ${await migratePostgres(sql)}`)
          return 0
        } catch (error) {
          throw new CommandError(`cannot migrate ${describeDb(db0)}: ${describePostgresError(error)}`)
        } finally {
          await sql.close()
        }
      }
      const path = sqlitePath(db0)
      try {
        const db = openDatabase(path)
        console.log(`schema version ${schemaVersion(db)}`)
        db.close()
        return 0
      } catch (error) {
        throw new CommandError(`cannot migrate ${path}: ${(error as Error).message}`)
      }
    },
  },
  'db copy': {
    usage: `Usage: vai db copy --from DB --to DB

Copies every user and token (password hashes and token digests, as stored) and the
cursor-signing secret from one database to another, in one transaction, then checks
that the counts match. The target may be a new SQLite file or PostgreSQL database
(its schema is created) but must hold no users. Tokens keep working after the move;
stop the servers on the source first, or uses and revocations made meanwhile stay behind.

  vai db copy --from ./vai.db --to postgres://vai:secret@db.internal:5432/vai

  --from DB        the SQLite file or postgres:// URL to copy from
  --to DB          the SQLite file or postgres:// URL to copy to`,
    options: { from: { type: 'string' }, to: { type: 'string' } },
    async run(values) {
      const from = values.from as string | undefined
      const to = values.to as string | undefined
      if (!from || !to) throw new UsageError('--from and --to are required')
      if (from === to) throw new UsageError('--from and --to name the same database')
      const source = await open(from)
      try {
        const target = await open(to, true)
        try {
          const expected = await source.countRows()
          const users = await source.exportUsers()
          const counted = { tokens: 0 }
          try {
            await target.importAll(users, tokenBatches(source, counted), await source.cursorSecret())
          } catch (error) {
            throw new CommandError(`copy failed, nothing was written: ${(error as Error).message}`)
          }
          const copied = await target.countRows()
          if (copied.users !== expected.users || copied.tokens !== counted.tokens || counted.tokens !== expected.tokens) {
            throw new CommandError(`counts differ after the copy: source ${expected.users} users and ${expected.tokens} tokens, target ${copied.users} and ${copied.tokens}`)
          }
          console.log(`copied ${copied.users} user${copied.users === 1 ? '' : 's'} and ${copied.tokens} token${copied.tokens === 1 ? '' : 's'} from ${describeDb(from)} to ${describeDb(to)}; counts verified`)
          return 0
        } finally {
          await target.close()
        }
      } finally {
        await source.close()
      }
    },
  },
  healthcheck: {
    usage: `Usage: vai healthcheck [--url URL]\n\nExits 0 when the server answers 200 on /healthz, 1 otherwise: for container HEALTHCHECKs,\nwhere no curl is at hand.\n\n  --url URL        what to ask (default http://127.0.0.1:$PORT/healthz, PORT defaulting to 3000)`,
    options: { url: { type: 'string' } },
    async run(values, _, env) {
      const url = (values.url as string | undefined) ?? `http://127.0.0.1:${env.PORT || DEFAULT_CONFIG.port}/healthz`
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
        if (response.status !== 200) throw new CommandError(`${url} answered ${response.status}`)
      } catch (error) {
        if (error instanceof CommandError) throw error
        throw new CommandError(`${url}: ${(error as Error).message}`)
      }
      console.log('ok')
      return 0
    },
  },
  doctor: {
    usage: `Usage: vai doctor [--db PATH]\n\nChecks the database file (permissions, integrity, WAL mode, schema version), or the\nPostgreSQL server (reachable, TLS and what it verifies, schema version), and the\nconfiguration in the environment, and says in plain words what is wrong (FAIL: exit 1)\nor worth a look (warn).\n\n${DB_HELP}`,
    options: DB_OPTION,
    async run(values, _, env) {
      const db0 = dbPath(values, env)
      const path = sqlitePath(db0)
      const findings: Finding[] = []
      try {
        loadConfig([], env)
        findings.push(['ok', 'configuration in the environment is valid'])
      } catch (error) {
        findings.push(['FAIL', `configuration: ${(error as Error).message}`])
      }
      if (isPostgresUrl(db0)) {
        findings.push(...(await checkPostgres(db0)))
      } else try {
        const mode = statSync(path).mode & 0o777
        findings.push(
          (mode & 0o077) === 0
            ? ['ok', `${path} is private (mode ${mode.toString(8)})`]
            : ['FAIL', `${path} has mode ${mode.toString(8)}: others can read password hashes and token digests; run chmod 600 ${path}`],
        )
        const db = openDatabase(path, { create: false, migrate: false })
        try {
          const integrity = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check
          findings.push(integrity === 'ok' ? ['ok', 'integrity_check: ok'] : ['FAIL', `integrity_check failed: ${integrity}; restore from a backup`])
          const journal = db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode
          findings.push(journal === 'wal' ? ['ok', 'journal mode: wal'] : ['FAIL', `journal mode is ${journal}, not wal`])
          findings.push(versionFinding(schemaVersion(db), SCHEMA_VERSION))
        } finally {
          db.close()
        }
      } catch (error) {
        findings.push(['FAIL', `cannot open database ${path}: ${(error as Error).message}`])
      }
      for (const [level, text] of findings) console.log(`${level.padEnd(4)}  ${text}`)
      // A warning is advice: only a failure makes doctor exit 1.
      return findings.some(([level]) => level === 'FAIL') ? 1 : 0
    },
  },
}

/** One line of doctor's report: fine, advice, or something that must be mended (exit 1). */
type Finding = ['ok' | 'warn' | 'FAIL', string]

const versionFinding = (version: number, current: number): Finding =>
  version === current
    ? ['ok', `schema version ${version} (current)`]
    : version < current
      ? ['FAIL', `schema version ${version} is behind ${current}: run vai migrate`]
      : ['FAIL', `schema version ${version} is newer than this vai knows (${current}): upgrade vai`]

async function checkPostgres(url: string): Promise<Finding[]> {
  const sql = connectPostgres(url, { pool: 1 })
  try {
    const [server] = await sql`SELECT current_setting('server_version') AS version, current_database() AS db`
    // pg_stat_ssl shows every role its own connection.
    const [tls] = await sql`SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
    return [
      ['ok', `connected to PostgreSQL ${server.version}, database ${server.db}`],
      transportFinding(url, tls?.ssl ? tls.version : null),
      versionFinding(await postgresSchemaVersion(sql), POSTGRES_SCHEMA_VERSION),
    ]
  } catch (error) {
    return [['FAIL', `cannot reach ${describeDb(url)}: ${describePostgresError(error)}`]]
  } finally {
    await sql.close()
  }
}

/**
 * What the connection to PostgreSQL protects: `tls` is the protocol it was encrypted with
 * (from pg_stat_ssl), null for none. Without verify-full, whoever sits between vai and the
 * database can pose as it and read the password hashes and token digests that cross.
 */
export function transportFinding(url: string, tls: string | null): Finding {
  const parsed = new URL(url)
  const mode = parsed.searchParams.get('sslmode') ?? 'disable'
  // Bun.SQL, given a CA, checks the certificate and the name under any mode short of verify-ca.
  const raisedByCa = parsed.searchParams.has('sslrootcert') && mode !== 'verify-full' && mode !== 'verify-ca'
  const named = raisedByCa ? `sslmode=${mode} with sslrootcert` : `sslmode=${mode}`
  const socket = parsed.searchParams.get('host')?.startsWith('/')
  const host = socket ? 'a unix socket' : parsed.hostname
  const advice = 'add sslmode=verify-full&sslrootcert=<the CA file> to the URL'
  if (tls === null) {
    return socket || /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(parsed.hostname)
      ? ['ok', `connection not encrypted, to ${host} on this machine`]
      : ['warn', `connection to ${host} is not encrypted: the password and every query cross the network readable; ${advice}`]
  }
  if (mode === 'verify-full' || raisedByCa) return ['ok', `connection encrypted (${tls}), the server's certificate and name verified (${named})`]
  if (mode === 'verify-ca') return ['ok', `connection encrypted (${tls}), the server's certificate verified but not its name (${named})`]
  return ['warn', `connection encrypted (${tls}), but the server's certificate is not verified (${named}): anyone on the path can pose as the database; ${advice}`]
}

const COPY_BATCH = 1000

/** Every token of `store`, a batch at a time, counting as it goes. */
async function* tokenBatches(store: Store, counted: { tokens: number }): AsyncIterable<StoredToken[]> {
  for (let batch = await store.exportTokens(null, COPY_BATCH); batch.length > 0; batch = await store.exportTokens(batch.at(-1)!.id, COPY_BATCH)) {
    counted.tokens += batch.length
    yield batch
  }
}

/** Runs `vai <group> <sub> …` or `vai <command> …`; undefined when argv names no admin command. */
export async function runAdmin(argv: string[], env: Env): Promise<number | undefined> {
  const [first, second] = argv
  const name = first && second && `${first} ${second}` in COMMANDS ? `${first} ${second}` : first
  const command = name ? COMMANDS[name] : undefined
  if (!command) {
    if (first === 'user' || first === 'tokens' || first === 'db') {
      const subs = Object.keys(COMMANDS).filter((key) => key.startsWith(`${first} `))
      throw new UsageError(`${first} needs one of: ${subs.map((key) => key.split(' ')[1]).join(', ')}`)
    }
    return undefined
  }
  const args = argv.slice(name!.split(' ').length)
  if (args.includes('-h') || args.includes('--help')) {
    console.log(command.usage)
    return 0
  }
  let parsed
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true })
  } catch (error) {
    // node:util adds advice about '--' that does not fit here.
    throw new UsageError((error as Error).message.split(/\n|\. To specify/)[0])
  }
  if (parsed.positionals.length !== (command.positionals ?? 0)) {
    throw new UsageError(`usage: ${command.usage.split('\n')[0]!.replace('Usage: ', '')}`)
  }
  return command.run(parsed.values as Values, parsed.positionals, env)
}
