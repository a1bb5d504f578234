// The scenarios of issue 4, (a) to (f), (v), issue 13's verify beside (a), and (r), issue 15's leak report beside (c): the request each server gets, the status it
// must answer, the target it is held to, and the servers that run it; what the
// SQLite part records of each run; and the same for the PostgreSQL part.
import { generateToken } from '../../src/auth/token-format'
import type { StepName, StepTotals } from './floor'
import { jsonPost } from './http'
import type { BigSeed, Issued, SmallSeed } from './seed'
import type { ScenarioRun, ServerSummary } from './summary'
import type { Request } from './wrk'

export type FloorName = 'floor' | 'floor-cached'
export type ServerName = 'baseline' | FloorName | 'vai' | 'vai-1M'
/** The order of the servers in the tables: the bare baseline, the floors, vai. */
export const SERVER_ORDER: ServerName[] = ['baseline', 'floor-cached', 'floor', 'vai', 'vai-1M']

export interface Scenario {
  key: string
  title: string
  chart: string // the bar's label, under the scenario letter
  expectStatus: number
  /** The request per vai server; the baseline gets the vai one, byte for byte. */
  requests: Partial<Record<'vai' | 'vai-1M', Request>>
  target?: number // vai/baseline ratio the issue asks for
  /** The floors that serve the vai request too, on vai's database. */
  floors?: FloorName[]
}

export const getOwnToken = (issued: Issued, carrier: 'authorization' | 'x-api-key' | 'cookie'): Request => ({
  method: 'GET',
  path: `/api/v1/access-tokens/${issued.token.id}`,
  headers:
    carrier === 'authorization'
      ? { authorization: `Bearer ${issued.plaintext}` }
      : carrier === 'x-api-key'
        ? { 'x-api-key': issued.plaintext }
        : { cookie: `vai_token=${issued.plaintext}` },
})

/** A reverse proxy's forward-auth check: (a)'s token, asked for an application scope it holds (through `*`). */
const verify = (issued: Issued): Request => ({ method: 'GET', path: '/api/v1/auth/verify?scope=deploy:staging', headers: { authorization: `Bearer ${issued.plaintext}` } })

const list = (issued: Issued): Request => ({ method: 'GET', path: '/api/v1/access-tokens?limit=50', headers: { authorization: `Bearer ${issued.plaintext}` } })

/**
 * Issue 15's intake at its heaviest: 1000 well-formed tokens nobody holds, so every one is
 * looked up (in the one statement) and nothing changes between requests; each from another
 * address, as the limit of 60 per address per hour would refuse the 61st.
 */
const leakReport = (): Request => ({
  ...jsonPost('/api/v1/credentials/revoke', { credentials: Array.from({ length: 1000 }, generateToken) }),
  varyClient: true,
})

/** Well shaped (prefix, length, alphabet) but with a checksum that does not match. */
function badChecksumToken(): string {
  const good = generateToken()
  const last = good.at(-1)!
  return good.slice(0, -1) + (last === 'A' ? 'B' : 'A')
}

/** The 401 storm's request: (a)'s, with a token whose checksum does not match. */
const stormRequest = (issued: Issued): Request => ({ ...getOwnToken(issued, 'authorization'), headers: { authorization: `Bearer ${badChecksumToken()}` } })

export function scenarios(small: SmallSeed, big: BigSeed): Scenario[] {
  const [hot, apiKey, me, lister, minter] = small.tokens
  return [
    { key: 'a', title: '(a) GET token, Bearer', chart: 'Bearer', expectStatus: 200, requests: { vai: getOwnToken(hot!, 'authorization'), 'vai-1M': getOwnToken(big.hot, 'authorization') }, target: 0.75, floors: ['floor', 'floor-cached'] },
    { key: 'v', title: '(v) verify ?scope=…, Bearer', chart: 'verify', expectStatus: 200, requests: { vai: verify(hot!), 'vai-1M': verify(big.hot) } },
    { key: 'b-key', title: '(b) GET token, X-API-Key', chart: 'X-API-Key', expectStatus: 200, requests: { vai: getOwnToken(apiKey!, 'x-api-key') } },
    { key: 'b-cookie', title: '(b) GET token, cookie', chart: 'cookie', expectStatus: 200, requests: { vai: getOwnToken(small.session, 'cookie') } },
    { key: 'c', title: '(c) list, limit=50', chart: 'list 50', expectStatus: 200, requests: { vai: list(lister!), 'vai-1M': list(big.hot) }, target: 0.4, floors: ['floor'] },
    { key: 'e', title: '(e) GET /auth/me', chart: '/auth/me', expectStatus: 200, requests: { vai: { method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${me!.plaintext}` } } } },
    {
      key: 'f',
      title: '(f) 401 storm, bad checksum',
      chart: '401 storm',
      expectStatus: 401,
      requests: { vai: stormRequest(hot!) },
      target: 0.9,
      floors: ['floor'],
    },
    { key: 'r', title: '(r) report 1000 leaked strings', chart: 'leak report', expectStatus: 202, requests: { vai: leakReport(), 'vai-1M': leakReport() } },
    // Last: every request adds a token to the almost empty database.
    { key: 'd', title: '(d) POST token', chart: 'POST', expectStatus: 201, requests: { vai: jsonPost('/api/v1/access-tokens', { name: 'bench minted' }, { authorization: `Bearer ${minter!.plaintext}` }) } },
  ]
}

/** A run of the SQLite part, with the CPU time it cost. */
export interface Run extends ScenarioRun<ServerName> {
  serverCpuUs: number // the server process's CPU time over the run, µs
  steps?: StepTotals // a floor's own timing of its handler's steps over the run
  otherCpuUs: number // CPU the rest of the machine was busy with over the run (other processes, steal), µs
}

/** A scenario on one server of the SQLite part, over its rounds. */
export interface Summary extends ServerSummary<Scenario, ServerName> {
  cpuPerRequest: number // server CPU µs per request wrk counted
  wrkCpuPerRequest: number // wrk's CPU µs per request
  steps?: Record<StepName, number> // a floor's handler steps, wall µs per request it answered
}

// ---------------------------------------------------------------- PostgreSQL

export type PgServer = 'baseline' | 'vai-pg' | 'vai-pg ×2'
/** The order of the servers in the tables: the bare baseline, one vai, two. */
export const PG_SERVER_ORDER: PgServer[] = ['baseline', 'vai-pg', 'vai-pg ×2']
export const PG_VAI: { server: Exclude<PgServer, 'baseline'>; instances: number }[] = [
  { server: 'vai-pg', instances: 1 },
  { server: 'vai-pg ×2', instances: 2 },
]

export interface PgScenario {
  key: string
  title: string // the SQLite scenario of the same request, by its title
  expectStatus: number
  request: Request
}

export type PgRun = ScenarioRun<PgServer>

export type PgSummary = ServerSummary<PgScenario, PgServer>

/** (a), (c) and (f), the hot path and its neighbours, on the PostgreSQL 1M seed. */
export function pgScenarios(hot: Issued): PgScenario[] {
  return [
    { key: 'a', title: '(a) GET token, Bearer', expectStatus: 200, request: getOwnToken(hot, 'authorization') },
    { key: 'c', title: '(c) list, limit=50', expectStatus: 200, request: list(hot) },
    {
      key: 'f',
      title: '(f) 401 storm, bad checksum',
      expectStatus: 401,
      request: stormRequest(hot),
    },
  ]
}
