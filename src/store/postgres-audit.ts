// The PostgreSQL side of audit events (src/store/events.ts): the event write each change
// runs in its own transaction (`tx`), and the Store methods that read events, addresses,
// webhooks and the outbox. Deliveries are claimed with FOR UPDATE SKIP LOCKED and a lease,
// so with several instances each delivery is attempted by one at a time.
import type { SQL } from 'bun'
import { ADDRESS_MEMORY_MS, EXPIRY_NOTICES, newEvent, type EventRecord, type EventType } from '../audit/events'
import {
  DELIVERIES_SQL, dueSql, EVENT_TABLE, EXPIRING_SQL, EXPIRY_NOTICED_SQL, listEventsSql, mailed, OUTBOX_STATS_SQL, PURGE_ADDRESSES_SQL,
  PURGE_EVENTS_SQL, SEEN_FROM_SQL, SETTLE_SQL, toDelivery, toDue, toEvent, TOKEN_ADDRESSES_SQL,
  type DeliveryRow, type DueRow, type EventParam, type EventRow,
} from './events'
import type { Decode } from './rows'
import { numbered, purgeInBatches } from './statements'
import type { Store } from './store'
import type { PendingAddress } from './touches'

const EVENT_SHAPES = [false, true].flatMap((anyUser) => [false, true].flatMap((typed) => [false, true].map((paged) => ({ anyUser, typed, paged }))))
const shapeKey = (shape: { anyUser: boolean; typed: boolean; paged: boolean }) => `${shape.anyUser}${shape.typed}${shape.paged}`
const LIST_EVENTS = new Map(EVENT_SHAPES.map((shape) => [shapeKey(shape), numbered<EventParam>((p) => listEventsSql(shape, p))]))

// A batch of events as one JSON parameter: names travel as hex (json text cannot hold U+0000).
const hex = (text: string) => Buffer.from(text).toString('hex')
const eventsJson = (events: EventRecord[], emailOn: boolean) =>
  JSON.stringify(events.map((event) => ({
    ...Object.fromEntries(EVENT_TABLE.map((c) => [c.column, c.field === 'detail' ? JSON.stringify(event.detail) : c.kind === 'name' && event[c.field] !== null ? hex(event[c.field] as string) : event[c.field]])),
    mailed: mailed(event, emailOn),
  })))
const EVENTS_FROM_JSON = `json_to_recordset($1::text::json) AS v(${EVENT_TABLE.map((c) => `${c.column} ${c.kind === 'time' ? 'bigint' : 'text'}`).join(', ')}, mailed boolean)`
const INSERT_EVENTS = `
  INSERT INTO audit_events (${EVENT_TABLE.map((c) => c.column).join(', ')})
  SELECT ${EVENT_TABLE.map((c) => (c.kind === 'name' ? `decode(v.${c.column}, 'hex')` : `v.${c.column}`)).join(', ')} FROM ${EVENTS_FROM_JSON}`
const QUEUE_DELIVERIES = `
  INSERT INTO deliveries (event_id, channel, endpoint_id, created_at, state, attempts, next_attempt_at)
  SELECT v.id, 'webhook', w.id, v.at, 'pending', 0, v.at FROM ${EVENTS_FROM_JSON} JOIN webhook_endpoints w ON w.filtered = 0
  UNION ALL
  SELECT v.id, 'webhook', f.endpoint_id, v.at, 'pending', 0, v.at FROM ${EVENTS_FROM_JSON} JOIN webhook_endpoint_events f ON f.type = v.type
  UNION ALL
  SELECT v.id, 'email', NULL, v.at, 'pending', 0, v.at FROM ${EVENTS_FROM_JSON} WHERE v.mailed`

const CLAIM = `
  WITH due AS (
    SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
      AND channel IN ($2, $3) ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
  UPDATE deliveries d SET lease_until = $5 FROM due WHERE d.id = due.id RETURNING d.id`

type PgEventRow = EventRow<Uint8Array, string>

