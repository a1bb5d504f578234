// Builds dist/vai once per test run and hands out copies in empty folders.
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(import.meta.dir, '../..')
let built: string | undefined

function build(): string {
  if (!built) {
    const result = Bun.spawnSync([process.execPath, 'run', 'build'], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
    if (result.exitCode !== 0) throw new Error(`build failed: ${result.stderr.toString()}`)
    built = join(root, 'dist/vai')
  }
  return built
}

/** A fresh copy of the binary alone in an empty folder: no node_modules, no sources beside it. */
export function binaryInEmptyDir(): { dir: string; vai: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vai-bin-'))
  const vai = join(dir, 'vai')
  copyFileSync(build(), vai)
  Bun.spawnSync(['chmod', '+x', vai])
  return { dir, vai }
}

export interface Ran {
  code: number
  stdout: string
  stderr: string
}

export function runIn(dir: string, vai: string, args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Ran {
  const result = Bun.spawnSync([vai, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}
