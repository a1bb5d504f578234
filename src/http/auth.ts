import { Elysia, t } from 'elysia'
import { logIn } from '../accounts/login'
import { signUp } from '../accounts/signup'
import { SESSION_COOKIE, sessionCookie } from '../auth/credentials'
import { LoginBody, Me, SignupBody, TokenWithPlaintext, User } from '../schemas'
import { entryBody } from './body'
import type { RouteDeps } from './deps'
import { clientOf } from './forwarded'
import { PUBLIC, errorResponses } from './openapi'
import { presentToken, presentUser } from './present'
import { isHttps, sameOriginEntry } from './security'

export function authRoutes({ store, config, now, loginLimiter, metrics, caller }: RouteDeps) {
  const sessionSeconds = config.sessionDays * 24 * 60 * 60
  const secureCookie = (request: Request) => config.cookieSecure === 'true' || (config.cookieSecure === 'auto' && isHttps(request))

  const open = new Elysia({ prefix: '/api/v1/auth', tags: ['Accounts'] })
    .use(sameOriginEntry(config.corsOrigins))
    .use(entryBody)
    .post(
      '/signup',
      async ({ body, set }) => {
        const user = await signUp(store, { ...body, open: config.signup === 'open', now: now() })
        set.status = 201
        return presentUser(user)
      },
      {
        body: SignupBody,
        response: { 201: User, ...errorResponses(403, 409, 413, 422, 503) },
        detail: { operationId: 'signup', summary: 'Create an account', description: 'Open while the server has no user, then only with `--signup open`.', ...PUBLIC },
      },
    )
    .post(
      '/login',
      async ({ body, request, set }) => {
        const issued = await logIn(
          { store, loginLimiter, metrics, sessionDays: config.sessionDays },
          { ...body, client: clientOf(request).address, userAgent: request.headers.get('user-agent'), now: now() },
        )
        set.headers['cache-control'] = 'no-store'
        set.headers['set-cookie'] = sessionCookie(issued.plaintext, sessionSeconds, secureCookie(request))
        return { plaintext: issued.plaintext, token: presentToken(issued.token) }
      },
      {
        body: LoginBody,
        response: { 200: TokenWithPlaintext, ...errorResponses(401, 403, 413, 422, 429, 503) },
        detail: {
          operationId: 'login',
          summary: 'Log in',
          description: `Starts a session: its token comes back in the body and in the \`${SESSION_COOKIE}\` cookie.`,
          ...PUBLIC,
        },
      },
    )

  const signedIn = new Elysia({ prefix: '/api/v1/auth', tags: ['Accounts'] })
    .use(caller)
    .post(
      '/logout',
      async ({ caller, request, set }) => {
        await store.revokeToken(caller.user.id, caller.token.id, now())
        set.status = 204
        set.headers['set-cookie'] = sessionCookie('', 0, secureCookie(request))
      },
      {
        auth: true,
        response: { 204: t.Void(), ...errorResponses(503) },
        detail: { operationId: 'logout', summary: 'Log out', description: 'Revokes the current token and clears the cookie.' },
      },
    )
    .get('/me', ({ caller }) => ({ user: presentUser(caller.user), token: presentToken(caller.token) }), {
      auth: true,
      response: { 200: Me, ...errorResponses(503) },
      detail: { operationId: 'me', summary: 'Who am I', description: 'The current user and the token that authenticated this request.' },
    })

  return new Elysia().use(open).use(signedIn)
}
