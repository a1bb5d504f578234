// Audit events: what happened to an account and its tokens, when, from where. The store
// writes each in the transaction of the change it records (src/store/events.ts), so an
// event exists exactly when its change does. A pure module: no database, no Elysia.

/** Every type, in the contract's order (API.md → Activity and audit events). */
export const EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.rate_limited',
  'token.created',
  'token.revoked',
  'tokens.revoked_all',
  'token.rotated',
  'token.reuse_detected',
  'token.new_ip',
  'token.expiring',
  'token.leak_reported',
  'password.changed',
  'user.created',
  'user.deleted',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** The types the owner is also told of by email, when --smtp-url is set. */
export const MAIL_EVENT_TYPES: readonly EventType[] = ['token.expiring', 'token.leak_reported', 'token.reuse_detected', 'token.new_ip']

/** Where a change came from: the client's address and user agent; none from the command line or a job. */
export interface Origin {
  ip: string | null
  userAgent: string | null
  /** The API token that acted, when it acted on another token (its id goes into detail.by). */
  by?: string | null
}

// A user agent is the client's to choose: an event keeps its first 256 characters.
const USER_AGENT_KEPT = 256

/** A request's user agent as an event keeps it; null without one. */
export const userAgentOf = (headers: Headers | null) => headers?.get('user-agent')?.slice(0, USER_AGENT_KEPT) || null

/** A change made from the server's shell or by vai itself (a job): no address, no agent. */
export const NO_ORIGIN: Origin = { ip: null, userAgent: null }

/** What an event is about: a token, as it was when the event happened. */
export interface EventToken {
  id: string
  tokenPrefix: string
  name: string
}

export interface EventRecord {
  id: string
  userId: string
  type: EventType
  at: number
  tokenId: string | null
  tokenPrefix: string | null
  /** The token's name then: for notices (the contract's Event does not show it). */
  tokenName: string | null
  ip: string | null
  userAgent: string | null
  /** Never a secret: no plaintext, digest or password. */
  detail: Record<string, unknown>
}

/** An event of `type` for `userId` at `at`, with a fresh id that sorts by time (UUID v7). */
export function newEvent(
  type: EventType,
  userId: string,
  at: number,
  { token = null, origin = NO_ORIGIN, detail = {} }: { token?: EventToken | null; origin?: Origin; detail?: Record<string, unknown> } = {},
): EventRecord {
  return {
    id: Bun.randomUUIDv7('hex', at),
    userId,
    type,
    at,
    tokenId: token?.id ?? null,
    tokenPrefix: token?.tokenPrefix ?? null,
    tokenName: token?.name ?? null,
    ip: origin.ip,
    userAgent: origin.userAgent,
    detail: origin.by && origin.by !== token?.id ? { ...detail, by: origin.by } : detail,
  }
}

/** How long an address counts as known to a token: a use from one not seen for longer is `token.new_ip`. */
export const ADDRESS_MEMORY_MS = 30 * 24 * 3600 * 1000

/** How far ahead of `expiresAt` each `token.expiring` notice goes out, and its bit in tokens.expiry_notices. */
export const EXPIRY_NOTICES = [
  { days: 7, bit: 1 },
  { days: 1, bit: 2 },
] as const
