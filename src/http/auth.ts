import { Elysia, t } from 'elysia'
import { hashPassword, verifyPassword } from '../auth/password'
import { sessionName } from '../auth/session-name'
import { DAY_MS, issueToken } from '../auth/tokens'
import { HttpError } from '../errors'
import { LoginBody, Me, SignupBody, TokenWithPlaintext, User } from '../schemas'
import type { RouteDeps } from './deps'
import { PROTECTED, PUBLIC, errorResponses } from './openapi'
import { presentToken, presentUser } from './present'
import { isHttps, sameOriginEntry } from './security'

const COOKIE = 'vai_token'

const normaliseEmail = (email: string) => email.trim().toLowerCase()

export function authRoutes({ store, config, now, loginLimiter, metrics, caller }: RouteDeps) {
  const sessionSeconds = config.sessionDays * 24 * 60 * 60

  const sessionCookie = (value: string, maxAge: number, request: Request) => {
    const secure = config.cookieSecure === 'true' || (config.cookieSecure === 'auto' && isHttps(request))
    return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
  }

  const open = new Elysia({ prefix: '/api/v1/auth', tags: ['Accounts'] })
    .use(sameOriginEntry(config.corsOrigins))
    .post(
      '/signup',
      async ({ body, set }) => {
        const at = now()
        const result = await store.createUser(
          {
            id: Bun.randomUUIDv7('hex', at),
            email: normaliseEmail(body.email),
            name: body.name ?? null,
            passwordHash: await hashPassword(body.password),
            createdAt: at,
          },
          config.signup === 'open',
        )
        if ('refused' in result) {
          throw result.refused === 'email_taken' ? new HttpError(409, 'Email already registered') : new HttpError(403, 'Signup is closed')
        }
        set.status = 201
        return presentUser(result.created)
      },
      {
        body: SignupBody,
        response: { 201: User, ...errorResponses(403, 409, 413, 422, 503) },
        detail: { operationId: 'signup', summary: 'Create an account', description: 'Open while the server has no user, then only with `--signup open`.', ...PUBLIC },
      },
    )
    .post(
      '/login',
      async ({ body, request, server, set }) => {
        const email = normaliseEmail(body.email)
        const client = server?.requestIP(request)?.address ?? 'unknown'
        const at = now()
        // Checked before the password: a blocked caller costs no argon2 work and learns nothing.
        const waitMs = await loginLimiter.blockedFor(email, client, at)
        if (waitMs > 0) {
          metrics.login('rate_limited')
          throw new HttpError(429, 'Too many failed login attempts; try again later', { 'retry-after': String(Math.ceil(waitMs / 1000)) })
        }
        const user = await store.findUserByEmail(email)
        if (!(await verifyPassword(body.password, user?.passwordHash ?? null)) || !user) {
          await loginLimiter.recordFailure(email, client, at)
          metrics.login('failed')
          throw new HttpError(401, 'Invalid email or password')
        }
        await loginLimiter.recordSuccess(email)
        metrics.login('ok')
        const issued = await issueToken(store, {
          userId: user.id,
          name: body.name ?? sessionName(request.headers.get('user-agent')),
          tokenType: 'session',
          expiresAt: at + config.sessionDays * DAY_MS,
          now: at,
        })
        set.headers['cache-control'] = 'no-store'
        set.headers['set-cookie'] = sessionCookie(issued.plaintext, sessionSeconds, request)
        return { plaintext: issued.plaintext, token: presentToken(issued.token) }
      },
      {
        body: LoginBody,
        response: { 200: TokenWithPlaintext, ...errorResponses(401, 403, 413, 422, 429, 503) },
        detail: { operationId: 'login', summary: 'Log in', description: 'Starts a session: its token comes back in the body and in the `vai_token` cookie.', ...PUBLIC },
      },
    )

  const signedIn = new Elysia({ prefix: '/api/v1/auth', tags: ['Accounts'] })
    .use(caller)
    .post(
      '/logout',
      async ({ caller, request, set }) => {
        await store.revokeToken(caller.user.id, caller.token.id, now())
        set.status = 204
        set.headers['set-cookie'] = sessionCookie('', 0, request)
      },
      {
        response: { 204: t.Void(), ...errorResponses(401, 403, 503) },
        detail: { operationId: 'logout', summary: 'Log out', description: 'Revokes the current token and clears the cookie.', ...PROTECTED },
      },
    )
    .get('/me', ({ caller }) => ({ user: presentUser(caller.user), token: presentToken(caller.token) }), {
      response: { 200: Me, ...errorResponses(401, 503) },
      detail: { operationId: 'me', summary: 'Who am I', description: 'The current user and the token that authenticated this request.', ...PROTECTED },
    })

  return new Elysia().use(open).use(signedIn)
}
