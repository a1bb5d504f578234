import { normaliseEmail } from '../auth/email'
import { hashPassword } from '../auth/password'
import { httpError } from '../errors'
import type { Store, UserRecord } from '../store/store'

export interface Signup {
  email: string
  password: string
  name?: string
  /** Whether anyone may sign up; the first user always may. */
  open: boolean
  now: number
}

/** A new account, unless its email is taken or signup is closed. */
export async function signUp(store: Store, { email, password, name, open, now }: Signup): Promise<UserRecord> {
  const result = await store.createUser(
    { id: Bun.randomUUIDv7('hex', now), email: normaliseEmail(email), name: name ?? null, passwordHash: await hashPassword(password), createdAt: now },
    open,
  )
  if ('refused' in result) throw httpError(result.refused === 'email_taken' ? 'emailTaken' : 'signupClosed')
  return result.created
}
