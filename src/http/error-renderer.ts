import { Elysia, ValidationError } from 'elysia'
import { ERRORS, HttpError, httpError } from '../errors'
import type { ValidationIssue } from '../schemas'
import { StoreUnavailable } from '../store/store'
import { explain, explainUndecodable, issue, plural, type Schema } from '../validation/explain'
import { sentBody, UndecodableBody } from './body'

const WHERE = { body: 'body', query: 'query', params: 'path', headers: 'header' } as const

function validationIssues(error: Readonly<ValidationError>, request: Request): ValidationIssue[] {
  const where = WHERE[error.type as keyof typeof WHERE]
  const value = where === 'body' ? sentBody(request) : error.value
  if (value instanceof UndecodableBody) return explainUndecodable(value.reason)
  const schema = (error.validator as { schema?: Schema }).schema
  const issues = where && schema ? explain(schema, value, [where]) : []
  // Elysia and the explainer should agree; if they do not, still say where.
  return issues.length > 0 ? issues : [issue([where ?? error.type], 'value_error', 'Input is not valid')]
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers } })

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
    const reply = ({ status, detail, headers }: HttpError) => {
      set.status = status
      return json(status, { detail }, headers)
    }
    // Body errors (413, an aborted body as a 400) come from the steps that read bodies,
    // after authentication, as they are: vai's parse step reads nothing and throws nothing.
    if (error instanceof HttpError) return reply(error)
    if (error instanceof StoreUnavailable) {
      logOutage(error)
      return reply(httpError('databaseUnavailable'))
    }
    switch (code) {
      case 'VALIDATION':
        if (error.type === 'response') break
        return reply(new HttpError(ERRORS.invalidInput.status, validationIssues(error, request)))
      case 'NOT_FOUND': {
        const allowed = allowedMethods(path)
        if (allowed.length === 0) return reply(httpError('notFound'))
        const allow = allowed.join(', ')
        if (request.method === 'OPTIONS') {
          set.status = 204
          // A CORS preflight from an origin browserSecurity let in: the same methods, in CORS' words.
          const preflight = 'access-control-allow-headers' in set.headers ? { 'access-control-allow-methods': allow } : {}
          return new Response(null, { status: 204, headers: { allow, ...preflight } })
        }
        return reply(httpError('methodNotAllowed', { allow }))
      }
    }
    console.error('unhandled error:', error)
    return reply(httpError('internal'))
  })
}
