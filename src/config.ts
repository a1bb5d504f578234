import { parseArgs } from 'node:util'
import { t } from 'elysia'
import { Value } from '@sinclair/typebox/value'

export const Config = t.Object({
  port: t.Integer({ minimum: 0, maximum: 65535 }),
  host: t.String({ minLength: 1 }),
  db: t.String({ minLength: 1 }),
  dbPool: t.Integer({ minimum: 1, maximum: 1000 }),
  signup: t.Union([t.Literal('open'), t.Literal('closed')]),
  sessionDays: t.Integer({ minimum: 1, maximum: 3650 }),
  maxTokenDays: t.Union([t.Integer({ minimum: 1, maximum: 3650 }), t.Null()]),
  cookieSecure: t.Union([t.Literal('auto'), t.Literal('true'), t.Literal('false')]),
  logFormat: t.Union([t.Literal('plain'), t.Literal('json')]),
  metrics: t.Boolean(),
  metricsToken: t.Union([t.String({ minLength: 16 }), t.Null()]),
  retentionDays: t.Integer({ minimum: 0, maximum: 36500 }),
  // Origins exactly as a browser writes them in `Origin`: scheme, host, port if not the default.
  corsOrigins: t.Array(t.String({ pattern: '^https?://[a-z0-9.-]+(:[0-9]{1,5})?$|^https?://\\[[0-9a-f:.]+\\](:[0-9]{1,5})?$' })),
  idleTimeout: t.Integer({ minimum: 1, maximum: 255 }),
})
export type Config = typeof Config.static

export const DEFAULT_CONFIG: Config = {
  port: 3000,
  host: '0.0.0.0',
  db: './vai.db',
  dbPool: 10,
  signup: 'closed',
  sessionDays: 30,
  maxTokenDays: null,
  cookieSecure: 'auto',
  logFormat: 'plain',
  metrics: false,
  metricsToken: null,
  retentionDays: 90,
  corsOrigins: [],
  idleTimeout: 10,
}

/** A mistake in how vai was invoked: one line for the user, exit code 2. */
export class UsageError extends Error {}

// flag → [config key, environment twin, kind]
const SETTINGS = {
  port: ['port', 'PORT', 'integer'],
  host: ['host', 'VAI_HOST', 'string'],
  db: ['db', 'VAI_DB', 'string'],
  'db-pool': ['dbPool', 'VAI_DB_POOL', 'integer'],
  signup: ['signup', 'VAI_SIGNUP', 'string'],
  'session-days': ['sessionDays', 'VAI_SESSION_DAYS', 'integer'],
  'max-token-days': ['maxTokenDays', 'VAI_MAX_TOKEN_DAYS', 'integer'],
  'cookie-secure': ['cookieSecure', 'VAI_COOKIE_SECURE', 'string'],
  'log-format': ['logFormat', 'VAI_LOG_FORMAT', 'string'],
  metrics: ['metrics', 'VAI_METRICS', 'boolean'],
  'metrics-token': ['metricsToken', 'VAI_METRICS_TOKEN', 'string'],
  'retention-days': ['retentionDays', 'VAI_RETENTION_DAYS', 'integer'],
  'cors-origins': ['corsOrigins', 'VAI_CORS_ORIGINS', 'list'],
  'idle-timeout': ['idleTimeout', 'VAI_IDLE_TIMEOUT', 'integer'],
} as const satisfies Record<string, [keyof Config, string, 'integer' | 'string' | 'boolean' | 'list']>

