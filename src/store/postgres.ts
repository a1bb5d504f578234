// The PostgreSQL backend, through Bun's built-in client: for several vai instances
// on one database. Same Store as SQLite, same behaviour; every request is one
// round trip, and every statement is prepared once per connection.
import { SQL } from 'bun'
import { rememberedSecret } from './cursor-secret'
import { NEW_TOKEN_COLUMNS, rowMapping, scopesText, TOKEN_COLUMNS, TOKEN_TABLE, USER_COLUMNS, USER_TABLE, type CallerRow, type Column, type LeakedRow, type Decode, type TokenRow, type UserRow } from './rows'
import { guardStore } from './guard'
import { describePostgresError, postgresOutage } from './postgres-outages'
import {
  activeOfTypeSql, insertSql, LAST_REVOCATION_SQL, LIST_SHAPES, listParams, listShapeKey, listShapeOf, listTokensSql, LIVE_SUCCESSORS_SQL, purgeBatchSql,
  purgeInBatches, purgeRevocationsSql, REVOCATIONS_AFTER_SQL, REVOKE_SUCCESSORS_SQL, revokeBatchEndSql, revokeBatchSql, revokeInBatches, revokeLeakedSql,
  numbered, ROTATED_AWAY_SQL, type ListParam, type ListShape, type OwnerParam,
} from './statements'
import { postgresAudit } from './postgres-audit'
import { newEvent, NO_ORIGIN, type Origin } from '../audit/events'
import {
  noBatches, type CreateUserResult, type NewToken, type PageStart, type RevocationRecord, type RotationRefusal, type Store,
  type StoredToken, type TokenType,
} from './store'
import { activeTokenSql, rotationRefusal } from './token-state'
import { createTouches } from './touches'
import { MIGRATIONS } from './postgres-migrations'



export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length

// Any fixed number: every vai that migrates this database takes the same lock.
const MIGRATION_LOCK = 0x7661_6901
const SIGNUP_LOCK = 0x7661_6902

export interface PostgresOptions {
  /** Connections in this instance's pool. */
  pool?: number
  /** Seconds an unused connection stays open. */
  idleTimeout?: number
  /** Run-time parameters for every connection, e.g. { search_path: 'vai' }. */
  connection?: Record<string, string>
  /** false: leave the schema as found (for `vai doctor`). */
  migrate?: boolean
}

export function connectPostgres(url: string, { pool = 10, idleTimeout = 60, connection }: PostgresOptions = {}): SQL {
  return new SQL({
    url,
    max: pool,
    idleTimeout,
    // Fail fast while the database is down: the request gets its 503 within seconds.
    connectionTimeout: 5,
    // JIT compiles a plan for tens of milliseconds to save microseconds: an OLTP service's
    // statements never earn it back (a queued delivery's plan crossed jit_above_cost and
    // took 27 ms of a 28 ms insert).
    connection: { application_name: 'vai', jit: 'off', ...connection },
  })
}

export async function postgresSchemaVersion(sql: SQL): Promise<number> {
  const [table] = await sql`SELECT to_regclass('vai_schema') IS NOT NULL AS present`
  if (!table.present) return 0
  const [row] = await sql`SELECT version FROM vai_schema`
  return row?.version ?? 0
}

/** Brings the schema up to date; safe when several instances start at once. */
/** Brings the schema to `upTo` (the current one; a test may build a database as an older vai left it). */
export async function migratePostgres(sql: SQL, upTo = MIGRATIONS.length): Promise<number> {
  return sql.begin(async (tx) => {
    // Held to the end of this transaction: the second instance waits, then finds nothing to do.
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`CREATE TABLE IF NOT EXISTS vai_schema (version integer NOT NULL)`
    const [row] = await tx`SELECT version FROM vai_schema`
    let version: number = row?.version ?? 0
    if (!row) await tx`INSERT INTO vai_schema (version) VALUES (0)`
    if (version > MIGRATIONS.length) {
      throw new Error(`database schema version ${version} is newer than this vai (${MIGRATIONS.length}); upgrade vai`)
    }
    for (; version < upTo; version++) await MIGRATIONS[version]!(tx)
    await tx`UPDATE vai_schema SET version = ${version}`
    return version
  })
}

/** Connects, migrates unless told not to, and returns the store; refuses with a plain message. */
export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<Store> {
  const sql = connectPostgres(url, options)
  try {
    if (options.migrate !== false) await migratePostgres(sql)
    else await sql`SELECT 1`
  } catch (error) {
    await sql.close()
    throw new Error(describePostgresError(error))
  }
  return createPostgresStore(sql)
}

