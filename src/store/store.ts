import type { EventRecord, EventType, Origin } from '../audit/events'
import type { Channel, DueDelivery, SendResult } from '../notify/outbox'

// The storage interface every backend implements. Handlers and auth code see only
// this; SQL stays inside the backend. Methods are async so that a networked
// backend (PostgreSQL) fits the same shape as the embedded one.

export type TokenType = 'session' | 'api'

export interface UserRecord {
  id: string
  email: string
  name: string | null
  createdAt: number
}

export interface TokenRecord {
  id: string
  userId: string
  name: string
  tokenType: TokenType
  tokenPrefix: string
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
  /** The client address of that last use (an introspection leaves it as it was). */
  lastUsedIp: string | null
  revokedAt: number | null
  /** What the token may do: sorted, each once (see src/tokens/scopes.ts). */
  scopes: string[]
  /** The id of the token that replaced it (POST …/rotate); null until it is rotated. */
  rotatedTo: string | null
}

export interface NewUser extends UserRecord {
  passwordHash: string
}

export interface NewToken extends Omit<TokenRecord, 'lastUsedAt' | 'lastUsedIp' | 'revokedAt' | 'rotatedTo'> {
  digest: Uint8Array
}

/** A user as stored, password hash included: for `vai db copy`. */
export type StoredUser = NewUser

/** A token as stored, digest included: for `vai db copy`. */
export interface StoredToken extends NewToken {
  lastUsedAt: number | null
  lastUsedIp: string | null
  revokedAt: number | null
  rotatedTo: string | null
}

/** Where a page starts: strictly older than this (createdAt, id) pair. */
export interface PageStart {
  createdAt: number
  id: string
}

/** One entry of the revocation feed: a token that stopped authenticating before its time. */
export interface RevocationRecord {
  /** Increasing by one across the whole service, in the order the revocations committed. */
  seq: number
  /** SHA-256 of the token's plaintext. */
  digest: Uint8Array
  revokedAt: number
}

/** A token a leak report revoked: what its owner's event names. */
export interface LeakedToken {
  id: string
  userId: string
  name: string
  tokenPrefix: string
}

export interface ListTokensOptions {
  tokenType?: TokenType
  includeRevoked: boolean
  limit: number
  after?: PageStart
}

/**
 * The database cannot serve now: it cannot be reached (down, restarting, out of
 * connections) or cannot write (a full disk, a read-only file). Requests get 503 rather
 * than 500: nothing is wrong with them, and they succeed again once the database does.
 */
export class StoreUnavailable extends Error {
  /** Why, in a line an operator can read: never a URL or a secret. */
  readonly reason: string

  constructor(cause: unknown, reason = cause instanceof Error ? cause.message : String(cause)) {
    super('database unavailable', { cause })
    this.reason = reason
  }
}

/**
 * The database file is damaged (a page that does not read back as SQLite wrote it): a 503
 * like any outage, but one that does not mend itself, so the health check keeps failing
 * until the file is restored and vai restarted.
 */
export class DatabaseDamaged extends StoreUnavailable {}

/** A rotation the route has worked out: the successor to insert and what becomes of the old token. */
export interface Rotation {
  userId: string
  /** The token being rotated away. */
  tokenId: string
  /** Inserted with the old token's name and scopes; its createdAt is the rotation's time. */
  successor: NewToken
  /** The end of the overlap: the old token then expires (earlier if it expired earlier already); null revokes it at once. */
  graceUntil: number | null
  /** The successor is refused when the owner has this many active API tokens besides the old one. */
  limit: number
}

/**
 * Why a token cannot be rotated: it is not the user's, a session, rotated already, revoked,
 * expired (at the rotation's time), or its owner is at the cap without it.
 */
export type RotationRefusal = 'not_found' | 'session' | 'rotated' | 'revoked' | 'expired' | 'too_many'

/** A page of audit events: the user's (or everyone's, userId null), newest first. */
export interface ListEventsOptions {
  type?: EventType
  limit: number
  after?: PageStart
}

/** An address a token was used from: since when (in the current run of uses), and last. */
export interface TokenAddress {
  ip: string
  firstSeenAt: number
  lastSeenAt: number
}

export interface WebhookEndpointRecord {
  id: string
  url: string
  createdAt: number
  /** The event types it takes; null: every type. */
  events: EventType[] | null
}

export interface NewWebhookEndpoint extends WebhookEndpointRecord {
  /** whsec_…: kept to sign with, shown once by `vai webhooks add`. */
  secret: string
}

export interface DeliveryRecord {
  id: string
  eventId: string
  eventType: EventType
  channel: 'webhook' | 'email'
  endpointId: string | null
  createdAt: number
  state: 'pending' | 'delivered' | 'failed'
  attempts: number
  nextAttemptAt: number | null
  lastAttemptAt: number | null
  lastStatus: number | null
  lastError: string | null
}

