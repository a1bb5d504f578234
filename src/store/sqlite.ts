// The SQLite backend, through bun:sqlite: one file, shared by every vai process on the
// machine. Every statement is prepared once, and the hot path's lookup is remembered.
import { Database, type Statement } from 'bun:sqlite'
import { closeSync, existsSync, openSync } from 'node:fs'
import { rememberedSecret } from './cursor-secret'
import { NEW_TOKEN_COLUMNS, rowMapping, scopesText, TOKEN_COLUMNS, TOKEN_TABLE, USER_COLUMNS, USER_TABLE, type CallerRow, type Column, type LeakedRow, type Decode, type TokenRow, type UserRow } from './rows'
import { guardStore } from './guard'
import { sqliteOutage } from './sqlite-outages'
import {
  activeOfTypeSql, insertSql, LAST_REVOCATION_SQL, LIST_SHAPES, listParams, listShapeKey, listShapeOf, listTokensSql, LIVE_SUCCESSORS_SQL, nextTurn,
  purgeBatchSql, purgeInBatches, purgeRevocationsSql, REVOCATIONS_AFTER_SQL, REVOKE_SUCCESSORS_SQL, revokeBatchEndSql, revokeBatchSql, revokeInBatches,
  revokeLeakedSql, ROTATED_AWAY_SQL, type ListShape, type OwnerParam,
} from './statements'
import {
  DatabaseDamaged, noBatches, type CreateUserResult, type NewToken, type NewUser, type PageStart, type Rotation, type RotationRefusal, type Store,
  type StoredToken, type TokenType,
} from './store'
import { activeTokenSql, rotationRefusal } from './token-state'
import { createTouches, type PendingTouch } from './touches'
import { MIGRATIONS } from './sqlite-migrations'
import { rememberedLookups } from './remembered-lookups'


export const SCHEMA_VERSION = MIGRATIONS.length

export interface OpenOptions {
  /** false: refuse a missing file instead of creating an empty database. */
  create?: boolean
  /** false: leave the schema as found (for `vai doctor`). */
  migrate?: boolean
}

// How long a write waits for another process's lock (an admin command, a backup) before
// the request gets its 503.
const BUSY_TIMEOUT_MS = 5000
// The health check's probe waits less: it runs only after a failure, and must not hold
// the process for the whole busy timeout while another holds the lock.
const PROBE_BUSY_TIMEOUT_MS = 250

