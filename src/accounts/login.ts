import { newEvent, type Origin } from '../audit/events'
import type { LoginLimiter } from '../auth/login-limiter'
import { normaliseEmail } from '../auth/email'
import { verifyPassword } from '../auth/password'
import { sessionName } from '../auth/session-name'
import { DAY_MS, issueToken, type IssuedToken } from '../auth/tokens'
import { httpError } from '../errors'
import type { Metrics } from '../metrics'
import type { Store } from '../store/store'

export interface LoginDeps {
  store: Store
  loginLimiter: LoginLimiter
  metrics: Pick<Metrics, 'login'>
  sessionDays: number
}

export interface LoginAttempt {
  email: string
  password: string
  /** The session's name; without one it is named after the client's user agent. */
  name?: string
  /** Where the attempt comes from, as the rate limiter counts it. */
  client: string
  /** Where it comes from, as its events record it. */
  origin: Origin
  now: number
}

/** A new session for the right email and password, within the limits on failed attempts. */
export async function logIn(deps: LoginDeps, attempt: LoginAttempt): Promise<IssuedToken> {
  const { store, loginLimiter, metrics, sessionDays } = deps
  const email = normaliseEmail(attempt.email)
  const { client, now } = attempt
  // Checked before the password: a blocked caller costs no argon2 work and learns nothing.
  const waitMs = await loginLimiter.blockedFor(email, client, now)
  if (waitMs > 0) {
    metrics.login('rate_limited')
    throw httpError('tooManyLogins', { 'retry-after': String(Math.ceil(waitMs / 1000)) })
  }
  const user = await store.findUserByEmail(email)
  if (!(await verifyPassword(attempt.password, user?.passwordHash ?? null)) || !user) {
    // An account's owner hears of attempts on it; attempts on no account are nobody's events.
    await loginLimiter.recordFailure(email, client, now, user ? newEvent('login.failed', user.id, now, { origin: attempt.origin }) : undefined)
    metrics.login('failed')
    if (user) await noticeLimitReached(deps, user.id, email, attempt)
    throw httpError('wrongPassword')
  }
  await loginLimiter.recordSuccess(email)
  metrics.login('ok')
  return issueToken(store, {
    userId: user.id,
    name: attempt.name ?? sessionName(attempt.origin.userAgent),
    tokenType: 'session',
    expiresAt: now + sessionDays * DAY_MS,
    now,
    origin: attempt.origin,
  })
}

/**
 * `login.rate_limited`, once: when this failure is the one that reached a limit. Later
 * attempts are refused before they count, so a flood of them writes nothing.
 */
async function noticeLimitReached({ store, loginLimiter }: LoginDeps, userId: string, email: string, { client, now, origin }: LoginAttempt) {
  const waitMs = await loginLimiter.blockedFor(email, client, now)
  if (waitMs > 0) await store.recordEvent(newEvent('login.rate_limited', userId, now, { origin, detail: { retryAfterSeconds: Math.ceil(waitMs / 1000) } }))
}
