// vai user add | list | passwd | delete
import { Value } from '@sinclair/typebox/value'
import { hashPassword } from '../auth/password'
import { UsageError } from '../config'
import { presentUser } from '../http/present'
import { SignupBody } from '../schemas'
import { plural } from '../validation/explain'
import { date, DB_HELP, DB_OPTION, EMAIL_OPTION, JSON_OPTION, requireEmail, withStore, withUser, type Command } from './command'
import { CommandError, confirm, printTable, readSecret } from './io'

async function newPassword(): Promise<string> {
  const password = await readSecret('New password: ')
  // An empty stdin, or Enter at the prompt, is a password forgotten, not a short one.
  if (password === '') throw new CommandError('no password given: type it at the prompt, or pipe it as the first line of stdin')
  if (!Value.Check(SignupBody.properties.password, password)) {
    throw new CommandError('the password must be 8 to 256 characters')
  }
  if (process.stdin.isTTY && (await readSecret('Repeat it: ')) !== password) {
    throw new CommandError('the passwords do not match')
  }
  return password
}

export const USER_COMMANDS: Record<string, Command> = {
  'user add': {
    summary: 'create a user (password from the terminal or stdin)',
    usage: `Usage: vai user add --email EMAIL [--name NAME] [--db PATH]

Creates a user, even while signup is closed. The password is read from the
terminal without echo, or from the first line of stdin:
  printf '%s\\n' "$PASSWORD" | vai user add --email ada@example.com

${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, name: { type: 'string' } },
    async run(values, _, env) {
      const email = requireEmail(values)
      if (!Value.Check(SignupBody.properties.email, email)) throw new UsageError(`'${email}' is not a valid email address`)
      const name = (values.name as string | undefined) ?? null
      if (name !== null && !Value.Check(SignupBody.properties.name, name)) throw new UsageError('--name must be at most 255 characters')
      const password = await newPassword()
      return withStore(values, env, async (store) => {
        const at = Date.now()
        const result = await store.createUser({ id: Bun.randomUUIDv7('hex', at), email, name, passwordHash: await hashPassword(password), createdAt: at }, true)
        if ('refused' in result) throw new CommandError(`${email} is already registered`)
        console.log(`created user ${email} (${result.created.id})`)
        return 0
      }, true)
    },
  },
  'user list': {
    summary: 'list users',
    usage: `Usage: vai user list [--json] [--db PATH]\n\n  --json           one JSON array instead of a table\n${DB_HELP}`,
    options: { ...DB_OPTION, ...JSON_OPTION },
    async run(values, _, env) {
      return withStore(values, env, async (store) => {
        const users = await store.listUsers(Date.now())
        if (values.json) {
          console.log(JSON.stringify(users.map((user) => ({ ...presentUser(user), activeTokens: user.activeTokens }))))
        } else {
          printTable(['EMAIL', 'NAME', 'CREATED', 'ACTIVE TOKENS', 'ID'], users.map((user) => [user.email, user.name ?? '-', date(presentUser(user).createdAt), String(user.activeTokens), user.id]))
        }
        return 0
      })
    },
  },
  'user passwd': {
    summary: "set a user's password and sign them out of every session",
    usage: `Usage: vai user passwd --email EMAIL [--db PATH]\n\nSets a new password, read like \`user add\` reads it, and signs the user out of every\nsession (whoever knew the old password is signed out too). API tokens stay valid.\n\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION },
    async run(values, _, env) {
      return withUser(values, env, async (store, user, email) => {
        const passwordHash = await hashPassword(await newPassword())
        const sessions = await store.changePassword(user.id, passwordHash, Date.now(), null)
        console.log(`password changed for ${email}; revoked ${plural(sessions, 'session')} (API tokens stay valid)`)
        return 0
      })
    },
  },
  'user delete': {
    summary: 'delete a user and their tokens',
    usage: `Usage: vai user delete --email EMAIL [--yes] [--db PATH]\n\nDeletes the user and all their tokens. Asks first unless --yes.\n\n  --yes            do not ask\n${DB_HELP}`,
    options: { ...DB_OPTION, ...EMAIL_OPTION, yes: { type: 'boolean' } },
    async run(values, _, env) {
      return withUser(values, env, async (store, user, email) => {
        if (!values.yes && !(await confirm(`Delete ${email} and all their tokens?`))) throw new CommandError('not deleted')
        const tokens = await store.deleteUser(user.id)
        console.log(`deleted user ${email} and ${plural(tokens, 'token')}`)
        return 0
      })
    },
  },
}
