// In-process test harness: a fresh app per call on a fresh database, a clock the test
// moves by hand, and request builders that return { status, headers, body }.
//
// The database is SQLite ':memory:', or, when VAI_TEST_POSTGRES holds a URL, a fresh
// schema of its own in that PostgreSQL database: the same tests for both backends.
import { afterAll, beforeAll, expect, spyOn } from 'bun:test'
import { createApp } from '../../src/app'
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS, type LoginLimits } from '../../src/auth/login-limiter'
import { createReportLimiter, DEFAULT_REPORT_LIMITS, type ReportLimits } from '../../src/auth/report-limiter'
import { hashPassword } from '../../src/auth/password'
import { DAY_MS, issueToken } from '../../src/auth/tokens'
import { DEFAULT_CONFIG, type Config } from '../../src/config'
import type { AccessLog } from '../../src/http/observe'
import { createMetrics } from '../../src/metrics'
import type { Store, TokenRecord, UserRecord } from '../../src/store/store'
import { createRevocationFeed } from '../../src/tokens/revocation-feed'
import { SUITE_BACKEND, TEST_POSTGRES, type Row, type Table } from './backends'

export const BASE = 'http://localhost'
/** Where in-process requests come from unless a test says otherwise: a trusted proxy by default. */
export const LOCAL_PEER = '127.0.0.1'
export const START = Date.parse('2026-11-30T09:14:03.512Z')
export const PASSWORD = 'correct horse battery'

export type Via = 'bearer' | 'apiKey' | 'cookie' | 'basic'

/** `Authorization: Basic` with `token` as the password, as curl -u and OAuth client_secret_basic send it. */
export const basicAuthorization = (token: string, user = 'service') => `Basic ${btoa(`${user}:${token}`)}`
type Body = NonNullable<RequestInit['body']>

export interface RequestOptions {
  body?: unknown
  /** Sent as is, without JSON encoding or a Content-Type. */
  rawBody?: Body
  headers?: Record<string, string>
  token?: string
  via?: Via
  /** Overrides BASE, e.g. 'https://localhost'. */
  origin?: string
  /** The TCP peer the request comes from (default LOCAL_PEER, as a client on the same host); null: none known. */
  peer?: string | null
}


export interface Reply {
  status: number
  headers: Headers
  /** Parsed JSON when the response says JSON, the text otherwise ('' when empty or an event stream). */
  body: any
}

export type MakeAppOptions = Partial<Config> & {
  loginLimits?: LoginLimits
  reportLimits?: ReportLimits
  log?: AccessLog
  /** Stands between the app and its store (to make it fail, say). */
  wrapStore?: (store: Store) => Store
  /** How often the revocation feed polls and its heartbeat (real time, not the test's clock). */
  feed?: { pollMs?: number; heartbeatMs?: number; unreadLimitBytes?: number }
}

export { TEST_POSTGRES, type Row }
export const BACKEND = SUITE_BACKEND.backend.name

