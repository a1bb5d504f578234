import { parseArgs } from 'node:util'
import { t } from 'elysia'
import { Value } from '@sinclair/typebox/value'

export const Config = t.Object({
  port: t.Integer({ minimum: 0, maximum: 65535 }),
  host: t.String({ minLength: 1 }),
  db: t.String({ minLength: 1 }),
  signup: t.Union([t.Literal('open'), t.Literal('closed')]),
  sessionDays: t.Integer({ minimum: 1, maximum: 3650 }),
  maxTokenDays: t.Union([t.Integer({ minimum: 1, maximum: 3650 }), t.Null()]),
  cookieSecure: t.Union([t.Literal('auto'), t.Literal('true'), t.Literal('false')]),
})
export type Config = typeof Config.static

export const DEFAULT_CONFIG: Config = {
  port: 3000,
  host: '0.0.0.0',
  db: './vai.db',
  signup: 'closed',
  sessionDays: 30,
  maxTokenDays: null,
  cookieSecure: 'auto',
}

/** A mistake in how vai was invoked: one line for the user, exit code 2. */
export class UsageError extends Error {}

// flag → [config key, environment twin, kind]
const SETTINGS = {
  port: ['port', 'PORT', 'integer'],
  host: ['host', 'VAI_HOST', 'string'],
  db: ['db', 'VAI_DB', 'string'],
  signup: ['signup', 'VAI_SIGNUP', 'string'],
  'session-days': ['sessionDays', 'VAI_SESSION_DAYS', 'integer'],
  'max-token-days': ['maxTokenDays', 'VAI_MAX_TOKEN_DAYS', 'integer'],
  'cookie-secure': ['cookieSecure', 'VAI_COOKIE_SECURE', 'string'],
} as const satisfies Record<string, [keyof Config, string, 'integer' | 'string']>

export const SERVE_USAGE = `Usage: vai serve [options]

Options (each also read from the environment variable shown; a flag wins):
  --port N                  port to listen on (PORT, default 3000; 0 picks a free one)
  --host ADDR               address to bind (VAI_HOST, default 0.0.0.0)
  --db PATH                 SQLite database file (VAI_DB, default ./vai.db)
  --signup open|closed      let anyone sign up (VAI_SIGNUP, default closed; the first user always can)
  --session-days N          lifetime of a login session (VAI_SESSION_DAYS, default 30)
  --max-token-days N        longest API token lifetime allowed (VAI_MAX_TOKEN_DAYS, default none)
  --cookie-secure auto|true|false
                            mark the session cookie Secure (VAI_COOKIE_SECURE, default auto: when served over HTTPS)
  -h, --help                show this help`

/** Reads `serve`'s flags and their environment twins into a checked Config. */
export function loadConfig(args: string[], env: Record<string, string | undefined>): Config {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(Object.keys(SETTINGS).map((flag) => [flag, { type: 'string' as const }])),
    }))
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0])
  }
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const [flag, [key, envName, kind]] of Object.entries(SETTINGS)) {
    const fromFlag = values[flag] as string | undefined
    const raw = fromFlag ?? (env[envName] === '' ? undefined : env[envName])
    if (raw === undefined) continue
    const source = fromFlag !== undefined ? `--${flag}` : envName
    const value = kind === 'integer' ? (/^\d+$/.test(raw.trim()) ? Number(raw) : NaN) : raw
    if (!Value.Check(Config.properties[key], value)) {
      throw new UsageError(`invalid ${source} '${raw}': ${describe(key)}`)
    }
    config[key] = value
  }
  return config as Config
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
    default:
      return 'expected a non-empty value'
  }
}
