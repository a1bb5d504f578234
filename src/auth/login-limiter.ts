// Failed-login counting, per account and per client address, in a sliding window.
// The failures live in the database, so every instance on it counts every attempt.
// Attempts are checked before the password is hashed: a blocked caller costs no
// argon2 work. Refused signups count too, against the client alone (account null):
// otherwise signup's 409 would test which emails have an account without limit.
import type { EventRecord } from '../audit/events'
import type { Store } from '../store/store'
import { clientKey, keyOf, recordAttempt, windowWait } from './sliding-window'

export interface LoginLimits {
  perAccount: number
  perClient: number
  windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAccount: 5, perClient: 20, windowMs: 5 * 60_000 }

export interface LoginLimiter {
  /** Milliseconds until an attempt is allowed, or 0 when it is allowed now; account null: the client's limit alone. */
  blockedFor(account: string | null, client: string, now: number): Promise<number>
  /** A failure of the client's, and of the account's unless it is null; written with its event (`login.failed`) when given. */
  recordFailure(account: string | null, client: string, now: number, event?: EventRecord): Promise<void>
  recordSuccess(account: string): Promise<void>
}

export function createLoginLimiter(store: Store, limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimiter {
  // Blocked once `limit` failures lie in the window.
  const waitFor = (key: Uint8Array, limit: number, now: number) => windowWait(store, key, limit, limits.windowMs, now)

  return {
    async blockedFor(account, client, now) {
      const [byAccount, byClient] = await Promise.all([
        account === null ? 0 : waitFor(keyOf('account', account), limits.perAccount, now),
        waitFor(clientKey('client', client), limits.perClient, now),
      ])
      return Math.max(byAccount, byClient)
    },
    async recordFailure(account, client, now, event) {
      const keys = account === null ? [clientKey('client', client)] : [keyOf('account', account), clientKey('client', client)]
      await recordAttempt(store, keys, now, limits.windowMs, event)
    },
    async recordSuccess(account) {
      await store.clearLoginFailures(keyOf('account', account))
    },
  }
}
