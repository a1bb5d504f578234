// The databases the bench measures on: the almost empty one, seeded through vai's
// API, and the big one (1,000,000 tokens over 1,000 users by default), made with the
// server's own token functions and written straight into SQLite or PostgreSQL.
import { Database } from 'bun:sqlite'
import { statSync } from 'node:fs'
import { SQL } from 'bun'
import { hashPassword } from '../../src/auth/password'
import { generateToken, tokenDigest, tokenPrefix } from '../../src/auth/token-format'
import { jsonPost, sendJson } from './http'
import { startVai, stop } from './processes'
import { BIG_TOKENS, BIG_USERS, DAY_MS, PASSWORD } from './settings'

/** A token as vai issued it: its plaintext and its id. */
export interface Issued {
  plaintext: string
  token: { id: string }
}

export interface SmallSeed {
  session: Issued // the login: its plaintext is the cookie
  tokens: Issued[]
}

/** The almost empty database: one user, a session and 60 API tokens, all made through the API. */
export async function seedThroughApi(baseUrl: string): Promise<SmallSeed> {
  await sendJson(baseUrl, jsonPost('/api/v1/auth/signup', { email: 'bench@example.com', password: PASSWORD, name: 'Bench' }), 201)
  const { json: session } = await sendJson<Issued>(baseUrl, jsonPost('/api/v1/auth/login', { email: 'bench@example.com', password: PASSWORD }), 200)
  const tokens: Issued[] = []
  for (let i = 0; i < 60; i++) {
    const request = jsonPost('/api/v1/access-tokens', { name: `bench key ${i}` }, { authorization: `Bearer ${session.plaintext}` })
    tokens.push((await sendJson<Issued>(baseUrl, request, 201)).json)
  }
  return { session, tokens }
}

// ---------------------------------------------------------------- 1M-token database

/** A big database, SQLite or PostgreSQL, as its seeding left it. */
export interface BigSeed {
  hot: Issued // a token of the listed user, with its plaintext
  seconds: number
  bytes: number // the file's size, or the PostgreSQL database's
}

interface BigUser {
  id: string
  email: string
  name: string
  createdAt: number
}

interface BigToken {
  id: string
  userId: string
  name: string
  tokenType: 'session' | 'api'
  tokenPrefix: string
  digest: Uint8Array
  plaintext: string
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  /** An API token, not revoked, of the user whose page (c) lists: the last one is the hot token. */
  hotCandidate: boolean
}

/** The users of the 1M seed, one a second from 400 days ago. */
function bigUsers(now: number): BigUser[] {
  const firstDay = now - 400 * DAY_MS
  const users: BigUser[] = []
  for (let u = 0; u < BIG_USERS; u++) {
    const createdAt = firstDay + u * 1000
    users.push({ id: Bun.randomUUIDv7('hex', createdAt), email: `user${u}@bench.example`, name: `Bench user ${u}`, createdAt })
  }
  return users
}

/**
 * The tokens of the 1M seed in creation order, made with the server's own token
 * functions (generateToken, tokenDigest, tokenPrefix), so every one authenticates.
 */
function* bigTokens(now: number, users: BigUser[]): Generator<BigToken> {
  const listedUser = Math.floor(BIG_USERS / 2)
  // Over the last 365 days, round-robin over the users: each ends with BIG_TOKENS / BIG_USERS.
  const step = (365 * DAY_MS) / BIG_TOKENS
  for (let k = 0; k < BIG_TOKENS; k++) {
    const user = k % BIG_USERS
    const nth = Math.floor(k / BIG_USERS) // this token's rank among its owner's
    const createdAt = Math.floor(now - 365 * DAY_MS + k * step)
    const session = nth % 10 === 3
    const revoked = nth % 50 === 7
    const plaintext = generateToken()
    yield {
      id: Bun.randomUUIDv7('hex', createdAt),
      userId: users[user]!.id,
      name: session ? 'Firefox on Linux' : `deploy key ${nth}`,
      tokenType: session ? 'session' : 'api',
      tokenPrefix: tokenPrefix(plaintext),
      digest: tokenDigest(plaintext),
      plaintext,
      createdAt,
      // Nothing old enough for vai's retention purge (revoked or expired > 90 days ago), which
      // runs at start-up: the database keeps exactly BIG_TOKENS tokens for every run.
      expiresAt: session ? createdAt + 365 * DAY_MS : null,
      revokedAt: revoked ? Math.max(createdAt, now - 60 * DAY_MS) : null,
      hotCandidate: user === listedUser && !session && !revoked,
    }
  }
}

/**
 * 1,000,000 tokens over 1,000 users, inserted in creation order (as a year of use
 * would have written them) in one transaction with prepared statements. The schema
 * is the server's own: it migrates the empty file first.
 */
