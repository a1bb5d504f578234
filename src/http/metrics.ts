import { Elysia } from 'elysia'
import { presentedCredential } from '../auth/credentials'
import { sameSecret } from '../auth/same-secret'
import type { Config } from '../config'
import { httpError } from '../errors'
import type { Metrics } from '../metrics'

/**
 * GET /metrics in Prometheus' text format. Off unless asked for, since it must
 * not reach the internet by accident; with a metrics token, only for its bearer,
 * read from Authorization as the API reads a token (the scheme word in any case).
 */
export function metricsRoutes(config: Config, metrics: Metrics) {
  const app = new Elysia()
  if (!config.metrics && config.metricsToken === null) return app
  const token = config.metricsToken
  return app.get(
    '/metrics',
    async ({ request }) => {
      if (token !== null) {
        const presented = presentedCredential(request.headers)
        if (!sameSecret(presented?.via === 'bearer' ? presented.token : '', token)) throw httpError('notAuthenticated')
      }
      return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } })
    },
    { detail: { hide: true } },
  )
}
