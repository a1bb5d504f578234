// Counting attempts in a sliding window, in the database (so every instance counts every
// attempt): the login limits and the leak-report limit. Keys are digests of what is
// counted, so the table names no email and no address.
import type { EventRecord } from '../audit/events'
import type { Store } from '../store/store'
import { limitedAs } from './client-address'

export type CountedKind = 'account' | 'client' | 'report'

export const keyOf = (kind: CountedKind, value: string) => new Bun.CryptoHasher('sha256').update(`${kind}\0${value}`).digest() as Uint8Array

/** A client address as limits count it: an IPv6 client by its /64, since one subscriber holds the whole of it. */
export const clientKey = (kind: 'client' | 'report', client: string) => keyOf(kind, limitedAs(client))

/** Milliseconds until `key` is under `limit` attempts in the window again; 0 when it is now. Free when the oldest of them leaves it. */
export async function windowWait(store: Store, key: Uint8Array, limit: number, windowMs: number, now: number): Promise<number> {
  const at = await store.nthLoginFailure(key, now - windowMs, limit)
  return at === null ? 0 : at + windowMs - now
}

/**
 * How long an attempt is kept: the longest window any limit counts (the leak reports'
 * hour). The table is shared, and each write forgets what is older than this for every
 * key, so no limit may forget another's attempts.
 */
export const KEPT_MS = 60 * 60_000

/** Counts an attempt under each key now, with its event when it has one. */
export function recordAttempt(store: Store, keys: Uint8Array[], now: number, windowMs: number, event?: EventRecord): Promise<void> {
  return store.recordLoginFailure(keys, now, now - Math.max(windowMs, KEPT_MS), event)
}
