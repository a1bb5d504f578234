// Reporting leaked tokens (`POST /api/v1/credentials/revoke`): public, like GitHub's, so
// that a secret scanner or a stranger who finds a vai token can have it revoked.
import { Elysia } from 'elysia'
import { isWellFormedToken, tokenDigest } from '../auth/token-format'
import { httpError } from '../errors'
import { LeakReport, LeakReportReceived } from '../schemas'
import { readProtectedBody } from './body'
import type { RouteDeps } from './deps'
import { clientOf, originOf } from './forwarded'
import { PUBLIC, errorResponses } from './openapi'

/** The digests to look up: the well-formed strings (the checksum turns away the rest offline), each once. */
const candidateDigests = (strings: readonly string[]) => [...new Set(strings.filter(isWellFormedToken))].map(tokenDigest)

export function credentialRoutes({ store, now, reportLimiter }: Pick<RouteDeps, 'store' | 'now' | 'reportLimiter'>) {
  return (
    new Elysia({ prefix: '/api/v1/credentials', tags: ['Leaks'] })
      // Before the body is read: a client over the limit costs no parsing. Every request counts, whatever it holds.
      .onTransform({ as: 'local' }, async ({ request }) => {
        const waitMs = await reportLimiter.admit(clientOf(request).address ?? 'unknown', now())
        if (waitMs > 0) throw httpError('tooManyReports', { 'retry-after': String(Math.ceil(waitMs / 1000)) })
      })
      // Up to 1 MiB, as any route's: a thousand tokens of the longest form fit.
      .onTransform({ as: 'local' }, readProtectedBody as unknown as () => void)
      .post(
        '/revoke',
        async ({ body, request, set }) => {
          const digests = candidateDigests(body.credentials)
          // One statement for the whole batch; what it revoked is nobody's business but the owners'.
          if (digests.length > 0) await store.revokeLeaked(digests, now(), originOf(request))
          set.status = 202
          return { received: body.credentials.length }
        },
        {
          body: LeakReport,
          response: { 202: { ...LeakReportReceived, description: 'Received: the same answer whether any string was a live token or not' }, ...errorResponses(422, 429, 503) },
          detail: {
            operationId: 'reportLeakedCredentials',
            summary: 'Report leaked tokens',
            description:
              'Public, no token: whoever finds vai tokens (a secret scanner, a stranger reading a paste) reports them here, up to 1000 strings at once. Each string with a vai token’s shape and checksum that is a live token is revoked at once; the answer is the same whatever the strings were, so it tells nothing about them. At most 60 requests per client address per hour.',
            ...PUBLIC,
          },
        },
      )
  )
}
