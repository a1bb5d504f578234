#!/usr/bin/env bun
// The floor scripts/bench/main.ts measures beside vai and the bare baseline: a Bun.serve
// handler with no framework that does only the work the measured requests cannot
// skip, on the same SQLite file as vai. Where the baseline answers constant bytes,
// this one reads the credential, checks the token's format and checksum
// (src/auth/token-format.ts), hashes it (SHA-256), looks it up with the statement
// vai's SQLite store runs (the token and its owner), refuses a revoked or expired
// one, notes its lastUsedAt in memory as vai does (never written: the floor does not
// flush), and renders the contract's JSON with the headers vai sends (security
// headers, x-request-id, WWW-Authenticate on a 401). It serves exactly what the
// bench asks of it: GET /api/v1/access-tokens/{id} and GET /api/v1/access-tokens
// (limit, cursor), each with its scope check (tokens:read); no access log, no metrics,
// no validation beyond that. It times
// each step of its handler as it serves (GET /__floor/steps reads and resets the
// sums): where its time goes under load.
//
//   bun scripts/bench/floor.ts serve DB [--cached]
//       --cached: the token lookups are kept in memory, and the whole cache is
//       dropped whenever PRAGMA data_version says another connection (vai) committed,
//       checked on every request: the cheapest cache that a revocation still reaches
//       at once.
//   bun scripts/bench/floor.ts profile DB TOKEN LISTER_TOKEN
//       prints, as JSON, the cost in µs of each step of the handler timed alone,
//       in a loop (no HTTP, warm caches).
import { Database } from 'bun:sqlite'
import { isWellFormedToken, TOKEN_PATTERN, tokenDigest } from '../../src/auth/token-format'
import { decodeCursor, encodeCursor } from '../../src/pagination'
import { scopesOf, type CallerRow, type TokenRow } from '../../src/store/rows'
import { listTokensSqlite, TOKEN_BY_DIGEST_SQL, TOKEN_BY_ID_SQL } from '../../src/store/sqlite'
import { holds } from '../../src/tokens/scopes'

// ---------------------------------------------------------------- the handler's parts

// vai's own statements, from its SQLite store: the listing is the one it runs with no
// type filter and revoked tokens left out, first page or after a cursor.
const list = (paged: boolean) => listTokensSqlite({ typed: false, includeRevoked: false, paged })

function openStatements(path: string) {
  // Read-write like vai's own connection (a read-only one cannot map a WAL file's
  // shared memory it did not create), but it only ever reads.
  const db = new Database(path, { strict: true })
  db.run('PRAGMA busy_timeout = 5000')
  return {
    db,
    byDigest: db.query<CallerRow, [Uint8Array]>(TOKEN_BY_DIGEST_SQL),
    byId: db.query<TokenRow, [string, string]>(TOKEN_BY_ID_SQL),
    firstPage: db.query<TokenRow, Record<string, string | number>>(list(false)),
    nextPage: db.query<TokenRow, Record<string, string | number>>(list(true)),
    dataVersion: db.query<{ data_version: number }, []>('PRAGMA data_version'),
    secret: db.query<{ value: Uint8Array }, []>("SELECT value FROM meta WHERE key = 'cursor_secret'"),
  }
}

const BEARER = /^bearer(?:\s+(.*))?$/i
const SANE_REQUEST_ID = /^[\w.:\-]{1,128}$/
const CSP = "default-src 'none'; frame-ancestors 'none'"
const INVALID = '{"detail":"Invalid or expired token"}'
const MISSING = '{"detail":"Not authenticated"}'

/** vai's carriers in vai's order: Authorization: Bearer, X-API-Key, the vai_token cookie. */
function credential(headers: Headers): string | undefined {
  const authorization = headers.get('authorization')
  const bearer = authorization ? BEARER.exec(authorization.trim())?.[1] : undefined
  if (bearer) return bearer
  const apiKey = headers.get('x-api-key')
  if (apiKey) return apiKey
  for (const pair of headers.get('cookie')?.split(';') ?? []) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === 'vai_token') return pair.slice(eq + 1).trim() || undefined
  }
  return undefined
}

/** The headers vai sends on a JSON answer, in its order. */
function headersFor(request: Request, challenge: boolean): Record<string, string> {
  const incoming = request.headers.get('x-request-id')
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'content-security-policy': CSP,
    'content-type': 'application/json;charset=utf-8',
    'x-request-id': incoming && SANE_REQUEST_ID.test(incoming) && !TOKEN_PATTERN.test(incoming) ? incoming : crypto.randomUUID(),
  }
  if (challenge) headers['www-authenticate'] = 'Bearer'
  return headers
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** The contract's Token, as src/http/present.ts renders it. */
function present(row: TokenRow, lastUsedAt: number | null, lastUsedIp: string | null) {
  return {
    id: row.id,
    name: row.name,
    tokenType: row.token_type,
    tokenPrefix: row.token_prefix,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(lastUsedAt),
    lastUsedIp,
    revokedAt: iso(row.revoked_at),
    scopes: scopesOf(row.scopes),
  }
}

