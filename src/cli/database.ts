// vai backup | migrate | db copy | doctor: the commands about the database itself, each
// through the descriptor of the backend its --db names.
import { loadConfig, UsageError } from '../config'
import { CannotOpen, type Finding } from '../store/backend'
import { backendFor, describeDb } from '../store/open'
import type { RevocationRecord, Store, StoredToken } from '../store/store'
import { DB_HELP, DB_OPTION, dbPath, open, type Command } from './command'
import { CommandError } from './io'

const COPY_BATCH = 1000

/** Every token of `store`, a batch at a time, counting as it goes. */
/** The revocation feed of `store`, a batch at a time. */
async function* revocationBatches(store: Store): AsyncIterable<RevocationRecord[]> {
  for (let batch = await store.listRevocations(0, COPY_BATCH); batch.length > 0; batch = await store.listRevocations(batch.at(-1)!.seq, COPY_BATCH)) yield batch
}

async function* tokenBatches(store: Store, counted: { tokens: number }): AsyncIterable<StoredToken[]> {
  for (let batch = await store.exportTokens(null, COPY_BATCH); batch.length > 0; batch = await store.exportTokens(batch.at(-1)!.id, COPY_BATCH)) {
    counted.tokens += batch.length
    yield batch
  }
}

function configFinding(env: Record<string, string | undefined>): Finding {
  try {
    loadConfig([], env)
    return ['ok', 'configuration in the environment is valid']
  } catch (error) {
    return ['FAIL', `configuration: ${(error as Error).message}`]
  }
}

const OUTBOX_STALE_MS = 60 * 60_000

