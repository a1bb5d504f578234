// The SQLite backend, through bun:sqlite: one file, shared by every vai process on the
// machine. Every statement is prepared once, and the hot path's lookup is remembered.
import type { Database, Statement } from 'bun:sqlite'
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
  noBatches, type CreateUserResult, type NewToken, type NewUser, type PageStart, type Rotation, type RotationRefusal, type Store,
  type StoredToken, type TokenType,
} from './store'
import { activeTokenSql, rotationRefusal } from './token-state'
import { createTouches, type PendingAddress, type PendingTouch } from './touches'
import { newEvent, NO_ORIGIN, type EventRecord, type Origin } from '../audit/events'
import { BUSY_TIMEOUT_MS, PROBE_BUSY_TIMEOUT_MS } from './sqlite-database'
import { sqliteAudit } from './sqlite-audit'
import { rememberedLookups } from './remembered-lookups'

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

/** A token as its events name it. */
const eventToken = (row: TokenRow) => ({ id: row.id, tokenPrefix: row.token_prefix, name: row.name })
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

  const audit = sqliteAudit(db)
  const { record } = audit
  const q = {
    anyUser: db.query<{ one: number }, []>('SELECT 1 AS one FROM users LIMIT 1'),
    insertUser: db.query(`${insertSql('users', USER_TABLE, byField)} ON CONFLICT (email) DO NOTHING`),
    userByEmail: db.query<UserRow & { password_hash: string }, [string]>(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = ?`),
    insertToken: db.query(insertSql('tokens', NEW_TOKEN_COLUMNS, byField)),
    tokenByDigest: db.query<CallerRow, [Uint8Array]>(TOKEN_BY_DIGEST_SQL),
    token: db.query<TokenRow, [string, string]>(TOKEN_BY_ID_SQL),
    tokenById: db.query<TokenRow, [string]>(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = ?`),
    revoke: db.query<unknown, [number, string]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    userById: db.query<{ email: string }, [string]>('SELECT email FROM users WHERE id = ?'),
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
    // A value of several pages needs pages of its own: the probe fails where a login would (a
    // session, its event and its address write to up to eight b-trees, each may need a page).
    insertProbe: db.query("INSERT INTO meta (key, value) VALUES ('write_probe', zeroblob(8 * (SELECT page_size FROM pragma_page_size())))"),
    deleteProbe: db.query("DELETE FROM meta WHERE key = 'write_probe'"),
  }

  const listQueries = new Map(
    LIST_SHAPES.map((shape) => [listShapeKey(shape), db.query<TokenRow, Record<string, string | number>>(listTokensSqlite(shape))]),
  )

  const createUser = db.transaction((user: NewUser, signupOpen: boolean, origin: Origin): CreateUserResult => {
    if (!signupOpen && q.anyUser.get()) return { refused: 'signup_closed' }
    const { changes } = q.insertUser.run({ ...user })
    if (changes === 0) return { refused: 'email_taken' }
    q.endSetupCode.run()
    record(newEvent('user.created', user.id, user.createdAt, { origin }))
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

  const changePassword = db.transaction((userId: string, passwordHash: string, at: number, keepSessionId: string | null, origin: Origin) => {
    q.setPassword.run(passwordHash, userId)
    const sessionsRevoked = q.revokeSessions.run(at, userId, keepSessionId).changes
    record(newEvent('password.changed', userId, at, { origin, detail: { sessionsRevoked } }))
    return sessionsRevoked
  })

  const deleteUser = db.transaction((userId: string, origin: Origin) => {
    const user = q.userById.get(userId)
    const tokens = q.deleteTokensOf.run(userId).changes
    q.deleteUser.run(userId)
    // Kept with the address it had: the event outlives the account, and its notices need it.
    if (user) record(newEvent('user.deleted', userId, Date.now(), { origin, detail: { email: user.email, tokens } }))
    return tokens
  })

  const recordFailure = db.transaction((keys: Uint8Array[], at: number, forgetUpTo: number, event: EventRecord | undefined) => {
    q.forgetFailures.run(forgetUpTo)
    for (const key of keys) q.insertFailure.run(key, at)
    if (event) record(event)
  })

  const writeTouches = db.transaction((entries: PendingTouch[], addresses: PendingAddress[]) => {
    for (const [id, at, ip] of entries) q.touch.run(at, ip, id, at)
    audit.seenFrom(addresses)
  })

  /** A new token's event (a session's is its login) and the address it was made from, known to it from then on. */
  const recordNew = (token: NewToken, origin: Origin) => {
    const about = { id: token.id, tokenPrefix: token.tokenPrefix, name: token.name }
    const detail = token.tokenType === 'api' ? { scopes: token.scopes, expiresAt: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString() } : {}
    record(newEvent(token.tokenType === 'session' ? 'login.succeeded' : 'token.created', token.userId, token.createdAt, { token: about, origin, detail }))
    if (origin.ip) audit.know(token.id, origin.ip, token.createdAt)
  }

  const insertToken = db.transaction((token: NewToken, origin: Origin) => {
    q.insertToken.run(bound(token))
    recordNew(token, origin)
  })

  // In the write lock from the count to the insert: concurrent creates (other processes
  // on the file too) cannot pass the limit together.
  const insertWithinLimit = db.transaction((token: NewToken, limit: number, origin: Origin) => {
    const active = q.activeOfType.get({ userId: token.userId, tokenType: token.tokenType, now: token.createdAt, limit })!.n
    if (active >= limit) return false
    q.insertToken.run(bound(token))
    recordNew(token, origin)
    return true
  })

  // In the write lock from the check to the update: of two rotations of one token (in any
  // process), the second finds it rotated.
  const rotate = db.transaction(({ userId, tokenId, successor, graceUntil, limit }: Rotation, origin: Origin): RotationRefusal | null => {
    const at = successor.createdAt
    const row = q.token.get(tokenId, userId)
    if (!row) return 'not_found'
    const refusal = rotationRefusal(toToken(row), at)
    if (refusal) return refusal
    if (q.activeOfTypeExcept.get({ userId, tokenType: successor.tokenType, now: at, limit, exceptId: tokenId })!.n >= limit) return 'too_many'
    q.insertToken.run(bound(successor))
    const expiresAt = graceUntil === null ? row.expires_at : Math.min(row.expires_at ?? graceUntil, graceUntil)
    q.rotatedAway.run(successor.id, graceUntil === null ? at : null, expiresAt, tokenId)
    record(newEvent('token.rotated', userId, at, {
      token: eventToken(row),
      origin,
      detail: { successorId: successor.id, graceUntil: graceUntil === null ? null : new Date(graceUntil).toISOString() },
    }))
    if (origin.ip) audit.know(successor.id, origin.ip, at)
    return null
  })

  const reuse = db.transaction((tokenId: string, at: number, revoke: boolean, origin: Origin): string[] => {
    const live = q.liveSuccessors.all(tokenId, at).map((row) => row.id)
    if (revoke && live.length > 0) q.revokeSuccessors.run(tokenId, at)
    const row = q.tokenById.get(tokenId)
    if (row) record(newEvent('token.reuse_detected', row.user_id, at, { token: eventToken(row), origin, detail: { successorIds: live, revoked: revoke && live.length > 0 } }))
    return live
  })

  const revoke = db.transaction((userId: string, tokenId: string, at: number, origin: Origin, reason: string | undefined) => {
    const row = q.token.get(tokenId, userId)
    if (!row) return false
    if (row.revoked_at === null) {
      q.revoke.run(at, tokenId)
      record(newEvent('token.revoked', userId, at, { token: eventToken(row), origin, detail: reason ? { reason } : {} }))
    }
    return true
  })

  const revokeLeaked = db.transaction((digests: Uint8Array[], at: number, origin: Origin) => {
    // The digests bound as they are: a JSON array to unpack costs a third more. One
    // statement per power of two (bun:sqlite keeps each prepared), the list filled up
    // with its last digest, which the IN list counts once.
    const size = 2 ** Math.ceil(Math.log2(digests.length))
    const rows = leakStatement(size).all(at, ...digests, ...Array<Uint8Array>(size - digests.length).fill(digests.at(-1)!))
    const leaked = rows.map(toLeaked)
    record(...leaked.map((token) => newEvent('token.leak_reported', token.userId, at, { token, origin: { ip: origin.ip, userAgent: origin.userAgent } })))
    return leaked
  })

  const probeWrite = db.transaction(() => {
    q.insertProbe.run()
    q.deleteProbe.run()
  })

  const keyset = (prefix: 'after' | 'end', at: PageStart) => ({ [`${prefix}CreatedAt`]: at.createdAt, [`${prefix}Id`]: at.id })

  const store: Store = {
    ...audit.methods,
    async createUser(user, signupOpen, origin = NO_ORIGIN) {
      return createUser.immediate(user, signupOpen, origin)
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
    async insertToken(token: NewToken, origin = NO_ORIGIN) {
      insertToken.immediate(token, origin)
    },
    async insertTokenWithinLimit(token, limit, origin = NO_ORIGIN) {
      return insertWithinLimit.immediate(token, limit, origin)
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
    async rotateToken(rotation, origin = NO_ORIGIN) {
      remembered.forget()
      return rotate.immediate(rotation, origin)
    },
    async recordReuse(tokenId, at, revoke, origin = NO_ORIGIN) {
      const live = reuse.immediate(tokenId, at, revoke, origin)
      // Only when it revoked something: someone presenting an old token over and over must
      // not empty the hot path's memory for every other token. (Forgetting after the write
      // is as good as before: nothing runs in between.)
      if (revoke && live.length > 0) remembered.forget()
      return live
    },
    async revokeToken(userId, tokenId, at, origin = NO_ORIGIN, reason) {
      remembered.forget()
      return revoke.immediate(userId, tokenId, at, origin, reason)
    },
    async revokeAllTokens(userId, at, exceptTokenId, origin = NO_ORIGIN) {
      const batch = (after: PageStart, end: PageStart) =>
        q.revokeBatch.run({ userId, at, exceptId: exceptTokenId, ...keyset('after', after), ...keyset('end', end) }).changes
      const lastBatch = db.transaction((after: PageStart, end: PageStart, before: number) => {
        const changes = batch(after, end)
        record(newEvent('tokens.revoked_all', userId, at, { origin, detail: { count: before + changes, exceptCurrent: exceptTokenId !== null } }))
        return changes
      })
      return revokeInBatches({
        end: (after) => {
          const row = q.revokeBatchEnd.get({ userId, ...keyset('after', after) })
          return row ? { createdAt: row.created_at, id: row.id } : null
        },
        revoke: (after, end, last) => {
          remembered.forget()
          return last ? lastBatch.immediate(after, end, last.before) : batch(after, end)
        },
      })
    },
    async revokeLeaked(digests, at, origin = NO_ORIGIN) {
      remembered.forget()
      if (digests.length === 0) return []
      return revokeLeaked.immediate(digests, at, origin)
    },
    touchToken(tokenId, at, ip) {
      touches.touch(tokenId, at, ip)
    },
    async flushTouches() {
      await touches.flush((entries, addresses) => {
        remembered.forget()
        writeTouches.immediate(entries, addresses)
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
    async changePassword(userId, passwordHash, at, keepSessionId, origin = NO_ORIGIN) {
      remembered.forget()
      return changePassword.immediate(userId, passwordHash, at, keepSessionId, origin)
    },
    async deleteUser(userId, origin = NO_ORIGIN) {
      remembered.forget()
      return deleteUser.immediate(userId, origin)
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
    async recordLoginFailure(keys, at, forgetUpTo, event) {
      recordFailure.immediate(keys, at, forgetUpTo, event)
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
