import type { Revocation, Token, User } from '../schemas'
import type { RevocationRecord, TokenRecord, UserRecord } from '../store/store'
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
