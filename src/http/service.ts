import { Elysia } from 'elysia'
import { Health } from '../schemas'
import { StoreUnavailable, type Store } from '../store/store'
import { errorResponses, PUBLIC } from './openapi'

export function serviceRoutes(store: Store) {
  return new Elysia({ tags: ['Service'] }).get(
    '/healthz',
    async () => {
      try {
        // A trivial read while all is well; after a failure, a small write (see Store.ping).
        await store.ping()
      } catch (error) {
        // Whatever stops the database answering, the error renderer's one 503 says so.
        throw error instanceof StoreUnavailable ? error : new StoreUnavailable(error)
      }
      return { status: 'ok' as const }
    },
    { response: { 200: Health, ...errorResponses(503) }, detail: { operationId: 'healthz', summary: 'Health check', description: '200 while the database answers and can write; 503 while it cannot (down, a full disk, a read-only or damaged file).', ...PUBLIC } },
  )
}