export function openDatabase(path: string, { create = true, migrate: migrating = true }: OpenOptions = {}): Database {
  if (path !== ':memory:' && !create && !existsSync(path)) throw new Error('no such file')
  if (path !== ':memory:') {
    // Create the file ourselves so that it is born private; SQLite gives the
    // -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600))
  }
  const db = new Database(path, { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  // FULL: a token whose 201 was sent survives a power cut, not only a crash.
  db.run('PRAGMA synchronous = FULL')
  db.run('PRAGMA foreign_keys = ON')
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  if (migrating) migrate(db)
  return db
}

export function schemaVersion(db: Database): number {
  return (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** Brings the schema to `upTo` (the current one; a test may build a file as an older vai left it). */
export function migrate(db: Database, upTo = MIGRATIONS.length): number {
  const apply = db.transaction((version: number) => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    for (let v = schemaVersion(db); v < upTo; v++) {
      db.run(MIGRATIONS[v]!)
      db.run(`PRAGMA user_version = ${v + 1}`)
    }
    return version
  })
  const current = schemaVersion(db)
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this vai (${MIGRATIONS.length}); upgrade vai`)
  }
  if (current < upTo) apply.immediate(current)
  return schemaVersion(db)
}

/**
 * The damage `PRAGMA quick_check` finds in the file, in one line, or null when it finds
 * none. It reads every page (0.4 s for 400,000 tokens), so `serve` runs it once, at start.
 */
export function quickCheck(db: Database): string | null {
  let found: string[]
  try {
    found = db.query<{ quick_check: string }, []>('PRAGMA quick_check').all().map((row) => row.quick_check)
  } catch (error) {
    // Damage bad enough stops the check itself.
    if (sqliteOutage(error) instanceof DatabaseDamaged) return (error as Error).message
    throw error
  }
  if (found.length === 1 && found[0] === 'ok') return null
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : ''
  return `${found[0]!.replace(/\s+/g, ' ')}${more}`
}

/**
 * The hot path's statement: a token and its owner by digest; scripts/bench/floor.ts runs
 * it bare. Correlated subqueries, not a JOIN: measured 3× faster in bun:sqlite for this
 * one-row lookup.
 */
export const TOKEN_BY_DIGEST_SQL = `SELECT ${TOKEN_COLUMNS},
       (SELECT email FROM users WHERE id = t.user_id) AS u_email,
       (SELECT name FROM users WHERE id = t.user_id) AS u_name,
       (SELECT created_at FROM users WHERE id = t.user_id) AS u_created_at
FROM tokens t WHERE t.digest = ?`

/** One of the caller's tokens by id (GET /access-tokens/{id}). */
export const TOKEN_BY_ID_SQL = `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = ? AND t.user_id = ?`

/** A listing, bound by name ($userId, …) to listParams(…). */
export const listTokensSqlite = (shape: ListShape) => listTokensSql(shape, (param) => `$${param}`)

// bun:sqlite binds an object's fields by name: { userId } to $userId.
const byField = (column: Column) => `$${column.field}`
const byName = (param: OwnerParam) => `$${param}`

// The tokens counted per statement when the gauges are refreshed: a count over every token
// held the process for 31 ms per 100,000 of them; a slice takes a few.
const COUNT_SLICE = 10_000

// bun:sqlite binds strings, numbers and bytes: a token's scopes go as their text.
const bound = (token: NewToken | StoredToken): Record<string, string | number | null | Uint8Array> => ({ ...token, scopes: scopesText(token.scopes) })

// bun:sqlite returns text as strings and integers as numbers: nothing to decode.
const SQLITE_VALUES: Decode<string, number> = { name: (value) => value, time: (value) => value }

// meta holds bytes (it is STRICT); the setup code is text, kept as its UTF-8.
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

export function createSqliteStore(db: Database): Store {
  const touches = createTouches()
  const leakStatements = new Map<number, Statement<LeakedRow, (Uint8Array | number)[]>>()
  const leakStatement = (size: number) => {
    let statement = leakStatements.get(size)
    if (!statement) leakStatements.set(size, (statement = db.query(revokeLeakedSql(Array.from({ length: size }, (_, i) => `?${i + 2}`).join(', '), '?1'))))
    return statement
  }
  const remembered = rememberedLookups<CallerRow>(() => q.dataVersion.get()!.data_version)
  const cursorKey = rememberedSecret(() => q.secret.get()!.value)
  const { toToken, toUser, toCaller, toStoredUser, toStoredToken, toLeaked } = rowMapping(SQLITE_VALUES, touches)

  const q = {
    anyUser: db.query<{ one: number }, []>('SELECT 1 AS one FROM users LIMIT 1'),
    insertUser: db.query(`${insertSql('users', USER_TABLE, byField)} ON CONFLICT (email) DO NOTHING`),
    userByEmail: db.query<UserRow & { password_hash: string }, [string]>(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = ?`),
    insertToken: db.query(insertSql('tokens', NEW_TOKEN_COLUMNS, byField)),
    tokenByDigest: db.query<CallerRow, [Uint8Array]>(TOKEN_BY_DIGEST_SQL),
    token: db.query<TokenRow, [string, string]>(TOKEN_BY_ID_SQL),
    revoke: db.query<{ revoked_at: number }, [number, string, string]>(
      'UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ? RETURNING revoked_at',
    ),
    activeOfType: db.query<{ n: number }, Record<string, string | number>>(activeOfTypeSql(byName)),
    activeOfTypeExcept: db.query<{ n: number }, Record<string, string | number>>(activeOfTypeSql(byName, true)),
    rotatedAway: db.query<unknown, [string, number | null, number | null, string]>(ROTATED_AWAY_SQL),
    liveSuccessors: db.query<{ id: string }, [string, number]>(LIVE_SUCCESSORS_SQL),
    revokeSuccessors: db.query<unknown, [string, number]>(REVOKE_SUCCESSORS_SQL),
    revokeBatchEnd: db.query<{ created_at: number; id: string }, Record<string, string | number>>(revokeBatchEndSql(byName)),
    revokeBatch: db.query<unknown, Record<string, string | number | null>>(revokeBatchSql(byName)),
    touch: db.query<unknown, [number, string | null, string, number]>(
      'UPDATE tokens SET last_used_at = ?, last_used_ip = coalesce(?, last_used_ip) WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    ),
    secret: db.query<{ value: Uint8Array }, []>("SELECT value FROM meta WHERE key = 'cursor_secret'"),
    keepSetupCode: db.query("INSERT INTO meta (key, value) VALUES ('setup_code', ?) ON CONFLICT (key) DO NOTHING"),
    setupCode: db.query<{ value: Uint8Array }, []>("SELECT value FROM meta WHERE key = 'setup_code' AND NOT EXISTS (SELECT 1 FROM users)"),
    endSetupCode: db.query("DELETE FROM meta WHERE key = 'setup_code'"),
    ping: db.query('SELECT 1'),
    dataVersion: db.query<{ data_version: number }, []>('PRAGMA data_version'),
    users: db.query<UserRow & { active_tokens: number }, [number]>(
      `SELECT u.id, u.email, u.name, u.created_at,
              (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND ${activeTokenSql('t', '?')}) AS active_tokens
       FROM users u ORDER BY u.created_at, u.id`,
    ),
    lastRowid: db.query<{ last: number | null }, []>('SELECT max(rowid) AS last FROM tokens'),
    activeByTypeIn: db.query<{ token_type: TokenType; n: number }, [number, number, number]>(
      `SELECT t.token_type, count(*) AS n FROM tokens t
       WHERE t.rowid > ? AND t.rowid <= ? AND ${activeTokenSql('t', '?')} GROUP BY t.token_type`,
    ),
    size: db.query<{ bytes: number }, []>('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()'),
    setPassword: db.query('UPDATE users SET password_hash = ? WHERE id = ?'),
    revokeSessions: db.query("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND token_type = 'session' AND revoked_at IS NULL AND id IS NOT ?"),
    deleteTokensOf: db.query('DELETE FROM tokens WHERE user_id = ?'),
    deleteUser: db.query('DELETE FROM users WHERE id = ?'),
    nthFailure: db.query<{ at: number }, [Uint8Array, number, number]>(
      'SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?',
    ),
    insertFailure: db.query('INSERT INTO login_failures (key, at) VALUES (?, ?)'),
    forgetFailures: db.query('DELETE FROM login_failures WHERE at <= ?'),
    clearFailures: db.query('DELETE FROM login_failures WHERE key = ?'),
    counts: db.query<{ users: number; tokens: number }, []>('SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM tokens) AS tokens'),
    exportUsers: db.query<UserRow & { password_hash: string }, []>(`SELECT ${USER_COLUMNS}, password_hash FROM users ORDER BY id`),
    exportTokens: db.query<TokenRow & { digest: Uint8Array }, [string, number]>(
      `SELECT ${TOKEN_COLUMNS}, t.digest FROM tokens t WHERE t.id > ? ORDER BY t.id LIMIT ?`,
    ),
    importToken: db.query(insertSql('tokens', TOKEN_TABLE, byField)),
    setSecret: db.query("UPDATE meta SET value = ? WHERE key = 'cursor_secret'"),
    purgeBatch: db.query(purgeBatchSql('$before', '$batch')),
    purgeRevocations: db.query(purgeRevocationsSql('$before', '$batch')),
    revocations: db.query<{ seq: number; digest: Uint8Array; revoked_at: number }, [number, number]>(REVOCATIONS_AFTER_SQL),
    lastRevocation: db.query<{ seq: number }, []>(LAST_REVOCATION_SQL),
    importRevocation: db.query('INSERT INTO revocations (seq, digest, revoked_at) VALUES (?, ?, ?)'),
    // A value bigger than a page needs pages of its own: the probe fails where a new token would.
    insertProbe: db.query("INSERT INTO meta (key, value) VALUES ('write_probe', zeroblob((SELECT page_size FROM pragma_page_size())))"),
    deleteProbe: db.query("DELETE FROM meta WHERE key = 'write_probe'"),
  }

  const listQueries = new Map(
    LIST_SHAPES.map((shape) => [listShapeKey(shape), db.query<TokenRow, Record<string, string | number>>(listTokensSqlite(shape))]),
  )

  const createUser = db.transaction((user: NewUser, signupOpen: boolean): CreateUserResult => {
    if (!signupOpen && q.anyUser.get()) return { refused: 'signup_closed' }
    const { changes } = q.insertUser.run({ ...user })
    if (changes === 0) return { refused: 'email_taken' }
    q.endSetupCode.run()
    return { created: { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt } }
  })

  const readSetupCode = () => {
    const row = q.setupCode.get()
    return row ? fromUtf8.decode(row.value) : null
  }
  const createSetupCode = db.transaction((candidate: string): string | null => {
    if (q.anyUser.get()) return null
    q.keepSetupCode.run(utf8.encode(candidate))
    return readSetupCode()
  })

  const changePassword = db.transaction((userId: string, passwordHash: string, at: number, keepSessionId: string | null) => {
    q.setPassword.run(passwordHash, userId)
    return q.revokeSessions.run(at, userId, keepSessionId).changes
  })

  const deleteUser = db.transaction((userId: string) => {
    const tokens = q.deleteTokensOf.run(userId).changes
    q.deleteUser.run(userId)
    return tokens
  })

  const recordFailure = db.transaction((keys: Uint8Array[], at: number, forgetUpTo: number) => {
    q.forgetFailures.run(forgetUpTo)
    for (const key of keys) q.insertFailure.run(key, at)
  })

  const writeTouches = db.transaction((entries: PendingTouch[]) => {
    for (const [id, at, ip] of entries) q.touch.run(at, ip, id, at)
  })

  // In the write lock from the count to the insert: concurrent creates (other processes
  // on the file too) cannot pass the limit together.
  const insertWithinLimit = db.transaction((token: NewToken, limit: number) => {
    const active = q.activeOfType.get({ userId: token.userId, tokenType: token.tokenType, now: token.createdAt, limit })!.n
    if (active >= limit) return false
    q.insertToken.run(bound(token))
    return true
  })

  // In the write lock from the check to the update: of two rotations of one token (in any
  // process), the second finds it rotated.
  const rotate = db.transaction(({ userId, tokenId, successor, graceUntil, limit }: Rotation): RotationRefusal | null => {
    const at = successor.createdAt
    const row = q.token.get(tokenId, userId)
    if (!row) return 'not_found'
    const refusal = rotationRefusal(toToken(row), at)
    if (refusal) return refusal
    if (q.activeOfTypeExcept.get({ userId, tokenType: successor.tokenType, now: at, limit, exceptId: tokenId })!.n >= limit) return 'too_many'
    q.insertToken.run(bound(successor))
    const expiresAt = graceUntil === null ? row.expires_at : Math.min(row.expires_at ?? graceUntil, graceUntil)
    q.rotatedAway.run(successor.id, graceUntil === null ? at : null, expiresAt, tokenId)
    return null
  })

  const reuse = db.transaction((tokenId: string, at: number, revoke: boolean): string[] => {
    const live = q.liveSuccessors.all(tokenId, at).map((row) => row.id)
    if (revoke && live.length > 0) q.revokeSuccessors.run(tokenId, at)
    return live
  })

  const probeWrite = db.transaction(() => {
    q.insertProbe.run()
    q.deleteProbe.run()
  })

  const keyset = (prefix: 'after' | 'end', at: PageStart) => ({ [`${prefix}CreatedAt`]: at.createdAt, [`${prefix}Id`]: at.id })

  const store: Store = {
    async createUser(user, signupOpen) {
      return createUser.immediate(user, signupOpen)
    },
    async hasUsers() {
      return q.anyUser.get() !== null
    },
    async createSetupCode(candidate) {
      return createSetupCode.immediate(candidate)
    },
    async setupCode() {
      return readSetupCode()
    },
    async findUserByEmail(email) {
      const row = q.userByEmail.get(email)
      return row ? toStoredUser(row) : null
    },
    async insertToken(token: NewToken) {
      q.insertToken.run(bound(token))
    },
    async insertTokenWithinLimit(token, limit) {
      return insertWithinLimit.immediate(token, limit)
    },
    async findTokenByDigest(digest) {
      const row = remembered.get(digest, () => q.tokenByDigest.get(digest))
      return row ? toCaller(row) : null
    },
    async getToken(userId, tokenId) {
      const row = q.token.get(tokenId, userId)
      return row ? toToken(row) : null
    },
    async listTokens(userId, options) {
      const query = listQueries.get(listShapeKey(listShapeOf(options)))!
      return query.all(listParams(userId, options) as Record<string, string | number>).map(toToken)
    },
    async rotateToken(rotation) {
      remembered.forget()
      return rotate.immediate(rotation)
    },
    async recordReuse(tokenId, at, revoke) {
      const live = reuse.immediate(tokenId, at, revoke)
      // Only when it revoked something: someone presenting an old token over and over must
      // not empty the hot path's memory for every other token. (Forgetting after the write
      // is as good as before: nothing runs in between.)
      if (revoke && live.length > 0) remembered.forget()
      return live
    },
    async revokeToken(userId, tokenId, at) {
      remembered.forget()
      return q.revoke.get(at, tokenId, userId) !== null
    },
    async revokeAllTokens(userId, at, exceptTokenId) {
      return revokeInBatches({
        end: (after) => {
          const row = q.revokeBatchEnd.get({ userId, ...keyset('after', after) })
          return row ? { createdAt: row.created_at, id: row.id } : null
        },
        revoke: (after, end) => {
          remembered.forget()
          return q.revokeBatch.run({ userId, at, exceptId: exceptTokenId, ...keyset('after', after), ...keyset('end', end) }).changes
        },
      })
    },
    async revokeLeaked(digests, at) {
      remembered.forget()
      if (digests.length === 0) return []
      // The digests bound as they are: a JSON array to unpack costs a third more. One
      // statement per power of two (bun:sqlite keeps each prepared), the list filled up
      // with its last digest, which the IN list counts once.
      const size = 2 ** Math.ceil(Math.log2(digests.length))
      const statement = leakStatement(size)
      const rows = statement.all(at, ...digests, ...Array<Uint8Array>(size - digests.length).fill(digests.at(-1)!))
      return rows.map(toLeaked)
    },
    touchToken(tokenId, at, ip) {
      touches.touch(tokenId, at, ip)
    },
    async flushTouches() {
      await touches.flush((entries) => {
        remembered.forget()
        writeTouches(entries)
      })
    },
    async countActiveTokens(now) {
      const counts: Record<TokenType, number> = { session: 0, api: 0 }
      const last = q.lastRowid.get()!.last ?? 0
      for (let from = 0; from < last; from += COUNT_SLICE) {
        for (const row of q.activeByTypeIn.all(from, from + COUNT_SLICE, now)) counts[row.token_type] += row.n
        await nextTurn()
      }
      return counts
    },
    async sizeBytes() {
      return q.size.get()!.bytes
    },
    async listUsers(now) {
      return q.users.all(now).map((row) => ({ ...toUser(row), activeTokens: row.active_tokens }))
    },
    async changePassword(userId, passwordHash, at, keepSessionId) {
      remembered.forget()
      return changePassword.immediate(userId, passwordHash, at, keepSessionId)
    },
    async deleteUser(userId) {
      remembered.forget()
      return deleteUser.immediate(userId)
    },
    async purgeTokens(before) {
      const purged = await purgeInBatches((batch) => {
        remembered.forget()
        return q.purgeBatch.run({ before, batch }).changes
      })
      await purgeInBatches((batch) => q.purgeRevocations.run({ before, batch }).changes)
      return purged
    },
    async listRevocations(after, limit) {
      return q.revocations.all(after, limit).map((row) => ({ seq: row.seq, digest: row.digest, revokedAt: row.revoked_at }))
    },
    async lastRevocationSeq() {
      return q.lastRevocation.get()!.seq
    },
    async nthLoginFailure(key, since, n) {
      return q.nthFailure.get(key, since, n - 1)?.at ?? null
    },
    async recordLoginFailure(keys, at, forgetUpTo) {
      recordFailure.immediate(keys, at, forgetUpTo)
    },
    async clearLoginFailures(key) {
      q.clearFailures.run(key)
    },
    async countRows() {
      return q.counts.get()!
    },
    async exportUsers() {
      return q.exportUsers.all().map(toStoredUser)
    },
    async exportTokens(afterId, limit) {
      return q.exportTokens.all(afterId ?? '', limit).map(toStoredToken)
    },
    async importAll(users, tokens, cursorSecret, revocations = noBatches()) {
      // By hand, not db.transaction(): the batches arrive asynchronously.
      remembered.forget()
      db.run('BEGIN IMMEDIATE')
      try {
        if (q.anyUser.get() || q.lastRevocation.get()!.seq > 0) throw new Error('the target database has users already; copy into an empty one')
        for (const user of users) q.insertUser.run({ ...user })
        for await (const batch of tokens) for (const token of batch) q.importToken.run(bound(token))
        // Inserted rows fire no trigger: the feed is the source's, seqs included.
        for await (const batch of revocations) for (const entry of batch) q.importRevocation.run(entry.seq, entry.digest, entry.revokedAt)
        q.setSecret.run(cursorSecret)
        if (users.length > 0) q.endSetupCode.run()
        db.run('COMMIT')
      } catch (error) {
        db.run('ROLLBACK')
        throw error
      }
      cursorKey.forget()
    },
    async cursorSecret() {
      return cursorKey.get()
    },
    async ping() {
      q.ping.get()
    },
    async close() {
      try {
        await store.flushTouches()
      } finally {
        db.close()
      }
    },
  }
  return guardStore(store, {
    unavailable: sqliteOutage,
    async probeWrite() {
      db.run(`PRAGMA busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`)
      try {
        probeWrite.immediate()
      } finally {
        db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
      }
    },
  })
}
