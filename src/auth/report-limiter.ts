// Leak reports (`POST /credentials/revoke`), per client address: at most 60 an hour. The
// route is public, and each report costs a lookup: the limit keeps a stranger from
// turning it into a database load.
import type { Store } from '../store/store'
import { clientKey, recordAttempt, windowWait } from './sliding-window'

export interface ReportLimits {
  perClient: number
  windowMs: number
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = { perClient: 60, windowMs: 60 * 60_000 }

export interface ReportLimiter {
  /** Milliseconds until the client may report again; 0 when it may now, and then the report is counted. */
  admit(client: string, now: number): Promise<number>
}

export function createReportLimiter(store: Store, limits: ReportLimits = DEFAULT_REPORT_LIMITS): ReportLimiter {
  return {
    async admit(client, now) {
      const key = clientKey('report', client)
      const waitMs = await windowWait(store, key, limits.perClient, limits.windowMs, now)
      if (waitMs === 0) await recordAttempt(store, [key], now, limits.windowMs)
      return waitMs
    },
  }
}
