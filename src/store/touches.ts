// lastUsedAt and lastUsedIp, coalesced: a use is remembered here and written with every
// other pending one at the next flush, so a token used a thousand times a minute costs
// one write a minute. Both backends keep theirs in one of these.

/** One pending use as a flush writes it: null `ip` leaves the stored address as it was. */
export type PendingTouch = [tokenId: string, at: number, ip: string | null]

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
  flush(write: (entries: PendingTouch[]) => unknown): Promise<void>
}

export function createTouches(): Touches {
  // Two maps rather than one of pairs: a touch on the hot path allocates nothing.
  const pending = new Map<string, number>()
  const addresses = new Map<string, string>()
  return {
    touch(tokenId, at, ip) {
      pending.set(tokenId, at)
      if (ip) addresses.set(tokenId, ip)
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
      pending.clear()
      addresses.clear()
      try {
        await write(entries)
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
