// lastUsedAt and lastUsedIp, coalesced: a use is remembered here and written with every
// other pending one at the next flush, so a token used a thousand times a minute costs
// one write a minute. Both backends keep theirs in one of these.

/** One pending use as a flush writes it: null `ip` leaves the stored address as it was. */
export type PendingTouch = [tokenId: string, at: number, ip: string | null]

/** A token's first and latest use from one address since the last flush (for token_addresses and `token.new_ip`). */
export type PendingAddress = [tokenId: string, ip: string, firstAt: number, lastAt: number]

/**
 * Addresses kept per token between flushes besides the latest: a token used from more in
 * one minute (a leak used from a botnet) gets these recorded now and the rest at the next
 * flush that sees them.
 */
const MORE_ADDRESSES = 16

export interface Touches {
  /** A use at `at`, from `ip`; without one (an introspection) the address is left as it was. */
  touch(tokenId: string, at: number, ip?: string | null): void
  /** This instance's latest use not yet written, which reads must show. */
  pendingFor(tokenId: string): number | undefined
  /** The address of this instance's latest use not yet written that had one. */
  pendingIpFor(tokenId: string): string | undefined
  /**
   * Hands every pending use to `write` at once. When it fails they stay pending for the
   * next flush (unless a newer use came meanwhile), and the error is passed on.
   */
  flush(write: (entries: PendingTouch[], addresses: PendingAddress[]) => unknown): Promise<void>
}

export function createTouches(): Touches {
  // Maps rather than one of tuples: a touch from the address of the token's last use (the
  // hot path) allocates nothing. `since`: when the run of uses from that address began in
  // this window. A use from another address keeps the last one's first and last times in
  // `earlier`.
  const pending = new Map<string, number>()
  const addresses = new Map<string, string>()
  const since = new Map<string, number>()
  const earlier = new Map<string, Map<string, [firstAt: number, lastAt: number]>>()
  return {
    touch(tokenId, at, ip) {
      const previousAt = pending.get(tokenId)
      pending.set(tokenId, at)
      if (!ip) return
      const previous = addresses.get(tokenId)
      if (previous === ip) return
      if (previous !== undefined && previousAt !== undefined) {
        let more = earlier.get(tokenId)
        if (!more) earlier.set(tokenId, (more = new Map()))
        const kept = more.get(previous)
        if (kept) kept[1] = previousAt
        else if (more.size < MORE_ADDRESSES) more.set(previous, [since.get(tokenId) ?? previousAt, previousAt])
      }
      addresses.set(tokenId, ip)
      since.set(tokenId, earlier.get(tokenId)?.get(ip)?.[0] ?? at)
    },
    pendingFor(tokenId) {
      return pending.get(tokenId)
    },
    pendingIpFor(tokenId) {
      return addresses.get(tokenId)
    },
    async flush(write) {
      if (pending.size === 0) return
      const entries: PendingTouch[] = [...pending].map(([id, at]) => [id, at, addresses.get(id) ?? null])
      const seen: PendingAddress[] = []
      for (const [id, at, ip] of entries) if (ip !== null) seen.push([id, ip, since.get(id) ?? at, at])
      for (const [id, more] of earlier) for (const [ip, [firstAt, lastAt]] of more) if (ip !== addresses.get(id)) seen.push([id, ip, firstAt, lastAt])
      pending.clear()
      addresses.clear()
      since.clear()
      earlier.clear()
      try {
        await write(entries, seen)
      } catch (error) {
        for (const [id, at, ip] of entries) {
          if ((pending.get(id) ?? 0) < at) pending.set(id, at)
          if (ip !== null && !addresses.has(id)) addresses.set(id, ip)
        }
        throw error
      }
    },
  }
}