// PostgreSQL returns bytea as bytes (names are UTF-8 in bytea) and bigint as a string;
// epoch milliseconds fit a double exactly.
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()
const POSTGRES_VALUES: Decode<Uint8Array, string> = { name: (value) => fromUtf8.decode(value), time: Number }

type PgTokenRow = TokenRow<Uint8Array, string>
type PgUserRow = UserRow<Uint8Array, string>
type PgCallerRow = CallerRow<Uint8Array, string>

/** A record's fields as the parameters of `columns`, in order: names go as their UTF-8 bytes, scopes as their text. */
const values = (columns: readonly Column[], record: object) =>
  columns.map((column) => {
    const value = (record as Record<string, unknown>)[column.field]
    if (column.kind === 'scopes') return scopesText(value as string[])
    return column.kind === 'name' && typeof value === 'string' ? utf8.encode(value) : value
  })
const positional = (_: Column, index: number) => `$${index + 1}`

const INSERT_USER = insertSql('users', USER_TABLE, positional)
const INSERT_TOKEN = insertSql('tokens', NEW_TOKEN_COLUMNS, positional)
const ACTIVE_BY_TYPE = `SELECT t.token_type, count(*) AS n FROM tokens t WHERE ${activeTokenSql('t', '$1')} GROUP BY t.token_type`
const USERS_WITH_ACTIVE_TOKENS = `
  SELECT u.id, u.email, u.name, u.created_at,
         (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND ${activeTokenSql('t', '$1')}) AS active_tokens
  FROM users u ORDER BY u.created_at, u.id`
const PURGE_BATCH_SQL = purgeBatchSql('$1', '$2')
const PURGE_REVOCATIONS_SQL = purgeRevocationsSql('$1', '$2')

// The bulk import of a batch of tokens: one statement, its rows as JSON. Names and bytes
// travel as hex (json text cannot carry U+0000) and decode() turns them back into bytea.
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const isHex = (column: Column) => column.kind === 'name' || column.kind === 'bytes'
const asJson = (column: Column, value: unknown) =>
  column.kind === 'scopes'
    ? scopesText(value as string[])
    : value === null || !isHex(column) ? value : hex(column.kind === 'name' ? utf8.encode(value as string) : (value as Uint8Array))
const IMPORT_TOKENS = `
  INSERT INTO tokens (${TOKEN_TABLE.map((c) => c.column).join(', ')})
  SELECT ${TOKEN_TABLE.map((c) => (isHex(c) ? `decode(${c.column}, 'hex')` : c.column)).join(', ')}
  FROM json_to_recordset($1::text::json) AS v(${TOKEN_TABLE.map((c) => `${c.column} ${c.kind === 'time' ? 'bigint' : 'text'}`).join(', ')})`
const tokensJson = (tokens: StoredToken[]) =>
  JSON.stringify(tokens.map((token) => Object.fromEntries(TOKEN_TABLE.map((c) => [c.column, asJson(c, token[c.field])]))))

const REVOKE_LEAKED = revokeLeakedSql(`SELECT decode(value, 'hex') FROM json_array_elements_text($1::text::json)`, '$2')

const IMPORT_REVOCATIONS = `
  INSERT INTO revocations (seq, digest, revoked_at)
  SELECT seq, decode(digest, 'hex'), revoked_at FROM json_to_recordset($1::text::json) AS v(seq bigint, digest text, revoked_at bigint)`
const revocationsJson = (entries: RevocationRecord[]) =>
  JSON.stringify(entries.map(({ seq, digest, revokedAt }) => ({ seq, digest: Buffer.from(digest).toString('hex'), revoked_at: revokedAt })))

const listStatement = (shape: ListShape) => numbered<ListParam>((placeholder) => listTokensSql(shape, placeholder))
const ACTIVE_OF_TYPE = numbered<OwnerParam>(activeOfTypeSql)
const ACTIVE_OF_TYPE_EXCEPT = numbered<OwnerParam>((p) => activeOfTypeSql(p, true))
const REVOKE_BATCH_END = numbered<OwnerParam>(revokeBatchEndSql)
const REVOKE_BATCH = numbered<OwnerParam>(revokeBatchSql)

/** A numbered statement run with its parameters taken by name from `bound`. */
const run = <Row>(sql: SQL, { text, params }: { text: string; params: string[] }, bound: Record<string, unknown>): Promise<Row[]> =>
  sql.unsafe(text, params.map((param) => bound[param]))

