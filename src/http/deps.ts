import type { callerPlugin } from '../auth/caller'
import type { LoginLimiter } from '../auth/login-limiter'
import type { Config } from '../config'
import type { Store } from '../store/store'

/** What every route group is built from. */
export interface RouteDeps {
  config: Config
  store: Store
  now: () => number
  loginLimiter: LoginLimiter
  caller: ReturnType<typeof callerPlugin>
}
