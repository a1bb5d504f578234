// Builds dist/vai once per test run and hands out copies in empty folders.
import { afterAll, beforeAll } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { networkInterfaces, tmpdir } from 'node:os'
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

/**
 * For a test file: a copy of the binary in an empty folder before its tests (`dir` and `vai`
 * are set then), and after them the servers it left running killed and the folder removed.
 */
export function binaryFixture(cleanUp?: () => Promise<void>): { dir: string; vai: string } {
  const fixture = { dir: '', vai: '' }
  beforeAll(() => void Object.assign(fixture, binaryInEmptyDir()), 60_000)
  afterAll(async () => {
    killServers()
    await cleanUp?.()
    rmSync(fixture.dir, { recursive: true, force: true })
  })
  return fixture
}

export interface Ran {
  code: number
  stdout: string
  stderr: string
}

// Everything the vai processes of this test run wrote, for test/support/no-leaks.ts.
const written: (() => string)[] = []

/** All that every vai process started through this module wrote to stdout and stderr. */
export const everythingWritten = (): string[] => written.map((read) => read())

export function runIn(dir: string, vai: string, args: string[], options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Ran {
  const result = Bun.spawnSync([vai, ...args], {
    // A command that should exit but serves instead is killed, and its null exit code fails the test.
    timeout: options.timeoutMs,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const ran = { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
  written.push(() => ran.stdout + ran.stderr)
  return ran
}

export interface Server {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  url: string
  /** What vai printed first: the start line. */
  firstLine: string
  /** Everything it printed on stdout so far (start line, access log, …). */
  output(): string
  /** Everything it printed on stderr so far. */
  errors(): string
  /** Resolves once it has exited and all it wrote has been read. */
  drained(): Promise<void>
}

const running = new Set<Bun.Subprocess>()

/** Starts `vai …` and waits for its start line; stdout keeps being read so the server never blocks on a full pipe. */
export async function startServer(dir: string, vai: string, args: string[], env: Record<string, string> = {}): Promise<Server> {
  const proc = Bun.spawn([vai, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  running.add(proc)
  void proc.exited.then(() => running.delete(proc))
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`vai exited before it started: ${await new Response(proc.stderr).text()}`)
    text += decoder.decode(value, { stream: true })
  }
  const stdoutRead = (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true })
  })()
  let errors = ''
  const errorDecoder = new TextDecoder()
  const stderrRead = (async () => {
    for await (const chunk of proc.stderr) errors += errorDecoder.decode(chunk, { stream: true })
  })()
  written.push(() => text + errors)
  const firstLine = text.split('\n')[0]!
  const port = /:(\d+) \(/.exec(firstLine)?.[1]
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    firstLine,
    output: () => text,
    errors: () => errors,
    drained: async () => void (await Promise.all([proc.exited, stdoutRead, stderrRead])),
  }
}

/** Kills whatever a failed test left running. */
export function killServers(): void {
  for (const proc of running) proc.kill('SIGKILL')
}

/** A graceful stop: SIGTERM, then everything it wrote read to the end. */
export async function stopServer(server: Server): Promise<void> {
  server.proc.kill('SIGTERM')
  await server.drained()
}

export interface Reply {
  status: number
  headers: Headers
  /** The parsed JSON when the answer is JSON, else the text ('' for none). */
  body: any
}

/** One request to a running vai, as a client sends it: a Bearer token, a JSON body. */
export async function call(server: Server, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${server.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
  const text = await response.text()
  const json = (response.headers.get('content-type') ?? '').includes('json')
  return { status: response.status, headers: response.headers, body: json && text !== '' ? JSON.parse(text) : text }
}

/** Signs `email` up and logs in; the session token's plaintext. */
export async function signUpAndLogIn(server: Server, email: string, password: string): Promise<string> {
  const signedUp = await call(server, 'POST', '/api/v1/auth/signup', { body: { email, password } })
  if (signedUp.status !== 201) throw new Error(`signup: ${signedUp.status} ${JSON.stringify(signedUp.body)}`)
  const loggedIn = await call(server, 'POST', '/api/v1/auth/login', { body: { email, password } })
  if (loggedIn.status !== 200) throw new Error(`login: ${loggedIn.status} ${JSON.stringify(loggedIn.body)}`)
  return loggedIn.body.plaintext
}

/** The setup code a server on a database without accounts printed after its start line. */
export async function setupCodeOf(server: Server): Promise<string> {
  const printed = /^vai: no account yet — open http:\/\/\S+\/\?setup=([0-9a-f]{32}) to create the first one$/m
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(10)) {
    const code = printed.exec(server.output())?.[1]
    if (code) return code
  }
  throw new Error(`no setup code in: ${server.output()}`)
}

/**
 * An address of this machine's that is not loopback (its LAN interface), or undefined where it
 * has none: a request to a server there comes from it, as from another machine.
 */
export const LAN_ADDRESS = Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address