export const SERVE_USAGE = `Usage: vai serve [options]

Options (each also read from the environment variable shown; a flag wins):
  --port N                  port to listen on (PORT, default 3000; 0 picks a free one)
  --host ADDR               address to bind (VAI_HOST, default 0.0.0.0)
  --db PATH|URL             SQLite database file, or postgres://user:pass@host:5432/db for
                            PostgreSQL (VAI_DB, default ./vai.db)
  --db-pool N               PostgreSQL connections per instance, 1 to 1000 (VAI_DB_POOL, default 10)
  --signup open|closed      let anyone sign up (VAI_SIGNUP, default closed; the first user always can)
  --session-days N          lifetime of a login session (VAI_SESSION_DAYS, default 30)
  --max-token-days N        longest API token lifetime allowed (VAI_MAX_TOKEN_DAYS, default none)
  --cookie-secure auto|true|false
                            mark the session cookie Secure (VAI_COOKIE_SECURE, default auto: when served over HTTPS)
  --log-format plain|json   access log format on stdout (VAI_LOG_FORMAT, default plain)
  --metrics                 serve Prometheus metrics at /metrics to anyone (VAI_METRICS, default off)
  --metrics-token TOKEN     serve /metrics only with Authorization: Bearer TOKEN, 16+ characters
                            (VAI_METRICS_TOKEN; prefer the variable: flags show in the process list)
  --retention-days N        delete tokens revoked or expired more than N days ago, hourly
                            (VAI_RETENTION_DAYS, default 90)
  --cors-origins LIST       comma-separated origins (https://app.example.com) whose scripts may call
                            the API with a token header; never with the cookie (VAI_CORS_ORIGINS,
                            default none: CORS closed)
  --idle-timeout SECONDS    close a connection that sends nothing for this long, 1 to 255
                            (VAI_IDLE_TIMEOUT, default 10)
  -h, --help                show this help`

/** Reads `serve`'s flags and their environment twins into a checked Config. */
export function loadConfig(args: string[], env: Record<string, string | undefined>): Config {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(SETTINGS).map(([flag, [, , kind]]) => [flag, { type: kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
      ),
    }))
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0])
  }
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const [flag, [key, envName, kind]] of Object.entries(SETTINGS)) {
    const fromFlag = values[flag] === true ? 'true' : (values[flag] as string | undefined)
    const raw = fromFlag ?? (env[envName] === '' ? undefined : env[envName])
    if (raw === undefined) continue
    const source = fromFlag !== undefined ? `--${flag}` : envName
    const value = parse(kind, raw)
    if (!Value.Check(Config.properties[key], value)) {
      // A secret is never repeated back: it would land in logs and terminals.
      const shown = key === 'metricsToken' ? '' : ` '${raw}'`
      throw new UsageError(`invalid ${source}${shown}: ${describe(key)}`)
    }
    config[key] = value
  }
  return config as Config
}

function parse(kind: 'integer' | 'string' | 'boolean' | 'list', raw: string): unknown {
  switch (kind) {
    case 'list':
      // Lower-cased and without a trailing slash: compared as browsers send Origin.
      return raw.split(',').map((item) => item.trim().toLowerCase().replace(/\/$/, '')).filter((item) => item !== '')
    case 'integer':
      return /^\d+$/.test(raw.trim()) ? Number(raw) : NaN
    case 'boolean':
      return { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()] ?? raw
    case 'string':
      return raw
  }
}

function describe(key: keyof Config): string {
  switch (key) {
    case 'port':
      return 'expected a port number from 0 to 65535'
    case 'signup':
      return "expected 'open' or 'closed'"
    case 'cookieSecure':
      return "expected 'auto', 'true' or 'false'"
    case 'sessionDays':
    case 'maxTokenDays':
      return 'expected a whole number of days from 1 to 3650'
    case 'retentionDays':
      return 'expected a whole number of days from 0 to 36500'
    case 'logFormat':
      return "expected 'plain' or 'json'"
    case 'metrics':
      return "expected 'true' or 'false'"
    case 'metricsToken':
      return 'expected at least 16 characters'
    case 'corsOrigins':
      return 'expected origins like https://app.example.com, separated by commas (no path, no wildcard)'
    case 'idleTimeout':
      return 'expected a whole number of seconds from 1 to 255'
    case 'dbPool':
      return 'expected a whole number of connections from 1 to 1000'
    default:
      return 'expected a non-empty value'
  }
}
