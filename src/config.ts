import { parseArgs } from 'node:util'
import { t } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { CIDR_PATTERN } from './auth/client-address'

type Kind = 'integer' | 'string' | 'boolean' | 'list' | 'domain'

interface Setting<S extends TSchema> {
  flag: string
  /** The environment variable read when the flag is not given. */
  env: string
  /** How the raw text is read before the schema checks it. */
  kind: Kind
  schema: S
  default: S['static']
  /** What the flag's value looks like in the usage text; a choice of words shows them all. */
  value?: string
  /**
   * The flag's line(s) in the usage text, wrapped where it has a newline.
   * {env} is the variable, {default} "default …", {range} the schema's "min to max".
   */
  help: string
  /** What a bad value is told, after "invalid --flag 'value': "; with {range} and {choices}. */
  invalid: string
  /** Never repeated back in an error: it would land in logs and terminals. */
  secret?: boolean
}

const setting = <S extends TSchema>(spec: Setting<S>) => spec

/**
 * A cookie Domain: a DNS name of two labels or more (browsers refuse, or keep to one host,
 * a Domain like `localhost` or `com`, so the flag would do nothing), lower case, the last
 * label not all digits (an IPv4 address; IPv6 has colons): no scheme, port or path.
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const COOKIE_DOMAIN_PATTERN = `^(?=.{1,253}$)(?:${LABEL}\\.)+(?=[a-z0-9-]*[a-z])${LABEL}$`

/** Every flag of `serve`, in the order the usage text lists them. */
const SETTINGS = {
  port: setting({
    flag: 'port', env: 'PORT', kind: 'integer', schema: t.Integer({ minimum: 0, maximum: 65535 }), default: 3000, value: 'N',
    help: 'port to listen on ({env}, {default}; 0 picks a free one)',
    invalid: 'expected a port number from {range}',
  }),
  host: setting({
    flag: 'host', env: 'VAI_HOST', kind: 'string', schema: t.String({ minLength: 1 }), default: '0.0.0.0', value: 'ADDR',
    help: 'address to bind ({env}, {default})',
    invalid: 'expected a non-empty value',
  }),
  db: setting({
    flag: 'db', env: 'VAI_DB', kind: 'string', schema: t.String({ minLength: 1 }), default: './vai.db', value: 'PATH|URL',
    help: 'SQLite database file, or postgres://user:pass@host:5432/db for\nPostgreSQL ({env}, {default})',
    invalid: 'expected a non-empty value',
  }),
  dbPool: setting({
    flag: 'db-pool', env: 'VAI_DB_POOL', kind: 'integer', schema: t.Integer({ minimum: 1, maximum: 1000 }), default: 10, value: 'N',
    help: 'PostgreSQL connections per instance, {range} ({env}, {default})',
    invalid: 'expected a whole number of connections from {range}',
  }),
  signup: setting({
    flag: 'signup', env: 'VAI_SIGNUP', kind: 'string', schema: t.Union([t.Literal('open'), t.Literal('closed')]), default: 'closed',
    help: 'let anyone sign up ({env}, {default}; the first user always can)',
    invalid: 'expected {choices}',
  }),
  sessionDays: setting({
    flag: 'session-days', env: 'VAI_SESSION_DAYS', kind: 'integer', schema: t.Integer({ minimum: 1, maximum: 3650 }), default: 30, value: 'N',
    help: 'lifetime of a login session ({env}, {default})',
    invalid: 'expected a whole number of days from {range}',
  }),
  maxTokenDays: setting({
    flag: 'max-token-days', env: 'VAI_MAX_TOKEN_DAYS', kind: 'integer', schema: t.Union([t.Integer({ minimum: 1, maximum: 3650 }), t.Null()]),
    default: null, value: 'N',
    help: 'longest API token lifetime allowed ({env}, {default})',
    invalid: 'expected a whole number of days from {range}',
  }),
  maxActiveTokens: setting({
    flag: 'max-active-tokens', env: 'VAI_MAX_ACTIVE_TOKENS', kind: 'integer', schema: t.Integer({ minimum: 1, maximum: 1_000_000 }),
    default: 10_000, value: 'N',
    help: 'most API tokens one user may have active, {range} ({env}, {default})',
    invalid: 'expected a whole number of tokens from {range}',
  }),
  rotationReuse: setting({
    flag: 'rotation-reuse', env: 'VAI_ROTATION_REUSE', kind: 'string', schema: t.Union([t.Literal('warn'), t.Literal('revoke')]), default: 'warn',
    help: 'when a rotated token is used after its grace (a 401): warn records it,\nrevoke also revokes its live successor ({env}, {default})',
    invalid: 'expected {choices}',
  }),
  cookieSecure: setting({
    flag: 'cookie-secure', env: 'VAI_COOKIE_SECURE', kind: 'string', schema: t.Union([t.Literal('auto'), t.Literal('true'), t.Literal('false')]),
    default: 'auto',
    help: 'mark the session cookie Secure ({env}, {default}: when served over HTTPS)',
    invalid: 'expected {choices}',
  }),
  cookieDomain: setting({
    flag: 'cookie-domain', env: 'VAI_COOKIE_DOMAIN', kind: 'domain', schema: t.Union([t.String({ pattern: COOKIE_DOMAIN_PATTERN }), t.Null()]),
    default: null, value: 'DOMAIN',
    help: "the session cookie's Domain (example.com: its subdomains get it too, so\napps there can verify it through a proxy; the console then honours ?rd=\nfor URLs on it) ({env}, {default}: this host only)",
    invalid: 'expected a host name like example.com (no scheme, port, path or IP address; two labels at least)',
  }),
  logFormat: setting({
    flag: 'log-format', env: 'VAI_LOG_FORMAT', kind: 'string', schema: t.Union([t.Literal('plain'), t.Literal('json')]), default: 'plain',
    help: 'access log format on stdout ({env}, {default})',
    invalid: 'expected {choices}',
  }),
  metrics: setting({
    flag: 'metrics', env: 'VAI_METRICS', kind: 'boolean', schema: t.Boolean(), default: false,
    help: 'serve Prometheus metrics at /metrics to anyone ({env}, {default})',
    invalid: "expected 'true' or 'false'",
  }),
  metricsToken: setting({
    flag: 'metrics-token', env: 'VAI_METRICS_TOKEN', kind: 'string', schema: t.Union([t.String({ minLength: 16 }), t.Null()]), default: null,
    value: 'TOKEN', secret: true,
    help: 'serve /metrics only with Authorization: Bearer TOKEN, 16+ characters\n({env}; prefer the variable: flags show in the process list)',
    invalid: 'expected at least 16 characters',
  }),
  retentionDays: setting({
    flag: 'retention-days', env: 'VAI_RETENTION_DAYS', kind: 'integer', schema: t.Integer({ minimum: 0, maximum: 36500 }), default: 90, value: 'N',
    help: 'delete tokens revoked or expired more than N days ago, hourly\n({env}, {default})',
    invalid: 'expected a whole number of days from {range}',
  }),
  auditRetentionDays: setting({
    flag: 'audit-retention-days', env: 'VAI_AUDIT_RETENTION_DAYS', kind: 'integer', schema: t.Integer({ minimum: 1, maximum: 36500 }), default: 365, value: 'N',
    help: 'delete audit events older than N days, hourly\n({env}, {default})',
    invalid: 'expected a whole number of days from {range}',
  }),
  smtpUrl: setting({
    flag: 'smtp-url', env: 'VAI_SMTP_URL', kind: 'string', schema: t.Union([t.String({ pattern: '^smtps?://[^/?#]+(:[0-9]{1,5})?/?$' }), t.Null()]),
    default: null, value: 'URL', secret: true,
    help: 'email the owner about expiring, leaked, reused and newly located tokens\nthrough smtp://user:pass@host:587 (STARTTLS when offered) or smtps://\n({env}; prefer the variable: flags show in the process list; {default})',
    invalid: 'expected smtp://[user:password@]host[:port] or smtps://…, with the user and password percent-encoded',
  }),
  smtpFrom: setting({
    flag: 'smtp-from', env: 'VAI_SMTP_FROM', kind: 'string', schema: t.Union([t.String({ pattern: '^[^\\s@<>]+@[^\\s@<>]+$|^[^<>\\r\\n]*<[^\\s@<>]+@[^\\s@<>]+>$' }), t.Null()]),
    default: null, value: 'ADDRESS',
    help: "the notices' From, vai@example.com or 'vai <vai@example.com>'; needed\nwith --smtp-url ({env})",
    invalid: "expected an address like vai@example.com or 'vai <vai@example.com>'",
  }),
  corsOrigins: setting({
    flag: 'cors-origins', env: 'VAI_CORS_ORIGINS', kind: 'list',
    // Origins exactly as a browser writes them in `Origin`: scheme, host, port if not the default.
    schema: t.Array(t.String({ pattern: '^https?://[a-z0-9.-]+(:[0-9]{1,5})?$|^https?://\\[[0-9a-f:.]+\\](:[0-9]{1,5})?$' })),
    default: [], value: 'LIST',
    help: 'comma-separated origins (https://app.example.com) whose scripts may call\nthe API with a token header; never with the cookie ({env},\n{default}: CORS closed)',
    invalid: 'expected origins like https://app.example.com, separated by commas (no path, no wildcard)',
  }),
  trustedProxies: setting({
    flag: 'trusted-proxies', env: 'VAI_TRUSTED_PROXIES', kind: 'list', schema: t.Array(t.String({ pattern: CIDR_PATTERN })),
    default: ['127.0.0.0/8', '::1/128'], value: 'CIDRS',
    help: 'comma-separated proxies whose X-Forwarded-For, -Proto and -Host are\nbelieved; empty: none ({env}, {default})',
    invalid: 'expected CIDR blocks or addresses like 10.0.0.0/8,::1, separated by commas',
  }),
  idleTimeout: setting({
    flag: 'idle-timeout', env: 'VAI_IDLE_TIMEOUT', kind: 'integer', schema: t.Integer({ minimum: 1, maximum: 255 }), default: 10, value: 'SECONDS',
    help: 'close a connection that sends nothing for this long, {range}\n({env}, {default})',
    invalid: 'expected a whole number of seconds from {range}',
  }),
}

