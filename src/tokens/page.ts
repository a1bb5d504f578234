import { decodeCursor, encodeCursor } from '../pagination'
import { httpError } from '../errors'
import type { Store, TokenRecord, TokenType } from '../store/store'

export interface PageQuery {
  tokenType?: TokenType
  includeRevoked: boolean
  limit: number
  /** The previous page's `nextCursor`; none for the first page. */
  cursor?: string
}

export interface TokenPage {
  items: TokenRecord[]
  /** Where the next page starts, or null on the last one. */
  nextCursor: string | null
}

/** One page of a user's tokens, newest first. */
export async function tokenPage(store: Store, userId: string, query: PageQuery): Promise<TokenPage> {
  const secret = await store.cursorSecret()
  const after = query.cursor === undefined ? undefined : decodeCursor(secret, userId, query.cursor)
  if (after === null) throw httpError('invalidCursor')
  // One extra row says whether another page exists, so nextCursor is null on the last one.
  const rows = await store.listTokens(userId, { tokenType: query.tokenType, includeRevoked: query.includeRevoked, limit: query.limit + 1, after })
  const items = rows.slice(0, query.limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(secret, userId, last) : null }
}
