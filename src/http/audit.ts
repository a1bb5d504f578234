// What happened to the caller's account and tokens: GET /api/v1/audit-events.
import { Elysia } from 'elysia'
import { eventPage } from '../audit/page'
import { EventPage, ListEventsQuery } from '../schemas'
import type { RouteDeps } from './deps'
import { errorResponses } from './openapi'
import { presentEventPage } from './present'

export function auditRoutes({ store, caller }: Pick<RouteDeps, 'store' | 'caller'>) {
  return new Elysia({ prefix: '/api/v1/audit-events', tags: ['Activity'] })
    .use(caller)
    .get('', async ({ caller, query }) => presentEventPage(await eventPage(store, caller.user.id, query)), {
      auth: { scope: 'tokens:read' },
      query: ListEventsQuery,
      response: { 200: EventPage, ...errorResponses(422, 503) },
      detail: {
        operationId: 'listAuditEvents',
        summary: 'List my account’s events',
        description:
          'Newest first: logins, failed logins, tokens made, revoked, rotated, reused, used from a new address, expiring, reported as leaked; password changes. `type` keeps one kind. Kept for `--audit-retention-days`.',
      },
    })
}