type Settings = typeof SETTINGS
type Key = keyof Settings
const KEYS = Object.keys(SETTINGS) as Key[]

const mapSettings = <T>(pick: (setting: Setting<TSchema>) => T) =>
  Object.fromEntries(KEYS.map((key) => [key, pick(SETTINGS[key] as Setting<TSchema>)])) as { [K in Key]: T }

export const Config = t.Object(mapSettings((setting) => setting.schema) as { [K in Key]: Settings[K]['schema'] })
export type Config = typeof Config.static

export const DEFAULT_CONFIG = mapSettings((setting) => setting.default) as Config

/** A mistake in how vai was invoked: one line for the user, exit code 2. */
export class UsageError extends Error {}

type Schema = Record<string, any>

// The bounds of a number, or of the number a nullable schema allows.
const bounds = (schema: Schema): Schema => ('minimum' in schema ? schema : schema.anyOf.find((branch: Schema) => 'minimum' in branch))
const range = (schema: Schema) => `${bounds(schema).minimum} to ${bounds(schema).maximum}`
const choices = (schema: Schema): string[] => (schema.anyOf ?? []).filter((branch: Schema) => 'const' in branch).map((branch: Schema) => branch.const)

function shownDefault(value: unknown): string {
  if (value === null || (Array.isArray(value) && value.length === 0)) return 'none'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  return String(value)
}

