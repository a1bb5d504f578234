// vai healthcheck: a container's HEALTHCHECK without curl.
import { DEFAULT_CONFIG } from '../config'
import type { Command } from './command'
import { CommandError } from './io'

export const HEALTHCHECK_COMMANDS: Record<string, Command> = {
  healthcheck: {
    summary: 'exit 0 when the server answers on /healthz (for containers)',
    usage: `Usage: vai healthcheck [--url URL]\n\nExits 0 when the server answers 200 on /healthz, 1 otherwise: for container HEALTHCHECKs,\nwhere no curl is at hand.\n\n  --url URL        what to ask (default http://127.0.0.1:$PORT/healthz, PORT defaulting to 3000)`,
    options: { url: { type: 'string' } },
    async run(values, _, env) {
      const url = (values.url as string | undefined) ?? `http://127.0.0.1:${env.PORT || DEFAULT_CONFIG.port}/healthz`
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
        if (response.status !== 200) throw new CommandError(`${url} answered ${response.status}`)
      } catch (error) {
        if (error instanceof CommandError) throw error
        throw new CommandError(`${url}: ${(error as Error).message}`)
      }
      console.log('ok')
      return 0
    },
  },
}
