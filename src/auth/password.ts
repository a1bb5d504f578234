// Human passwords get argon2id; random tokens never do (SHA-256 is enough for 190 bits).
import { availableParallelism } from 'node:os'

/**
 * Lets at most `limit` jobs run at once; the rest wait their turn, first come first served.
 * argon2id is built to be slow and to fill memory: a flood of logins from many addresses
 * (each under the rate limiter's bar) would otherwise keep every core hashing, and the
 * requests that only check a token would wait behind it.
 */
export function createSemaphore(limit: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async function run<T>(job: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await job()
    } finally {
      // Hand the slot straight to the next in line, or give it back.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

// Half the cores (at least one) hash; the rest stay free for everything else. Made on
// first use and shared by the whole process, like the cores it guards.
let slots: ReturnType<typeof createSemaphore> | undefined
const argon2Slot = <T>(job: () => Promise<T>) => (slots ??= createSemaphore(Math.max(1, Math.floor(availableParallelism() / 2))))(job)

export function hashPassword(password: string): Promise<string> {
  return argon2Slot(() => Bun.password.hash(password, { algorithm: 'argon2id' }))
}

let dummyHash: Promise<string> | undefined

/**
 * Verifies against the stored hash, or against a throwaway hash when there is
 * none, so an unknown email costs the same time as a wrong password.
 */
export async function verifyPassword(password: string, storedHash: string | null): Promise<boolean> {
  dummyHash ??= hashPassword(crypto.randomUUID())
  const against = storedHash ?? (await dummyHash)
  const ok = await argon2Slot(() => Bun.password.verify(password, against))
  return ok && storedHash !== null
}
