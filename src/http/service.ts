import { Elysia } from 'elysia'
import { DATABASE_UNAVAILABLE, HttpError } from '../errors'
import { Health } from '../schemas'
import type { Store } from '../store/store'
import { errorResponses, PUBLIC } from './openapi'

export function serviceRoutes(store: Store) {
  return new Elysia({ tags: ['Service'] }).get(
    '/healthz',
    async () => {
      try {
        await store.ping()
      } catch {
        throw new HttpError(503, DATABASE_UNAVAILABLE, { 'retry-after': '1' })
      }
      return { status: 'ok' as const }
    },
    { response: { 200: Health, ...errorResponses(503) }, detail: { operationId: 'healthz', summary: 'Health check', description: '200 once the database answers.', ...PUBLIC } },
  )
}