/** Why a token was revoked, when it was not simply asked for: for the event's detail. */
export type RevokeReason = 'logout' | 'idle'

export type CreateUserResult = { created: UserRecord } | { refused: 'email_taken' | 'signup_closed' }

export interface Store {
  /**
   * Inserts the user unless the email is taken, or signup is closed and a user exists already.
   * The first user ends the setup code: a claimed install has none.
   */
  createUser(user: NewUser, signupOpen: boolean, origin?: Origin): Promise<CreateUserResult>
  findUserByEmail(email: string): Promise<(UserRecord & { passwordHash: string }) | null>
  /** Whether any account exists: the web console invites the first visitor to claim a fresh install. */
  hasUsers(): Promise<boolean>
  /**
   * Keeps `candidate` as the setup code that claims a fresh install, unless one is kept
   * already, and returns the one kept: every instance on the database prints the same. Null,
   * and nothing kept, once any account exists.
   */
  createSetupCode(candidate: string): Promise<string | null>
  /** The setup code while no account exists and one was made; null otherwise. */
  setupCode(): Promise<string | null>
  /**
   * Every insert records its event in the same transaction (a session's `login.succeeded`,
   * an API token's `token.created`) and the address it was made from as one the token knows.
   */
  insertToken(token: NewToken, origin?: Origin): Promise<void>
  /**
   * Inserts the token unless its owner has `limit` active tokens of its type already (active
   * at its createdAt); false then, and nothing is written. Exact under concurrency, across
   * processes and instances too.
   */
  insertTokenWithinLimit(token: NewToken, limit: number, origin?: Origin): Promise<boolean>
  /** The hot path: one indexed lookup by digest, with the owner. */
  findTokenByDigest(digest: Uint8Array): Promise<{ token: TokenRecord; user: UserRecord } | null>
  getToken(userId: string, tokenId: string): Promise<TokenRecord | null>
  listTokens(userId: string, options: ListTokensOptions): Promise<TokenRecord[]>
  /**
   * In one transaction: checks the old token may still be rotated (another rotation may have
   * won meanwhile), inserts the successor, and marks the old token rotated to it, revoked at
   * once (no grace) or expiring at the grace's end. Returns null when done, else why not
   * (nothing written then). With it, the `token.rotated` event.
   */
  rotateToken(rotation: Rotation, origin?: Origin): Promise<RotationRefusal | null>
  /**
   * A token rotated away was presented after its grace (reuse): in one transaction, finds the
   * live tokens down its chain of successors and, when `revoke`, revokes them at `at`.
   * Returns their ids, oldest first. With it, the `token.reuse_detected` event.
   */
  recordReuse(tokenId: string, at: number, revoke: boolean, origin?: Origin): Promise<string[]>
  /**
   * false when the token is not the user's. An already revoked token keeps its first
   * revokedAt; one revoked now gets its `token.revoked` event.
   */
  revokeToken(userId: string, tokenId: string, at: number, origin?: Origin, reason?: RevokeReason): Promise<boolean>
  /**
   * How many of the user's tokens went from not revoked to revoked (expired ones too). In
   * batches that let other requests run between them; one that fails leaves the batches
   * before it revoked. The last batch's transaction records `tokens.revoked_all` with the count.
   */
  revokeAllTokens(userId: string, at: number, exceptTokenId: string | null, origin?: Origin): Promise<number>
  /** Revokes whichever of these digests are live tokens, anyone's, in one statement; the ones it revoked, each with its `token.leak_reported`. */
  revokeLeaked(digests: Uint8Array[], at: number, origin?: Origin): Promise<LeakedToken[]>
  /**
   * Records a use from the client address `ip`; written later, at most once per token per
   * flush. Without an address (an introspection: the caller is a service, not the
   * holder) lastUsedIp stays as it was.
   */
  touchToken(tokenId: string, at: number, ip?: string | null): void
  /** Writes the pending lastUsedAt and lastUsedIp values, and the addresses: a `token.new_ip` for each new one. */
  flushTouches(): Promise<void>
  // Metrics: read when the gauges are refreshed (every 15 s), never per scrape.
  /** Not one snapshot: tokens created or revoked while it counts may or may not be counted. */
  countActiveTokens(now: number): Promise<Record<TokenType, number>>
  sizeBytes(): Promise<number>
  // Administration (the CLI): rare, never on a request's path.
  listUsers(now: number): Promise<(UserRecord & { activeTokens: number })[]>
  /**
   * Sets the user's password hash and, in the same transaction, revokes their sessions (all
   * but `keepSessionId`): whoever knew the old password is signed out. API tokens stay.
   * Returns how many sessions it revoked.
   */
  changePassword(userId: string, passwordHash: string, at: number, keepSessionId: string | null, origin?: Origin): Promise<number>
  /** Removes the user and, with them, all their tokens; returns how many tokens went. Their events stay, with `user.deleted`. */
  deleteUser(userId: string, origin?: Origin): Promise<number>
  /**
   * Deletes tokens revoked or expired before `before`, and the revocation feed's entries
   * older than that; returns how many tokens.
   */
  purgeTokens(before: number): Promise<number>
  // The revocation feed. Its entries are written by the database itself (triggers), in the
  // transaction of whatever revokes a token or deletes a live one: no path can forget one.
  /** At most `limit` entries after `after`, in seq order. */
  listRevocations(after: number, limit: number): Promise<RevocationRecord[]>
  /** The newest entry's seq; 0 when there is none. */
  lastRevocationSeq(): Promise<number>
  // Audit events, written by the changes above in their transactions; and what is owed about them.
  /** An event that goes with no change (`login.rate_limited`). */
  recordEvent(event: EventRecord): Promise<void>
  /** The user's events (everyone's when userId is null), newest first. */
  listEvents(userId: string | null, options: ListEventsOptions): Promise<EventRecord[]>
  /** The addresses the token was used from, most recent first. */
  listTokenAddresses(tokenId: string, limit: number): Promise<TokenAddress[]>
  /** Deletes events older than `before` (their deliveries with them) and addresses unused since `addressesBefore`; how many events. */
  purgeEvents(before: number, addressesBefore: number): Promise<number>
  /** Records each `token.expiring` due at `now` (7 and 1 days ahead), once per token and notice across instances and restarts; how many. */
  queueExpiryNotices(now: number): Promise<number>
  /** From now on, queue the owner's email for the mail event types (--smtp-url is set). */
  setEmailNotices(on: boolean): void
  addWebhook(endpoint: NewWebhookEndpoint): Promise<void>
  listWebhooks(): Promise<WebhookEndpointRecord[]>
  /** false when there is no such endpoint. Its pending deliveries go with it. */
  removeWebhook(id: string): Promise<boolean>
  listDeliveries(limit: number): Promise<DeliveryRecord[]>
  /**
   * Up to `limit` deliveries of these channels due at `now`, leased to the caller until
   * `leaseUntil` (no other call, here or on another instance, gets them meanwhile).
   */
  claimDue(now: number, limit: number, leaseUntil: number, channels: readonly Channel[]): Promise<DueDelivery[]>
  /** An attempt's outcome: delivered, retried at `nextAttemptAt`, or given up (null). */
  settle(id: string, outcome: { at: number; result: SendResult; nextAttemptAt: number | null }): Promise<void>
  /** Deliveries still pending, and when the oldest was queued (null when none). */
  outboxStats(): Promise<{ pending: number; oldestCreatedAt: number | null }>
  // Failed logins, kept in the database so that every instance sees every attempt.
  // Keys are digests (of an email or a client address), never the plain values.
  /** The time of the `n`th most recent failure under `key` after `since`, or null when there are fewer. */
  nthLoginFailure(key: Uint8Array, since: number, n: number): Promise<number | null>
  /** Records one failure under each key, and forgets every failure at or before `forgetUpTo`; with the event (`login.failed`) when given. */
  recordLoginFailure(keys: Uint8Array[], at: number, forgetUpTo: number, event?: EventRecord): Promise<void>
  clearLoginFailures(key: Uint8Array): Promise<void>
  // Moving an install (`vai db copy`): rows as stored, digests and hashes included.
  countRows(): Promise<{ users: number; tokens: number }>
  exportUsers(): Promise<StoredUser[]>
  /** Tokens in id order, `limit` at a time, after `afterId`. */
  exportTokens(afterId: string | null, limit: number): Promise<StoredToken[]>
  /**
   * Writes everything in one transaction, cursor secret included, into a database
   * with no users: either all of it lands or none. The revocation feed keeps its seqs,
   * so a follower of the old database resumes on the new one where it was.
   */
  importAll(users: StoredUser[], tokens: AsyncIterable<StoredToken[]>, cursorSecret: Uint8Array, revocations?: AsyncIterable<RevocationRecord[]>): Promise<void>
  /** A secret that lives with the data, for signing pagination cursors. */
  cursorSecret(): Promise<Uint8Array>
  /**
   * Resolves while the database can serve. A trivial read while all is well; after an
   * outage the store remembers, a small write that needs new space (a full disk or a
   * read-only file still answers reads), until one succeeds. A damaged file fails until
   * restart.
   */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Nothing to import: the batches of a source that has none. */
export async function* noBatches<T>(): AsyncIterable<T[]> {}
