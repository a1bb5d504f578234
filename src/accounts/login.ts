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
  /** The session's name; without one it is named after the client (`userAgent`). */
  name?: string
  /** Where the attempt comes from, as the rate limiter counts it. */
  client: string
  userAgent: string | null
  now: number
}

/** A new session for the right email and password, within the limits on failed attempts. */
export async function logIn({ store, loginLimiter, metrics, sessionDays }: LoginDeps, attempt: LoginAttempt): Promise<IssuedToken> {
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
    await loginLimiter.recordFailure(email, client, now)
    metrics.login('failed')
    throw httpError('wrongPassword')
  }
  await loginLimiter.recordSuccess(email)
  metrics.login('ok')
  return issueToken(store, {
    userId: user.id,
    name: attempt.name ?? sessionName(attempt.userAgent),
    tokenType: 'session',
    expiresAt: now + sessionDays * DAY_MS,
    now,
  })
}
