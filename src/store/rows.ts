// The tables as both backends hold them: each column beside the record field it stores,
// the rows as a query returns them, and how a row becomes a record. A dialect adds only
// how its values come back (SQLite: text and numbers; PostgreSQL: names as bytea holding
// UTF-8, since its text cannot hold U+0000, and bigints as strings). Scopes are one text
// value in both, space-separated: a scope never holds a space.
import type { LeakedToken, StoredToken, StoredUser, TokenRecord, TokenType, UserRecord } from './store'
import type { Touches } from './touches'

/** How a column's values travel: plain text, a name (any Unicode, U+0000 too), bytes, epoch milliseconds, or a list of scopes. */
export type ColumnKind = 'text' | 'name' | 'bytes' | 'time' | 'scopes'

export interface Column<Field extends string = string> {
  column: string
  field: Field
  kind: ColumnKind
}

/** The users table, in its order. */
export const USER_TABLE: readonly Column<keyof StoredUser>[] = [
  { column: 'id', field: 'id', kind: 'text' },
  { column: 'email', field: 'email', kind: 'text' },
  { column: 'name', field: 'name', kind: 'name' },
  { column: 'password_hash', field: 'passwordHash', kind: 'text' },
  { column: 'created_at', field: 'createdAt', kind: 'time' },
]

/** The tokens table, in its order. `later`: set after the insert (a new token has none). */
export const TOKEN_TABLE: readonly (Column<keyof StoredToken> & { later?: true })[] = [
  { column: 'id', field: 'id', kind: 'text' },
  { column: 'user_id', field: 'userId', kind: 'text' },
  { column: 'name', field: 'name', kind: 'name' },
  { column: 'token_type', field: 'tokenType', kind: 'text' },
  { column: 'token_prefix', field: 'tokenPrefix', kind: 'text' },
  { column: 'digest', field: 'digest', kind: 'bytes' },
  { column: 'created_at', field: 'createdAt', kind: 'time' },
  { column: 'expires_at', field: 'expiresAt', kind: 'time' },
  { column: 'last_used_at', field: 'lastUsedAt', kind: 'time', later: true },
  { column: 'revoked_at', field: 'revokedAt', kind: 'time', later: true },
  { column: 'scopes', field: 'scopes', kind: 'scopes' },
  { column: 'last_used_ip', field: 'lastUsedIp', kind: 'text', later: true },
  { column: 'rotated_to', field: 'rotatedTo', kind: 'text', later: true },
]

/** A token's scopes as the `scopes` column holds them, and back. */
export const scopesText = (scopes: readonly string[]) => scopes.join(' ')
export const scopesOf = (text: string): string[] => (text === '' ? [] : text.split(' '))

/** What insertToken writes: a NewToken. */
export const NEW_TOKEN_COLUMNS = TOKEN_TABLE.filter((column) => !column.later)

/**
 * What a TokenRecord is read from, on the tokens table as `t`. Not the digest: a lookup
 * goes by it, and only `vai db copy` reads it back.
 */
export const TOKEN_COLUMNS = TOKEN_TABLE.filter((column) => column.field !== 'digest').map((column) => `t.${column.column}`).join(', ')

/** What a UserRecord is read from. */
export const USER_COLUMNS = 'id, email, name, created_at'

/** A tokens row as a query returns it; `Name` and `Time` are how the dialect returns those kinds. */
export interface TokenRow<Name = string, Time = number> {
  id: string
  user_id: string
  name: Name
  token_type: TokenType
  token_prefix: string
  created_at: Time
  expires_at: Time | null
  last_used_at: Time | null
  revoked_at: Time | null
  scopes: string
  last_used_ip: string | null
  rotated_to: string | null
}

export interface UserRow<Name = string, Time = number> {
  id: string
  email: string
  name: Name | null
  created_at: Time
}

/** The hot path's row: a token and, from the users table, its owner. */
export type CallerRow<Name = string, Time = number> = TokenRow<Name, Time> & { u_email: string; u_name: Name | null; u_created_at: Time }

/** How a dialect's values of the `name` and `time` kinds become a record's. */
export interface Decode<Name, Time> {
  name(value: Name): string
  time(value: Time): number
}

/**
 * The row-to-record functions for a dialect. `pending` is the store's touches: a use
 * not yet written is still the truth on this instance.
 */
export function rowMapping<Name, Time>(decode: Decode<Name, Time>, pending: Pick<Touches, 'pendingFor' | 'pendingIpFor'>) {
  const time = (value: Time | null) => (value === null ? null : decode.time(value))
  const toToken = (row: TokenRow<Name, Time>): TokenRecord => ({
    id: row.id,
    userId: row.user_id,
    name: decode.name(row.name),
    tokenType: row.token_type,
    tokenPrefix: row.token_prefix,
    createdAt: decode.time(row.created_at),
    expiresAt: time(row.expires_at),
    lastUsedAt: pending.pendingFor(row.id) ?? time(row.last_used_at),
    lastUsedIp: pending.pendingIpFor(row.id) ?? row.last_used_ip,
    revokedAt: time(row.revoked_at),
    scopes: scopesOf(row.scopes),
    rotatedTo: row.rotated_to,
  })
  const toUser = (row: UserRow<Name, Time>): UserRecord => ({
    id: row.id,
    email: row.email,
    name: row.name === null ? null : decode.name(row.name),
    createdAt: decode.time(row.created_at),
  })
  return {
    toToken,
    toUser,
    toCaller: (row: CallerRow<Name, Time>): { token: TokenRecord; user: UserRecord } => ({
      token: toToken(row),
      // Read off the row, not through toUser: no second object on the hot path.
      user: { id: row.user_id, email: row.u_email, name: row.u_name === null ? null : decode.name(row.u_name), createdAt: decode.time(row.u_created_at) },
    }),
    toStoredUser: (row: UserRow<Name, Time> & { password_hash: string }): StoredUser => ({ ...toUser(row), passwordHash: row.password_hash }),
    toStoredToken: (row: TokenRow<Name, Time> & { digest: Uint8Array }): StoredToken => ({ ...toToken(row), digest: new Uint8Array(row.digest) }),
    toLeaked: (row: LeakedRow<Name>): LeakedToken => ({ id: row.id, userId: row.user_id, name: decode.name(row.name), tokenPrefix: row.token_prefix }),
  }
}

/** What revokeLeaked reads back of each token it revoked. */
export interface LeakedRow<Name = string> {
  id: string
  user_id: string
  name: Name
  token_prefix: string
}
