import type { LoginLimiter } from '../auth/login-limiter'
import type { ReportLimiter } from '../auth/report-limiter'
import type { Config } from '../config'
import type { Metrics } from '../metrics'
import type { Store } from '../store/store'
import type { RevocationFeed } from '../tokens/revocation-feed'
import type { callerPlugin } from './caller'

/** What every route group is built from. */
export interface RouteDeps {
  config: Config
  store: Store
  now: () => number
  loginLimiter: LoginLimiter
  reportLimiter: ReportLimiter
  metrics: Metrics
  caller: ReturnType<typeof callerPlugin>
  revocationFeed: RevocationFeed
}
