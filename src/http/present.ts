import type { EventRecord } from '../audit/events'
import type { EventPage } from '../audit/page'
import type { AuditEvent, Revocation, Token, TokenAddress, User } from '../schemas'
import type { RevocationRecord, TokenAddress as TokenAddressRecord, TokenRecord, UserRecord } from '../store/store'
import type { TokenPage } from '../tokens/page'

// Records hold epoch milliseconds; the API speaks ISO 8601 in UTC.
const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

export function presentToken(token: TokenRecord): Token {
  return {
    id: token.id,
    name: token.name,
    tokenType: token.tokenType,
    tokenPrefix: token.tokenPrefix,
    createdAt: iso(token.createdAt),
    expiresAt: isoOrNull(token.expiresAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    lastUsedIp: token.lastUsedIp,
    revokedAt: isoOrNull(token.revokedAt),
    scopes: token.scopes,
  }
}

export function presentTokenPage(page: TokenPage) {
  return { items: page.items.map(presentToken), nextCursor: page.nextCursor }
}

export function presentUser(user: UserRecord): User {
  return { id: user.id, email: user.email, name: user.name, createdAt: iso(user.createdAt) }
}

export function presentRevocation(entry: RevocationRecord): Revocation {
  return { seq: entry.seq, digest: Buffer.from(entry.digest).toString('hex'), revokedAt: iso(entry.revokedAt) }
}

export function presentEvent(event: EventRecord): AuditEvent {
  return {
    id: event.id,
    type: event.type,
    at: iso(event.at),
    tokenId: event.tokenId,
    tokenPrefix: event.tokenPrefix,
    ip: event.ip,
    userAgent: event.userAgent,
    detail: event.detail,
  }
}

export function presentEventPage(page: EventPage) {
  return { items: page.items.map(presentEvent), nextCursor: page.nextCursor }
}

export function presentAddress(address: TokenAddressRecord): TokenAddress {
  return { ip: address.ip, firstSeenAt: iso(address.firstSeenAt), lastSeenAt: iso(address.lastSeenAt) }
}
