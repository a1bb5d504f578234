// PostgreSQL as vai's commands see it: a postgres:// (or postgresql://) URL, which may
// carry a password and so is never printed whole.
import type { SQL } from 'bun'
import { schemaFinding, type Backend, type Finding } from './backend'
import { connectPostgres, migratePostgres, openPostgresStore, POSTGRES_SCHEMA_VERSION, postgresSchemaVersion } from './postgres'
import { describePostgresError } from './postgres-outages'

export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db)

/** The URL without its password; nothing at all of one that does not parse. */
function withoutPassword(db: string): string {
  try {
    const url = new URL(db)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return 'postgres://…'
  }
}

/** One connection for `body`, closed after; failures in the words the command line uses. */
async function connected<T>(db: string, body: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = connectPostgres(db, { pool: 1 })
  try {
    return await body(sql)
  } catch (error) {
    throw new Error(describePostgresError(error), { cause: error })
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

/** The server reachable, what the connection to it protects, and the schema version. */
async function checkServer(url: string): Promise<Finding[]> {
  try {
    return await connected(url, async (sql) => {
      const [server] = await sql`SELECT current_setting('server_version') AS version, current_database() AS db`
      // pg_stat_ssl shows every role its own connection.
      const [tls] = await sql`SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
      return [
        ['ok', `connected to PostgreSQL ${server.version}, database ${server.db}`],
        transportFinding(url, tls?.ssl ? tls.version : null),
        schemaFinding({ version: await postgresSchemaVersion(sql), current: POSTGRES_SCHEMA_VERSION }),
      ]
    })
  } catch (error) {
    return [['FAIL', `cannot reach ${withoutPassword(url)}: ${(error as Error).message}`]]
  }
}

export const postgresBackend: Backend = {
  name: 'postgres',
  matches: isPostgresUrl,
  describe: withoutPassword,
  label: withoutPassword,
  open: (db, { pool } = {}) => openPostgresStore(db, { pool }),
  migrate: (db) => connected(db, migratePostgres),
  schemaStatus: (db) => connected(db, async (sql) => ({ version: await postgresSchemaVersion(sql), current: POSTGRES_SCHEMA_VERSION })),
  doctor: checkServer,
  noBackup: "backup copies a SQLite file; back up PostgreSQL with pg_dump or your provider's snapshots",
}