export function makeApp(overrides: MakeAppOptions = {}) {
  const { loginLimits = DEFAULT_LOGIN_LIMITS, reportLimits = DEFAULT_REPORT_LIMITS, log, wrapStore = (store: Store) => store, feed, ...configOverrides } = overrides
  const config: Config = { ...DEFAULT_CONFIG, db: SUITE_BACKEND.db, signup: 'open', ...configOverrides }
  const database = SUITE_BACKEND.fresh()
  const store = wrapStore(database.store)
  let time = START
  const clock = {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
  const peers = new WeakMap<Request, string | null>()
  // Through app.handle, the peer the test names (LOCAL_PEER by default); over a real socket (app.listen), the socket's.
  const peerAddress = (request: Request) => (peers.has(request) ? peers.get(request)! : (app.server?.requestIP(request)?.address ?? LOCAL_PEER))
  // main.ts refreshes the gauges on a timer; a test asks with metrics.refreshGauges().
  const metrics = createMetrics(store, clock.now)
  const revocationFeed = createRevocationFeed(store, feed)
  const app = createApp({ config, store, now: clock.now, loginLimiter: createLoginLimiter(store, loginLimits), reportLimiter: createReportLimiter(store, reportLimits), metrics, log, peerAddress, revocationFeed })
  const handle = (request: Request, peer?: string | null) => {
    if (peer !== undefined) peers.set(request, peer)
    return app.handle(request)
  }

  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers = new Headers(options.headers)
    if (options.token !== undefined) {
      const via = options.via ?? 'bearer'
      if (via === 'bearer') headers.set('authorization', `Bearer ${options.token}`)
      else if (via === 'basic') headers.set('authorization', basicAuthorization(options.token))
      else if (via === 'apiKey') headers.set('x-api-key', options.token)
      else headers.append('cookie', `vai_token=${options.token}`)
    }
    let body: Body | undefined = options.rawBody
    if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    }
    const response = await handle(new Request(`${options.origin ?? BASE}${path}`, { method, headers, body }), options.peer)
    return read(response)
  }

  return {
    app,
    store,
    /** Every persisted row of a table (see TestDatabase.rows). */
    rows: database.rows,
    /** One persisted row by id, or undefined. */
    row: async (table: Table, id: string) => (await database.rows(table)).find((row) => row.id === id),
    metrics,
    revocationFeed,
    breakDatabase: database.break,
    fillDisk: database.fillDisk,
    config,
    clock,
    request,
    get: (path: string, options?: RequestOptions) => request('GET', path, options),
    post: (path: string, options?: RequestOptions) => request('POST', path, options),
    del: (path: string, options?: RequestOptions) => request('DELETE', path, options),
    handle: async (req: Request, peer?: string | null) => read(await handle(req, peer)),
  }
}

export type TestApp = ReturnType<typeof makeApp>

async function read(response: Response): Promise<Reply> {
  // A stream never ends by itself: its head is the reply (test/http/revocations.test.ts reads the events).
  if (response.headers.get('content-type') === 'text/event-stream') {
    await response.body?.cancel()
    return { status: response.status, headers: response.headers, body: '' }
  }
  const text = await response.text()
  const json = (response.headers.get('content-type') ?? '').includes('json')
  return { status: response.status, headers: response.headers, body: json && text !== '' ? JSON.parse(text) : text }
}

let counter = 0
/** An email no other test in this process uses. */
export const uniqueEmail = (label = 'user') => `${label}-${++counter}@example.com`

/** POST /auth/signup; the reply's body is the User. */
export function signup(t: TestApp, body: { email?: string; password?: string; name?: string; setupCode?: string } = {}, options: RequestOptions = {}) {
  return t.post('/api/v1/auth/signup', { ...options, body: { email: uniqueEmail(), password: PASSWORD, ...body } })
}

