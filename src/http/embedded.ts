/**
 * A route handler for a file embedded in the binary (`import … with { type: 'file' }`).
 * `cacheControl` is the caller's: a versioned third-party asset may be cached for a day,
 * vai's own page assets are revalidated so that an upgrade never serves a stale script.
 */
export const embeddedFile = (path: string, type: string, cacheControl: string) => () =>
  new Response(Bun.file(path), { headers: { 'content-type': type, 'cache-control': cacheControl } })
