// The revocation feed (`GET /revocations`, `GET /revocations/stream`): every revocation of
// any token, for services that cache verification results and must drop a token at once.
import { Elysia, t } from 'elysia'
import { RevocationPage, RevocationsQuery, RevocationStreamHeaders, RevocationStreamQuery } from '../schemas'
import type { RevocationRecord } from '../store/store'
import type { RevocationFeed } from '../tokens/revocation-feed'
import type { RouteDeps } from './deps'
import { errorResponses } from './openapi'
import { presentRevocation } from './present'

const STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store',
  // nginx buffers a proxied answer by default, which would hold events back.
  'x-accel-buffering': 'no',
}

/** What the document says the stream is (never checked: the handler answers a Response). */
const EventStream = t.String({
  contentMediaType: 'text/event-stream',
  description: 'Server-sent events: each entry as `id: <seq>`, `event: revoked`, `data: <the entry as JSON>`; a comment line at least every 15 s.',
  examples: ['id: 7\nevent: revoked\ndata: {"seq":7,"digest":"9f86d0…","revokedAt":"2026-12-04T12:00:00.000Z"}\n\n'],
})

const encoder = new TextEncoder()
const event = (entry: RevocationRecord) => `id: ${entry.seq}\nevent: revoked\ndata: ${JSON.stringify(presentRevocation(entry))}\n\n`
// Sent first: a client that loses the stream comes back after a second (EventSource's
// default is a few), and a proxy in between sees bytes at once.
const OPENING = encoder.encode('retry: 1000\n: vai revocation feed\n\n')
const HEARTBEAT = encoder.encode(': still here\n\n')

/**
 * The stream of entries after `after`: what the store has, then each new one as it
 * commits. A client that stops reading is dropped once `unreadLimitBytes` wait for it,
 * so it costs a bounded amount of memory; it comes back with its Last-Event-ID.
 */
function eventStream(feed: RevocationFeed, after: number, signal: AbortSignal) {
  let unfollow = () => {}
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true
        const end = (how: () => void) => {
          if (!open) return
          open = false
          unfollow()
          how()
        }
        const close = () => end(() => controller.close())
        // An error, not a close: what waits unread is dropped with it.
        const drop = () => end(() => controller.error(new Error('the client does not read the revocation stream')))
        const send = (bytes: Uint8Array) => {
          if (!open) return
          controller.enqueue(bytes)
          if ((controller.desiredSize ?? 0) < 0) drop()
        }
        send(OPENING)
        // A store error ends the stream: the client comes back with its Last-Event-ID and
        // misses nothing, where a stream that went quiet would look like no revocations.
        unfollow = feed.follow(after, {
          deliver: (entries) => send(encoder.encode(entries.map(event).join(''))),
          idle: () => send(HEARTBEAT),
          ended: close,
        })
        signal.addEventListener('abort', close, { once: true })
      },
      cancel: () => unfollow(),
    },
    new ByteLengthQueuingStrategy({ highWaterMark: feed.unreadLimitBytes }),
  )
}

export function revocationRoutes({ store, caller, revocationFeed }: Pick<RouteDeps, 'store' | 'caller' | 'revocationFeed'>) {
  const auth = { scope: 'introspect', carriers: 'service' } as const
  return new Elysia({ prefix: '/api/v1/revocations', tags: ['Verification'] })
    .use(caller)
    .get(
      '',
      async ({ query, set }) => {
        set.headers['cache-control'] = 'no-store'
        const items = await store.listRevocations(query.after, query.limit)
        return { items: items.map(presentRevocation), nextAfter: items.at(-1)?.seq ?? query.after }
      },
      {
        auth,
        query: RevocationsQuery,
        response: { 200: RevocationPage, ...errorResponses(422, 503) },
        detail: {
          operationId: 'listRevocations',
          summary: 'List revocations',
          description:
            'Every revocation of any token, in `seq` order, for services that cache verification results: drop a cached token whose digest (hex SHA-256 of its plaintext) appears. The caller’s token needs the scope `introspect`, never the cookie. Entries older than the token retention are purged.',
        },
      },
    )
    .get(
      '/stream',
      ({ query, headers, request, server }) => {
        // The stream is quiet between events: the server's idle timeout must not end it
        // (the heartbeat comes well within any proxy's).
        server?.timeout(request, 0)
        const after = headers['last-event-id'] ?? query.after ?? 0
        return new Response(eventStream(revocationFeed, after, request.signal), { headers: STREAM_HEADERS })
      },
      {
        auth,
        query: RevocationStreamQuery,
        headers: RevocationStreamHeaders,
        response: { 200: EventStream, ...errorResponses(422, 503) },
        detail: {
          operationId: 'streamRevocations',
          summary: 'Follow revocations (server-sent events)',
          description:
            'The same entries as `GET /revocations`, pushed as they happen: an entry appears on every instance’s stream within a second of the revoking request’s answer. Resumes after `Last-Event-ID` (or `?after=N`). Needs the scope `introspect`.',
        },
      },
    )
}
