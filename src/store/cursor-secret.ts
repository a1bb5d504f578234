// The cursor-signing secret is written once by the first migration and replaced only by
// `vai db copy` (importAll), so each store reads it once. The read itself is kept, not
// only its result: the requests that arrive before it answers share it.

export interface RememberedSecret {
  get(): Promise<Uint8Array>
  /** After importAll has written another secret. */
  forget(): void
}

export function rememberedSecret(read: () => Uint8Array | Promise<Uint8Array>): RememberedSecret {
  let secret: Promise<Uint8Array> | undefined
  return {
    get() {
      if (secret) return secret
      const reading = Promise.resolve().then(read)
      // A failed read is not kept: the next request tries again.
      reading.catch(() => {
        if (secret === reading) secret = undefined
      })
      return (secret = reading)
    },
    forget() {
      secret = undefined
    },
  }
}
