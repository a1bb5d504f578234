// The Activity card (what happened to the account: when, from where, which token), the
// addresses each API token was used from, and which tokens were revoked as leaked. A
// module of console.js.
import { api } from './api.js'
import { $, el, showNotice, time } from './forms.js'
import { plainWords } from './messages.js'
import { PagedList, table } from './pages.js'

const PAGE_SIZE = 20
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Each event type, in words: a label for the filter, and what a row of it says. */
const TYPES = {
  'login.succeeded': ['Sign-ins', () => 'Signed in'],
  'login.failed': ['Failed sign-ins', () => 'Sign-in refused: wrong password'],
  'login.rate_limited': ['Sign-ins paused', (e) => `Sign-ins paused for ${plural(Math.ceil(e.detail.retryAfterSeconds / 60), 'minute')} after too many failures`],
  'token.created': ['Tokens created', () => 'API token created'],
  'token.revoked': ['Tokens revoked', (e) => (e.detail.reason === 'logout' ? 'Signed out' : 'Token revoked')],
  'tokens.revoked_all': ['Everything revoked', (e) => `All tokens revoked (${e.detail.count})${e.detail.exceptCurrent ? ' but the one in use' : ''}`],
  'token.rotated': ['Rotations', (e) => (e.detail.graceUntil ? 'Token rotated; the old one works until its grace ends' : 'Token rotated')],
  'token.reuse_detected': ['Reuse of rotated tokens', (e) => `A rotated token was used after its grace${e.detail.revoked ? ': its successor was revoked' : ''}`],
  'token.new_ip': ['New addresses', () => 'Token used from a new address'],
  'token.expiring': ['Expiry notices', (e) => `Token expires in ${plural(e.detail.days, 'day')}`],
  'token.leak_reported': ['Leak reports', () => 'Token reported as leaked, and revoked'],
  'password.changed': ['Password changes', () => 'Password changed'],
  'user.created': ['Account', () => 'Account created'],
  'user.deleted': ['Account deletion', () => 'Account deleted'],
}

const what = (event) => TYPES[event.type]?.[1](event) ?? event.type

/** Where an event came from: the address, and the client's user agent beneath it. */
const from = (event) =>
  event.ip
    ? el('span', {}, el('span', { text: event.ip }), event.userAgent ? el('span', { class: 'agent muted', text: event.userAgent }) : null)
    : el('span', { class: 'muted', text: 'vai itself' })

export class Activity extends PagedList {
  constructor(live) {
    const filter = $('activity-type')
    filter.append(...Object.entries(TYPES).map(([type, [label]]) => el('option', { value: type, text: label })))
    super({
      container: $('activity-list'),
      noun: 'event',
      live,
      fetchPage: (cursor) => {
        const query = new URLSearchParams({ limit: String(PAGE_SIZE) })
        if (filter.value) query.set('type', filter.value)
        if (cursor) query.set('cursor', cursor)
        return api('GET', `/audit-events?${query}`)
      },
      render: (items) => items.length === 0
        ? el('p', { class: 'empty', text: 'Nothing yet.' })
        : table('What happened to your account, newest first', ['When', 'What', 'Token', 'From'], items.map((event) =>
          el('tr', { 'data-type': event.type },
            el('td', { 'data-label': 'When' }, time(event.at, '')),
            el('td', { 'data-label': 'What' }, el('span', { text: what(event) })),
            el('td', { 'data-label': 'Token' }, event.tokenPrefix ? el('code', { text: event.tokenPrefix }) : el('span', { class: 'muted', text: '–' })),
            el('td', { 'data-label': 'From', class: 'from' }, from(event))))),
    })
    filter.addEventListener('change', () => {
      this.reset()
      void this.load()
    })
  }
}

/** The ids of the tokens revoked as leaked (the badge says so): their `token.leak_reported` events. */
export const leaked = new Set()

export async function loadLeaked() {
  const { items } = await api('GET', '/audit-events?type=token.leak_reported&limit=200')
  leaked.clear()
  for (const event of items) leaked.add(event.tokenId)
}

/**
 * A token's "Where used" button and the row beneath its own that it opens: the addresses
 * the token was used from in the last 30 days, fetched when first opened.
 */
export function addressesRow(token, span) {
  const cell = el('td', { colspan: String(span), class: 'addresses' })
  const row = el('tr', { class: 'addresses-row', hidden: '' }, cell)
  const toggle = el('button', { type: 'button', class: 'link small', 'aria-expanded': 'false', 'aria-label': `Where ${token.name} (${token.tokenPrefix}) was used from`, text: 'Where used' })
  toggle.addEventListener('click', async () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true'
    toggle.setAttribute('aria-expanded', String(open))
    row.hidden = !open
    if (!open) return
    try {
      const { items } = await api('GET', `/access-tokens/${token.id}/addresses`)
      cell.replaceChildren(items.length === 0
        ? el('p', { class: 'muted', text: 'Not used from anywhere in the last 30 days (uses show within a minute).' })
        : el('ul', { class: 'address-list' }, ...items.map((address) =>
          el('li', {}, el('code', { text: address.ip }), ' ', time(address.firstSeenAt, ''), ' – ', time(address.lastSeenAt, '')))))
    } catch (error) {
      if (!error.handled) showNotice(`Could not load where “${token.name}” was used. ${plainWords(error, 'list')}`)
    }
  })
  return { toggle, row }
}
