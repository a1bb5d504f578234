import { Elysia } from 'elysia'
import { sameSecret } from '../auth/same-secret'
import type { Config } from '../config'
import { httpError } from '../errors'
import type { Metrics } from '../metrics'

/**
 * GET /metrics in Prometheus' text format. Off unless asked for, since it must
 * not reach the internet by accident; with a metrics token, only for its bearer.
 */
export function metricsRoutes(config: Config, metrics: Metrics) {
  const app = new Elysia()
  if (!config.metrics && config.metricsToken === null) return app
  const token = config.metricsToken
  return app.get(
    '/metrics',
    async ({ request }) => {
      if (token !== null && !sameSecret(request.headers.get('authorization') ?? '', `Bearer ${token}`)) throw httpError('notAuthenticated')
      return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } })
    },
    { detail: { hide: true } },
  )
}
