// Email notices end to end in one process: the change over HTTP (or the job that finds an
// expiring token), the owner's email queued with it, sent by the deliverer through a real SMTP
// server on loopback (Debian's python3-aiosmtpd, which also decodes each message with Python's
// email package). Skips where that package is missing; .ci/run installs it.
import { afterEach, describe, expect, test } from 'bun:test'
import { createDeliverer } from '../../src/notify/deliverer'
import { createMailSender, type MailSender } from '../../src/notify/mail'
import { DAY_MS } from '../../src/auth/tokens'
import { makeApp, seedToken, seedUser, START, type TestApp } from '../support/app'
import { SMTP_AVAILABLE, startSmtp } from '../support/smtp'

if (!SMTP_AVAILABLE) console.warn('email.test.ts: skipped, no python3-aiosmtpd (apt-get install python3-aiosmtpd, as .ci/run does)')

const FROM = 'vai <vai@example.com>'
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function world(options: { password?: string } = {}) {
  const smtp = await startSmtp({ user: 'vai', password: 'pa ss:w@rd%' })
  cleanups.push(() => smtp.stop())
  const t = makeApp()
  t.clock.advance(Date.now() - START)
  t.store.setEmailNotices(true)
  const sender = (password: string): MailSender => {
    const mail = createMailSender(smtp.url('vai', password), FROM, 2_000)
    cleanups.push(() => mail.close())
    return mail
  }
  let skew = 0
  const settled: string[] = []
  const deliverer = (mail: MailSender) =>
    createDeliverer({
      outbox: t.store,
      senders: [{ channel: 'email', send: mail.send }],
      now: () => Date.now() + skew,
      random: () => 1,
      settled: (_, result) => settled.push(result.delivered ? 'delivered' : result.error),
    })
  const drain = async (mail = sender(options.password ?? 'pa ss:w@rd%')) => {
    const d = deliverer(mail)
    await d.tick()
    await d.stop()
  }
  const owner = await seedUser(t, { email: 'ada@example.com' })
  return { t, smtp, owner, drain, sender, settled, skip: (ms: number) => (skew += ms) }
}

/** The lines of a notice's text that say which token, when and from where. */
const facts = (text: string) => text.split('\n').filter((line) => /^(Token|When|From): /.test(line))

