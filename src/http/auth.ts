import { Elysia, t } from 'elysia'
import { logIn } from '../accounts/login'
import { Value } from '@sinclair/typebox/value'
import { countRefusal, refuseBlockedClient, signUp } from '../accounts/signup'
import { SESSION_COOKIE, sessionCookie } from '../auth/credentials'
import { isLoopback } from '../auth/setup-code'
import { LoginBody, Me, SignupBody, TokenWithPlaintext, User } from '../schemas'
import { entryBody } from './body'
import type { RouteDeps } from './deps'
import { clientOf, originOf } from './forwarded'
import { PUBLIC, errorResponses } from './openapi'
import { presentToken, presentUser } from './present'
import { isHttps, sameOriginEntry } from './security'

/**
 * Whether the client is on the server's own machine. A loopback peer that forwards for
 * someone else (a reverse proxy beside vai) is not: the stranger behind it still needs
 * the setup code.
 */
const onThisMachine = (request: Request, client: string | null) => isLoopback(client) && !request.headers.has('x-forwarded-for')

export function authRoutes({ store, config, now, loginLimiter, metrics, caller }: RouteDeps) {
  const signupDeps = { store, loginLimiter }
  const sessionSeconds = config.sessionDays * 24 * 60 * 60
  const cookieScope = (request: Request) => ({
    secure: config.cookieSecure === 'true' || (config.cookieSecure === 'auto' && isHttps(request)),
    domain: config.cookieDomain,
  })

  const open = new Elysia({ prefix: '/api/v1/auth', tags: ['Accounts'] })
    .use(sameOriginEntry(config.corsOrigins))
    .use(entryBody)
    .post(
      '/signup',
      async ({ body, request, set }) => {
        const { address } = clientOf(request)
        const user = await signUp(signupDeps, {
          ...body,
          open: config.signup === 'open',
          client: address ?? 'unknown',
          fromLoopback: onThisMachine(request, address),
          origin: originOf(request),
          now: now(),
        })
        set.status = 201
        return presentUser(user)
      },
      {
        // Before validation: a blocked client is refused whatever it sent, and a body that
        // validation will refuse (its 422 follows) is counted like any other refused signup.
        async transform({ body, request }) {
          const client = clientOf(request).address ?? 'unknown'
          await refuseBlockedClient(signupDeps, client, now())
          if (!Value.Check(SignupBody, body)) await countRefusal(signupDeps, client, now())
        },
        body: SignupBody,
        response: { 201: User, ...errorResponses(403, 409, 413, 422, 429, 503) },
        detail: {
          operationId: 'signup',
          summary: 'Create an account',
          description:
            'Open while the server has no user, then only with `--signup open`. The first account of a fresh install needs the `setupCode` printed at start, unless it is created from the server itself. Refused signups count against the client\'s login limit.',
          ...PUBLIC,
        },
      },
    )
    .post(
      '/login',
      async ({ body, request, set }) => {
        const issued = await logIn(
          { store, loginLimiter, metrics, sessionDays: config.sessionDays },
          { ...body, client: clientOf(request).address, origin: originOf(request), now: now() },
        )
        set.headers['cache-control'] = 'no-store'
        set.headers['set-cookie'] = sessionCookie(issued.plaintext, sessionSeconds, cookieScope(request))
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
        await store.revokeToken(caller.user.id, caller.token.id, now(), originOf(request), 'logout')
        set.status = 204
        set.headers['set-cookie'] = sessionCookie('', 0, cookieScope(request))
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
