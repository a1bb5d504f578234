// vai audit: the audit trail from the server's shell, one user's or everyone's.
import { EVENT_TYPES, type EventRecord, type EventType } from '../audit/events'
import { UsageError } from '../config'
import { presentEvent } from '../http/present'
import type { Store } from '../store/store'
import { date, DB_HELP, DB_OPTION, EMAIL_OPTION, JSON_OPTION, requireEmail, withStore, type Command, type Values } from './command'
import { CommandError, printTable } from './io'

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 10_000

function typeOf(values: Values): EventType | undefined {
  const type = values.type as string | undefined
  if (type === undefined) return undefined
  if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new UsageError(`unknown --type '${type}': expected one of ${EVENT_TYPES.join(', ')}`)
  return type as EventType
}

function limitOf(values: Values): number {
  const raw = values.limit as string | undefined
  if (raw === undefined) return DEFAULT_LIMIT
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) throw new UsageError(`invalid --limit '${raw}': expected a whole number from 1 to ${MAX_LIMIT}`)
  return Number(raw)
}

/** Up to `limit` events, newest first, in pages the size the API allows. */
async function newest(store: Store, userId: string | null, type: EventType | undefined, limit: number): Promise<EventRecord[]> {
  const events: EventRecord[] = []
  while (events.length < limit) {
    const last = events.at(-1)
    const page = await store.listEvents(userId, { type, limit: Math.min(500, limit - events.length), after: last && { createdAt: last.at, id: last.id } })
    events.push(...page)
    if (page.length === 0) break
  }
  return events
}

/** What a table cell says of an event's detail: its keys and values, compactly. */
const detailText = (detail: Record<string, unknown>) =>
  Object.entries(detail).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`).join(' ') || '-'

export const AUDIT_COMMANDS: Record<string, Command> = {
  audit: {
    summary: 'show the audit trail',
    usage: `Usage: vai audit [--email EMAIL] [--type TYPE] [--limit N] [--json] [--db PATH]\n\nThe newest events first: logins, failed logins, tokens made, revoked, rotated, reused, used\nfrom a new address, expiring, reported as leaked; password changes, users made and deleted.\nEveryone's unless --email names one user.\n\n  --email EMAIL    one user's events\n  --type TYPE      one kind: ${EVENT_TYPES.join(', ')}\n  --limit N        at most N events (default ${DEFAULT_LIMIT})\n  --json           one JSON array instead of a table (the API's event objects, with userId)\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, ...JSON_OPTION, type: { type: 'string' }, limit: { type: 'string' } },
    async run(values, _, env) {
      const type = typeOf(values)
      const limit = limitOf(values)
      const email = values.email === undefined ? null : requireEmail(values)
      return withStore(values, env, async (store) => {
        const users = await store.listUsers(Date.now())
        const user = email === null ? null : users.find((candidate) => candidate.email === email)
        if (user === undefined) throw new CommandError(`no user with email ${email}`)
        const events = await newest(store, user?.id ?? null, type, limit)
        const emails = new Map(users.map((known) => [known.id, known.email]))
        // A deleted user's events outlive them: their user.deleted event kept the address.
        const emailOf = (event: EventRecord) => emails.get(event.userId) ?? (typeof event.detail.email === 'string' ? `${event.detail.email} (deleted)` : '(deleted)')
        if (values.json) {
          console.log(JSON.stringify(events.map((event) => ({ ...presentEvent(event), userId: event.userId }))))
        } else {
          printTable(
            ['AT', 'TYPE', 'USER', 'TOKEN', 'IP', 'DETAIL'],
            events.map((event) => [date(presentEvent(event).at), event.type, emailOf(event), event.tokenPrefix ?? '-', event.ip ?? '-', detailText(event.detail)]),
          )
        }
        return 0
      })
    },
  },
}
