// The SQLite side of audit events (src/store/events.ts): the statements, the event write
// that every change calls inside its own db.transaction, and the Store methods that read
// events, addresses, webhooks and the outbox. One process claims deliveries at a time:
// the claim is one UPDATE under the file's write lock.
import type { Database } from 'bun:sqlite'
import { ADDRESS_MEMORY_MS, EXPIRY_NOTICES, newEvent, type EventRecord } from '../audit/events'
import {
  DELIVERIES_SQL, dueSql, EMAIL_DELIVERY_SQL, EVENT_TABLE, eventValues, EXPIRING_SQL, EXPIRY_NOTICED_SQL, listEventsSql, mailed, OUTBOX_STATS_SQL,
  PURGE_ADDRESSES_SQL, PURGE_EVENTS_SQL, SEEN_FROM_SQL, SETTLE_SQL, toDelivery, toDue, toEvent, TOKEN_ADDRESSES_SQL, WEBHOOK_DELIVERIES_SQL,
  type DeliveryRow, type DueRow, type EventParam, type EventRow,
} from './events'
import type { Decode } from './rows'
import { insertSql, purgeInBatches } from './statements'
import type { Store } from './store'
import type { PendingAddress } from './touches'

const VALUES: Decode<string, number> = { name: (value) => value, time: (value) => value }

type Bound = Record<string, string | number | null>

const EVENT_SHAPES = [false, true].flatMap((anyUser) => [false, true].flatMap((typed) => [false, true].map((paged) => ({ anyUser, typed, paged }))))
const shapeKey = (shape: { anyUser: boolean; typed: boolean; paged: boolean }) => `${shape.anyUser}${shape.typed}${shape.paged}`

