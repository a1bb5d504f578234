// lastUsedAt, coalesced: a use is remembered here and written with every other
// pending one at the next flush, so a token used a thousand times a minute costs
// one write a minute. Both backends keep theirs in one of these.

export interface Touches {
  touch(tokenId: string, at: number): void
  /** This instance's latest use not yet written, which reads must show. */
  pendingFor(tokenId: string): number | undefined
  /**
   * Hands every pending use to `write` at once. When it fails they stay pending for the
   * next flush (unless a newer use came meanwhile), and the error is passed on.
   */
  flush(write: (entries: [tokenId: string, at: number][]) => unknown): Promise<void>
}

export function createTouches(): Touches {
  const pending = new Map<string, number>()
  return {
    touch(tokenId, at) {
      pending.set(tokenId, at)
    },
    pendingFor(tokenId) {
      return pending.get(tokenId)
    },
    async flush(write) {
      if (pending.size === 0) return
      const entries = [...pending]
      pending.clear()
      try {
        await write(entries)
      } catch (error) {
        for (const [id, at] of entries) if ((pending.get(id) ?? 0) < at) pending.set(id, at)
        throw error
      }
    },
  }
}
