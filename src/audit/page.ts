// A page of audit events, newest first, keyset-paginated like tokens (src/tokens/page.ts).
// The cursor is bound to the events of whom it pages, so a token page's cursor, or another
// user's, is not one.
import { decodeCursor, encodeCursor } from '../pagination'
import { httpError } from '../errors'
import type { Store } from '../store/store'
import type { EventRecord, EventType } from './events'

export interface EventQuery {
  type?: EventType
  limit: number
  cursor?: string
}

export interface EventPage {
  items: EventRecord[]
  nextCursor: string | null
}

/** The user's events (everyone's when userId is null: the admin's trail). */
export async function eventPage(store: Store, userId: string | null, query: EventQuery): Promise<EventPage> {
  const secret = await store.cursorSecret()
  const owner = `events:${userId ?? '*'}`
  const after = query.cursor === undefined ? undefined : decodeCursor(secret, owner, query.cursor)
  if (after === null) throw httpError('invalidCursor')
  const rows = await store.listEvents(userId, { type: query.type, limit: query.limit + 1, after })
  const items = rows.slice(0, query.limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(secret, owner, { createdAt: last.at, id: last.id }) : null }
}