export function sqliteAudit(db: Database) {
  let emailOn = false
  const q = {
    insertEvent: db.query<unknown, (string | number | null)[]>(insertSql('audit_events', EVENT_TABLE, (_, index) => `?${index + 1}`)),
    webhookDeliveries: db.query<unknown, [string, number, string]>(WEBHOOK_DELIVERIES_SQL),
    emailDelivery: db.query<unknown, [string, number]>(EMAIL_DELIVERY_SQL),
    seenFrom: db.query<{ first_seen: number; last_seen: number }, [string, string, number, number, number]>(SEEN_FROM_SQL),
    tokenOf: db.query<{ user_id: string; token_prefix: string; name: string }, [string]>('SELECT user_id, token_prefix, name FROM tokens WHERE id = ?'),
    addresses: db.query<{ ip: string; first_seen: number; last_seen: number }, [string, number]>(TOKEN_ADDRESSES_SQL),
    purgeEvents: db.query<unknown, [number, number]>(PURGE_EVENTS_SQL),
    purgeAddresses: db.query<unknown, [number]>(PURGE_ADDRESSES_SQL),
    expiring: db.query<{ id: string; user_id: string; name: string; token_prefix: string; expires_at: number }, [number, number, number]>(EXPIRING_SQL),
    noticed: db.query<unknown, [number, string, number]>(EXPIRY_NOTICED_SQL),
    addWebhook: db.query<unknown, [string, string, string, number, number]>(
      'INSERT INTO webhook_endpoints (id, url, secret, created_at, filtered) VALUES (?, ?, ?, ?, ?)',
    ),
    addWebhookEvent: db.query<unknown, [string, string]>('INSERT INTO webhook_endpoint_events (endpoint_id, type) VALUES (?, ?)'),
    webhooks: db.query<{ id: string; url: string; created_at: number; filtered: number; types: string | null }, []>(
      `SELECT w.id, w.url, w.created_at, w.filtered, (SELECT group_concat(type, ' ') FROM (SELECT type FROM webhook_endpoint_events f WHERE f.endpoint_id = w.id ORDER BY type)) AS types
       FROM webhook_endpoints w ORDER BY w.created_at, w.id`,
    ),
    removeWebhook: db.query<unknown, [string]>('DELETE FROM webhook_endpoints WHERE id = ?'),
    deliveries: db.query<DeliveryRow, [number]>(DELIVERIES_SQL),
    claim: db.query<{ id: number }, [number, number, number, string, string, number]>(
      `UPDATE deliveries SET lease_until = ?1 WHERE id IN (
         SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?3)
           AND channel IN (?4, ?5) ORDER BY next_attempt_at, id LIMIT ?6)
       RETURNING id`,
    ),
    settle: db.query<unknown, [string, number, number | null, string | null, number | null, number]>(SETTLE_SQL),
    stats: db.query<{ pending: number; oldest: number | null }, []>(OUTBOX_STATS_SQL),
  }
  const eventQueries = new Map(
    EVENT_SHAPES.map((shape) => [shapeKey(shape), db.query<EventRow, Bound>(listEventsSql(shape, (param: EventParam) => `$${param}`))]),
  )

  /** Writes the events and queues what is owed about them: call inside the change's transaction. */
  const record = (...events: EventRecord[]) => {
    for (const event of events) {
      q.insertEvent.run(...(eventValues(event) as (string | number | null)[]))
      q.webhookDeliveries.run(event.id, event.at, event.type)
      if (mailed(event, emailOn)) q.emailDelivery.run(event.id, event.at)
    }
  }

  /** The addresses of a flush, each upserted; a first use from one in 30 days is a `token.new_ip` (in the flush's transaction). */
  const seenFrom = (addresses: PendingAddress[]) => {
    for (const [tokenId, ip, at, lastAt] of addresses) {
      const row = q.seenFrom.get(tokenId, ip, at, lastAt, at - ADDRESS_MEMORY_MS)
      if (!row || row.first_seen !== at || row.last_seen !== lastAt) continue
      const token = q.tokenOf.get(tokenId)
      if (!token) continue
      record(newEvent('token.new_ip', token.user_id, at, { token: { id: tokenId, tokenPrefix: token.token_prefix, name: token.name }, origin: { ip, userAgent: null } }))
    }
  }

  /** An address the token is known from without an event (the one it was made from). */
  const know = (tokenId: string, ip: string, at: number) => {
    q.seenFrom.get(tokenId, ip, at, at, at - ADDRESS_MEMORY_MS)
  }

  const expiryNotices = db.transaction((now: number) => {
    let queued = 0
    // The nearer notice first: a token found within a day of its end gets that one, and
    // the week's is marked as had.
    for (const { days, bit } of [...EXPIRY_NOTICES].reverse()) {
      const ahead = days * 24 * 3600 * 1000
      for (const token of q.expiring.all(now, ahead, bit)) {
        const bits = EXPIRY_NOTICES.filter((notice) => notice.days >= days).reduce((all, notice) => all | notice.bit, 0)
        if (q.noticed.run(bits, token.id, bit).changes === 0) continue
        record(newEvent('token.expiring', token.user_id, now, {
          token: { id: token.id, tokenPrefix: token.token_prefix, name: token.name },
          detail: { expiresAt: new Date(token.expires_at).toISOString(), days },
        }))
        queued++
      }
    }
    return queued
  })

  const addWebhook = db.transaction((endpoint: Parameters<Store['addWebhook']>[0]) => {
    q.addWebhook.run(endpoint.id, endpoint.url, endpoint.secret, endpoint.createdAt, endpoint.events === null ? 0 : 1)
    for (const type of endpoint.events ?? []) q.addWebhookEvent.run(endpoint.id, type)
  })

  const claim = db.transaction((now: number, limit: number, leaseUntil: number, channels: readonly string[]) => {
    const ids = q.claim.all(leaseUntil, now, now, channels[0] ?? '', channels[1] ?? channels[0] ?? '', limit).map((row) => row.id)
    if (ids.length === 0) return []
    return db.query<DueRow, number[]>(dueSql(ids.map(() => '?').join(', '))).all(...ids)
  })

  const methods: Pick<
    Store,
    'recordEvent' | 'listEvents' | 'listTokenAddresses' | 'purgeEvents' | 'queueExpiryNotices' | 'setEmailNotices' | 'addWebhook' | 'listWebhooks'
    | 'removeWebhook' | 'listDeliveries' | 'claimDue' | 'settle' | 'outboxStats'
  > = {
    async recordEvent(event) {
      db.transaction(() => record(event)).immediate()
    },
    async listEvents(userId, { type, limit, after }) {
      const query = eventQueries.get(shapeKey({ anyUser: userId === null, typed: type !== undefined, paged: after !== undefined }))!
      const bound: Bound = { limit }
      if (userId !== null) bound.userId = userId
      if (type) bound.type = type
      if (after) Object.assign(bound, { afterAt: after.createdAt, afterId: after.id })
      return query.all(bound).map((row) => toEvent(VALUES, row))
    },
    async listTokenAddresses(tokenId, limit) {
      return q.addresses.all(tokenId, limit).map((row) => ({ ip: row.ip, firstSeenAt: row.first_seen, lastSeenAt: row.last_seen }))
    },
    async purgeEvents(before, addressesBefore) {
      const purged = await purgeInBatches((batch) => q.purgeEvents.run(before, batch).changes)
      q.purgeAddresses.run(addressesBefore)
      return purged
    },
    async queueExpiryNotices(now) {
      return expiryNotices.immediate(now)
    },
    setEmailNotices(on) {
      emailOn = on
    },
    async addWebhook(endpoint) {
      addWebhook.immediate(endpoint)
    },
    async listWebhooks() {
      return q.webhooks.all().map((row) => ({
        id: row.id,
        url: row.url,
        createdAt: row.created_at,
        events: row.filtered ? ((row.types ?? '').split(' ').filter(Boolean) as EventRecord['type'][]) : null,
      }))
    },
    async removeWebhook(id) {
      return q.removeWebhook.run(id).changes > 0
    },
    async listDeliveries(limit) {
      return q.deliveries.all(limit).map((row) => toDelivery(VALUES, row))
    },
    async claimDue(now, limit, leaseUntil, channels) {
      if (channels.length === 0) return []
      return claim.immediate(now, limit, leaseUntil, channels).map((row) => toDue(VALUES, row))
    },
    async settle(id, { at, result, nextAttemptAt }) {
      const state = result.delivered ? 'delivered' : nextAttemptAt === null ? 'failed' : 'pending'
      q.settle.run(state, at, result.status, result.delivered ? null : result.error, result.delivered ? null : nextAttemptAt, Number(id))
    },
    async outboxStats() {
      const row = q.stats.get()!
      return { pending: row.pending, oldestCreatedAt: row.oldest }
    },
  }
  return { record, seenFrom, know, methods }
}