const FORBIDDEN = '{"detail":"This token lacks the scope tokens:read"}'

const CACHE_LIMIT = 10_000

/** The handler's steps, timed in the running server: see STEPS_PATH. */
export const STEP_NAMES = ['route', 'credential', 'sha256', 'lookup', 'dataVersion', 'tokenJson', 'listQuery', 'listJson', 'response'] as const
export type StepName = (typeof STEP_NAMES)[number]
export interface StepTotals {
  requests: number
  ns: Record<StepName, number>
}
/**
 * GET here answers the wall time each step took since the last such GET, summed over
 * the requests answered meanwhile, and starts again from zero. The timing itself is
 * ten Bun.nanoseconds() reads a request at most (~55 ns each), inside the floor's figures.
 */
export const STEPS_PATH = '/__floor/steps'

function floorHandler(path: string, cached: boolean) {
  const q = openStatements(path)
  const secret = q.secret.get()!.value
  // As the store's touchToken: the last use and its address, in memory; vai writes them once a minute, the floor never.
  const pending = new Map<string, number>()
  const addresses = new Map<string, string>()
  const cache = new Map<string, CallerRow>()
  let version = -1

  const zero = () => Object.fromEntries(STEP_NAMES.map((name) => [name, 0])) as Record<StepName, number>
  let spent = zero()
  let requests = 0
  let clock = 0
  const lap = (step: StepName) => {
    const now = Bun.nanoseconds()
    spent[step] += now - clock
    clock = now
  }
  const answer = (request: Request, status: number, body: string) => {
    const response = new Response(body, { status, headers: headersFor(request, status === 401) })
    lap('response')
    requests++
    return response
  }

  return (request: Request, server: Bun.Server<unknown>): Response => {
    clock = Bun.nanoseconds()
    const url = request.url
    const start = url.indexOf('/', url.indexOf('//') + 2)
    const mark = url.indexOf('?', start)
    const route = mark === -1 ? url.slice(start) : url.slice(start, mark)
    if (route === STEPS_PATH) {
      const totals: StepTotals = { requests, ns: spent }
      spent = zero()
      requests = 0
      return Response.json(totals)
    }
    const one = route.startsWith('/api/v1/access-tokens/')
    if (request.method !== 'GET' || (!one && route !== '/api/v1/access-tokens')) return answer(request, 404, '{"detail":"Not Found"}')
    lap('route')

    const token = credential(request.headers)
    if (token === undefined) return answer(request, 401, MISSING)
    const wellFormed = isWellFormedToken(token)
    lap('credential')
    if (!wellFormed) return answer(request, 401, INVALID)
    let row: CallerRow | null | undefined
    if (cached) {
      const now = q.dataVersion.get()!.data_version
      if (now !== version) {
        cache.clear()
        version = now
      }
      row = cache.get(token)
      lap('dataVersion')
    }
    if (!row) {
      const digest = tokenDigest(token)
      lap('sha256')
      row = q.byDigest.get(digest)
      lap('lookup')
      if (row && cached) {
        if (cache.size >= CACHE_LIMIT) cache.clear()
        cache.set(token, row)
      }
    }
    const now = Date.now()
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return answer(request, 401, INVALID)
    pending.set(row.id, now)
    const address = server.requestIP(request)?.address
    if (address) addresses.set(row.id, address.startsWith('::ffff:') ? address.slice(7) : address)
    // Both routes the floor serves need tokens:read.
    if (!holds(scopesOf(row.scopes), 'tokens:read')) return answer(request, 403, FORBIDDEN)

    if (one) {
      const id = decodeURIComponent(route.slice('/api/v1/access-tokens/'.length)).toLowerCase()
      const found = id === row.id ? row : q.byId.get(id, row.user_id)
      if (!found) return answer(request, 404, '{"detail":"Token not found"}')
      const body = JSON.stringify(present(found, pending.get(found.id) ?? found.last_used_at, addresses.get(found.id) ?? found.last_used_ip))
      lap('tokenJson')
      return answer(request, 200, body)
    }

    const query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1))
    if (query.has('tokenType') || query.has('includeRevoked')) return answer(request, 400, '{"detail":"the floor lists without filters only"}')
    const limitText = query.get('limit') ?? '50'
    const limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : 0
    if (limit < 1 || limit > 200) return answer(request, 422, '{"detail":"limit: 1 to 200"}')
    const cursor = query.get('cursor')
    const after = cursor === null ? undefined : decodeCursor(secret, row.user_id, cursor)
    if (after === null) return answer(request, 422, '{"detail":"Cursor is not one this server issued"}')
    lap('route')
    const rows = after
      ? q.nextPage.all({ userId: row.user_id, limit: limit + 1, afterCreatedAt: after.createdAt, afterId: after.id })
      : q.firstPage.all({ userId: row.user_id, limit: limit + 1 })
    lap('listQuery')
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    const nextCursor = rows.length > limit && last ? encodeCursor(secret, row.user_id, { createdAt: last.created_at, id: last.id }) : null
    const body = JSON.stringify({ items: items.map((r) => present(r, pending.get(r.id) ?? r.last_used_at, addresses.get(r.id) ?? r.last_used_ip)), nextCursor })
    lap('listJson')
    return answer(request, 200, body)
  }
}

