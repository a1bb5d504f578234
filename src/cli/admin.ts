// The admin commands by name, and how `vai <group> <sub> …` or `vai <command> …` finds
// and runs one. The commands themselves live one file per group.
import { parseArgs } from 'node:util'
import { UsageError } from '../config'
import { AUDIT_COMMANDS } from './audit'
import type { Command, Env, Values } from './command'
import { DATABASE_COMMANDS } from './database'
import { HEALTHCHECK_COMMANDS } from './healthcheck'
import { TOKEN_COMMANDS } from './tokens'
import { USER_COMMANDS } from './users'
import { WEBHOOK_COMMANDS } from './webhooks'

// In this order: a group's subcommands are listed in it when one is missing.
const COMMANDS: Record<string, Command> = { ...USER_COMMANDS, ...TOKEN_COMMANDS, ...AUDIT_COMMANDS, ...WEBHOOK_COMMANDS, ...DATABASE_COMMANDS, ...HEALTHCHECK_COMMANDS }
/** The first words of `user add`, `db copy`…: alone, they ask for a subcommand. */
const GROUPS = new Set(Object.keys(COMMANDS).flatMap((key) => (key.includes(' ') ? [key.split(' ')[0]!] : [])))

const wantsHelp = (args: string[]) => args.includes('-h') || args.includes('--help')

/** `vai user --help`: the group's commands, each with its summary. */
function groupUsage(group: string, names: string[]): string {
  const width = Math.max(...names.map((name) => name.length))
  const lines = names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`)
  return `Usage: vai ${group} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEach command takes --help: vai ${names[0]} --help`
}

/** Runs `vai <group> <sub> …` or `vai <command> …`; undefined when argv names no admin command. */
export async function runAdmin(argv: string[], env: Env): Promise<number | undefined> {
  const [first, second] = argv
  const name = first && second && `${first} ${second}` in COMMANDS ? `${first} ${second}` : first
  const command = name ? COMMANDS[name] : undefined
  if (!command) {
    if (first !== undefined && GROUPS.has(first)) {
      const subs = Object.keys(COMMANDS).filter((key) => key.startsWith(`${first} `))
      if (wantsHelp(argv.slice(1))) {
        console.log(groupUsage(first, subs))
        return 0
      }
      throw new UsageError(`${first} needs one of: ${subs.map((key) => key.split(' ')[1]).join(', ')}`)
    }
    return undefined
  }
  const args = argv.slice(name!.split(' ').length)
  if (wantsHelp(args)) {
    console.log(command.usage)
    return 0
  }
  let parsed
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true })
  } catch (error) {
    // node:util adds advice about '--' that does not fit here.
    throw new UsageError((error as Error).message.split(/\n|\. To specify/)[0])
  }
  if (parsed.positionals.length !== (command.positionals ?? 0)) {
    throw new UsageError(`usage: ${command.usage.split('\n')[0]!.replace('Usage: ', '')}`)
  }
  return command.run(parsed.values as Values, parsed.positionals, env)
}
