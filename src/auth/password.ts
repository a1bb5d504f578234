// Human passwords get argon2id; random tokens never do (SHA-256 is enough for 190 bits).
import { availableParallelism } from 'node:os'
import { httpError } from '../errors'

/**
 * Lets at most `limit` jobs run at once and `queue` more wait their turn, first come first
 * served; a job past those is refused at once with `busy()`. argon2id is built to be slow
 * and to fill memory: a flood of logins or signups from many addresses (each under the rate
 * limiter's bar) would otherwise keep every core hashing, and a queue without bound would
 * hold every request of the flood (and its memory) until its turn came, minutes later.
 */
export function createSemaphore(limit: number, queue: number, busy: () => Error) {
  let running = 0
  const waiting: (() => void)[] = []
  return async function run<T>(job: () => Promise<T>): Promise<T> {
    if (running < limit) running++
    else if (waiting.length < queue) await new Promise<void>((resolve) => waiting.push(resolve))
    else throw busy()
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

// Half the cores (at least one) hash; the rest stay free for everything else. Twice the
// cores may wait: a burst of real users is served in a second or two, a flood is refused
// with 503 "Server busy" instead of making everyone wait behind it. Made on first use and
// shared by the whole process, like the cores it guards.
let slots: ReturnType<typeof createSemaphore> | undefined
const argon2Slot = <T>(job: () => Promise<T>) => {
  const cores = availableParallelism()
  slots ??= createSemaphore(Math.max(1, Math.floor(cores / 2)), 2 * cores, () => httpError('serverBusy'))
  return slots(job)
}

export function hashPassword(password: string): Promise<string> {
  return argon2Slot(() => Bun.password.hash(password, { algorithm: 'argon2id' }))
}

let dummyHash: Promise<string> | undefined

/** The throwaway hash unknown emails are checked against; made again if making it failed (a full queue). */
function throwawayHash(): Promise<string> {
  if (dummyHash) return dummyHash
  const making = hashPassword(crypto.randomUUID())
  making.catch(() => {
    if (dummyHash === making) dummyHash = undefined
  })
  return (dummyHash = making)
}

/**
 * Verifies against the stored hash, or against a throwaway hash when there is
 * none, so an unknown email costs the same time as a wrong password.
 */
export async function verifyPassword(password: string, storedHash: string | null): Promise<boolean> {
  const against = storedHash ?? (await throwawayHash())
  const ok = await argon2Slot(() => Bun.password.verify(password, against))
  return ok && storedHash !== null
}
