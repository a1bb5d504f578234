import { Elysia } from 'elysia'
import { userAgentOf, type Origin } from '../audit/events'
import { addressIn, clientOfArrival, type Client } from '../auth/client-address'

export type { Client }

/** The TCP peer of a request, as the runtime knows it; null when there is none (a request handled in process). */
export type PeerAddress = (request: Request) => string | null

const clients = new WeakMap<Request, Client>()

/**
 * Works out once per request, before anything else runs, who the client is (see
 * clientOfArrival): the cookie's Secure, the cross-origin checks, the login limit and the
 * access log all read that one answer through `clientOf`.
 */
export function forwardedClient(trustedProxies: readonly string[], peerOf: PeerAddress) {
  const trusted = addressIn(trustedProxies)
  return new Elysia({ name: 'forwarded-client' }).onRequest(({ request }) => {
    const { headers } = request
    clients.set(request, clientOfArrival({
      peer: peerOf(request),
      https: request.url.startsWith('https:'),
      host: headers.get('host') || new URL(request.url).host,
      forwardedFor: headers.get('x-forwarded-for'),
      forwardedProto: headers.get('x-forwarded-proto'),
      forwardedHost: headers.get('x-forwarded-host'),
    }, trusted))
  })
}

/** The client of a request the app is handling: its address, whether it came over HTTPS, the host it addressed. */
export function clientOf(request: Request): Client {
  const client = clients.get(request)
  if (client === undefined) throw new Error('clientOf: a request the forwarded-client plugin did not see')
  return client
}

/** Where a change a request makes comes from, for its event; `by`: the token that made it. */
export function originOf(request: Request, by?: string): Origin {
  const { address } = clientOf(request)
  return { ip: address === 'unknown' ? null : address, userAgent: userAgentOf(request.headers), by }
}
