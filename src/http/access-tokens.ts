import { Elysia, t, type Context } from 'elysia'
import { issueToken, type IssuedToken } from '../auth/tokens'
import { httpError } from '../errors'
import {
  CreateTokenBody, ListTokensQuery, RevokeAllQuery, RevokedCount, RotateTokenBody, Token, TokenAddressList, TokenIdParams, TokenPage, TokenWithPlaintext,
} from '../schemas'
import { newTokenTerms } from '../tokens/new-token'
import { rotateToken } from '../tokens/rotation'
import { tokenPage } from '../tokens/page'
import { TOKEN_EXPIRES } from './caller'
import type { RouteDeps } from './deps'
import { originOf } from './forwarded'
import { errorResponses } from './openapi'
import { presentAddress, presentToken, presentTokenPage } from './present'

/** The addresses a token's detail shows. */
const ADDRESSES_SHOWN = 20

export function accessTokenRoutes({ store, config, now, caller }: RouteDeps) {
  return new Elysia({ prefix: '/api/v1/access-tokens', tags: ['Access tokens'] })
    .use(caller)
    .get('', async ({ caller, query }) => presentTokenPage(await tokenPage(store, caller.user.id, query)), {
      auth: { scope: 'tokens:read' },
      query: ListTokensQuery,
      response: { 200: TokenPage, ...errorResponses(422, 503) },
      detail: { operationId: 'listAccessTokens', summary: 'List my tokens', description: 'Newest first. Revoked tokens only with `includeRevoked`.' },
    })
    .post('', async ({ caller, body, request, set }) => {
      const at = now()
      const terms = newTokenTerms(caller.token, body, config.maxTokenDays, at)
      const origin = originOf(request, caller.token.id)
      return issuedResponse(set, await issueToken(store, { userId: caller.user.id, name: body.name, tokenType: 'api', ...terms, now: at, limit: config.maxActiveTokens, origin }))
    }, {
      auth: { scope: 'tokens:write' },
      body: CreateTokenBody(config.maxTokenDays),
      response: { 201: TokenWithPlaintext, ...errorResponses(409, 422, 503) },
      detail: {
        operationId: 'createAccessToken',
        summary: 'Create an API token',
        description:
          'The plaintext is in this response only. The new token may hold only scopes the caller holds (omitted: the caller’s own), and a token made by an API token never outlives it (omitted `expiresInDays`: until the caller expires). At most `--max-active-tokens` active API tokens per user.',
      },
    })
    .delete('', async ({ caller, query, request }) => ({
      revokedCount: await store.revokeAllTokens(caller.user.id, now(), query.exclude_current ? caller.token.id : null, originOf(request, caller.token.id)),
    }), {
      auth: { scope: 'tokens:write' },
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
      auth: { scope: 'tokens:read' },
      params: TokenIdParams,
      response: { 200: Token, ...errorResponses(404, 422, 503) },
      detail: { operationId: 'getAccessToken', summary: 'Get one of my tokens' },
    })
    .get('/:token_id/addresses', async ({ caller, params }) => {
      const id = params.token_id.toLowerCase()
      if (id !== caller.token.id && !(await store.getToken(caller.user.id, id))) throw httpError('tokenNotFound')
      return { items: (await store.listTokenAddresses(id, ADDRESSES_SHOWN)).map(presentAddress) }
    }, {
      auth: { scope: 'tokens:read' },
      params: TokenIdParams,
      response: { 200: TokenAddressList, ...errorResponses(404, 422, 503) },
      detail: {
        operationId: 'listAccessTokenAddresses',
        summary: 'Where one of my tokens was used from',
        description: 'The client addresses of its uses in the last 30 days, most recent first, up to 20 (uses are written once a minute, so the latest may take that long to show).',
      },
    })
    .delete('/:token_id', async ({ caller, params, request, set }) => {
      if (!(await store.revokeToken(caller.user.id, params.token_id.toLowerCase(), now(), originOf(request, caller.token.id)))) throw httpError('tokenNotFound')
      set.status = 204
    }, {
      auth: { scope: 'tokens:write', ownToken: 'token_id' },
      params: TokenIdParams,
      response: { 204: t.Void(), ...errorResponses(404, 422, 503) },
      detail: {
        operationId: 'revokeAccessToken',
        summary: 'Revoke one of my tokens',
        description: 'Revoking twice keeps the first revokedAt. A token may always revoke itself, without `tokens:write`.',
      },
    })
    .post('/:token_id/rotate', async ({ caller, params, body, request, set }) => {
      const id = params.token_id.toLowerCase()
      const rotated = await rotateToken(store, caller.token, id, body, config, now(), originOf(request, caller.token.id))
      // The request's own token has just been given its end: say that one.
      if (id === caller.token.id) set.headers[TOKEN_EXPIRES] = new Date(rotated.oldTokenEnds).toISOString()
      return issuedResponse(set, rotated)
    }, {
      auth: { scope: 'tokens:write', ownToken: 'token_id', optionalBody: true },
      params: TokenIdParams,
      body: RotateTokenBody(config.maxTokenDays),
      response: { 201: TokenWithPlaintext, ...errorResponses(404, 409, 422, 503) },
      detail: {
        operationId: 'rotateAccessToken',
        summary: 'Rotate one of my API tokens',
        description:
          'Issues a successor with the same name and scopes (the plaintext is in this response only) and revokes the old token, at once or, with `graceSeconds`, when the grace ends: both work meanwhile. The successor lives `expiresInDays`, else as long as the old token did, capped like a create; it may be issued at `--max-active-tokens`, taking the old one’s place. A token may always rotate itself, without `tokens:write`. Presenting a rotated token after its grace is a 401 and counts as reuse (`--rotation-reuse revoke` then also revokes its successor).',
      },
    })
}

/** A 201 that hands out a plaintext, which no cache may keep: create's and rotate's. */
function issuedResponse(set: Context['set'], { plaintext, token }: IssuedToken) {
  set.status = 201
  set.headers['cache-control'] = 'no-store'
  return { plaintext, token: presentToken(token) }
}
