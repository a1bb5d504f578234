// Statements both backends run alike, built with the dialect's spelling of a placeholder
// ($name in bun:sqlite, $1 in PostgreSQL), and the batched purge and revoke-all they share.
import { TOKEN_COLUMNS, type Column } from './rows'
import type { ListTokensOptions, PageStart } from './store'
import { activeTokenSql } from './token-state'

/** `INSERT INTO table (…) VALUES (…)` of `columns`, each placeholder spelt from its column and position. */
export function insertSql(table: string, columns: readonly Column[], placeholder: (column: Column, index: number) => string): string {
  return `INSERT INTO ${table} (${columns.map((column) => column.column).join(', ')}) VALUES (${columns.map(placeholder).join(', ')})`
}

/** The values a listing is bound to, by name. */
export type ListParam = 'userId' | 'tokenType' | 'afterCreatedAt' | 'afterId' | 'limit'

/** Which filters a listing applies: one statement each, so that each is planned for the index once. */
export interface ListShape {
  typed: boolean
  includeRevoked: boolean
  paged: boolean
}

export const LIST_SHAPES: ListShape[] = [false, true].flatMap((typed) =>
  [false, true].flatMap((includeRevoked) => [false, true].map((paged) => ({ typed, includeRevoked, paged }))),
)

export const listShapeKey = ({ typed, includeRevoked, paged }: ListShape) => `${typed}${includeRevoked}${paged}`

export const listShapeOf = ({ tokenType, includeRevoked, after }: ListTokensOptions): ListShape => ({
  typed: tokenType !== undefined,
  includeRevoked,
  paged: after !== undefined,
})

/** The owner's tokens newest first, keyset by (created_at, id): what the tokens_by_owner index serves. */
export function listTokensSql(shape: ListShape, placeholder: (param: ListParam) => string): string {
  const where = [`t.user_id = ${placeholder('userId')}`]
  if (shape.typed) where.push(`t.token_type = ${placeholder('tokenType')}`)
  if (!shape.includeRevoked) where.push('t.revoked_at IS NULL')
  if (shape.paged) where.push(`(t.created_at, t.id) < (${placeholder('afterCreatedAt')}, ${placeholder('afterId')})`)
  return `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE ${where.join(' AND ')}
          ORDER BY t.created_at DESC, t.id DESC LIMIT ${placeholder('limit')}`
}

/** The values for listTokensSql(listShapeOf(options), …): exactly the ones its shape names. */
export function listParams(userId: string, { tokenType, limit, after }: ListTokensOptions): Partial<Record<ListParam, string | number>> {
  const params: Partial<Record<ListParam, string | number>> = { userId, limit }
  if (tokenType) params.tokenType = tokenType
  if (after) Object.assign(params, { afterCreatedAt: after.createdAt, afterId: after.id })
  return params
}

/** The values the owner's counts and revoke-all batches are bound to, by name. */
export type OwnerParam = 'userId' | 'tokenType' | 'now' | 'limit' | 'at' | 'exceptId' | 'afterCreatedAt' | 'afterId' | 'endCreatedAt' | 'endId'

/**
 * How many of the owner's tokens of one type are active, counting no further than `limit`:
 * the cap on active tokens needs to know only whether it is reached, so a user far below
 * it costs a few index steps, one at it `limit` of them. `except`: leaving out the token
 * `exceptId` (a rotation's old token, whose successor takes its place).
 */
export const activeOfTypeSql = (p: (param: OwnerParam) => string, except = false) =>
  `SELECT count(*) AS n FROM (
     SELECT 1 FROM tokens t WHERE t.user_id = ${p('userId')} AND t.token_type = ${p('tokenType')} AND ${activeTokenSql('t', p('now'))}
       ${except ? `AND t.id <> ${p('exceptId')}` : ''}
     LIMIT ${p('limit')}) AS capped`

/** A rotation's change to the old token ($1 successor id, $2 revoked_at, $3 expires_at, $4 its id). */
export const ROTATED_AWAY_SQL = 'UPDATE tokens SET rotated_to = $1, revoked_at = $2, expires_at = $3 WHERE id = $4'

/**
 * The live tokens down the chain of successors of the token $1 at the time $2, nearest
 * first ($2 as epoch milliseconds). A chain grows by one per rotation; the depth bound only
 * guards against a loop no rotation makes.
 */
const successorChain = `WITH RECURSIVE chain (id, depth) AS (
     SELECT rotated_to, 1 FROM tokens WHERE id = $1 AND rotated_to IS NOT NULL
     UNION ALL
     SELECT t.rotated_to, chain.depth + 1 FROM tokens t JOIN chain ON t.id = chain.id WHERE t.rotated_to IS NOT NULL AND chain.depth < 10000
   )`
export const LIVE_SUCCESSORS_SQL = `${successorChain}
   SELECT t.id FROM tokens t JOIN chain ON t.id = chain.id WHERE ${activeTokenSql('t', '$2')} ORDER BY chain.depth`
/** The same tokens, revoked at $2. */
export const REVOKE_SUCCESSORS_SQL = `${successorChain}
   UPDATE tokens SET revoked_at = $2 WHERE id IN (SELECT id FROM chain) AND ${activeTokenSql('tokens', '$2')}`

const PURGE_BATCH = 1000
const REVOKE_BATCH = 1000

