const MAX_REMEMBERED = 10_000

/**
 * The hot path's lookup, remembered: a token checked a thousand times a second is read
 * from the database once. Revocation stays immediate: `PRAGMA data_version` (one cheap
 * call per lookup) moves whenever another connection commits (the admin CLI, a second
 * process on the file), and this store forgets everything before each write of its own.
 * Misses are not remembered, so a new token needs nothing forgotten.
 */
export function rememberedLookups<Row>(dataVersion: () => number) {
  const rows = new Map<string, Row>()
  let seen = -1
  return {
    get(digest: Uint8Array, read: () => Row | null): Row | null {
      const version = dataVersion()
      if (version !== seen) {
        rows.clear()
        seen = version
      }
      const key = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('latin1')
      const known = rows.get(key)
      if (known !== undefined) return known
      const row = read()
      if (row === null) return null
      if (rows.size >= MAX_REMEMBERED) rows.clear()
      rows.set(key, row)
      return row
    },
    forget() {
      rows.clear()
    },
  }
}
