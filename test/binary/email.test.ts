// Email notices from the compiled binary (nodemailer inside `bun build --compile`), through a
// real SMTP server on loopback: a leak report reaches the owner; an SMTP server that refuses
// the login delays the mail, is said once in the log without the password, and never slows a
// request. Skips where python3-aiosmtpd is missing (.ci/run installs it).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_POSTGRES } from '../support/app'
import { binaryInEmptyDir, call, killServers, signUpAndLogIn, startServer, stopServer } from '../support/binary'
import { testDatabases } from '../support/postgres'
import { SMTP_AVAILABLE, startSmtp } from '../support/smtp'

const PASSWORD = 'correct horse battery'
const SMTP_PASSWORD = 'sm tp:p@ss%word'
let dir: string
let vai: string
const databases = testDatabases('email')

beforeAll(() => {
  ;({ dir, vai } = binaryInEmptyDir())
})
afterAll(async () => {
  killServers()
  if (TEST_POSTGRES) await databases.dropAll()
  rmSync(dir, { recursive: true, force: true })
})

let files = 0
const newDb = async () => (TEST_POSTGRES ? databases.create() : join(dir, `email-${++files}.db`))

describe.skipIf(!SMTP_AVAILABLE)('dist/vai with --smtp-url', () => {
  test('a leaked token: the owner gets the mail; a refused SMTP login is one log line, the request as fast as ever', async () => {
    const smtp = await startSmtp({ user: 'vai', password: SMTP_PASSWORD })
    try {
      // First with the wrong password: the mail waits.
      const db = await newDb()
      const env = { VAI_SMTP_URL: smtp.url('vai', 'not the password'), VAI_SMTP_FROM: 'vai <vai@example.com>' }
      const wrong = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--signup', 'open'], env)
      const session = await signUpAndLogIn(wrong, 'ada@example.com', PASSWORD)
      const created = await call(wrong, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'deploy' } })
      const plaintext = created.body.plaintext as string
      const started = performance.now()
      const report = await call(wrong, 'POST', '/api/v1/credentials/revoke', { body: { credentials: [plaintext] } })
      expect([report.status, report.body]).toEqual([202, { received: 1 }])
      expect(performance.now() - started).toBeLessThan(500)
      for (const deadline = Date.now() + 5_000; !wrong.output().includes('email delivery') && Date.now() < deadline; ) await Bun.sleep(50)
      await stopServer(wrong)
      const failures = wrong.output().split('\n').filter((line) => line.includes('email delivery'))
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatch(/ email delivery \d+ of token\.leak_reported [0-9a-f-]{36} failed, retrying at \S+: SMTP login refused: 535 5\.7\.8 Authentication credentials invalid$/)
      expect(wrong.output() + wrong.errors()).not.toContain('not the password')
      expect(smtp.messages).toEqual([])

      // The right password: the waiting mail goes, and nothing else (no mail for the sign-up or the login).
      const right = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db], { ...env, VAI_SMTP_URL: smtp.url('vai', SMTP_PASSWORD) })
      await smtp.waitFor(1, 15_000)
      await stopServer(right)
      expect(smtp.messages).toHaveLength(1)
      expect(smtp.messages[0]!.envelope.to).toEqual(['ada@example.com'])
      expect(smtp.messages[0]!.subject).toBe('Your vai token “deploy” was reported as leaked and has been revoked')
      expect(smtp.messages[0]!.text).toContain(`Token:  deploy (${created.body.token.tokenPrefix}…)`)
      expect(smtp.messages[0]!.raw).not.toContain(plaintext)
      expect(right.output() + right.errors()).not.toContain(SMTP_PASSWORD)
    } finally {
      await smtp.stop()
    }
  }, 40_000)
})