/** The webhook queue: a warning when its oldest delivery has waited over an hour; nothing without webhooks. */
async function outboxFinding(store: Store, now: number): Promise<Finding[]> {
  const [{ pending, oldestCreatedAt }, endpoints] = await Promise.all([store.outboxStats(), store.listWebhooks()])
  if (pending === 0) return endpoints.length === 0 ? [] : [['ok', `webhook deliveries: none waiting (${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'})`]]
  const minutes = Math.floor((now - oldestCreatedAt!) / 60_000)
  const age = minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h`
  return now - oldestCreatedAt! > OUTBOX_STALE_MS
    ? [['warn', `webhook deliveries: ${pending} pending, the oldest queued ${age} ago: is a receiver down, or no vai serve running? (vai webhooks deliveries shows the last answers)`]]
    : [['ok', `webhook deliveries: ${pending} pending, the oldest queued ${age} ago`]]
}

/**
 * The webhook queue, and a fresh install's setup code while it has no account: whoever runs doctor can read the
 * database anyway. Read only from a database at the current schema (opening migrates, and
 * doctor changes nothing); one that cannot be read has its findings above already.
 */
async function storeFindings(db: string): Promise<Finding[]> {
  const backend = backendFor(db)
  try {
    const { version, current } = await backend.schemaStatus(db)
    if (version !== current) return []
    const store = await backend.open(db, { create: false, pool: 1 })
    try {
      const outbox = await outboxFinding(store, Date.now())
      if (await store.hasUsers()) return outbox
      const code = await store.setupCode()
      return [
        code === null
          ? ['warn', 'no account yet, and no setup code: vai serve makes one at start (or create the first account with vai user add)']
          : ['warn', `no account yet: the first signup from another machine needs the setup code ${code} (open /?setup=${code} on the server), or create it with vai user add`],
        ...outbox,
      ]
    } finally {
      await store.close()
    }
  } catch {
    return []
  }
}

export const DATABASE_COMMANDS: Record<string, Command> = {
  backup: {
    summary: 'write a checked copy of the live database (SQLite)',
    usage: `Usage: vai backup FILE [--db PATH]\n\nWrites a consistent copy of the live database to FILE (which must not exist),\nchecks that it opens and passes integrity_check, and prints its size.\n\n${DB_HELP}`,
    options: DB_OPTION,
    positionals: 1,
    async run(values, [target], env) {
      const db = dbPath(values, env)
      const backend = backendFor(db)
      if (!backend.backup) throw new CommandError(backend.noBackup)
      let bytes
      try {
        bytes = await backend.backup(db, target!)
      } catch (error) {
        const reason = (error as Error).message
        throw new CommandError(error instanceof CannotOpen ? `cannot open database ${backend.label(db)}: ${reason}` : `backup failed: ${reason}`)
      }
      console.log(`backed up ${backend.label(db)} to ${target} (${bytes} bytes, integrity ok)`)
      return 0
    },
  },
  migrate: {
    summary: 'apply pending schema migrations',
    usage: `Usage: vai migrate [--db PATH]\n\nApplies pending schema migrations (serve does this at start too) and prints the schema version.\n\n${DB_HELP}`,
    options: DB_OPTION,
    async run(values, _, env) {
      const db = dbPath(values, env)
      const backend = backendFor(db)
      let version
      try {
        version = await backend.migrate(db)
      } catch (error) {
        throw new CommandError(`cannot migrate ${backend.label(db)}: ${(error as Error).message}`)
      }
      console.log(`schema version ${version}`)
      return 0
    },
  },
  'db copy': {
    summary: 'copy users and tokens to another database (SQLite → PostgreSQL, say)',
    usage: `Usage: vai db copy --from DB --to DB

Copies every user and token (password hashes and token digests, as stored) and the
cursor-signing secret from one database to another, in one transaction, then checks
that the counts match. The target may be a new SQLite file or PostgreSQL database
(its schema is created) but must hold no users. Tokens keep working after the move;
stop the servers on the source first, or uses and revocations made meanwhile stay behind.

  vai db copy --from ./vai.db --to postgres://vai:secret@db.internal:5432/vai

  --from DB        the SQLite file or postgres:// URL to copy from
  --to DB          the SQLite file or postgres:// URL to copy to`,
    options: { from: { type: 'string' }, to: { type: 'string' } },
    async run(values) {
      const from = values.from as string | undefined
      const to = values.to as string | undefined
      if (!from || !to) throw new UsageError('--from and --to are required')
      if (from === to) throw new UsageError('--from and --to name the same database')
      const source = await open(from)
      try {
        const target = await open(to, true)
        try {
          const expected = await source.countRows()
          const users = await source.exportUsers()
          const counted = { tokens: 0 }
          try {
            await target.importAll(users, tokenBatches(source, counted), await source.cursorSecret(), revocationBatches(source))
          } catch (error) {
            throw new CommandError(`copy failed, nothing was written: ${(error as Error).message}`)
          }
          const copied = await target.countRows()
          if (copied.users !== expected.users || copied.tokens !== counted.tokens || counted.tokens !== expected.tokens) {
            throw new CommandError(`counts differ after the copy: source ${expected.users} users and ${expected.tokens} tokens, target ${copied.users} and ${copied.tokens}`)
          }
          console.log(`copied ${copied.users} user${copied.users === 1 ? '' : 's'} and ${copied.tokens} token${copied.tokens === 1 ? '' : 's'} from ${describeDb(from)} to ${describeDb(to)}; counts verified`)
          return 0
        } finally {
          await target.close()
        }
      } finally {
        await source.close()
      }
    },
  },
  doctor: {
    summary: "check the database and configuration (and show a fresh install's setup code)",
    usage: `Usage: vai doctor [--db PATH]\n\nChecks the database file (permissions, integrity, WAL mode, schema version), or the\nPostgreSQL server (reachable, TLS and what it verifies, schema version), the webhook\nqueue (a warning when a delivery has waited over an hour) and the configuration in the\nenvironment, and says in plain words what is wrong (FAIL: exit 1)\nor worth a look (warn).\n\n${DB_HELP}`,
    options: DB_OPTION,
    async run(values, _, env) {
      const db = dbPath(values, env)
      const findings = [configFinding(env), ...(await backendFor(db).doctor(db)), ...(await storeFindings(db))]
      for (const [level, text] of findings) console.log(`${level.padEnd(4)}  ${text}`)
      // A warning is advice: only a failure makes doctor exit 1.
      return findings.some(([level]) => level === 'FAIL') ? 1 : 0
    },
  },
}
