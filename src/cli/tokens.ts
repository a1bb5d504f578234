// vai tokens list | revoke-all | purge
import { DAY_MS } from '../auth/tokens'
import { DEFAULT_CONFIG, UsageError } from '../config'
import { presentToken } from '../http/present'
import type { Store, TokenRecord } from '../store/store'
import { tokenState } from '../store/token-state'
import { date, DB_HELP, DB_OPTION, EMAIL_OPTION, JSON_OPTION, withStore, withUser, type Command } from './command'
import { printTable } from './io'
import { plural } from '../validation/explain'

async function allTokens(store: Store, userId: string): Promise<TokenRecord[]> {
  const tokens: TokenRecord[] = []
  for (let page = await store.listTokens(userId, { includeRevoked: true, limit: 500 }); page.length > 0; ) {
    tokens.push(...page)
    const last = page.at(-1)!
    page = await store.listTokens(userId, { includeRevoked: true, limit: 500, after: last })
  }
  return tokens
}

export const TOKEN_COMMANDS: Record<string, Command> = {
  'tokens list': {
    summary: "list a user's tokens",
    usage: `Usage: vai tokens list --email EMAIL [--json] [--db PATH]\n\nEvery token of the user, revoked ones too, newest first, with its scopes and the address it was last used from.\n\n  --json           one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, ...JSON_OPTION },
    async run(values, _, env) {
      return withUser(values, env, async (store, user) => {
        const tokens = await allTokens(store, user.id)
        const now = Date.now()
        if (values.json) {
          console.log(JSON.stringify(tokens.map(presentToken)))
        } else {
          printTable(
            ['PREFIX', 'TYPE', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED', 'LAST IP', 'SCOPES', 'STATUS', 'ID'],
            tokens.map((token) => {
              const shown = presentToken(token)
              return [
                token.tokenPrefix,
                token.tokenType,
                token.name,
                date(shown.createdAt),
                date(shown.expiresAt),
                date(shown.lastUsedAt),
                token.lastUsedIp ?? '-',
                // A token with no scope at all can still say who it is (me, verify) and revoke itself.
                token.scopes.length > 0 ? token.scopes.join(' ') : '(none)',
                tokenState(token, now),
                token.id,
              ]
            }),
          )
        }
        return 0
      })
    },
  },
  'tokens revoke-all': {
    summary: "revoke all of a user's tokens",
    usage: `Usage: vai tokens revoke-all --email EMAIL [--db PATH]\n\nRevokes every session and API token of the user and says how many.\n\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION },
    async run(values, _, env) {
      return withUser(values, env, async (store, user, email) => {
        const count = await store.revokeAllTokens(user.id, Date.now(), null)
        console.log(`revoked ${plural(count, 'token')} of ${email}`)
        return 0
      })
    },
  },
  'tokens purge': {
    summary: 'delete tokens revoked or expired long ago',
    usage: `Usage: vai tokens purge [--retention-days N] [--db PATH]\n\nDeletes tokens revoked or expired more than N days ago (default ${DEFAULT_CONFIG.retentionDays}) and says how many.\n\n  --retention-days N  (VAI_RETENTION_DAYS)\n${DB_HELP}`,
    options: { ...DB_OPTION, 'retention-days': { type: 'string' } },
    async run(values, _, env) {
      const raw = (values['retention-days'] as string | undefined) ?? env.VAI_RETENTION_DAYS
      if (raw !== undefined && raw !== '' && !/^\d+$/.test(raw)) {
        throw new UsageError(`invalid --retention-days '${raw}': expected a whole number of days`)
      }
      const days = raw === undefined || raw === '' ? DEFAULT_CONFIG.retentionDays : Number(raw)
      return withStore(values, env, async (store) => {
        const purged = await store.purgeTokens(Date.now() - days * DAY_MS)
        console.log(`purged ${plural(purged, 'token')} revoked or expired more than ${plural(days, 'day')} ago`)
        return 0
      })
    },
  },
}
