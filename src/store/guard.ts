// What both backends wrap around their Store. Errors that say the database cannot serve
// now become StoreUnavailable (the renderer's 503, one line on stderr per 10 s), and the
// store remembers them, because a plain `SELECT 1` still answers on a full disk, a
// read-only file or a database with a damaged page: while a failure is remembered, ping
// (what GET /healthz asks) proves the database with a small write instead, so a healthy
// store's health check stays one trivial read.
import { DatabaseDamaged, StoreUnavailable, type Store } from './store'

export interface GuardOptions {
  /** The outage an error of this backend stands for, or undefined for a bug (passed on as it is). */
  unavailable(error: unknown): StoreUnavailable | undefined
  /** A write that needs new space and leaves nothing behind. */
  probeWrite(): Promise<void>
  /**
   * A networked database that stops answering without closing the connection (a
   * partition, a frozen host) would leave a call waiting as long as TCP does: past this
   * the call gets StoreUnavailable, and the query is left to finish or fail on its own.
   */
  answerWithinMs?: number
}

// Long by nature, and never on a request's path.
const NO_DEADLINE = new Set<string>(['purgeTokens', 'importAll', 'exportTokens', 'close'])

export function guardStore(store: Store, { unavailable, probeWrite, answerWithinMs }: GuardOptions): Store {
  // The latest outage seen and not yet disproved by a write. A damaged database is not
  // disproved by one write that happens to land on sound pages: it stays until restart,
  // when `serve` checks the file again.
  let failure: StoreUnavailable | undefined

  const guarded = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    let timer: Timer | undefined
    try {
      if (answerWithinMs === undefined || NO_DEADLINE.has(name)) return await call()
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreUnavailable(new Error(`no answer within ${answerWithinMs} ms`))), answerWithinMs)
      })
      return await Promise.race([call(), silence])
    } catch (error) {
      const outage = error instanceof StoreUnavailable ? error : unavailable(error)
      if (!outage) throw error
      if (!(failure instanceof DatabaseDamaged)) failure = outage
      throw outage
    } finally {
      clearTimeout(timer)
    }
  }

  const wrapped = { ...store }
  for (const [name, method] of Object.entries(store)) {
    if (name === 'touchToken') continue
    ;(wrapped as Record<string, unknown>)[name] = (...args: unknown[]) =>
      guarded(name, () => (method as (...a: unknown[]) => Promise<unknown>).apply(store, args))
  }
  wrapped.ping = async () => {
    if (failure instanceof DatabaseDamaged) throw failure
    await guarded('ping', failure ? probeWrite : () => store.ping())
    failure = undefined
  }
  return wrapped
}
