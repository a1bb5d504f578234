// Verifying tokens from other services: forward authentication for reverse proxies
// (`/auth/verify`, every method) and RFC 7662 introspection (`POST /auth/introspect`).
import { Elysia, type Context } from 'elysia'
import { authenticate, type Caller } from '../auth/tokens'
import { scopeError } from '../errors'
import { IntrospectionRequest, Introspection, Me, OAuthError, VerifyQuery } from '../schemas'
import { introspection } from '../tokens/introspection'
import { missingScopes, scopeList, verifyRequirement } from '../tokens/scopes'
import { UndecodableBody } from './body'
import type { RouteDeps } from './deps'
import { errorResponses } from './openapi'
import { presentToken, presentUser } from './present'

// HEAD is GET's, answered without a body. OPTIONS too is verify's: nginx's subrequest
// keeps the original method, whatever it is.
const VERIFY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Who the token is, for the application behind the proxy: vai's own headers, and the Remote-* that Grafana, Gitea and others read. */
const IDENTITY_HEADERS = {
  'X-Vai-User-Id': 'The user id',
  'X-Vai-User-Email': 'The user’s email',
  'X-Vai-Token-Id': 'The token’s id',
  'X-Vai-Token-Type': '`session` or `api`',
  'X-Vai-Scopes': 'The token’s scopes, space-separated',
  'Remote-User': 'The user’s email',
  'Remote-Email': 'The user’s email',
  'Cache-Control': '`no-store`',
}

function setIdentityHeaders(headers: Context['set']['headers'], { user, token }: Caller) {
  headers['x-vai-user-id'] = user.id
  headers['x-vai-user-email'] = user.email
  headers['x-vai-token-id'] = token.id
  headers['x-vai-token-type'] = token.tokenType
  headers['x-vai-scopes'] = token.scopes.join(' ')
  headers['remote-user'] = user.email
  headers['remote-email'] = user.email
  headers['cache-control'] = 'no-store'
}

/**
 * `/api/v1/auth/verify` on every method. It never reads a body: app.ts mounts it before
 * the body parser, so no method's body is read (or refused as too large).
 */
export function verifyRoutes({ caller }: Pick<RouteDeps, 'caller'>) {
  const group = new Elysia({ prefix: '/api/v1/auth', tags: ['Verification'] }).use(caller)
  // Documented, not checked again at run time: the body comes from the typed presenters, and
  // checking it (its formats, twice the token's) would make verify, the hot path of every
  // protected service, cost more than GET /access-tokens/{own id}.
  const ok = {
    ...Me,
    noValidate: true,
    description: 'The token is valid and holds every scope asked: `GET /auth/me`’s body, and who it is in headers',
    headers: headerDocs(),
  }
  for (const method of VERIFY_METHODS) {
    group.route(
      method,
      '/verify',
      ({ caller, query, request, set }) => {
        const missing = missingScopes(caller.token.scopes, verifyRequirement(scopeList(query.scope), scopeList(query.writeScope), () => originalMethod(request)))
        if (missing.length > 0) throw scopeError('lacksScope', missing)
        setIdentityHeaders(set.headers, caller)
        return { user: presentUser(caller.user), token: presentToken(caller.token) }
      },
      {
        // It changes nothing but the token's lastUsedAt, so a cookie from another origin may ask too.
        auth: { carriers: 'withBasic', changesNothing: true },
        // Never read (so the auth step's body read finds none): nginx's subrequest keeps the
        // original method, and its body is not ours.
        parse: 'none',
        query: VerifyQuery,
        response: { 200: ok, ...errorResponses(403, 422, 503) },
        detail: {
          operationId: `verify${method[0]}${method.slice(1).toLowerCase()}`,
          summary: 'Verify a token (forward authentication)',
          description:
            'For reverse proxies (nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`): 200 when the token is valid and holds `scope`, plus `writeScope` when the original method (`X-Forwarded-Method`, else `X-Original-Method`, else this request’s) is not GET, HEAD or OPTIONS. Every method answers alike; the body is never read.',
        },
      },
    )
  }
  return group
}

/** What the proxy guards: the method of the request it asks about (Traefik, Caddy; nginx by configuration), else this one's. */
const originalMethod = (request: Request) => request.headers.get('x-forwarded-method') || request.headers.get('x-original-method') || request.method

function headerDocs() {
  return Object.fromEntries(Object.entries(IDENTITY_HEADERS).map(([name, description]) => [name, { type: 'string', description }]))
}

const MISSING_TOKEN = {
  error: 'invalid_request',
  error_description: 'The request has no token: send the token to introspect as token=… (a form) or {"token":"…"} (JSON), once.',
}

/**
 * RFC 7662's request made an object the schema can check: a form's `token` and
 * `token_type_hint` (RFC 7662 §2.1 lets a client add other fields, which are left out),
 * or the JSON as sent. A request with no token at all gets OAuth's 400 here, which RFC
 * 7662 clients expect, rather than a 422.
 */
function introspectionRequest(body: unknown): { body: unknown } | { missing: true } {
  if (body instanceof UndecodableBody) {
    if (body.form) {
      const tokens = body.form.getAll('token')
      if (tokens.length !== 1 || tokens[0] === '') return { missing: true }
      const hint = body.form.get('token_type_hint')
      return { body: { token: tokens[0], ...(hint === null ? {} : { token_type_hint: hint }) } }
    }
    return body.reason === 'missing' ? { missing: true } : { body }
  }
  const token = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { token?: unknown }).token : null
  return token === undefined || token === '' ? { missing: true } : { body }
}

// A transform that answers: Elysia sends a status it returns, though its type says it returns nothing.
function openIntrospectionRequest(context: Pick<Context, 'body' | 'status'>) {
  const request = introspectionRequest(context.body)
  if ('missing' in request) return context.status(400, MISSING_TOKEN)
  context.body = request.body
}

// A macro, not the route's own transform: a route's transform runs before its macros',
// and macros run in the order the route names them, so this one runs after `auth` (a
// stranger or a token without the scope is refused whatever the body) and before validation.
const introspectionBody = new Elysia({ name: 'introspection-body' }).macro({
  introspectionBody: (_: true) => ({ transform: openIntrospectionRequest as unknown as () => void }),
})

export function introspectRoutes({ store, now, caller, config }: Pick<RouteDeps, 'store' | 'now' | 'caller' | 'config'>) {
  return new Elysia({ prefix: '/api/v1/auth', tags: ['Verification'] })
    .use(caller)
    .use(introspectionBody)
    .post(
      '/introspect',
      async ({ body, set }) => {
        set.headers['cache-control'] = 'no-store'
        // A use of the token, but from the service's address, not its holder's: lastUsedIp stays.
        return introspection(await authenticate(store, body.token, now(), null, config.rotationReuse))
      },
      {
        auth: { scope: 'introspect', carriers: 'service' },
        introspectionBody: true,
        // What the document lists; jsonBody reads both, a form as a marker the transform opens.
        parse: ['json', 'urlencoded'],
        body: IntrospectionRequest,
        response: { 200: Introspection, 400: { ...OAuthError, description: 'No token to introspect' }, ...errorResponses(413, 422, 503) },
        detail: {
          operationId: 'introspect',
          summary: 'Introspect a token (RFC 7662)',
          description:
            'For services that check other people’s tokens: the caller’s own token needs the scope `introspect` and comes as Bearer, `X-API-Key` or Basic (the password; any client id), never the cookie. A form (RFC 7662) or JSON body. Counts as a use of the introspected token, but leaves its `lastUsedIp` alone.',
        },
      },
    )
}
