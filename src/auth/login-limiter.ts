// Failed-login counting, per account and per client address, in a sliding window.
// In memory: one instance's view. Attempts are checked before the password is
// hashed, so a blocked caller costs no argon2 work.

export interface LoginLimits {
  perAccount: number
  perClient: number
  windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAccount: 5, perClient: 20, windowMs: 5 * 60_000 }

export interface LoginLimiter {
  /** Milliseconds until an attempt is allowed, or 0 when it is allowed now. */
  blockedFor(account: string, client: string, now: number): number
  recordFailure(account: string, client: string, now: number): void
  recordSuccess(account: string): void
}

export function createLoginLimiter(limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimiter {
  // key → failure times, oldest first, never more than the limit.
  const failures = new Map<string, number[]>()
  let sweptAt = 0

  const recent = (key: string, now: number): number[] => {
    const times = failures.get(key)
    if (!times) return []
    while (times.length > 0 && times[0]! <= now - limits.windowMs) times.shift()
    if (times.length === 0) failures.delete(key)
    return times
  }

  const waitFor = (key: string, limit: number, now: number): number => {
    const times = recent(key, now)
    // Blocked once `limit` failures lie in the window; free when the oldest leaves it.
    return times.length >= limit ? times[times.length - limit]! + limits.windowMs - now : 0
  }

  const record = (key: string, limit: number, now: number) => {
    const times = recent(key, now)
    times.push(now)
    if (times.length > limit) times.shift()
    failures.set(key, times)
  }

  // Without this, a scan of made-up emails would grow the map without bound.
  const sweep = (now: number) => {
    if (now - sweptAt < limits.windowMs) return
    sweptAt = now
    for (const key of failures.keys()) recent(key, now)
  }

  return {
    blockedFor(account, client, now) {
      sweep(now)
      return Math.max(waitFor(`a:${account}`, limits.perAccount, now), waitFor(`c:${client}`, limits.perClient, now))
    },
    recordFailure(account, client, now) {
      record(`a:${account}`, limits.perAccount, now)
      record(`c:${client}`, limits.perClient, now)
    },
    recordSuccess(account) {
      failures.delete(`a:${account}`)
    },
  }
}