export function postgresAudit(sql: SQL, values: Decode<Uint8Array, string>) {
  let emailOn = false

  /** Writes the events and queues what is owed about them, in the change's transaction `tx`. */
  const record = async (tx: SQL, ...events: EventRecord[]) => {
    if (events.length === 0) return
    const json = eventsJson(events, emailOn)
    await tx.unsafe(INSERT_EVENTS, [json])
    await tx.unsafe(QUEUE_DELIVERIES, [json])
  }

  /** An address the token is known from without an event (the one it was made from). */
  const know = async (tx: SQL, tokenId: string, ip: string, at: number) => {
    await tx.unsafe(SEEN_FROM_SQL, [tokenId, ip, at, at, at - ADDRESS_MEMORY_MS])
  }

  /** The addresses of a flush, each upserted under its row lock; a first use in 30 days is a `token.new_ip`. */
  const seenFrom = async (tx: SQL, addresses: PendingAddress[]) => {
    const fresh: EventRecord[] = []
    for (const [tokenId, ip, at, lastAt] of addresses) {
      const [row] = await tx.unsafe(SEEN_FROM_SQL, [tokenId, ip, at, lastAt, at - ADDRESS_MEMORY_MS])
      if (!row || Number(row.first_seen) !== at || Number(row.last_seen) !== lastAt) continue
      const [token] = await tx`SELECT user_id, token_prefix, name FROM tokens WHERE id = ${tokenId}`
      if (!token) continue
      fresh.push(newEvent('token.new_ip', token.user_id, at, {
        token: { id: tokenId, tokenPrefix: token.token_prefix, name: values.name(token.name) },
        origin: { ip, userAgent: null },
      }))
    }
    await record(tx, ...fresh)
  }

  const methods: Pick<
    Store,
    'recordEvent' | 'listEvents' | 'listTokenAddresses' | 'purgeEvents' | 'queueExpiryNotices' | 'setEmailNotices' | 'addWebhook' | 'listWebhooks'
    | 'removeWebhook' | 'listDeliveries' | 'claimDue' | 'settle' | 'outboxStats'
  > = {
    async recordEvent(event) {
      await sql.begin((tx) => record(tx, event))
    },
    async listEvents(userId, { type, limit, after }) {
      const { text, params } = LIST_EVENTS.get(shapeKey({ anyUser: userId === null, typed: type !== undefined, paged: after !== undefined }))!
      const bound: Record<EventParam, unknown> = { userId, type, limit, afterAt: after?.createdAt, afterId: after?.id }
      const rows: PgEventRow[] = await sql.unsafe(text, params.map((param) => bound[param]))
      return rows.map((row) => toEvent(values, row))
    },
    async listTokenAddresses(tokenId, limit) {
      const rows: { ip: string; first_seen: string; last_seen: string }[] = await sql.unsafe(TOKEN_ADDRESSES_SQL, [tokenId, limit])
      return rows.map((row) => ({ ip: row.ip, firstSeenAt: Number(row.first_seen), lastSeenAt: Number(row.last_seen) }))
    },
    async purgeEvents(before, addressesBefore) {
      const purged = await purgeInBatches(async (batch) => (await sql.unsafe(PURGE_EVENTS_SQL, [before, batch])).count)
      await sql.unsafe(PURGE_ADDRESSES_SQL, [addressesBefore])
      return purged
    },
    async queueExpiryNotices(now) {
      let queued = 0
      // The nearer notice first: a token found within a day of its end gets that one, and the
      // week's is marked as had. The UPDATE re-checks the bit under the row's lock: of two
      // instances, one sends each notice.
      for (const { days, bit } of [...EXPIRY_NOTICES].reverse()) {
        const ahead = days * 24 * 3600 * 1000
        const bits = EXPIRY_NOTICES.filter((notice) => notice.days >= days).reduce((all, notice) => all | notice.bit, 0)
        const due: { id: string; user_id: string; name: Uint8Array; token_prefix: string; expires_at: string }[] = await sql.unsafe(EXPIRING_SQL, [now, ahead, bit])
        for (const token of due) {
          const sent = await sql.begin(async (tx) => {
            if ((await tx.unsafe(EXPIRY_NOTICED_SQL, [bits, token.id, bit])).count === 0) return false
            await record(tx, newEvent('token.expiring', token.user_id, now, {
              token: { id: token.id, tokenPrefix: token.token_prefix, name: values.name(token.name) },
              detail: { expiresAt: new Date(Number(token.expires_at)).toISOString(), days },
            }))
            return true
          })
          if (sent) queued++
        }
      }
      return queued
    },
    setEmailNotices(on) {
      emailOn = on
    },
    async addWebhook(endpoint) {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO webhook_endpoints (id, url, secret, created_at, filtered)
                 VALUES (${endpoint.id}, ${endpoint.url}, ${endpoint.secret}, ${endpoint.createdAt}, ${endpoint.events === null ? 0 : 1})`
        for (const type of endpoint.events ?? []) await tx`INSERT INTO webhook_endpoint_events (endpoint_id, type) VALUES (${endpoint.id}, ${type})`
      })
    },
    async listWebhooks() {
      const rows = await sql`
        SELECT w.id, w.url, w.created_at, w.filtered,
               (SELECT string_agg(type, ' ' ORDER BY type) FROM webhook_endpoint_events f WHERE f.endpoint_id = w.id) AS types
        FROM webhook_endpoints w ORDER BY w.created_at, w.id`
      return rows.map((row: { id: string; url: string; created_at: string; filtered: number; types: string | null }) => ({
        id: row.id,
        url: row.url,
        createdAt: Number(row.created_at),
        events: row.filtered ? ((row.types ?? '').split(' ').filter(Boolean) as EventType[]) : null,
      }))
    },
    async removeWebhook(id) {
      return (await sql`DELETE FROM webhook_endpoints WHERE id = ${id}`).count > 0
    },
    async listDeliveries(limit) {
      const rows: DeliveryRow<string>[] = await sql.unsafe(DELIVERIES_SQL, [limit])
      return rows.map((row) => toDelivery(values, row))
    },
    async claimDue(now, limit, leaseUntil, channels) {
      if (channels.length === 0) return []
      const claimed: { id: string }[] = await sql.unsafe(CLAIM, [now, channels[0], channels[1] ?? channels[0], limit, leaseUntil])
      if (claimed.length === 0) return []
      const rows: DueRow<Uint8Array, string>[] = await sql.unsafe(dueSql(claimed.map((_, i) => `$${i + 1}`).join(', ')), claimed.map((row) => row.id))
      return rows.map((row) => toDue(values, row))
    },
    async settle(id, { at, result, nextAttemptAt }) {
      const state = result.delivered ? 'delivered' : nextAttemptAt === null ? 'failed' : 'pending'
      await sql.unsafe(SETTLE_SQL, [state, at, result.status, result.delivered ? null : result.error, result.delivered ? null : nextAttemptAt, id])
    },
    async outboxStats() {
      const [row] = await sql.unsafe(OUTBOX_STATS_SQL)
      return { pending: Number(row.pending), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) }
    },
  }
  return { record, seenFrom, know, methods }
}
