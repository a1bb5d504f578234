// Statements both backends run alike, built with the dialect's spelling of a placeholder
// ($name in bun:sqlite, $1 in PostgreSQL), and the batched purge they share.
import { TOKEN_COLUMNS, type Column } from './rows'
import type { ListTokensOptions } from './store'

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

const PURGE_BATCH = 1000

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
    await new Promise((resolve) => setImmediate(resolve))
  }
  return purged
}
