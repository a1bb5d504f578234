import { Elysia, ValidationError } from 'elysia'
import { Kind } from '@sinclair/typebox'
import { sentBody, UndecodableBody } from './http/body'
import { StoreUnavailable } from './store/store'
import {
  BOOLEAN_WORDS, emailProblem, laxInteger, textProblem, type TextOptions, type ValidationIssue,
} from './schemas'

/** Every error vai raises on purpose: a status and the contract's `detail`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'Validation failed')
  }
}

// The contract's two 401s: no credential at all, or one that must not authenticate.
export const NOT_AUTHENTICATED = 'Not authenticated'
export const INVALID_TOKEN = 'Invalid or expired token'
export const BEARER_CHALLENGE = { 'www-authenticate': 'Bearer' }
export const notAuthenticated = () => new HttpError(401, NOT_AUTHENTICATED, BEARER_CHALLENGE)
export const tokenNotFound = () => new HttpError(404, 'Token not found')

type Loc = (string | number)[]
// Elysia's view of a schema: plain JSON Schema plus TypeBox's Kind symbol.
type Schema = Record<string, any> & { [Kind]?: string }

const issue = (loc: Loc, type: string, msg: string): ValidationIssue => ({ loc, msg, type })

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * Explains why `value` fails `schema`, in Pydantic's vocabulary, listing every
 * problem. Elysia's own check is the gate; this only describes what it refused.
 */
export function explain(schema: Schema, value: unknown, loc: Loc): ValidationIssue[] {
  switch (schema[Kind]) {
    case 'Text': {
      const problem = textProblem(schema as TextOptions, value)
      if (!problem) return []
      const messages = {
        string_type: 'Input should be a valid string',
        string_unicode: 'Input should be a valid string, unable to parse raw data as a unicode string',
        string_too_short: `String should have at least ${plural(schema.minLength, 'character')}`,
        string_too_long: `String should have at most ${plural(schema.maxLength, 'character')}`,
      }
      return [issue(loc, problem, messages[problem])]
    }
    case 'Email': {
      const problem = emailProblem(value)
      if (!problem) return []
      const messages = {
        string_type: 'Input should be a valid string',
        string_too_long: `String should have at most ${plural(schema.maxLength, 'character')}`,
        string_unicode: 'Input should be a valid string, unable to parse raw data as a unicode string',
        value_error: 'value is not a valid email address: it must look like name@example.com',
      }
      return [issue(loc, problem, messages[problem])]
    }
    case 'LaxInteger':
      if (typeof value === 'string' && laxInteger(value) === undefined) {
        return [issue(loc, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer')]
      }
      return explain({ type: 'integer', minimum: schema.minimum, maximum: schema.maximum }, laxInteger(value) ?? value, loc)
    case 'QueryBoolean':
      return typeof value === 'boolean' || (typeof value === 'string' && value.toLowerCase() in BOOLEAN_WORDS)
        ? []
        : [issue(loc, 'bool_parsing', 'Input should be a valid boolean, unable to interpret input')]
  }

  if (schema.anyOf) {
    const branches = schema.anyOf as Schema[]
    if (value === null && branches.some((b) => b.type === 'null')) return []
    if (branches.every((b) => 'const' in b)) {
      if (branches.some((b) => b.const === value)) return []
      const names = branches.map((b) => `'${b.const}'`)
      return [issue(loc, 'enum', `Input should be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`)]
    }
    const target = branches.find((b) => b.type !== 'null')
    return target ? explain(target, value, loc) : []
  }

  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [issue(loc, 'model_attributes_type', 'Input should be a valid dictionary or object to extract fields from')]
      }
      const record = value as Record<string, unknown>
      const required = new Set<string>(schema.required ?? [])
      return Object.entries(schema.properties as Record<string, Schema>).flatMap(([key, property]) =>
        record[key] === undefined
          ? required.has(key) && !('default' in property)
            ? [issue([...loc, key], 'missing', 'Field required')]
            : []
          : explain(property, record[key], [...loc, key]),
      )
    }
    case 'integer': {
      if (typeof value !== 'number') return [issue(loc, 'int_type', 'Input should be a valid integer')]
      if (!Number.isInteger(value)) {
        return [issue(loc, 'int_from_float', 'Input should be a valid integer, got a number with a fractional part')]
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        return [issue(loc, 'greater_than_equal', `Input should be greater than or equal to ${schema.minimum}`)]
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        return [issue(loc, 'less_than_equal', `Input should be less than or equal to ${schema.maximum}`)]
      }
      return []
    }
    case 'string': {
      if (typeof value !== 'string') return [issue(loc, 'string_type', 'Input should be a valid string')]
      if (schema.format === 'uuid' && !new RegExp(schema.pattern).test(value)) {
        return [issue(loc, 'uuid_parsing', 'Input should be a valid UUID: 32 hexadecimal digits in the 8-4-4-4-12 form')]
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return [issue(loc, 'string_too_long', `String should have at most ${plural(schema.maxLength, 'character')}`)]
      }
      return []
    }
  }
  return []
}

