/** An audit event as the outbox hands it over: the contract's Event plus its owner. */
export interface OutboxEvent {
  id: string            // uuid; also the webhook-id
  type: string          // e.g. 'token.revoked' (API.md → Activity and audit events → Types)
  at: number            // ms since epoch
  userId: string
  email: string         // the owner's email
  name: string | null   // the owner's display name
  tokenId: string | null
  tokenPrefix: string | null
  tokenName: string | null
  ip: string | null
  userAgent: string | null
  detail: Record<string, unknown>
}

export interface WebhookEndpoint { id: string; url: string; secret: string /* whsec_… */ }

export type Channel = 'webhook' | 'email'

export interface DueDelivery {
  id: string
  channel: Channel
  endpoint: WebhookEndpoint | null   // null for email
  attempts: number                   // attempts made before this one
  createdAt: number                  // when it was queued (ms)
  event: OutboxEvent
}

/** What one attempt came to. */
export type SendResult =
  | { delivered: true; status: number | null }
  | { delivered: false; status: number | null; error: string; retry: boolean }

export interface Outbox {
  /**
   * Up to `limit` deliveries due at `now` (next attempt at or before now, not delivered, not
   * given up), leased to the caller until `leaseUntil`: another instance (or another call)
   * does not get them until then. PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one process.
   * Only deliveries of `channels` are claimed: a channel this instance has no sender for
   * (no --smtp-url) stays queued rather than being leased and failed.
   */
  claimDue(now: number, limit: number, leaseUntil: number, channels: readonly Channel[]): Promise<DueDelivery[]>
  /** Records an attempt's outcome: delivered, retried at `nextAttemptAt`, or given up (null). */
  settle(id: string, outcome: { at: number; result: SendResult; nextAttemptAt: number | null }): Promise<void>
}
