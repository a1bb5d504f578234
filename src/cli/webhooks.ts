// vai webhooks: the endpoints that receive the audit events, kept in the database so every
// instance delivers to the same ones, and the state of their deliveries.
import { EVENT_TYPES, type EventType } from '../audit/events'
import { UsageError } from '../config'
import { endpointUrlProblem, newWebhookSecret } from '../notify/webhook'
import { date, DB_HELP, DB_OPTION, JSON_OPTION, withStore, type Command, type Values } from './command'
import { CommandError, printTable } from './io'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function urlOf(values: Values): string {
  const url = values.url as string | undefined
  if (url === undefined || url === '') throw new UsageError('--url is required')
  const problem = endpointUrlProblem(url)
  // Not echoed: a URL refused for its credentials would print them.
  if (problem) throw new UsageError(`invalid --url: ${problem}`)
  return new URL(url).href
}

function eventsOf(values: Values): EventType[] | null {
  const list = values.events as string | undefined
  if (list === undefined) return null
  const types = list.split(',').map((type) => type.trim()).filter(Boolean)
  const unknown = types.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type))
  if (types.length === 0 || unknown.length > 0) {
    throw new UsageError(`invalid --events '${unknown.join(',') || list}': expected a comma-separated list of ${EVENT_TYPES.join(', ')}`)
  }
  return [...new Set(types)] as EventType[]
}

function limitOf(values: Values): number {
  const raw = values.limit as string | undefined
  if (raw === undefined) return 50
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) throw new UsageError(`invalid --limit '${raw}': expected a whole number from 1 to 10000`)
  return Number(raw)
}

export const WEBHOOK_COMMANDS: Record<string, Command> = {
  'webhooks add': {
    summary: 'register an endpoint (prints its secret once)',
    usage: `Usage: vai webhooks add --url URL [--events TYPE,...] [--json] [--db PATH]\n\nEvery instance on this database POSTs the audit events to URL, signed per the Standard\nWebhooks specification with the secret printed here (once: keep it in the receiver).\n\n  --url URL          http:// or https://, without user:password@\n  --events TYPES     only these types (default: all): ${EVENT_TYPES.join(', ')}\n  --json             {"id","url","events","secret","createdAt"} instead of text\n${DB_HELP}`,
    options: { ...DB_OPTION, ...JSON_OPTION, url: { type: 'string' }, events: { type: 'string' } },
    async run(values, _, env) {
      const url = urlOf(values)
      const events = eventsOf(values)
      const endpoint = { id: crypto.randomUUID(), url, secret: newWebhookSecret(), createdAt: Date.now(), events }
      await withStore(values, env, (store) => store.addWebhook(endpoint))
      if (values.json) {
        console.log(JSON.stringify({ id: endpoint.id, url, events, secret: endpoint.secret, createdAt: iso(endpoint.createdAt) }))
      } else {
        console.log(`endpoint ${endpoint.id} added: ${url} (${events === null ? 'every event' : events.join(', ')})`)
        console.log(`secret: ${endpoint.secret}`)
        console.error('vai: the secret is shown this once; the receiver checks each webhook-signature with it')
      }
      return 0
    },
  },
  'webhooks list': {
    summary: 'list the endpoints',
    usage: `Usage: vai webhooks list [--json] [--db PATH]\n\nThe endpoints, oldest first, without their secrets.\n\n  --json             one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...JSON_OPTION },
    run: (values, _, env) =>
      withStore(values, env, async (store) => {
        const endpoints = await store.listWebhooks()
        if (values.json) {
          console.log(JSON.stringify(endpoints.map((endpoint) => ({ ...endpoint, createdAt: iso(endpoint.createdAt) }))))
        } else if (endpoints.length === 0) {
          console.log('no webhook endpoints (vai webhooks add --url URL)')
        } else {
          printTable(['ID', 'URL', 'EVENTS', 'CREATED'], endpoints.map((endpoint) => [endpoint.id, endpoint.url, endpoint.events?.join(',') ?? 'all', date(iso(endpoint.createdAt))]))
        }
        return 0
      }),
  },
  'webhooks remove': {
    summary: 'remove an endpoint and its pending deliveries',
    usage: `Usage: vai webhooks remove ID [--db PATH]\n\nNo more events go to it; those still queued for it are dropped.\n\n${DB_HELP}`,
    options: { ...DB_OPTION },
    positionals: 1,
    run: (values, [id], env) =>
      withStore(values, env, async (store) => {
        if (!(await store.removeWebhook(id!))) throw new CommandError(`no webhook endpoint ${id}`)
        console.log(`endpoint ${id} removed`)
        return 0
      }),
  },
  'webhooks deliveries': {
    summary: 'show recent deliveries and their state',
    usage: `Usage: vai webhooks deliveries [--limit N] [--json] [--db PATH]\n\nThe newest deliveries first (webhooks and emails): pending, delivered or failed (given up\nafter a day of retries), with the attempts made and the last answer.\n\n  --limit N          at most N (default 50)\n  --json             one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...JSON_OPTION, limit: { type: 'string' } },
    run: (values, _, env) => {
      const limit = limitOf(values)
      return withStore(values, env, async (store) => {
        const deliveries = await store.listDeliveries(limit)
        if (values.json) {
          console.log(JSON.stringify(deliveries.map((d) => ({ ...d, createdAt: iso(d.createdAt), nextAttemptAt: iso(d.nextAttemptAt), lastAttemptAt: iso(d.lastAttemptAt) }))))
        } else {
          printTable(
            ['ID', 'EVENT', 'CHANNEL', 'ENDPOINT', 'STATE', 'ATTEMPTS', 'LAST', 'NEXT'],
            deliveries.map((d) => [
              d.id, `${d.eventType} ${d.eventId}`, d.channel, d.endpointId ?? '-', d.state, String(d.attempts),
              d.lastAttemptAt === null ? '-' : `${date(iso(d.lastAttemptAt))} ${d.lastStatus ?? d.lastError ?? ''}`.trim(), date(iso(d.nextAttemptAt)),
            ]),
          )
        }
        return 0
      })
    },
  },
}
