import { Elysia, type Context } from 'elysia'
import { basicPassword, presentedCredential, tokenWithoutBearer, type Carrier } from '../auth/credentials'
import { authenticate, type Caller, type ReuseResponse } from '../auth/tokens'
import { ERRORS, fixedHeaders, scopeError, type ErrorName } from '../errors'
import type { Metrics } from '../metrics'
import type { ValidationIssue } from '../schemas'
import type { Store } from '../store/store'
import { holds, type BuiltInScope } from '../tokens/scopes'
import { readOptionalBody, readProtectedBody } from './body'
import { clientOf } from './forwarded'
import { errorResponses } from './openapi'
import { fromAnotherOrigin, STATE_CHANGING } from './security'

/**
 * The carriers a protected route reads, in order: the three of Authentication; those with
 * `Authorization: Basic` after Bearer (verify: tools that only speak Basic); or the headers
 * only, Basic included (introspect: a service's call, never a browser's cookie).
 */
export type Carriers = 'standard' | 'withBasic' | 'service'

/** Each protected operation accepts any one of its carriers: the document's security, per set. */
export const SECURITY: Record<Carriers, Record<string, string[]>[]> = {
  standard: [{ bearer: [] }, { apiKey: [] }, { cookie: [] }],
  withBasic: [{ bearer: [] }, { basic: [] }, { apiKey: [] }, { cookie: [] }],
  service: [{ bearer: [] }, { basic: [] }, { apiKey: [] }],
}

export interface AuthOptions {
  /** The scope the route needs (see Scopes); without one, any valid token will do. */
  scope?: BuiltInScope
  /** The path parameter naming a token: when it names the caller's own, no scope is needed (a token may always revoke itself). */
  ownToken?: string
  carriers?: Carriers
  /** No method of the route changes anything (verify): a cookie needs no same-origin check. */
  changesNothing?: true
  /** Every key of the route's body is optional, and so is the body: an empty one reads as `{}`. */
  optionalBody?: true
}

/** What a route's `auth` asks of its caller: `true`, a valid token of any kind; or that, with options. */
export type AuthRequirement = true | AuthOptions

/** What the document says of an operation's requirement, beside its security. */
interface AuthDetail {
  security?: Record<string, string[]>[]
  'x-vai-scope'?: BuiltInScope
}

/**
 * The refusals a protected route documents: the 401; the 403 where it needs a scope, or
 * where a cookie could change something (the cross-site refusal).
 */
export function refusalResponses(method: string, { security = [], 'x-vai-scope': scope }: AuthDetail) {
  const crossSite = STATE_CHANGING.has(method) && security.some((carrier) => 'cookie' in carrier)
  if (!scope && !crossSite) return errorResponses(401)
  const responses = errorResponses(401, 403)
  return scope ? { ...responses, 403: { ...responses[403], description: `Needs the scope \`${scope}\`. Refused: ${responses[403].description}` } } : responses
}

// A refusal's status, body and headers, made once: the hot path of a 401 storm builds nothing.
interface Refusal {
  status: number
  body: { detail: string | ValidationIssue[] }
  headers: Record<string, string>
}
const refusal = (name: ErrorName): Refusal => ({ status: ERRORS[name].status, body: { detail: ERRORS[name].detail }, headers: fixedHeaders(name) })
const NOT_AUTHENTICATED = refusal('notAuthenticated')
const TOKEN_WITHOUT_BEARER = refusal('tokenWithoutBearer')
const INVALID_TOKEN = refusal('invalidToken')
const CROSS_SITE = refusal('crossSite')

/** The response header that says when the request's token expires (none for one that never does). */
export const TOKEN_EXPIRES = 'vai-token-expires'

type Presented = { token: string; via: Carrier | 'basic' } | { via: 'cookie'; ambiguous: true } | undefined

/** Basic, when it holds a password, else the standard carriers (Basic is never Bearer: one Authorization header). */
const withBasic = (headers: Headers): Presented => {
  const password = basicPassword(headers.get('authorization'))
  return password === undefined ? presentedCredential(headers) : { token: password, via: 'basic' }
}