export async function seedBigDatabase(path: string): Promise<BigSeed> {
  await stop(await startVai(path), 'vai (migrating the 1M database)')
  const started = Bun.nanoseconds()
  const db = new Database(path)
  // Seeding only: nothing here must survive a power cut, and a big cache keeps the digest index in memory.
  db.run('PRAGMA synchronous = OFF')
  db.run('PRAGMA cache_size = -524288')
  const passwordHash = await hashPassword(PASSWORD) // one argon2id hash, shared: seeding logs nobody in
  const now = Date.now()
  const insertUser = db.prepare('INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
  const insertToken = db.prepare(
    `INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at, last_used_at, revoked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  let hot: Issued | undefined
  db.transaction(() => {
    const users = bigUsers(now)
    for (const user of users) insertUser.run(user.id, user.email, user.name, passwordHash, user.createdAt)
    for (const t of bigTokens(now, users)) {
      insertToken.run(
        t.id,
        t.userId,
        t.name,
        t.tokenType,
        t.tokenPrefix,
        t.digest,
        t.createdAt,
        t.expiresAt,
        null, // as on the almost empty database, so (c) compares pages of the same shape
        t.revokedAt,
      )
      if (t.hotCandidate) hot = { plaintext: t.plaintext, token: { id: t.id } } // the newest one wins
    }
  })()
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
  if (!hot) throw new Error('the 1M seed made no usable token')
  return { hot, seconds: (Bun.nanoseconds() - started) / 1e9, bytes: statSync(path).size }
}

// ---------------------------------------------------------------- 1M tokens in PostgreSQL

export const PG_SEED_BATCH = 20_000

/**
 * The same 1M tokens as the SQLite seed (bigUsers, bigTokens: the server's token
 * functions, so each one authenticates), bulk-inserted in one transaction, batches
 * of rows sent as one JSON parameter each and expanded by json_to_recordset. The
 * schema is the server's own: dist/vai migrates the empty database first. Then
 * VACUUM ANALYZE, as autovacuum would have left a database that old.
 */
export async function seedPostgres(dbUrl: string): Promise<BigSeed> {
  await stop(await startVai(dbUrl), 'vai (migrating the PostgreSQL database)')
  const started = Bun.nanoseconds()
  const sql = new SQL({ url: dbUrl, max: 1 })
  try {
    const passwordHash = await hashPassword(PASSWORD)
    const now = Date.now()
    let hot: Issued | undefined
    await sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = off`
      const users = bigUsers(now)
      const userRows = users.map((u) => ({ id: u.id, email: u.email, name: u.name, created_at: u.createdAt }))
      await tx`
        INSERT INTO users (id, email, name, password_hash, created_at)
        SELECT id, email, convert_to(name, 'UTF8'), ${passwordHash}, created_at
        FROM json_to_recordset(${JSON.stringify(userRows)}::text::json) AS v(id text, email text, name text, created_at bigint)`
      let batch: unknown[] = []
      const insert = async () => {
        if (batch.length === 0) return
        await tx`
          INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at, last_used_at, revoked_at)
          SELECT id, user_id, convert_to(name, 'UTF8'), token_type, token_prefix, decode(digest, 'hex'), created_at, expires_at, NULL, revoked_at
          FROM json_to_recordset(${JSON.stringify(batch)}::text::json)
            AS v(id text, user_id text, name text, token_type text, token_prefix text, digest text, created_at bigint, expires_at bigint, revoked_at bigint)`
        batch = []
      }
      for (const t of bigTokens(now, users)) {
        batch.push({
          id: t.id,
          user_id: t.userId,
          name: t.name,
          token_type: t.tokenType,
          token_prefix: t.tokenPrefix,
          digest: Buffer.from(t.digest).toString('hex'),
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          revoked_at: t.revokedAt,
        })
        if (t.hotCandidate) hot = { plaintext: t.plaintext, token: { id: t.id } } // the newest one wins
        if (batch.length === PG_SEED_BATCH) await insert()
      }
      await insert()
    })
    await sql.unsafe('VACUUM (ANALYZE) users, tokens')
    // Not to have a checkpoint of the seed's pages land in a measured run; needs the right, so best effort.
    await sql.unsafe('CHECKPOINT').catch(() => {})
    const [size] = await sql`SELECT pg_database_size(current_database())::int8 AS bytes`
    if (!hot) throw new Error('the PostgreSQL seed made no usable token')
    return { hot, seconds: (Bun.nanoseconds() - started) / 1e9, bytes: Number(size.bytes) }
  } finally {
    await sql.close()
  }
}