/** Lets the requests waiting meanwhile run: SQLite's statements block the process while they run. */
export const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** One batch of the feed's purge: at most `batch` entries older than `before`. */
export const purgeRevocationsSql = (before: string, batch: string) =>
  `DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations WHERE revoked_at < ${before} ORDER BY seq LIMIT ${batch})`

/** The feed from `after` on ($1/?1: after, $2/?2: limit). */
export const REVOCATIONS_AFTER_SQL = 'SELECT seq, digest, revoked_at FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2'
export const LAST_REVOCATION_SQL = 'SELECT coalesce(max(seq), 0) AS seq FROM revocations'

/** One batch of the purge: at most `batch` tokens revoked or expired before `before`. */
export const purgeBatchSql = (before: string, batch: string) =>
  `DELETE FROM tokens WHERE id IN (
     SELECT id FROM tokens WHERE revoked_at < ${before}
     UNION ALL
     SELECT id FROM tokens WHERE expires_at < ${before}
     LIMIT ${batch})`

/**
 * Runs `deleteBatch(PURGE_BATCH)` until a batch deletes nothing; returns how many went.
 * It yields between batches: a purge of a million tokens must not stall requests.
 */
export async function purgeInBatches(deleteBatch: (batch: number) => number | Promise<number>): Promise<number> {
  let purged = 0
  for (let changes = -1; changes !== 0; purged += changes) {
    changes = await deleteBatch(PURGE_BATCH)
    await nextTurn()
  }
  return purged
}

/**
 * Where a batch of revoke-all ends: the last of the owner's next REVOKE_BATCH tokens (of any
 * state) after (afterCreatedAt, afterId) in the owner index's order, or no row when fewer
 * follow. It reads the index alone.
 */
export const revokeBatchEndSql = (p: (param: OwnerParam) => string) =>
  `SELECT t.created_at, t.id FROM tokens t
   WHERE t.user_id = ${p('userId')} AND (t.created_at, t.id) < (${p('afterCreatedAt')}, ${p('afterId')})
   ORDER BY t.created_at DESC, t.id DESC LIMIT 1 OFFSET ${REVOKE_BATCH - 1}`

/** One batch of revoke-all: the owner's tokens from (after) down to (end), both in the index's order, end included. */
export const revokeBatchSql = (p: (param: OwnerParam) => string) =>
  `UPDATE tokens SET revoked_at = ${p('at')}
   WHERE user_id = ${p('userId')} AND (created_at, id) < (${p('afterCreatedAt')}, ${p('afterId')})
     AND (created_at, id) >= (${p('endCreatedAt')}, ${p('endId')})
     AND revoked_at IS NULL AND id IS DISTINCT FROM ${p('exceptId')}`

/** Before every token, and after every one, in the owner index's order. */
const FIRST: PageStart = { createdAt: Number.MAX_SAFE_INTEGER, id: '' }
const LAST: PageStart = { createdAt: Number.MIN_SAFE_INTEGER, id: '' }

export interface RevokeBatches {
  /** The last token of the batch after `after` (revokeBatchEndSql), or null when it is the final one. */
  end(after: PageStart): PageStart | null | Promise<PageStart | null>
  /**
   * Revokes the batch from `after` to `end` (revokeBatchSql); how many went from not revoked
   * to revoked. `last`, on the final batch: how many the batches before it revoked, for the
   * `tokens.revoked_all` event its transaction records.
   */
  revoke(after: PageStart, end: PageStart, last: { before: number } | null): number | Promise<number>
}

/**
 * Revoke-all, REVOKE_BATCH tokens at a time down the owner index, each batch its own short
 * statement, yielding between them: one UPDATE of 400,000 rows held SQLite (and so every
 * request) for 0.85 s in process, 2.2-3.6 s in dist/vai with its commit
 * (scripts/bench/revoke-all.ts); a batch takes about 5 ms. Each batch reads only its own rows (a keyset, not a rescan of
 * what the batches before revoked), and counts only what it changed, so concurrent
 * revoke-alls still add up exactly. A failure midway leaves the batches before it revoked;
 * repeating the request finishes the job. The event goes with the last batch: it exists
 * exactly when the whole revoke-all went through.
 */
export async function revokeInBatches({ end, revoke }: RevokeBatches): Promise<number> {
  let revoked = 0
  for (let after: PageStart | null = FIRST; after !== null; ) {
    const last: PageStart | null = await end(after)
    revoked += await revoke(after, last ?? LAST, last === null ? { before: revoked } : null)
    after = last
    if (after !== null) await nextTurn()
  }
  return revoked
}

/**
 * Revokes every live token among the digests, in one statement for a whole batch, and
 * says which. `digests` is what the dialect puts in the IN list (placeholders, or the rows
 * of an array); `at` the time's placeholder.
 */
export const revokeLeakedSql = (digests: string, at: string) => `
  UPDATE tokens AS t SET revoked_at = ${at}
  WHERE t.digest IN (${digests}) AND ${activeTokenSql('t', at)}
  RETURNING id, user_id, name, token_prefix`

/** A statement's text with $1, $2… in the order of `params`, which says what to bind to each (PostgreSQL numbers them). */
export function numbered<Param extends string>(build: (placeholder: (param: Param) => string) => string): { text: string; params: Param[] } {
  const params: Param[] = []
  const text = build((param) => {
    const at = params.indexOf(param)
    return `$${at === -1 ? params.push(param) : at + 1}`
  })
  return { text, params }
}