function fill(text: string, { env, schema, default: value }: Setting<TSchema>): string {
  return text
    .replace('{env}', env)
    .replace('{default}', `default ${shownDefault(value)}`)
    .replace('{range}', () => range(schema))
    .replace('{choices}', () => {
      const quoted = choices(schema).map((choice) => `'${choice}'`)
      return `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`
    })
}

// Where a flag's description starts; a longer flag puts it on the next line.
const DESCRIPTION_COLUMN = 28

function usageLines(setting: Setting<TSchema>): string {
  const value = setting.value ?? (choices(setting.schema).join('|') || undefined)
  const label = `  --${setting.flag}${value ? ` ${value}` : ''}`
  const indent = ' '.repeat(DESCRIPTION_COLUMN)
  const [first, ...rest] = fill(setting.help, setting).split('\n')
  const head = label.length < DESCRIPTION_COLUMN ? label.padEnd(DESCRIPTION_COLUMN) + first : `${label}\n${indent}${first}`
  return [head, ...rest.map((line) => indent + line)].join('\n')
}

export const SERVE_USAGE = `Usage: vai serve [options]

Options (each also read from the environment variable shown; a flag wins):
${KEYS.map((key) => usageLines(SETTINGS[key] as Setting<TSchema>)).join('\n')}
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
        Object.values(SETTINGS).map(({ flag, kind }) => [flag, { type: kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
      ),
    }))
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0])
  }
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const key of KEYS) {
    const setting = SETTINGS[key] as Setting<TSchema>
    const fromFlag = values[setting.flag] === true ? 'true' : (values[setting.flag] as string | undefined)
    const raw = fromFlag ?? (env[setting.env] === '' ? undefined : env[setting.env])
    if (raw === undefined) continue
    const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env
    const value = parse(setting.kind, raw)
    if (!Value.Check(setting.schema, value)) {
      const shown = setting.secret ? '' : ` '${raw}'`
      throw new UsageError(`invalid ${source}${shown}: ${fill(setting.invalid, setting)}`)
    }
    config[key] = value
  }
  if (config.smtpUrl !== null && config.smtpFrom === null) throw new UsageError('--smtp-url needs --smtp-from (VAI_SMTP_FROM): the address the notices come from')
  return config as Config
}

function parse(kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'list':
      // Lower-cased and without a trailing slash: compared as browsers send Origin.
      return raw.split(',').map((item) => item.trim().toLowerCase().replace(/\/$/, '')).filter((item) => item !== '')
    case 'integer':
      return /^\d+$/.test(raw.trim()) ? Number(raw) : NaN
    case 'boolean':
      return { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()] ?? raw
    case 'domain':
      // `.example.com` is the old spelling of `example.com` (RFC 6265 drops the dot); Set-Cookie gets the bare name.
      return raw.trim().toLowerCase().replace(/^\./, '')
    case 'string':
      return raw
  }
}
