// vai's verifier, for the services vai protects (`import { createVerifier } from 'vai/verify'`).
//
// It checks a token through vai's introspection (RFC 7662), keeps a positive answer for a
// while so that a busy service does not ask vai on every request, and follows vai's
// revocation feed so that a revoked token leaves the cache the moment vai reports it —
// not when the cache time runs out. Without the feed a cache would be a promise it cannot
// keep: while the feed is lost (vai restarting, a proxy cutting the stream, a stream gone
// silent) the cache is off and every check asks vai, until the feed is back.
//
// Standalone on purpose: it runs in Bun and in Node 20+ (fetch, web streams, Web Crypto),
// and imports nothing of vai's server.
import { createParser } from 'eventsource-parser'

/** Who a valid token is, from vai's introspection. */
export interface VaiIdentity {
  userId: string
  /** The user's email (introspection's `username`). */
  email: string
  tokenId: string
  tokenType: 'session' | 'api'
  scopes: string[]
  /** When the token expires, in ms since 1970; null when it never does. */
  expiresAt: number | null
}

export type CheckResult = { active: true; identity: VaiIdentity } | { active: false }

export interface VerifierOptions {
  /** vai's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string
  /** A token of the service's own, with the scope `introspect`. */
  token: string
  /** How long a positive answer is trusted while the feed is followed (default 60 s; 0: never cached). Never past the token's expiry. */
  cacheMs?: number
  /** The feed counts as lost when it has sent nothing for this long (default 30 s; vai sends a comment every 10 s). */
  staleMs?: number
  /** At most this many tokens cached (default 10,000); the oldest entry goes first. */
  maxEntries?: number
  /** Told when the feed is followed again, and when it is lost (with why): for the service's log. */
  onFeed?: (state: 'following' | 'lost', error?: unknown) => void
  fetch?: typeof fetch
}

export interface Verifier {
  /** What vai says of `token` now, or within the cache time while the feed reports nothing against it. Throws when vai cannot answer. */
  check(token: string): Promise<CheckResult>
  /** Whether the revocation feed is followed now: only then are answers cached. */
  readonly following: boolean
  /** Stops following the feed and forgets the cache. */
  close(): void
}

/** vai did not answer a check (down, unreachable, or the service's own token refused). */
export class VerifierUnavailable extends Error {}

interface Cached {
  result: CheckResult & { active: true }
  until: number
}

const FIRST_RETRY_MS = 1000
const LONGEST_RETRY_MS = 30_000

/** The feed's key for a token: its SHA-256 in hex, so the cache holds no plaintext either. */
async function digestOf(token: string) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