describe.skipIf(!SMTP_AVAILABLE)('email notices', () => {
  test('a leak report: the owner gets a plain-text mail naming the token, when and from where, never the token; no mail for other events', async () => {
    const { t, smtp, owner, drain } = await world()
    const api = await seedToken(t, owner.user.id, { name: 'deploy\nkey' })
    const report = await t.post('/api/v1/credentials/revoke', { body: { credentials: [api.plaintext] }, peer: '203.0.113.7', headers: { 'user-agent': 'gitleaks-bot/2.0' } })
    expect(report.status).toBe(202)
    await drain()
    await smtp.waitFor(1)
    await Bun.sleep(200)
    expect(smtp.messages).toHaveLength(1)
    const [mail] = smtp.messages
    expect(mail!.envelope).toEqual({ from: 'vai@example.com', to: ['ada@example.com'] })
    expect([mail!.from, mail!.to, mail!.contentType]).toEqual([FROM, 'ada@example.com', 'text/plain'])
    expect(mail!.subject).toBe('Your vai token “deploy key” was reported as leaked and has been revoked')
    const [event] = await t.store.listEvents(owner.user.id, { type: 'token.leak_reported', limit: 1 })
    expect(facts(mail!.text)).toEqual([
      `Token:  deploy key (${api.token.tokenPrefix}…)`,
      `When:   ${new Date(event!.at).toISOString()}`,
      'From:   203.0.113.7 (gitleaks-bot/2.0)',
    ])
    expect(mail!.text).toStartWith('Hello,\n\nSomeone reported your API token “deploy key” as leaked')
    expect(mail!.raw).not.toContain(api.plaintext)
    expect(mail!.raw).not.toContain(api.plaintext.slice(12))
  })

  test('a use from a new address, and an expiring token (7 days, then 1 day, each once)', async () => {
    const { t, smtp, owner, drain, skip } = await world()
    const now = t.clock.now()
    const api = await seedToken(t, owner.user.id, { name: 'ci', expiresAt: now + 30 * DAY_MS })
    expect((await t.get('/api/v1/auth/me', { token: api.plaintext, peer: '198.51.100.9' })).status).toBe(200)
    await t.store.flushTouches()
    // The minute job's calls, at the times it would make them.
    expect(await t.store.queueExpiryNotices(now + 23 * DAY_MS - 60_000)).toBe(0)
    expect(await t.store.queueExpiryNotices(now + 23 * DAY_MS)).toBe(1)
    expect(await t.store.queueExpiryNotices(now + 23 * DAY_MS + 60_000)).toBe(0)
    // The deliverer, too, at that time: a notice is due when its event happens.
    skip(23 * DAY_MS)
    await drain()
    await smtp.waitFor(2)
    const subjects = smtp.messages.map((m) => m.subject).sort()
    expect(subjects).toEqual(['Your vai token “ci” expires in 7 days', 'Your vai token “ci” was used from a new address'])
    const located = smtp.messages.find((m) => m.subject.endsWith('new address'))!
    expect(located.text).toContain('was used from 198.51.100.9, an address it had not used in the last 30 days')
    expect(facts(located.text)[2]).toBe('From:   198.51.100.9')
    const expiring = smtp.messages.find((m) => m.subject.includes('expires'))!
    expect(expiring.text).toContain(`expires at ${new Date(now + 30 * DAY_MS).toISOString()}`)
    expect(facts(expiring.text)[2]).toBe('From:   vai itself')
    expect(await t.store.queueExpiryNotices(now + 29 * DAY_MS)).toBe(1)
    expect(await t.store.queueExpiryNotices(now + 29 * DAY_MS + 60_000)).toBe(0)
    skip(6 * DAY_MS)
    await drain()
    await smtp.waitFor(3)
    expect(smtp.messages[2]!.subject).toBe('Your vai token “ci” expires in 1 day')
  })

  test('a rotated token used after its grace: the owner is told', async () => {
    const { t, smtp, owner, drain } = await world()
    const api = await seedToken(t, owner.user.id, { name: 'old' })
    const rotated = await t.post(`/api/v1/access-tokens/${api.token.id}/rotate`, { token: owner.plaintext, body: { graceSeconds: 0 } })
    expect(rotated.status).toBe(201)
    expect((await t.get('/api/v1/auth/me', { token: api.plaintext })).status).toBe(401)
    await drain()
    await smtp.waitFor(1)
    expect(smtp.messages[0]!.subject).toBe('Your rotated vai token “old” was used after its grace period')
  })

  test('an SMTP server that refuses the login: the request is answered as ever, the mail waits and goes once the login works', async () => {
    const { t, smtp, owner, drain, sender, settled, skip } = await world()
    const api = await seedToken(t, owner.user.id, { name: 'deploy' })
    const started = performance.now()
    expect((await t.post('/api/v1/credentials/revoke', { body: { credentials: [api.plaintext] } })).status).toBe(202)
    expect(performance.now() - started).toBeLessThan(200)
    await drain(sender('wrong password'))
    expect(settled).toEqual(['SMTP login refused: 535 5.7.8 Authentication credentials invalid'])
    const [pending] = await t.store.listDeliveries(10)
    expect(pending).toMatchObject({ channel: 'email', state: 'pending', attempts: 1, lastError: settled[0] })
    expect(JSON.stringify(pending)).not.toContain('wrong password')
    expect(smtp.messages).toEqual([])
    skip(5_000)
    await drain()
    await smtp.waitFor(1)
    expect((await t.store.listDeliveries(10))[0]).toMatchObject({ state: 'delivered', attempts: 2 })
  })

  test('no SMTP server at all: the attempt fails in a few words and is retried', async () => {
    const { t, smtp, owner, drain, settled } = await world()
    await smtp.stop()
    const api = await seedToken(t, owner.user.id, { name: 'deploy' })
    expect((await t.post('/api/v1/credentials/revoke', { body: { credentials: [api.plaintext] } })).status).toBe(202)
    await drain()
    expect(settled).toEqual(['SMTP connection failed (ESOCKET)'])
  })
})

describe('without --smtp-url', () => {
  test('no mail is queued, and none is claimed', async () => {
    const t: TestApp = makeApp()
    const owner = await seedUser(t)
    const api = await seedToken(t, owner.user.id)
    await t.post('/api/v1/credentials/revoke', { body: { credentials: [api.plaintext] } })
    expect((await t.store.listDeliveries(10)).filter((d) => d.channel === 'email')).toEqual([])
  })
})
