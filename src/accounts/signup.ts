import type { Origin } from '../audit/events'
import { normaliseEmail } from '../auth/email'
import type { LoginLimiter } from '../auth/login-limiter'
import { hashPassword } from '../auth/password'
import { setupCodeMatches } from '../auth/setup-code'
import { httpError, type ErrorName } from '../errors'
import type { Store, UserRecord } from '../store/store'

export interface SignupDeps {
  store: Store
  loginLimiter: LoginLimiter
}

export interface Signup {
  email: string
  password: string
  name?: string
  /** The code `vai serve` printed, for the first account of a fresh install. */
  setupCode?: string
  /** Whether anyone may sign up; the first user always may. */
  open: boolean
  /** Where the attempt comes from, as the rate limiter counts it. */
  client: string
  /** Whether it comes from the server's own machine, which needs no setup code. */
  fromLoopback: boolean
  /** Where the request came from, for the `user.created` event. */
  origin: Origin
  now: number
}

// Signup costs an argon2id hash, so everything that can refuse it does so first, and
// each refusal counts against the client's login limit: a stranger can neither keep the
// cores hashing for signups that cannot succeed nor test which emails exist without bound.

/** Before anything else (the body's validation included): a client over its limit is refused. */
export async function refuseBlockedClient({ loginLimiter }: SignupDeps, client: string, now: number): Promise<void> {
  const waitMs = await loginLimiter.blockedFor(null, client, now)
  if (waitMs > 0) throw httpError('tooManyLogins', { 'retry-after': String(Math.ceil(waitMs / 1000)) })
}

/** A signup refused (closed, taken, unclaimed, or a body the schema refuses): one failure of its client's. */
export function countRefusal({ loginLimiter }: SignupDeps, client: string, now: number): Promise<void> {
  return loginLimiter.recordFailure(null, client, now)
}

/** A new account, unless signup is closed, the email taken or the install not claimed with its setup code. */
export async function signUp(deps: SignupDeps, signup: Signup): Promise<UserRecord> {
  const { store } = deps
  const { client, now } = signup
  const email = normaliseEmail(signup.email)
  const refusal = await refusalOf(store, signup, email)
  if (refusal) {
    await countRefusal(deps, client, now)
    throw httpError(refusal)
  }
  const passwordHash = await hashPassword(signup.password)
  // Checked again as the user is written: another signup may have claimed the install, or
  // taken the email, while this one hashed.
  const result = await store.createUser({ id: Bun.randomUUIDv7('hex', now), email, name: signup.name ?? null, passwordHash, createdAt: now }, signup.open, signup.origin)
  if ('refused' in result) {
    await countRefusal(deps, client, now)
    throw httpError(result.refused === 'email_taken' ? 'emailTaken' : 'signupClosed')
  }
  return result.created
}

/** Why the signup cannot succeed, found without hashing anything; null when it may go on. */
async function refusalOf(store: Store, signup: Signup, email: string): Promise<ErrorName | null> {
  if (!(await store.hasUsers())) {
    return signup.fromLoopback || setupCodeMatches(signup.setupCode, await store.setupCode()) ? null : 'notClaimed'
  }
  // Closed comes first: a closed server says nothing about who has an account.
  if (!signup.open) return 'signupClosed'
  return (await store.findUserByEmail(email)) ? 'emailTaken' : null
}