export function createVerifier(options: VerifierOptions): Verifier {
  const base = options.url.replace(/\/+$/, '')
  const authorization = `Bearer ${options.token}`
  const cacheMs = options.cacheMs ?? 60_000
  const staleMs = options.staleMs ?? 30_000
  const maxEntries = options.maxEntries ?? 10_000
  const fetchImpl = options.fetch ?? fetch
  const cache = new Map<string, Cached>()
  let following = false
  let closed = false
  let lastEventId: string | undefined
  let stream: AbortController | undefined
  let wake: (() => void) | undefined
  // Moves with every revocation reported and every change of the feed's state: an answer
  // that was on its way meanwhile is not cached (it may be older than the news).
  let epoch = 0

  const setFollowing = (now: boolean, error?: unknown) => {
    if (now === following) return
    following = now
    epoch++
    if (!now) cache.clear()
    options.onFeed?.(now ? 'following' : 'lost', error)
  }

  const remember = (key: string, result: CheckResult & { active: true }) => {
    const until = Math.min(Date.now() + cacheMs, result.identity.expiresAt ?? Infinity)
    if (until <= Date.now()) return
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
    cache.set(key, { result, until })
  }

  async function introspect(token: string): Promise<CheckResult> {
    let response: Response
    try {
      response = await fetchImpl(`${base}/api/v1/auth/introspect`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token }),
      })
    } catch (error) {
      throw new VerifierUnavailable(`vai is unreachable: ${(error as Error).message}`)
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new VerifierUnavailable(`vai answered introspection with ${response.status}`)
    }
    const answer = (await response.json()) as Record<string, unknown>
    if (answer.active !== true) return { active: false }
    return {
      active: true,
      identity: {
        userId: String(answer.sub),
        email: String(answer.username),
        tokenId: String(answer.jti),
        tokenType: answer.token_type === 'session' ? 'session' : 'api',
        scopes: typeof answer.scope === 'string' && answer.scope !== '' ? answer.scope.split(' ') : [],
        expiresAt: typeof answer.exp === 'number' ? answer.exp * 1000 : null,
      },
    }
  }

  async function followOnce(): Promise<void> {
    const controller = new AbortController()
    stream = controller
    let watchdog: ReturnType<typeof setTimeout> | undefined
    const alive = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => controller.abort(new Error(`the revocation feed was silent for ${staleMs} ms`)), staleMs)
    }
    try {
      alive()
      const headers: Record<string, string> = { authorization, accept: 'text/event-stream' }
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
      const response = await fetchImpl(`${base}/api/v1/revocations/stream`, { headers, signal: controller.signal })
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel()
        throw new Error(`vai answered the revocation feed with ${response.status}`)
      }
      // From now on every revocation reaches us: from the start of the feed on the first
      // connection, from the last one seen on a reconnection (the cache is empty then anyway).
      setFollowing(true)
      const parser = createParser({
        onEvent: (event) => {
          if (event.event !== 'revoked') return
          const { digest } = JSON.parse(event.data) as { digest: string }
          cache.delete(digest)
          epoch++
          if (event.id !== undefined) lastEventId = event.id
        },
      })
      const decoder = new TextDecoder()
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        alive()
        parser.feed(decoder.decode(chunk, { stream: true }))
      }
      throw new Error('the revocation feed ended')
    } finally {
      clearTimeout(watchdog)
    }
  }

  async function follow() {
    let delay = FIRST_RETRY_MS
    while (!closed) {
      const started = Date.now()
      try {
        await followOnce()
      } catch (error) {
        setFollowing(false, closed ? undefined : (stream?.signal.reason ?? error))
      }
      if (closed) return
      // A feed that was followed for a while comes back at once; one that keeps failing, ever slower, with jitter.
      if (Date.now() - started > LONGEST_RETRY_MS) delay = FIRST_RETRY_MS
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay * (0.5 + Math.random() / 2))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      delay = Math.min(delay * 2, LONGEST_RETRY_MS)
    }
  }
  void follow()

  return {
    async check(token) {
      if (token === '') return { active: false }
      const key = await digestOf(token)
      const hit = following ? cache.get(key) : undefined
      if (hit && hit.until > Date.now()) return hit.result
      const asked = epoch
      const result = await introspect(token)
      if (result.active && following && cacheMs > 0 && epoch === asked) remember(key, result)
      return result
    },
    get following() {
      return following
    },
    close() {
      closed = true
      stream?.abort()
      wake?.()
      setFollowing(false)
    },
  }
}

/** What a guarded request is answered when it may not pass: vai's own statuses, bodies and headers. */
export interface Refusal {
  status: 401 | 403 | 503
  body: { detail: string }
  headers: Record<string, string>
}

const BEARER = /^bearer[ \t]+(\S+)$/i

/** The token a request carries the way vai reads it from a service's clients: Bearer, else X-API-Key. */
export function presentedToken(headers: Headers): string | undefined {
  const bearer = BEARER.exec(headers.get('authorization')?.trim() ?? '')?.[1]
  return bearer ?? (headers.get('x-api-key') || undefined)
}

const unauthenticated = (detail: string): Refusal => ({ status: 401, body: { detail }, headers: { 'www-authenticate': 'Bearer' } })

/**
 * Whether the request may pass: its identity, or the refusal to answer with. `scopes` are
 * all required (`*` holds every one), as vai's own routes require theirs.
 */
export async function authorize(verifier: Verifier, headers: Headers, scopes: readonly string[] = []): Promise<{ identity: VaiIdentity } | { refusal: Refusal }> {
  const token = presentedToken(headers)
  if (token === undefined) return { refusal: unauthenticated('Not authenticated') }
  let result: CheckResult
  try {
    result = await verifier.check(token)
  } catch (error) {
    if (!(error instanceof VerifierUnavailable)) throw error
    return { refusal: { status: 503, body: { detail: 'Token service unavailable' }, headers: { 'retry-after': '1' } } }
  }
  if (!result.active) return { refusal: unauthenticated('Invalid or expired token') }
  const held = result.identity.scopes
  const missing = held.includes('*') ? [] : scopes.filter((scope) => !held.includes(scope))
  if (missing.length > 0) {
    const named = missing.join(' ')
    return { refusal: { status: 403, body: { detail: `This token lacks the scope ${named}` }, headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${named}"` } } }
  }
  return { identity: result.identity }
}

export const refusalResponse = ({ status, body, headers }: Refusal) => Response.json(body, { status, headers })

/**
 * A `fetch`-style handler (Bun.serve, Deno, Hono, a Node adapter) that answers only
 * requests whose token vai accepts with every scope in `scopes`, and hands the handler who
 * it is.
 */
export function withVai(
  verifier: Verifier,
  handler: (request: Request, identity: VaiIdentity) => Response | Promise<Response>,
  { scopes = [] }: { scopes?: readonly string[] } = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const outcome = await authorize(verifier, request.headers, scopes)
    return 'refusal' in outcome ? refusalResponse(outcome.refusal) : handler(request, outcome.identity)
  }
}