const PRESENTED: Record<Carriers, (headers: Headers) => Presented> = {
  standard: presentedCredential,
  withBasic,
  service: (headers) => {
    const presented = withBasic(headers)
    return presented?.via === 'cookie' ? undefined : presented
  },
}

/**
 * The `auth` route option: `{ auth: true }` or `{ auth: { scope: 'tokens:read' } }` makes a
 * route protected. It resolves the caller in the transform step, before the request's
 * body is read and before its body, query and path are validated, so a stranger learns
 * nothing about a route's schema and costs no parsing, and a token without the scope gets
 * its 403 whatever it sent; the handler finds it as `caller`. It also gives the operation
 * its security in the document.
 */
export function callerPlugin(store: Store, now: () => number, metrics: Metrics, onReuse: ReuseResponse) {
  const authenticator = ({ scope, ownToken, carriers = 'standard', changesNothing }: AuthOptions) => {
    const present = PRESENTED[carriers]
    return async ({ request, params, set, status }: Pick<Context, 'request' | 'params' | 'set' | 'status'>) => {
      const refuse = ({ status: code, body, headers }: Refusal) => {
        Object.assign(set.headers, headers)
        return status(code, body)
      }
      const presented = present(request.headers)
      // Answered, not thrown: a refusal is the common case of a 401 storm, and an
      // exception (its stack, the error hook) costs twice the whole refusal.
      if (presented === undefined) {
        metrics.authFailure('missing')
        return refuse(tokenWithoutBearer(request.headers) ? TOKEN_WITHOUT_BEARER : NOT_AUTHENTICATED)
      }
      // Two vai_token cookies: one of them was planted, and neither can be told to be the visitor's.
      if ('ambiguous' in presented) {
        metrics.authFailure('malformed')
        return refuse(INVALID_TOKEN)
      }
      // The cookie is the one carrier a browser adds by itself, to requests another site's
      // page starts too (SameSite=Lax still lets a sibling subdomain's through): a change
      // it authenticates must come from vai's own origin. Checked before the token is
      // looked up, so a forged request does not even touch its lastUsedAt.
      if (!changesNothing && presented.via === 'cookie' && STATE_CHANGING.has(request.method) && fromAnotherOrigin(request)) {
        return refuse(CROSS_SITE)
      }
      const result = await authenticate(store, presented.token, now(), clientOf(request).address, onReuse, request.headers)
      if ('refused' in result) {
        metrics.authFailure(result.refused)
        return refuse(INVALID_TOKEN)
      }
      const { token } = result.caller
      // On every answer to this request from here on, errors too: automation sees its end coming.
      if (token.expiresAt !== null) set.headers[TOKEN_EXPIRES] = new Date(token.expiresAt).toISOString()
      if (scope !== undefined && !holds(token.scopes, scope) && !(ownToken !== undefined && params[ownToken]?.toLowerCase() === token.id)) {
        throw scopeError('lacksScope', [scope])
      }
      return { caller: result.caller }
    }
  }

  return new Elysia({ name: 'caller' }).macro({
    auth: (requirement: AuthRequirement) => {
      const options = requirement === true ? {} : requirement
      const detail: AuthDetail = { security: SECURITY[options.carriers ?? 'standard'], ...(options.scope ? { 'x-vai-scope': options.scope } : {}) }
      return {
        // A transform runs before validation. Elysia answers a status it returns (and runs
        // no later step) and merges an object into the context, as derive() does, though its
        // type says it returns nothing. The body is read only once the caller is accepted.
        transform: [authenticator(options), options.optionalBody ? readOptionalBody : readProtectedBody] as unknown as ((context: Context) => Promise<void>)[],
        // The caller is on the context already; this tells the handler's type so.
        resolve: (context) => ({ caller: (context as unknown as { caller: Caller }).caller }),
        detail,
      }
    },
  })
}