/** POST /auth/login and insist that it worked. */
export async function login(t: TestApp, email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  const reply = await t.post('/api/v1/auth/login', { body: { email, password }, headers })
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`)
  return { plaintext: reply.body.plaintext as string, token: reply.body.token, reply }
}

// argon2id costs tens of milliseconds: seeded users share one hash.
let seedHash: Promise<string> | undefined

export interface Seeded {
  user: UserRecord
  email: string
  password: string
  /** A session token's plaintext, ready for `token:`. */
  plaintext: string
  token: TokenRecord
}

/** A user and a session straight through the store: no HTTP, one shared password hash. */
export async function seedUser(t: TestApp, options: { email?: string; name?: string | null } = {}): Promise<Seeded> {
  seedHash ??= hashPassword(PASSWORD)
  const at = t.clock.now()
  const email = options.email ?? uniqueEmail('seed')
  const result = await t.store.createUser(
    { id: Bun.randomUUIDv7('hex', at), email, name: options.name ?? null, passwordHash: await seedHash, createdAt: at },
    true,
  )
  if (!('created' in result)) throw new Error(`seedUser: ${result.refused}`)
  const session = await seedToken(t, result.created.id, { tokenType: 'session', expiresAt: at + t.config.sessionDays * DAY_MS })
  return { user: result.created, email, password: PASSWORD, ...session }
}

/** Another token for a user, straight through the store: an API token with full access unless told otherwise. */
export function seedToken(
  t: TestApp,
  userId: string,
  options: { name?: string; tokenType?: 'session' | 'api'; expiresAt?: number | null; scopes?: string[] } = {},
) {
  const common = { userId, name: options.name ?? 'seeded', expiresAt: options.expiresAt ?? null, now: t.clock.now() }
  return issueToken(t.store, options.tokenType === 'session' ? { ...common, tokenType: 'session' } : { ...common, tokenType: 'api', scopes: options.scopes ?? ['*'] })
}

export const iso = (ms: number) => new Date(ms).toISOString()

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const PLAINTEXT = /^vai_[0-9A-Za-z]{38,}$/

export const NOT_AUTHENTICATED = { detail: 'Not authenticated' }
export const INVALID_TOKEN = { detail: 'Invalid or expired token' }
export const TOKEN_NOT_FOUND = { detail: 'Token not found' }
export const JSON_INVALID = {
  detail: [
    {
      loc: ['body'],
      msg: 'Request body is not valid JSON: send a JSON object with Content-Type: application/json',
      type: 'json_invalid',
    },
  ],
}

/** The contract's token object for a record, as the API must render it. */
export function tokenJson(token: TokenRecord, changes: Partial<Record<keyof TokenRecord, unknown>> = {}) {
  // A use made through this harness comes from its default peer, unless the test says otherwise.
  const used = changes.lastUsedAt != null && !('lastUsedIp' in changes) ? { lastUsedIp: LOCAL_PEER } : {}
  const merged = { ...token, ...used, ...changes } as TokenRecord
  return {
    id: merged.id,
    name: merged.name,
    tokenType: merged.tokenType,
    tokenPrefix: merged.tokenPrefix,
    createdAt: iso(merged.createdAt),
    expiresAt: merged.expiresAt === null ? null : iso(merged.expiresAt),
    lastUsedAt: merged.lastUsedAt === null ? null : iso(merged.lastUsedAt),
    lastUsedIp: merged.lastUsedIp,
    revokedAt: merged.revokedAt === null ? null : iso(merged.revokedAt),
    scopes: merged.scopes,
  }
}

/**
 * The body of a response that hands out a new token (login, create): its plaintext once, and
 * the token as the contract renders a fresh one, issued now by the test's clock.
 */
export function issuedTokenJson(plaintext: string, now: number, token: { name: string; tokenType: 'api' | 'session'; expiresAt: number | null; scopes: string[] }) {
  return {
    plaintext,
    token: {
      id: expect.stringMatching(UUID),
      name: token.name,
      tokenType: token.tokenType,
      tokenPrefix: plaintext.slice(0, 12),
      createdAt: iso(now),
      expiresAt: token.expiresAt === null ? null : iso(token.expiresAt),
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      scopes: token.scopes,
    },
  }
}

export function userJson(user: UserRecord) {
  return { id: user.id, email: user.email, name: user.name, createdAt: iso(user.createdAt) }
}

/**
 * Within a describe: an app whose database is closed under it, so the next query fails
 * like a bug would, with a session seeded before; console.error (where the renderer
 * reports the bug) is silenced and recorded.
 */
export function brokenAppFixture() {
  const fixture = { app: makeApp(), session: undefined as unknown as Seeded, consoleError: undefined as unknown as ReturnType<typeof spyOn> }
  beforeAll(async () => {
    fixture.session = await seedUser(fixture.app)
    await fixture.app.breakDatabase()
    fixture.consoleError = spyOn(console, 'error').mockImplementation(() => {})
  })
  afterAll(() => fixture.consoleError.mockRestore())
  return fixture
}
