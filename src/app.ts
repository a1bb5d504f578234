import { Elysia } from 'elysia'
import { createLoginLimiter, type LoginLimiter } from './auth/login-limiter'
import { createReportLimiter, type ReportLimiter } from './auth/report-limiter'
import type { Config } from './config'
import { accessTokenRoutes } from './http/access-tokens'
import { auditRoutes } from './http/audit'
import { authRoutes } from './http/auth'
import { jsonBody } from './http/body'
import { callerPlugin } from './http/caller'
import { consoleRoutes } from './http/console'
import { credentialRoutes } from './http/credentials'
import { docsRoutes } from './http/docs'
import { errorRenderer } from './http/error-renderer'
import { forwardedClient, type PeerAddress } from './http/forwarded'
import { allowedMethods } from './http/methods'
import { metricsRoutes } from './http/metrics'
import { observe, type AccessLog } from './http/observe'
import { browserSecurity } from './http/security'
import { createMetrics, type Metrics } from './metrics'
import { serviceRoutes } from './http/service'
import { revocationRoutes } from './http/revocations'
import { introspectRoutes, verifyRoutes } from './http/verification'
import type { Store } from './store/store'
import { createRevocationFeed, type RevocationFeed } from './tokens/revocation-feed'

export interface AppOptions {
  config: Config
  store: Store
  now?: () => number
  loginLimiter?: LoginLimiter
  reportLimiter?: ReportLimiter
  metrics?: Metrics
  /** Where access-log entries go; none by default (tests), main.ts passes stdout's. */
  log?: AccessLog
  /** The TCP peer of a request; by default the listening server's (none in process: tests give one). */
  peerAddress?: PeerAddress
  /** The revocation feed the streams follow; main.ts keeps it, to end the streams at a stop. */
  revocationFeed?: RevocationFeed
}

/** Builds the whole HTTP surface. It never listens: main.ts or a test decides that. */
export function createApp({
  config, store, now = Date.now, loginLimiter = createLoginLimiter(store), reportLimiter = createReportLimiter(store), metrics = createMetrics(store, now), log = () => {}, peerAddress,
  revocationFeed = createRevocationFeed(store),
}: AppOptions) {
  const deps = { config, store, now, loginLimiter, reportLimiter, metrics, caller: callerPlugin(store, now, metrics, config.rotationReuse), revocationFeed }
  // normalize off: a body key a route does not define is refused (extra_forbidden), not dropped.
  const app = new Elysia({ normalize: false })
  const peerOf = peerAddress ?? ((request: Request) => app.server?.requestIP(request)?.address ?? null)
  return app
    .use(forwardedClient(config.trustedProxies, peerOf))
    .use(observe(metrics, log))
    .use(browserSecurity(config.corsOrigins))
    .use(errorRenderer(allowedMethods(app)))
    // Before the body parser: verify never reads a body, on any method.
    .use(verifyRoutes(deps))
    .use(jsonBody)
    .use(metricsRoutes(config, metrics))
    .use(serviceRoutes(store))
    .use(authRoutes(deps))
    .use(accessTokenRoutes(deps))
    .use(auditRoutes(deps))
    .use(introspectRoutes(deps))
    .use(revocationRoutes(deps))
    .use(credentialRoutes(deps))
    .use(docsRoutes())
    .use(consoleRoutes(deps))
}
