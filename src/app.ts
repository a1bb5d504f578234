import { Elysia } from 'elysia'
import { callerPlugin } from './auth/caller'
import { createLoginLimiter, type LoginLimiter } from './auth/login-limiter'
import type { Config } from './config'
import { errorRenderer } from './errors'
import { accessTokenRoutes } from './http/access-tokens'
import { authRoutes } from './http/auth'
import { jsonBody } from './http/body'
import { consoleRoutes } from './http/console'
import { docsRoutes } from './http/docs'
import { metricsRoutes } from './http/metrics'
import { observe, type AccessLog } from './http/observe'
import { browserSecurity } from './http/security'
import { createMetrics, type Metrics } from './metrics'
import { serviceRoutes } from './http/service'
import type { Store } from './store/store'

export interface AppOptions {
  config: Config
  store: Store
  now?: () => number
  loginLimiter?: LoginLimiter
  metrics?: Metrics
  /** Where access-log entries go; none by default (tests), main.ts passes stdout's. */
  log?: AccessLog
}

/** Builds the whole HTTP surface. It never listens: main.ts or a test decides that. */
export function createApp({
  config, store, now = Date.now, loginLimiter = createLoginLimiter(store), metrics = createMetrics(store, now), log = () => {},
}: AppOptions) {
  const deps = { config, store, now, loginLimiter, metrics, caller: callerPlugin(store, now, metrics) }
  const app = new Elysia()
  return app
    .use(observe(metrics, log))
    .use(browserSecurity(config.corsOrigins))
    .use(errorRenderer((path) => allowedMethods(app, path)))
    .use(jsonBody)
    .use(metricsRoutes(config, metrics))
    .use(serviceRoutes(store))
    .use(authRoutes(deps))
    .use(accessTokenRoutes(deps))
    .use(docsRoutes())
    .use(consoleRoutes(deps))
}

const methodTables = new WeakMap<Elysia, { pattern: RegExp; methods: string[] }[]>()

/** The methods a path answers to; empty for an unknown path. Built once, on first use. */
function allowedMethods(app: Elysia, path: string): string[] {
  let table = methodTables.get(app)
  if (!table) {
    const byPath = new Map<string, Set<string>>()
    for (const route of app.routes) {
      const methods = byPath.get(route.path) ?? new Set()
      methods.add(route.method)
      if (route.method === 'GET') methods.add('HEAD')
      methods.add('OPTIONS')
      byPath.set(route.path, methods)
    }
    table = [...byPath].map(([routePath, methods]) => ({
      pattern: new RegExp(`^${routePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`),
      methods: [...methods],
    }))
    methodTables.set(app, table)
  }
  return table.find(({ pattern }) => pattern.test(path))?.methods ?? []
}