const WHERE = { body: 'body', query: 'query', params: 'path' } as const

function validationIssues(error: Readonly<ValidationError>, request: Request): ValidationIssue[] {
  const where = WHERE[error.type as keyof typeof WHERE]
  const value = where === 'body' ? sentBody(request) : error.value
  if (value instanceof UndecodableBody) {
    return [
      value.reason === 'missing'
        ? issue(['body'], 'missing', 'Field required')
        : issue(['body'], 'json_invalid', 'Request body is not valid JSON: send a JSON object with Content-Type: application/json'),
    ]
  }
  const schema = (error.validator as { schema?: Schema }).schema
  const issues = where && schema ? explain(schema, value, [where]) : []
  // Elysia and the explainer should agree; if they do not, still say where.
  return issues.length > 0 ? issues : [issue([where ?? error.type], 'value_error', 'Input is not valid')]
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers } })

const DATABASE_UNAVAILABLE = 'Database unavailable'

/** How often an outage is written to stderr: its first 503, then at most one line per window. */
const OUTAGE_LOG_EVERY_MS = 10_000

/**
 * The one place that turns errors into the contract's bodies. `allowedMethods`
 * tells a 405 (and an OPTIONS answer) from a 404.
 */
export function errorRenderer(allowedMethods: (path: string) => string[]) {
  // An outage is expected weather, not a bug: one line with the reason, not one per request.
  let outageLoggedAt = -Infinity
  let unlogged = 0
  const logOutage = (error: StoreUnavailable) => {
    const now = Date.now()
    if (now - outageLoggedAt < OUTAGE_LOG_EVERY_MS) return void unlogged++
    const since = unlogged > 0 ? ` (${plural(unlogged, 'more 503')} since the last such line)` : ''
    console.error(`vai: database unavailable, answering 503: ${error.reason}${since}`)
    outageLoggedAt = now
    unlogged = 0
  }
  return new Elysia({ name: 'error-renderer' }).onError({ as: 'global' }, ({ code, error, request, path, set }) => {
    // set.status too, so that what runs after the response (access log, metrics) sees it.
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      set.status = status
      return json(status, body, headers)
    }
    // Elysia wraps what a body parser throws (body.ts's 413) in its own ParseError.
    const raised = code === 'PARSE' ? error.cause : error
    if (raised instanceof HttpError) {
      return reply(raised.status, { detail: raised.detail }, raised.headers)
    }
    if (raised instanceof StoreUnavailable) {
      // Not the request's fault and not a bug: try again shortly, the backend reconnects by itself.
      logOutage(raised)
      return reply(503, { detail: DATABASE_UNAVAILABLE }, { 'retry-after': '1' })
    }
    switch (code) {
      case 'VALIDATION':
        if (error.type === 'response') break
        return reply(422, { detail: validationIssues(error, request) })
      case 'NOT_FOUND': {
        const allowed = allowedMethods(path)
        if (allowed.length === 0) return reply(404, { detail: 'Not Found' })
        const allow = allowed.join(', ')
        if (request.method === 'OPTIONS') {
          set.status = 204
          // A CORS preflight from an origin browserSecurity let in: the same methods, in CORS' words.
          const preflight = 'access-control-allow-headers' in set.headers ? { 'access-control-allow-methods': allow } : {}
          return new Response(null, { status: 204, headers: { allow, ...preflight } })
        }
        return reply(405, { detail: 'Method Not Allowed' }, { allow })
      }
    }
    console.error('unhandled error:', error)
    return reply(500, { detail: 'Internal Server Error' })
  })
}
