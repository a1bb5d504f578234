// Audit events, token addresses, webhook endpoints and deliveries as both backends hold
// them: columns, rows, mapping, and the statements that read alike in both dialects. Every
// change that records an event writes it, and queues what is owed about it (a delivery per
// matching webhook endpoint, the owner's email for the mail types), in its own transaction.
import { MAIL_EVENT_TYPES, type EventRecord, type EventType } from '../audit/events'
import type { DueDelivery } from '../notify/outbox'
import type { Column, Decode } from './rows'
import type { DeliveryRecord } from './store'

/** The audit_events table, in its order. */
export const EVENT_TABLE: readonly Column<keyof EventRecord>[] = [
  { column: 'id', field: 'id', kind: 'text' },
  { column: 'user_id', field: 'userId', kind: 'text' },
  { column: 'type', field: 'type', kind: 'text' },
  { column: 'at', field: 'at', kind: 'time' },
  { column: 'token_id', field: 'tokenId', kind: 'text' },
  { column: 'token_prefix', field: 'tokenPrefix', kind: 'text' },
  { column: 'token_name', field: 'tokenName', kind: 'name' },
  { column: 'ip', field: 'ip', kind: 'text' },
  { column: 'user_agent', field: 'userAgent', kind: 'text' },
  { column: 'detail', field: 'detail', kind: 'text' },
]

export const EVENT_COLUMNS = EVENT_TABLE.map((column) => `e.${column.column}`).join(', ')

export interface EventRow<Name = string, Time = number> {
  id: string
  user_id: string
  type: EventType
  at: Time
  token_id: string | null
  token_prefix: string | null
  token_name: Name | null
  ip: string | null
  user_agent: string | null
  detail: string
}

export function toEvent<Name, Time>(decode: Decode<Name, Time>, row: EventRow<Name, Time>): EventRecord {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    at: decode.time(row.at),
    tokenId: row.token_id,
    tokenPrefix: row.token_prefix,
    tokenName: row.token_name === null ? null : decode.name(row.token_name),
    ip: row.ip,
    userAgent: row.user_agent,
    detail: JSON.parse(row.detail),
  }
}

/** Whether the owner gets an email about this event: SMTP is set and the type is one of the mail types. */
export const mailed = (event: EventRecord, emailOn: boolean) => emailOn && MAIL_EVENT_TYPES.includes(event.type)

export type EventParam = 'userId' | 'type' | 'afterAt' | 'afterId' | 'limit'

/** The events of a user (or of everyone: `anyUser`), newest first, keyset by (at, id). */
export function listEventsSql(shape: { anyUser: boolean; typed: boolean; paged: boolean }, p: (param: EventParam) => string): string {
  const where: string[] = []
  if (!shape.anyUser) where.push(`e.user_id = ${p('userId')}`)
  if (shape.typed) where.push(`e.type = ${p('type')}`)
  if (shape.paged) where.push(`(e.at, e.id) < (${p('afterAt')}, ${p('afterId')})`)
  return `SELECT ${EVENT_COLUMNS} FROM audit_events e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY e.at DESC, e.id DESC LIMIT ${p('limit')}`
}

// Placeholders are numbered in the order they first appear: SQLite numbers `$n` that way.

/** One delivery per endpoint that takes events of this type ($1 event id, $2 at, $3 type). */
export const WEBHOOK_DELIVERIES_SQL = `
  INSERT INTO deliveries (event_id, channel, endpoint_id, created_at, state, attempts, next_attempt_at)
  SELECT $1, 'webhook', w.id, $2, 'pending', 0, $2 FROM webhook_endpoints w
  WHERE w.filtered = 0 OR EXISTS (SELECT 1 FROM webhook_endpoint_events f WHERE f.endpoint_id = w.id AND f.type = $3)`

/** The owner's email about the event $1 at $2. */
export const EMAIL_DELIVERY_SQL = `
  INSERT INTO deliveries (event_id, channel, endpoint_id, created_at, state, attempts, next_attempt_at)
  VALUES ($1, 'email', NULL, $2, 'pending', 0, $2)`

/**
 * Where a token is used from: the address is upserted with the first and last use of a
 * flush window ($1 token, $2 ip, $3 first, $4 last, $5 first minus ADDRESS_MEMORY_MS); the
 * row comes back with first_seen = $3 and last_seen = $4 when these are the first uses from
 * it in that memory, which is a `token.new_ip`. Under the row's lock, so two instances flushing the same new
 * address record it once.
 */
export const SEEN_FROM_SQL = `
  INSERT INTO token_addresses AS a (token_id, ip, first_seen, last_seen)
  SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM tokens WHERE id = $1)
  ON CONFLICT (token_id, ip) DO UPDATE SET
    first_seen = CASE WHEN a.last_seen < $5 THEN excluded.first_seen ELSE a.first_seen END,
    last_seen = CASE WHEN a.last_seen < excluded.last_seen THEN excluded.last_seen ELSE a.last_seen END
  RETURNING first_seen, last_seen`

/** A token's addresses, most recently used first ($1 token, $2 limit). */
export const TOKEN_ADDRESSES_SQL = 'SELECT ip, first_seen, last_seen FROM token_addresses WHERE token_id = $1 ORDER BY last_seen DESC, ip LIMIT $2'