const keyset = (prefix: 'after' | 'end', at: PageStart) => ({ [`${prefix}CreatedAt`]: at.createdAt, [`${prefix}Id`]: at.id })

export function createPostgresStore(sql: SQL): Store {
  const touches = createTouches()
  const cursorKey = rememberedSecret(async () => {
    const [row] = await sql`SELECT value FROM meta WHERE key = 'cursor_secret'`
    return new Uint8Array(row.value)
  })
  const { toToken, toUser, toCaller, toStoredUser, toStoredToken, toLeaked } = rowMapping(POSTGRES_VALUES, touches)
  const audit = postgresAudit(sql, POSTGRES_VALUES)
  const { record } = audit

  /** A new token's event (a session's is its login) and the address it was made from, known to it from then on. */
  const recordNew = async (tx: SQL, token: NewToken, origin: Origin) => {
    const about = { id: token.id, tokenPrefix: token.tokenPrefix, name: token.name }
    const detail = token.tokenType === 'api' ? { scopes: token.scopes, expiresAt: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString() } : {}
    await record(tx, newEvent(token.tokenType === 'session' ? 'login.succeeded' : 'token.created', token.userId, token.createdAt, { token: about, origin, detail }))
    if (origin.ip) await audit.know(tx, token.id, origin.ip, token.createdAt)
  }
  const eventToken = (row: PgTokenRow) => ({ id: row.id, tokenPrefix: row.token_prefix, name: POSTGRES_VALUES.name(row.name) })

  // One statement per filter combination, each prepared once per connection.
  const listStatements = new Map(LIST_SHAPES.map((shape) => [listShapeKey(shape), listStatement(shape)]))

  const store: Store = {
    ...audit.methods,
    async createUser(user, signupOpen, origin = NO_ORIGIN): Promise<CreateUserResult> {
      return sql.begin(async (tx) => {
        if (!signupOpen) {
          // Two first signups at once must not both find the database empty.
          await tx`SELECT pg_advisory_xact_lock(${SIGNUP_LOCK})`
          const [any] = await tx`SELECT 1 FROM users LIMIT 1`
          if (any) return { refused: 'signup_closed' as const }
        }
        const inserted = await tx.unsafe(`${INSERT_USER} ON CONFLICT (email) DO NOTHING`, values(USER_TABLE, user))
        if (inserted.count === 0) return { refused: 'email_taken' as const }
        await tx`DELETE FROM meta WHERE key = 'setup_code'`
        await record(tx, newEvent('user.created', user.id, user.createdAt, { origin }))
        return { created: { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt } }
      })
    },
    async hasUsers() {
      const rows = await sql`SELECT 1 FROM users LIMIT 1`
      return rows.length > 0
    },
    async createSetupCode(candidate) {
      await sql`
        INSERT INTO meta (key, value) SELECT 'setup_code', ${utf8.encode(candidate)} WHERE NOT EXISTS (SELECT 1 FROM users)
        ON CONFLICT (key) DO NOTHING`
      // A statement of its own: it sees the code another instance starting at the same time kept.
      return store.setupCode()
    },
    async setupCode() {
      const [row] = await sql`SELECT value FROM meta WHERE key = 'setup_code' AND NOT EXISTS (SELECT 1 FROM users)`
      return row ? fromUtf8.decode(row.value) : null
    },
    async findUserByEmail(email) {
      const [row] = await sql<(PgUserRow & { password_hash: string })[]>`
        SELECT ${sql.unsafe(USER_COLUMNS)}, password_hash FROM users WHERE email = ${email}`
      return row ? toStoredUser(row) : null
    },
    async insertToken(token: NewToken, origin = NO_ORIGIN) {
      await sql.begin(async (tx) => {
        await tx.unsafe(INSERT_TOKEN, values(NEW_TOKEN_COLUMNS, token))
        await recordNew(tx, token, origin)
      })
    },
    async insertTokenWithinLimit(token, limit, origin = NO_ORIGIN) {
      return sql.begin(async (tx) => {
        // The owner's row, locked to the end of the transaction, lines up concurrent creates
        // (on every instance) one at a time, each counting after the one before committed.
        // NO KEY UPDATE: logins inserting sessions (whose foreign key takes KEY SHARE) need not wait.
        await tx`SELECT 1 FROM users WHERE id = ${token.userId} FOR NO KEY UPDATE`
        const [row] = await run<{ n: string }>(tx, ACTIVE_OF_TYPE, { userId: token.userId, tokenType: token.tokenType, now: token.createdAt, limit })
        if (Number(row!.n) >= limit) return false
        await tx.unsafe(INSERT_TOKEN, values(NEW_TOKEN_COLUMNS, token))
        await recordNew(tx, token, origin)
        return true
      })
    },
    async rotateToken({ userId, tokenId, successor, graceUntil, limit }, origin = NO_ORIGIN) {
      return sql.begin(async (tx): Promise<RotationRefusal | null> => {
        const at = successor.createdAt
        // The owner's row lines the rotation up with creates (the cap, as in
        // insertTokenWithinLimit), the old token's with a revocation of it; of two rotations
        // of one token, the second then finds it rotated.
        await tx`SELECT 1 FROM users WHERE id = ${userId} FOR NO KEY UPDATE`
        const [row] = await tx<PgTokenRow[]>`
          SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM tokens t WHERE t.id = ${tokenId} AND t.user_id = ${userId} FOR UPDATE`
        if (!row) return 'not_found'
        const old = toToken(row)
        const refusal = rotationRefusal(old, at)
        if (refusal) return refusal
        const [active] = await run<{ n: string }>(tx, ACTIVE_OF_TYPE_EXCEPT, { userId, tokenType: successor.tokenType, now: at, limit, exceptId: tokenId })
        if (Number(active!.n) >= limit) return 'too_many'
        await tx.unsafe(INSERT_TOKEN, values(NEW_TOKEN_COLUMNS, successor))
        const expiresAt = graceUntil === null ? old.expiresAt : Math.min(old.expiresAt ?? graceUntil, graceUntil)
        await tx.unsafe(ROTATED_AWAY_SQL, [successor.id, graceUntil === null ? at : null, expiresAt, tokenId])
        await record(tx, newEvent('token.rotated', userId, at, {
          token: eventToken(row),
          origin,
          detail: { successorId: successor.id, graceUntil: graceUntil === null ? null : new Date(graceUntil).toISOString() },
        }))
        if (origin.ip) await audit.know(tx, successor.id, origin.ip, at)
        return null
      })
    },
    async recordReuse(tokenId, at, revoke, origin = NO_ORIGIN) {
      return sql.begin(async (tx) => {
        const live: { id: string }[] = await tx.unsafe(LIVE_SUCCESSORS_SQL, [tokenId, at])
        if (revoke && live.length > 0) await tx.unsafe(REVOKE_SUCCESSORS_SQL, [tokenId, at])
        const [row] = await tx<PgTokenRow[]>`SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM tokens t WHERE t.id = ${tokenId}`
        const successorIds = live.map((successor) => successor.id)
        if (row) await record(tx, newEvent('token.reuse_detected', row.user_id, at, { token: eventToken(row), origin, detail: { successorIds, revoked: revoke && live.length > 0 } }))
        return successorIds
      })
    },
    async findTokenByDigest(digest) {
      const [row] = await sql<PgCallerRow[]>`
        SELECT ${sql.unsafe(TOKEN_COLUMNS)}, u.email AS u_email, u.name AS u_name, u.created_at AS u_created_at
        FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.digest = ${digest}`
      return row ? toCaller(row) : null
    },
    async getToken(userId, tokenId) {
      const [row] = await sql<PgTokenRow[]>`
        SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM tokens t WHERE t.id = ${tokenId} AND t.user_id = ${userId}`
      return row ? toToken(row) : null
    },
    async listTokens(userId, options) {
      const rows = await run<PgTokenRow>(sql, listStatements.get(listShapeKey(listShapeOf(options)))!, listParams(userId, options))
      return rows.map(toToken)
    },
    async revokeToken(userId, tokenId, at, origin = NO_ORIGIN, reason) {
      return sql.begin(async (tx) => {
        const [row] = await tx<PgTokenRow[]>`
          SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM tokens t WHERE t.id = ${tokenId} AND t.user_id = ${userId} FOR UPDATE`
        if (!row) return false
        if (row.revoked_at === null) {
          await tx`UPDATE tokens SET revoked_at = ${at} WHERE id = ${tokenId}`
          await record(tx, newEvent('token.revoked', userId, at, { token: eventToken(row), origin, detail: reason ? { reason } : {} }))
        }
        return true
      })
    },
    async revokeAllTokens(userId, at, exceptTokenId, origin = NO_ORIGIN) {
      const batch = async (tx: SQL, after: PageStart, end: PageStart) =>
        ((await run(tx, REVOKE_BATCH, { userId, at, exceptId: exceptTokenId, ...keyset('after', after), ...keyset('end', end) })) as unknown as { count: number }).count
      // Under READ COMMITTED a row another revoke-all has just revoked is re-checked
      // after its lock is released and skipped: concurrent counts add up exactly.
      return revokeInBatches({
        end: async (after) => {
          const [row] = await run<{ created_at: string; id: string }>(sql, REVOKE_BATCH_END, { userId, ...keyset('after', after) })
          return row ? { createdAt: Number(row.created_at), id: row.id } : null
        },
        revoke: async (after, end, last) => {
          if (!last) return batch(sql, after, end)
          return sql.begin(async (tx) => {
            const changes = await batch(tx, after, end)
            await record(tx, newEvent('tokens.revoked_all', userId, at, { origin, detail: { count: last.before + changes, exceptCurrent: exceptTokenId !== null } }))
            return changes
          })
        },
      })
    },
    async revokeLeaked(digests, at, origin = NO_ORIGIN) {
      return sql.begin(async (tx) => {
        const rows: LeakedRow<Uint8Array>[] = await tx.unsafe(REVOKE_LEAKED, [JSON.stringify(digests.map((digest) => Buffer.from(digest).toString('hex'))), at])
        const leaked = rows.map(toLeaked)
        await record(tx, ...leaked.map((token) => newEvent('token.leak_reported', token.userId, at, { token, origin: { ip: origin.ip, userAgent: origin.userAgent } })))
        return leaked
      })
    },
    touchToken(tokenId, at, ip) {
      touches.touch(tokenId, at, ip)
    },
    async flushTouches() {
      await touches.flush(async (entries, addresses) => {
        await sql.begin(async (tx) => {
          await tx`
            UPDATE tokens SET last_used_at = v.at, last_used_ip = coalesce(v.ip, tokens.last_used_ip)
            FROM json_to_recordset(${JSON.stringify(entries.map(([id, at, ip]) => ({ id, at, ip })))}::text::json) AS v(id text, at bigint, ip text)
            WHERE tokens.id = v.id AND (tokens.last_used_at IS NULL OR tokens.last_used_at < v.at)`
          await audit.seenFrom(tx, addresses)
        })
      })
    },
    async countActiveTokens(now) {
      const counts: Record<TokenType, number> = { session: 0, api: 0 }
      const rows: { token_type: TokenType; n: string }[] = await sql.unsafe(ACTIVE_BY_TYPE, [now])
      for (const row of rows) counts[row.token_type] = Number(row.n)
      return counts
    },
    async sizeBytes() {
      const [row] = await sql`
        SELECT pg_total_relation_size('users') + pg_total_relation_size('tokens')
             + pg_total_relation_size('login_failures') + pg_total_relation_size('meta')
             + pg_total_relation_size('revocations') + pg_total_relation_size('audit_events')
             + pg_total_relation_size('token_addresses') + pg_total_relation_size('deliveries') AS bytes`
      return Number(row.bytes)
    },
    async listUsers(now) {
      const rows: (PgUserRow & { active_tokens: string })[] = await sql.unsafe(USERS_WITH_ACTIVE_TOKENS, [now])
      return rows.map((row) => ({ ...toUser(row), activeTokens: Number(row.active_tokens) }))
    },
    async changePassword(userId, passwordHash, at, keepSessionId, origin = NO_ORIGIN) {
      return sql.begin(async (tx) => {
        await tx`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`
        const revoked = await tx`
          UPDATE tokens SET revoked_at = ${at}
          WHERE user_id = ${userId} AND token_type = 'session' AND revoked_at IS NULL AND id IS DISTINCT FROM ${keepSessionId}`
        await record(tx, newEvent('password.changed', userId, at, { origin, detail: { sessionsRevoked: revoked.count } }))
        return revoked.count
      })
    },
    async deleteUser(userId, origin = NO_ORIGIN) {
      return sql.begin(async (tx) => {
        const [user] = await tx`SELECT email FROM users WHERE id = ${userId} FOR UPDATE`
        const tokens = await tx`DELETE FROM tokens WHERE user_id = ${userId}`
        await tx`DELETE FROM users WHERE id = ${userId}`
        // Kept with the address it had: the event outlives the account, and its notices need it.
        if (user) await record(tx, newEvent('user.deleted', userId, Date.now(), { origin, detail: { email: user.email, tokens: tokens.count } }))
        return tokens.count
      })
    },
    async purgeTokens(before) {
      const purged = await purgeInBatches(async (batch) => (await sql.unsafe(PURGE_BATCH_SQL, [before, batch])).count)
      await purgeInBatches(async (batch) => (await sql.unsafe(PURGE_REVOCATIONS_SQL, [before, batch])).count)
      return purged
    },
    async listRevocations(after, limit) {
      const rows: { seq: string; digest: Uint8Array; revoked_at: string }[] = await sql.unsafe(REVOCATIONS_AFTER_SQL, [after, limit])
      return rows.map((row) => ({ seq: Number(row.seq), digest: row.digest, revokedAt: Number(row.revoked_at) }))
    },
    async lastRevocationSeq() {
      const [row] = await sql.unsafe(LAST_REVOCATION_SQL)
      return Number(row.seq)
    },
    async nthLoginFailure(key, since, n) {
      const [row] = await sql`SELECT at FROM login_failures WHERE key = ${key} AND at > ${since} ORDER BY at DESC LIMIT 1 OFFSET ${n - 1}`
      return row ? Number(row.at) : null
    },
    async recordLoginFailure(keys, at, forgetUpTo, event) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM login_failures WHERE at <= ${forgetUpTo}`
        for (const key of keys) await tx`INSERT INTO login_failures (key, at) VALUES (${key}, ${at})`
        if (event) await record(tx, event)
      })
    },
    async clearLoginFailures(key) {
      await sql`DELETE FROM login_failures WHERE key = ${key}`
    },
    async countRows() {
      const [row] = await sql`SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM tokens) AS tokens`
      return { users: Number(row.users), tokens: Number(row.tokens) }
    },
    async exportUsers() {
      const rows = await sql<(PgUserRow & { password_hash: string })[]>`
        SELECT ${sql.unsafe(USER_COLUMNS)}, password_hash FROM users ORDER BY id`
      return rows.map(toStoredUser)
    },
    async exportTokens(afterId, limit) {
      const rows = await sql<(PgTokenRow & { digest: Uint8Array })[]>`
        SELECT ${sql.unsafe(TOKEN_COLUMNS)}, t.digest FROM tokens t WHERE t.id > ${afterId ?? ''} ORDER BY t.id LIMIT ${limit}`
      return rows.map(toStoredToken)
    },
    async importAll(users, tokens, cursorSecret, revocations = noBatches()) {
      await sql.begin(async (tx) => {
        await tx`LOCK TABLE users, tokens, revocations IN EXCLUSIVE MODE`
        const [any] = await tx`SELECT 1 FROM users UNION ALL SELECT 1 FROM revocations LIMIT 1`
        if (any) throw new Error('the target database has users already; copy into an empty one')
        for (const user of users) await tx.unsafe(INSERT_USER, values(USER_TABLE, user))
        // One statement per batch: a million tokens in a thousand round trips, not a million.
        for await (const batch of tokens) await tx.unsafe(IMPORT_TOKENS, [tokensJson(batch)])
        // Inserted rows fire no trigger: the feed is the source's, seqs included, and the counter goes on from its newest.
        for await (const batch of revocations) await tx.unsafe(IMPORT_REVOCATIONS, [revocationsJson(batch)])
        await tx`UPDATE revocation_counter SET seq = (SELECT coalesce(max(seq), 0) FROM revocations)`
        await tx`UPDATE meta SET value = ${cursorSecret} WHERE key = 'cursor_secret'`
        if (users.length > 0) await tx`DELETE FROM meta WHERE key = 'setup_code'`
      })
      cursorKey.forget()
    },
    async cursorSecret() {
      return cursorKey.get()
    },
    async ping() {
      await sql`SELECT 1`
    },
    async close() {
      await store.flushTouches().catch(() => {})
      await sql.close()
    },
  }
  return guardStore(store, {
    unavailable: postgresOutage,
    async probeWrite() {
      // Random, so that TOAST cannot compress it: 8 KiB that need pages of their own.
      const value = crypto.getRandomValues(new Uint8Array(8192))
      await sql.begin(async (tx) => {
        await tx`INSERT INTO meta (key, value) VALUES ('write_probe', ${value}) ON CONFLICT (key) DO NOTHING`
        await tx`DELETE FROM meta WHERE key = 'write_probe'`
      })
    },
    answerWithinMs: ANSWER_WITHIN_MS,
  })
}

// A database that stops answering without closing the connection (a partition, a frozen
// host) would leave a request waiting as long as TCP does. Past this deadline the request
// gets its 503; the query itself is left to finish or fail on its own.
const ANSWER_WITHIN_MS = 5000
