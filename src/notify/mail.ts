// Email notices to a token's owner (--smtp-url): for an expiring token, a leak report, the
// reuse of a rotated token and a use from a new address. Plain text with the token's name,
// prefix, when and from where; never the token. Sent through nodemailer: SMTP with STARTTLS,
// AUTH, pipelining quirks and timeouts is a solved problem, and nodemailer is the maintained
// library Node and Bun services use for it (no dependencies of its own).
import nodemailer from 'nodemailer'
import type { DueDelivery, OutboxEvent, SendResult } from './outbox'

export interface Mail {
  to: string
  subject: string
  text: string
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
// A name is the user's to choose: no line breaks or other controls in a header.
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()

/** What the mail says about each type: its subject and its first paragraph. */
function words(event: OutboxEvent, name: string): { subject: string; lead: string } {
  const detail = event.detail as Record<string, unknown>
  switch (event.type) {
    case 'token.expiring':
      return {
        subject: `Your vai token “${name}” expires in ${plural(Number(detail.days), 'day')}`,
        lead: `Your API token “${name}” expires at ${String(detail.expiresAt)}. Whatever uses it stops working then: rotate it (POST /api/v1/access-tokens/${event.tokenId}/rotate keeps its scopes), or create a new one in the console and replace it.`,
      }
    case 'token.leak_reported':
      return {
        subject: `Your vai token “${name}” was reported as leaked and has been revoked`,
        lead: `Someone reported your API token “${name}” as leaked (found where it should not be) and vai revoked it at once. Whatever used it now gets 401: create a new token, and find out where the old one was exposed.`,
      }
    case 'token.reuse_detected':
      return {
        subject: `Your rotated vai token “${name}” was used after its grace period`,
        lead: `Your API token “${name}” was replaced by rotation, and the old one was used after its grace period had ended. If you did not expect that, someone else may hold it.${detail.revoked ? ' vai revoked its successor too, as this server is set to (--rotation-reuse revoke): create a new token.' : ''}`,
      }
    case 'token.new_ip':
      return {
        subject: `Your vai token “${name}” was used from a new address`,
        lead: `Your API token “${name}” was used from ${event.ip}, an address it had not used in the last 30 days. If that was not you or your automation, revoke the token in the console.`,
      }
    default:
      return { subject: `vai: ${event.type} on your token “${name}”`, lead: `vai recorded ${event.type} on your API token “${name}”.` }
  }
}

/** The notice about `event`, to its owner. */
export function composeMail(event: OutboxEvent): Mail {
  const name = oneLine(event.tokenName ?? 'unnamed')
  const { subject, lead } = words(event, name)
  const from = event.ip ? `${event.ip}${event.userAgent ? ` (${oneLine(event.userAgent)})` : ''}` : 'vai itself'
  const text = [
    'Hello,',
    '',
    lead,
    '',
    `Token:  ${name} (${event.tokenPrefix}…)`,
    `When:   ${new Date(event.at).toISOString()}`,
    `From:   ${from}`,
    '',
    'This message never contains a token. You get it because you own this token; the',
    'activity page of the console shows everything that happened to your account.',
    '',
    '— vai',
    '',
  ].join('\n')
  return { to: event.email, subject: oneLine(subject), text }
}

/** What a failed send says: nodemailer's code and the server's reply, never the URL or its password. */
function failure(error: unknown): { error: string; retry: boolean } {
  const { code, response, responseCode, command } = error as { code?: string; response?: string; responseCode?: number; command?: string }
  const reply = response ? `: ${oneLine(response).slice(0, 200)}` : ''
  if (code === 'EAUTH') return { error: `SMTP login refused${reply}`, retry: true }
  // A recipient refused for good (5xx) will not be accepted on the next try either.
  if (command === 'RCPT TO' && responseCode !== undefined && responseCode >= 500) return { error: `recipient refused${reply}`, retry: false }
  if (code === 'ETIMEDOUT') return { error: 'SMTP server timed out', retry: true }
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS') return { error: `SMTP connection failed (${code})${reply}`, retry: true }
  return { error: `SMTP ${code ?? 'error'}${reply}`, retry: true }
}

export interface MailSender {
  send(delivery: DueDelivery): Promise<SendResult>
  close(): void
}

/** A sender through the SMTP server of `url` (smtp:// or smtps://, credentials percent-encoded). */
export function createMailSender(url: string, from: string, timeoutMs: number): MailSender {
  const parsed = new URL(url)
  const secure = parsed.protocol === 'smtps:'
  const transport = nodemailer.createTransport({
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    auth: parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  return {
    async send(delivery) {
      const mail = composeMail(delivery.event)
      try {
        await transport.sendMail({ from, ...mail })
        return { delivered: true, status: null }
      } catch (error) {
        return { delivered: false, status: null, ...failure(error) }
      }
    },
    close: () => transport.close(),
  }
}
