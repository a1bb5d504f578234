import { Elysia, t } from 'elysia'
import { DAY_MS, issueToken } from '../auth/tokens'
import { httpError } from '../errors'
import {
  CreateTokenBody, ListTokensQuery, RevokeAllQuery, RevokedCount, Token, TokenIdParams, TokenPage, TokenWithPlaintext,
} from '../schemas'
import { tokenPage } from '../tokens/page'
import type { RouteDeps } from './deps'
import { errorResponses } from './openapi'
import { presentToken, presentTokenPage } from './present'

export function accessTokenRoutes({ store, config, now, caller }: RouteDeps) {
  return new Elysia({ prefix: '/api/v1/access-tokens', tags: ['Access tokens'] })
    .use(caller)
    .get('', async ({ caller, query }) => presentTokenPage(await tokenPage(store, caller.user.id, query)), {
      auth: true,
      query: ListTokensQuery,
      response: { 200: TokenPage, ...errorResponses(422, 503) },
      detail: { operationId: 'listAccessTokens', summary: 'List my tokens', description: 'Newest first. Revoked tokens only with `includeRevoked`.' },
    })
    .post('', async ({ caller, body, set }) => {
      // The schema holds the bound; omitted or null means the longest allowed, if any.
      const days = body.expiresInDays ?? config.maxTokenDays
      const at = now()
      const issued = await issueToken(store, {
        userId: caller.user.id, name: body.name, tokenType: 'api', expiresAt: days === null ? null : at + days * DAY_MS, now: at, limit: config.maxActiveTokens,
      })
      set.status = 201
      set.headers['cache-control'] = 'no-store'
      return { plaintext: issued.plaintext, token: presentToken(issued.token) }
    }, {
      auth: true,
      body: CreateTokenBody(config.maxTokenDays),
      response: { 201: TokenWithPlaintext, ...errorResponses(409, 422, 503) },
      detail: { operationId: 'createAccessToken', summary: 'Create an API token', description: 'The plaintext is in this response only. At most `--max-active-tokens` active API tokens per user.' },
    })
    .delete('', async ({ caller, query }) => ({ revokedCount: await store.revokeAllTokens(caller.user.id, now(), query.exclude_current ? caller.token.id : null) }), {
      auth: true,
      query: RevokeAllQuery,
      response: { 200: RevokedCount, ...errorResponses(422, 503) },
      detail: { operationId: 'revokeAllAccessTokens', summary: 'Revoke all my tokens', description: 'Sessions and API tokens alike; the current one survives unless `exclude_current=false`.' },
    })
    .get('/:token_id', async ({ caller, params }) => {
      const id = params.token_id.toLowerCase()
      // Asking about the token in hand (a client checking itself) needs no second lookup.
      const token = id === caller.token.id ? caller.token : await store.getToken(caller.user.id, id)
      if (!token) throw httpError('tokenNotFound')
      return presentToken(token)
    }, {
      auth: true,
      params: TokenIdParams,
      response: { 200: Token, ...errorResponses(404, 422, 503) },
      detail: { operationId: 'getAccessToken', summary: 'Get one of my tokens' },
    })
    .delete('/:token_id', async ({ caller, params, set }) => {
      if (!(await store.revokeToken(caller.user.id, params.token_id.toLowerCase(), now()))) throw httpError('tokenNotFound')
      set.status = 204
    }, {
      auth: true,
      params: TokenIdParams,
      response: { 204: t.Void(), ...errorResponses(404, 422, 503) },
      detail: { operationId: 'revokeAccessToken', summary: 'Revoke one of my tokens', description: 'Revoking twice keeps the first revokedAt.' },
    })
}
