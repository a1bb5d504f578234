// lastUsedAt and lastUsedIp, coalesced: a use is remembered here and written with every
// other pending one at the next flush, so a token used a thousand times a minute costs
// one write a minute. Both backends keep theirs in one of these.

/** One pending use as a flush writes it: null `ip` leaves the stored address as it was. */
export type PendingTouch = [tokenId: string, at: number, ip: string | null]

/** A token's latest use from one address since the last flush (for token_addresses and `token.new_ip`). */
export type PendingAddress = [tokenId: string, ip: string, at: number]

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
  // Two maps rather than one of pairs: a touch on the hot path allocates nothing. A use
  // from another address than the token's last keeps the last one's time in `earlier`.
  const pending = new Map<string, number>()
  const addresses = new Map<string, string>()
  const earlier = new Map<string, Map<string, number>>()
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
        if (more.size < MORE_ADDRESSES || more.has(previous)) more.set(previous, previousAt)
      }
      addresses.set(tokenId, ip)
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
      for (const [id, at, ip] of entries) if (ip !== null) seen.push([id, ip, at])
      for (const [id, more] of earlier) for (const [ip, at] of more) if (ip !== addresses.get(id)) seen.push([id, ip, at])
      pending.clear()
      addresses.clear()
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
