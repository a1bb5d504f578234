// Which PostgreSQL errors are outages (a 503 that mends itself, or damage that does not)
// rather than bugs, and how to say them in one line that never holds the URL.
import { DatabaseDamaged, StoreUnavailable } from './store'

// Errors that say the database cannot serve us now, not that the query is wrong: refused
// or lost connections, the server's own "shutting down"/"starting up", too many clients,
// a read-only server (a primary demoted in a failover, before the URL follows the new
// one), a full disk (53100) and an I/O error (58030) on the server.
const UNREACHABLE_SQLSTATE = /^(08|57P0[1-3]|53300|25006|53100|58030)/
// Damaged data or index pages (data_corrupted, index_corrupted): an outage that does not
// mend itself.
const DAMAGED_SQLSTATE = /^XX00[12]$/
// A server whose certificate fails the URL's sslmode (a rotation to a certificate the
// sslrootcert does not sign, a name it does not cover, an expired one) cannot be reached
// safely either: OpenSSL's verification codes, and Node's for a name that does not match.
const UNTRUSTED_CERTIFICATE = /^(ERR_TLS_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|INVALID_CA$)/
function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const { code, errno } = error as { code?: string; errno?: string }
  return (typeof code === 'string' && (/^ERR_POSTGRES_(CONNECTION|IDLE|LIFETIME|TLS)/.test(code) || UNTRUSTED_CERTIFICATE.test(code)))
    || (typeof errno === 'string' && UNREACHABLE_SQLSTATE.test(errno))
}

/** The outage a Bun.SQL error stands for, or undefined when it is a bug. */
export function postgresOutage(error: unknown): StoreUnavailable | undefined {
  if (isUnreachable(error)) return new StoreUnavailable(error, describePostgresError(error))
  const { errno } = error as { errno?: unknown }
  if (typeof errno === 'string' && DAMAGED_SQLSTATE.test(errno)) {
    return new DatabaseDamaged(error, `${describePostgresError(error)}: PostgreSQL reports damaged data; see its log, and restore or REINDEX`)
  }
  return undefined
}

/** A one-line description for the command line; never the URL (it may hold a password). */
export function describePostgresError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return code === 'ERR_POSTGRES_CONNECTION_REFUSED' ? 'connection refused' : (message ?? String(error))
}
