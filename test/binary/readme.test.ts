// hardening 11: the README shows what the binary prints now. scripts/walkthrough.sh and
// scripts/operating.sh run every command of its walkthrough and "Operating vai" against a
// fresh dist/vai; each block they print must be in the README as printed, once what changes
// from run to run (ids, times, tokens, sizes, the setup code) is masked.
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { binaryInEmptyDir } from '../support/binary'

const root = join(import.meta.dir, '../..')

/** What differs between two runs of the same commands, masked. */
const MASKS: [RegExp, string][] = [
  // curl -i prints the response head as it came, with CRLF; the README has plain lines.
  [/\r/g, ''],
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'],
  [/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{3}Z)?/g, '<time>'],
  [/^Date: .*$/gm, 'Date: <date>'],
  [/\bvai_[0-9A-Za-z]{8,}/g, '<token>'],
  [/"nextCursor":"[^"]+"/g, '"nextCursor":"<cursor>"'],
  [/\?setup=[0-9a-f]{32}/g, '?setup=<code>'],
  [/\b\d+(\.\d+)?ms\b/g, '<ms>'],
  [/\(\d+ bytes,/g, '(<n> bytes,'],
  [/^vai_database_size_bytes \d+$/gm, 'vai_database_size_bytes <n>'],
]
const masked = (text: string) => MASKS.reduce((out, [pattern, mask]) => out.replace(pattern, mask), text)

/** The fenced blocks of a Markdown text, each as its lines without the fences. */
const blocks = (markdown: string) => [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]!.trimEnd())

/** A free port for the script's server, so that two runs of the suite do not meet. */
function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const { port } = server
  server.stop(true)
  return port!
}

describe('hardening 11: the README outputs are what the binary prints now', () => {
  test.each(['walkthrough', 'operating'])('scripts/%s.sh', async (script) => {
    binaryInEmptyDir() // builds dist/vai from these sources, which the script runs
    const ran = Bun.spawnSync(['bash', join(root, `scripts/${script}.sh`)], { env: { ...process.env, VAI_README_PORT: String(freePort()) }, stdout: 'pipe', stderr: 'pipe' })
    expect({ code: ran.exitCode, stderr: ran.stderr.toString() }).toEqual({ code: 0, stderr: '' })
    const readme = blocks(await Bun.file(join(root, 'README.md')).text()).map(masked)
    const printed = blocks(ran.stdout.toString()).map(masked)
    expect(printed.length).toBeGreaterThan(5)
    // The server's own log comes in the order its timers fell: its lines are compared in any order.
    const inAnyOrder = (block: string) => / listening on /.test(block.split('\n')[0]!) ? block.split('\n').sort().join('\n') : block
    const shown = printed.map((block) => readme.find((candidate) => candidate.split('\n')[0] === block.split('\n')[0]) ?? `(not in the README) ${block}`)
    expect(shown.map(inAnyOrder)).toEqual(printed.map(inAnyOrder))
  }, 60_000)
})
