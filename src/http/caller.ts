import { Elysia, type Context } from 'elysia'
import { presentedCredential, tokenWithoutBearer } from '../auth/credentials'
import { authenticate, type Caller } from '../auth/tokens'
import { ERRORS, fixedHeaders, type ErrorName } from '../errors'
import type { Metrics } from '../metrics'
import type { ValidationIssue } from '../schemas'
import type { Store } from '../store/store'
import { readProtectedBody } from './body'
import { errorResponses } from './openapi'
import { fromAnotherOrigin, STATE_CHANGING } from './security'

/** Each protected operation accepts any one of the three carriers. */
export const ANY_CARRIER: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }, { cookie: [] }]

/** What a route's `auth` asks of its caller: for now, a valid token of any kind. */
export type AuthRequirement = true

/** The refusals a protected route documents: the 401, and where a cookie could change something, the cross-site 403. */
export const refusalResponses = (method: string) => (STATE_CHANGING.has(method) ? errorResponses(401, 403) : errorResponses(401))

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

/**
 * The `auth` route option: `{ auth: true }` makes a route protected. It resolves the
 * caller in the transform step, before the request's body is read and before its
 * body, query and path are validated, so a stranger learns nothing about a route's
 * schema and costs no parsing; the handler finds it as `caller`. It also gives the
 * operation its security in the document.
 */
export function callerPlugin(store: Store, now: () => number, metrics: Metrics) {
  const authenticateRequest = async ({ request, set, status }: Pick<Context, 'request' | 'set' | 'status'>) => {
    const refuse = ({ status: code, body, headers }: Refusal) => {
      Object.assign(set.headers, headers)
      return status(code, body)
    }
    const presented = presentedCredential(request.headers)
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
    if (presented.via === 'cookie' && STATE_CHANGING.has(request.method) && fromAnotherOrigin(request)) {
      return refuse(CROSS_SITE)
    }
    const result = await authenticate(store, presented.token, now())
    if ('refused' in result) {
      metrics.authFailure(result.refused)
      return refuse(INVALID_TOKEN)
    }
    return { caller: result.caller }
  }

  return new Elysia({ name: 'caller' }).macro({
    auth: (_requirement: AuthRequirement) => ({
      // A transform runs before validation. Elysia answers a status it returns (and runs
      // no later step) and merges an object into the context, as derive() does, though its
      // type says it returns nothing. The body is read only once the caller is accepted.
      transform: [authenticateRequest, readProtectedBody] as unknown as ((context: Context) => Promise<void>)[],
      // The caller is on the context already; this tells the handler's type so.
      resolve: (context) => ({ caller: (context as unknown as { caller: Caller }).caller }),
      detail: { security: ANY_CARRIER },
    }),
  })
}
