import { Elysia, t } from 'elysia'
import { DAY_MS, issueToken } from '../auth/tokens'
import { HttpError, tokenNotFound } from '../errors'
import { decodeCursor, encodeCursor } from '../pagination'
import {
  CreateTokenBody, ListTokensQuery, RevokeAllQuery, RevokedCount, Token, TokenIdParams, TokenPage, TokenWithPlaintext,
} from '../schemas'
import type { RouteDeps } from './deps'
import { presentToken } from './present'
import { PROTECTED, errorResponses } from './openapi'

export function accessTokenRoutes({ store, config, now, caller }: RouteDeps) {
  return new Elysia({ prefix: '/api/v1/access-tokens', tags: ['Access tokens'] })
    .use(caller)
    .get(
      '',
      async ({ caller, query }) => {
        const secret = await store.cursorSecret()
        const after = query.cursor === undefined ? undefined : decodeCursor(secret, caller.user.id, query.cursor)
        if (after === null) {
          throw new HttpError(422, [{ loc: ['query', 'cursor'], msg: 'Cursor is not one this server issued: pass a nextCursor unchanged', type: 'value_error' }])
        }
        // One extra row says whether another page exists, so nextCursor is null on the last one.
        const rows = await store.listTokens(caller.user.id, { tokenType: query.tokenType, includeRevoked: query.includeRevoked, limit: query.limit + 1, after })
        const items = rows.slice(0, query.limit)
        const last = items.at(-1)
        const nextCursor = rows.length > query.limit && last ? encodeCursor(secret, caller.user.id, last) : null
        return { items: items.map(presentToken), nextCursor }
      },
      {
        query: ListTokensQuery,
        response: { 200: TokenPage, ...errorResponses(401, 422, 503) },
        detail: { operationId: 'listAccessTokens', summary: 'List my tokens', description: 'Newest first. Revoked tokens only with `includeRevoked`.', ...PROTECTED },
      },
    )
    .post(
      '',
      async ({ caller, body, set }) => {
        // The schema holds the bound; omitted or null means the longest allowed, if any.
        const days = body.expiresInDays ?? config.maxTokenDays
        const at = now()
        const issued = await issueToken(store, { userId: caller.user.id, name: body.name, tokenType: 'api', expiresAt: days === null ? null : at + days * DAY_MS, now: at })
        set.status = 201
        set.headers['cache-control'] = 'no-store'
        return { plaintext: issued.plaintext, token: presentToken(issued.token) }
      },
      {
        body: CreateTokenBody(config.maxTokenDays),
        response: { 201: TokenWithPlaintext, ...errorResponses(401, 403, 413, 422, 503) },
        detail: { operationId: 'createAccessToken', summary: 'Create an API token', description: 'The plaintext is in this response only.', ...PROTECTED },
      },
    )
    .delete(
      '',
      async ({ caller, query }) => ({
        revokedCount: await store.revokeAllTokens(caller.user.id, now(), query.exclude_current ? caller.token.id : null),
      }),
      {
        query: RevokeAllQuery,
        response: { 200: RevokedCount, ...errorResponses(401, 403, 422, 503) },
        detail: { operationId: 'revokeAllAccessTokens', summary: 'Revoke all my tokens', description: 'Sessions and API tokens alike; the current one survives unless `exclude_current=false`.', ...PROTECTED },
      },
    )
    .get(
      '/:token_id',
      async ({ caller, params }) => {
        const id = params.token_id.toLowerCase()
        // Asking about the token in hand (a client checking itself) needs no second lookup.
        const token = id === caller.token.id ? caller.token : await store.getToken(caller.user.id, id)
        if (!token) throw tokenNotFound()
        return presentToken(token)
      },
      {
        params: TokenIdParams,
        response: { 200: Token, ...errorResponses(401, 404, 422, 503) },
        detail: { operationId: 'getAccessToken', summary: 'Get one of my tokens', ...PROTECTED },
      },
    )
    .delete(
      '/:token_id',
      async ({ caller, params, set }) => {
        if (!(await store.revokeToken(caller.user.id, params.token_id.toLowerCase(), now()))) throw tokenNotFound()
        set.status = 204
      },
      {
        params: TokenIdParams,
        response: { 204: t.Void(), ...errorResponses(401, 403, 404, 422, 503) },
        detail: { operationId: 'revokeAccessToken', summary: 'Revoke one of my tokens', description: 'Revoking twice keeps the first revokedAt.', ...PROTECTED },
      },
    )
}