// ---------------------------------------------------------------- profile

export interface ProfileStep {
  step: StepName
  us: number // per call, in this process, no HTTP
}

/** µs per call of `fn`, the best of five batches (the machine is shared: the best batch is the least disturbed). */
function perCall(fn: () => unknown, calls: number): number {
  for (let i = 0; i < calls / 4; i++) fn()
  let best = Infinity
  for (let batch = 0; batch < 5; batch++) {
    const started = Bun.nanoseconds()
    for (let i = 0; i < calls; i++) fn()
    best = Math.min(best, (Bun.nanoseconds() - started) / calls / 1000)
  }
  return best
}

/** Each step of the floor's answer to (a) and (c), timed alone in this process. */
function profile(path: string, token: string, listerToken: string) {
  const q = openStatements(path)
  const secret = q.secret.get()!.value
  const digest = tokenDigest(token)
  const row = q.byDigest.get(digest)
  const lister = q.byDigest.get(tokenDigest(listerToken))
  if (!row || !lister) throw new Error('bench-floor profile: the tokens are not in the database')
  const request = new Request(`http://127.0.0.1/api/v1/access-tokens/${row.id}`, { headers: { authorization: `Bearer ${token}` } })
  const body = JSON.stringify(present(row, Date.now(), '127.0.0.1'))
  const rows = q.firstPage.all({ userId: lister.user_id, limit: 51 })
  const routeOf = (url: string) => {
    const start = url.indexOf('/', url.indexOf('//') + 2)
    const mark = url.indexOf('?', start)
    return (mark === -1 ? url.slice(start) : url.slice(start, mark)).startsWith('/api/v1/access-tokens/')
  }
  const steps: ProfileStep[] = [
    { step: 'route', us: perCall(() => routeOf(request.url), 20_000) },
    { step: 'credential', us: perCall(() => isWellFormedToken(credential(request.headers)!), 20_000) },
    { step: 'sha256', us: perCall(() => tokenDigest(token), 20_000) },
    { step: 'lookup', us: perCall(() => q.byDigest.get(digest), 20_000) },
    { step: 'dataVersion', us: perCall(() => q.dataVersion.get(), 20_000) },
    { step: 'tokenJson', us: perCall(() => JSON.stringify(present(row, Date.now(), '127.0.0.1')), 20_000) },
    { step: 'listQuery', us: perCall(() => q.firstPage.all({ userId: lister.user_id, limit: 51 }), 2_000) },
    {
      step: 'listJson',
      us: perCall(() => {
        const items = rows.slice(0, 50)
        const last = items.at(-1)!
        return JSON.stringify({ items: items.map((r) => present(r, r.last_used_at, r.last_used_ip)), nextCursor: encodeCursor(secret, lister.user_id, { createdAt: last.created_at, id: last.id }) })
      }, 2_000),
    },
    { step: 'response', us: perCall(() => new Response(body, { headers: headersFor(request, false) }), 20_000) },
  ]
  q.db.close()
  return steps
}

// ---------------------------------------------------------------- main

if (import.meta.main) {
  const [mode, path, ...rest] = process.argv.slice(2)
  if (mode === 'serve' && path) {
    const cached = rest.includes('--cached')
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: floorHandler(path, cached) })
    console.log(`floor${cached ? ' (cached)' : ''} listening on http://127.0.0.1:${server.port}`)
    process.on('SIGTERM', () => {
      server.stop(true)
      process.exit(0)
    })
  } else if (mode === 'profile' && path && rest.length === 2) {
    console.log(JSON.stringify(profile(path, rest[0]!, rest[1]!)))
  } else {
    console.error('usage: bun scripts/bench/floor.ts serve DB [--cached] | profile DB TOKEN LISTER_TOKEN')
    process.exit(2)
  }
}