/** One batch of the retention purge: events older than $1, at most $2 of them (their deliveries go with them). */
export const PURGE_EVENTS_SQL = 'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)'
/** Addresses not used since $1. */
export const PURGE_ADDRESSES_SQL = 'DELETE FROM token_addresses WHERE last_seen < $1'

/**
 * The API tokens owed a `token.expiring` notice at $1: live, expiring within $2 ms, lived
 * longer than that (a token made to last three days is not told at once it has a week),
 * and not told this one yet (bit $3 of expiry_notices).
 */
export const EXPIRING_SQL = `
  SELECT t.id, t.user_id, t.name, t.token_prefix, t.expires_at FROM tokens t
  WHERE t.token_type = 'api' AND t.revoked_at IS NULL AND t.expires_at > $1 AND t.expires_at <= $1 + $2
    AND t.created_at < t.expires_at - $2 AND (t.expiry_notices & $3) = 0
  ORDER BY t.expires_at LIMIT 1000`

/** Marks the notice sent, unless another instance has just sent it ($1 bits to set, $2 token, $3 the bit that must be clear). */
export const EXPIRY_NOTICED_SQL = 'UPDATE tokens SET expiry_notices = expiry_notices | $1 WHERE id = $2 AND (expiry_notices & $3) = 0'

export interface DeliveryRow<Time = number> {
  id: number | string
  event_id: string
  event_type: EventType
  channel: 'webhook' | 'email'
  endpoint_id: string | null
  created_at: Time
  state: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: Time | null
  last_attempt_at: Time | null
  last_status: number | null
  last_error: string | null
}

/** Deliveries newest first, for `vai webhooks deliveries` ($1 limit). */
export const DELIVERIES_SQL = `
  SELECT d.id, d.event_id, e.type AS event_type, d.channel, d.endpoint_id, d.created_at, d.state, d.attempts,
         d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error
  FROM deliveries d JOIN audit_events e ON e.id = d.event_id ORDER BY d.id DESC LIMIT $1`

/** What is still owed: how many, and since when. */
export const OUTBOX_STATS_SQL = "SELECT count(*) AS pending, min(created_at) AS oldest FROM deliveries WHERE state = 'pending'"

/** Records an attempt's outcome on delivery $6. */
export const SETTLE_SQL = `
  UPDATE deliveries SET state = $1, attempts = attempts + 1, last_attempt_at = $2, last_status = $3, last_error = $4,
                        next_attempt_at = $5, lease_until = NULL
  WHERE id = $6`

/** What a claimed delivery reads: itself, its event, the owner and the endpoint. */
const DUE_COLUMNS = `d.id AS delivery_id, d.channel, d.attempts, d.created_at AS queued_at, d.endpoint_id, w.url AS endpoint_url,
  w.secret AS endpoint_secret, ${EVENT_COLUMNS}, u.email AS u_email, u.name AS u_name`

/** The claimed deliveries `ids` (the dialect's list of them), with all a sender needs. */
export const dueSql = (ids: string) => `
  SELECT ${DUE_COLUMNS} FROM deliveries d JOIN audit_events e ON e.id = d.event_id
  LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id LEFT JOIN users u ON u.id = e.user_id
  WHERE d.id IN (${ids}) ORDER BY d.id`

export interface DueRow<Name = string, Time = number> extends EventRow<Name, Time> {
  delivery_id: number | string
  channel: 'webhook' | 'email'
  attempts: number
  queued_at: Time
  endpoint_id: string | null
  endpoint_url: string | null
  endpoint_secret: string | null
  u_email: string | null
  u_name: Name | null
}

/** A claimed delivery as the deliverer takes it; a deleted user's email comes from their user.deleted event. */
export function toDue<Name, Time>(decode: Decode<Name, Time>, row: DueRow<Name, Time>): DueDelivery {
  const event = toEvent(decode, row)
  return {
    id: String(row.delivery_id),
    channel: row.channel,
    endpoint: row.endpoint_id === null ? null : { id: row.endpoint_id, url: row.endpoint_url!, secret: row.endpoint_secret! },
    attempts: Number(row.attempts),
    createdAt: decode.time(row.queued_at),
    event: { ...event, email: row.u_email ?? String(event.detail.email ?? ''), name: row.u_name === null ? null : decode.name(row.u_name) },
  }
}

export function toDelivery<Time>(decode: Pick<Decode<unknown, Time>, 'time'>, row: DeliveryRow<Time>): DeliveryRecord {
  const time = (value: Time | null) => (value === null ? null : decode.time(value))
  return {
    id: String(row.id),
    eventId: row.event_id,
    eventType: row.event_type,
    channel: row.channel,
    endpointId: row.endpoint_id,
    createdAt: decode.time(row.created_at),
    state: row.state,
    attempts: Number(row.attempts),
    nextAttemptAt: time(row.next_attempt_at),
    lastAttemptAt: time(row.last_attempt_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
  }
}

/** An event's values in EVENT_TABLE's order, detail as its JSON. */
export const eventValues = (event: EventRecord) => EVENT_TABLE.map((column) => (column.field === 'detail' ? JSON.stringify(event.detail) : event[column.field]))
