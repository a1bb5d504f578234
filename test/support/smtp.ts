// Starts test/support/smtp.py (Debian's python3-aiosmtpd) on loopback and collects what it
// accepts. `SMTP_AVAILABLE` is false where the package is missing (.ci/run installs it).
import { join } from 'node:path'

const PYTHON = '/usr/bin/python3'
export const SMTP_AVAILABLE = Bun.spawnSync([PYTHON, '-c', 'import aiosmtpd'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0

export interface Message {
  envelope: { from: string; to: string[] }
  from: string
  to: string
  subject: string
  contentType: string
  text: string
  raw: string
}

export interface SmtpServer {
  port: number
  /** smtp://user:password@127.0.0.1:port (the password percent-encoded), or without credentials. */
  url(user?: string, password?: string): string
  messages: Message[]
  waitFor(count: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function startSmtp(auth?: { user: string; password: string }): Promise<SmtpServer> {
  const args = auth ? ['--user', auth.user, '--password', auth.password] : []
  const proc = Bun.spawn([PYTHON, join(import.meta.dir, 'smtp.py'), ...args], { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' })
  const messages: Message[] = []
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  let port = 0
  const lines = async function* () {
    for (;;) {
      const newline = buffered.indexOf('\n')
      if (newline >= 0) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        yield line
        continue
      }
      const { value, done } = await reader.read()
      if (done) return
      buffered += decoder.decode(value, { stream: true })
    }
  }()
  const first = await lines.next()
  if (first.done) throw new Error('smtp.py exited before it listened')
  port = JSON.parse(first.value).port
  void (async () => {
    for await (const line of lines) {
      const message: Message = JSON.parse(line)
      // SMTP's lines end in CRLF; the tests compare lines.
      messages.push({ ...message, text: message.text.replace(/\r\n/g, '\n') })
    }
  })()
  return {
    port,
    url: (user, password) => `smtp://${user ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : ''}127.0.0.1:${port}`,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      for (const deadline = Date.now() + timeoutMs; messages.length < count; await Bun.sleep(20)) {
        if (Date.now() > deadline) throw new Error(`the SMTP server got ${messages.length} messages, not ${count}, in ${timeoutMs} ms`)
      }
    },
    async stop() {
      proc.stdin.end()
      proc.kill()
      await proc.exited
    },
  }
}
