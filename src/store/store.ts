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
  revokedAt: number | null
}

export interface NewUser extends UserRecord {
  passwordHash: string
}

export interface NewToken extends Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'> {
  digest: Uint8Array
}

/** A user as stored, password hash included: for `vai db copy`. */
export type StoredUser = NewUser

/** A token as stored, digest included: for `vai db copy`. */
export interface StoredToken extends NewToken {
  lastUsedAt: number | null
  revokedAt: number | null
}

/** Where a page starts: strictly older than this (createdAt, id) pair. */
export interface PageStart {
  createdAt: number
  id: string
}

export interface ListTokensOptions {
  tokenType?: TokenType
  includeRevoked: boolean
  limit: number
  after?: PageStart
}

/**
 * The database cannot be reached (down, restarting, out of connections). Requests get
 * 503 rather than 500: nothing is wrong with them, and the backend recovers by itself.
 */
export class StoreUnavailable extends Error {
  /** Why, in a line an operator can read: never a URL or a secret. */
  readonly reason: string

  constructor(cause: unknown, reason = cause instanceof Error ? cause.message : String(cause)) {
    super('database unavailable', { cause })
    this.reason = reason
  }
}

export type CreateUserResult = { created: UserRecord } | { refused: 'email_taken' | 'signup_closed' }

export interface Store {
  /**
   * Inserts the user unless the email is taken, or signup is closed and a user exists already.
   * The first user ends the setup code: a claimed install has none.
   */
  createUser(user: NewUser, signupOpen: boolean): Promise<CreateUserResult>
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
  insertToken(token: NewToken): Promise<void>
  /** The hot path: one indexed lookup by digest, with the owner. */
  findTokenByDigest(digest: Uint8Array): Promise<{ token: TokenRecord; user: UserRecord } | null>
  getToken(userId: string, tokenId: string): Promise<TokenRecord | null>
  listTokens(userId: string, options: ListTokensOptions): Promise<TokenRecord[]>
  /** false when the token is not the user's. An already revoked token keeps its first revokedAt. */
  revokeToken(userId: string, tokenId: string, at: number): Promise<boolean>
  /** How many of the user's tokens went from not revoked to revoked (expired ones too). */
  revokeAllTokens(userId: string, at: number, exceptTokenId: string | null): Promise<number>
  /** Records a use; written later, at most once per token per flush. */
  touchToken(tokenId: string, at: number): void
  /** Writes the pending lastUsedAt values. */
  flushTouches(): Promise<void>
  // Metrics: read on each scrape.
  countActiveTokens(now: number): Promise<Record<TokenType, number>>
  sizeBytes(): Promise<number>
  // Administration (the CLI): rare, never on a request's path.
  listUsers(now: number): Promise<(UserRecord & { activeTokens: number })[]>
  /**
   * Sets the user's password hash and, in the same transaction, revokes their sessions (all
   * but `keepSessionId`): whoever knew the old password is signed out. API tokens stay.
   * Returns how many sessions it revoked.
   */
  changePassword(userId: string, passwordHash: string, at: number, keepSessionId: string | null): Promise<number>
  /** Removes the user and, with them, all their tokens; returns how many tokens went. */
  deleteUser(userId: string): Promise<number>
  /** Deletes tokens revoked or expired before `before`; returns how many. */
  purgeTokens(before: number): Promise<number>
  // Failed logins, kept in the database so that every instance sees every attempt.
  // Keys are digests (of an email or a client address), never the plain values.
  /** The time of the `n`th most recent failure under `key` after `since`, or null when there are fewer. */
  nthLoginFailure(key: Uint8Array, since: number, n: number): Promise<number | null>
  /** Records one failure under each key, and forgets every failure at or before `forgetUpTo`. */
  recordLoginFailure(keys: Uint8Array[], at: number, forgetUpTo: number): Promise<void>
  clearLoginFailures(key: Uint8Array): Promise<void>
  // Moving an install (`vai db copy`): rows as stored, digests and hashes included.
  countRows(): Promise<{ users: number; tokens: number }>
  exportUsers(): Promise<StoredUser[]>
  /** Tokens in id order, `limit` at a time, after `afterId`. */
  exportTokens(afterId: string | null, limit: number): Promise<StoredToken[]>
  /**
   * Writes everything in one transaction, cursor secret included, into a database
   * with no users: either all of it lands or none.
   */
  importAll(users: StoredUser[], tokens: AsyncIterable<StoredToken[]>, cursorSecret: Uint8Array): Promise<void>
  /** A secret that lives with the data, for signing pagination cursors. */
  cursorSecret(): Promise<Uint8Array>
  ping(): Promise<void>
  close(): Promise<void>
}
