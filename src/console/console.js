// The vai web console: plain DOM code over the public API (/api/v1). The session token
// lives in the HttpOnly `vai_token` cookie, which this script can never read; it only
// ever sees the plaintext of an API token it has just created, to show it once.
// A module: api.js calls the API, messages.js holds what errors say, forms.js builds
// elements and shows errors where they belong, return-to.js says where ?rd= may lead.
import { returnTo } from './return-to.js'
import { NOT_CLAIMED, plainWords } from './messages.js'
import { api, onSessionEnded } from './api.js'
import { $, busy, el, clearErrors, fieldError, placeCredentialFields, showFormError, showNotice, showStatus, time } from './forms.js'
import { PagedList, table } from './pages.js'
import { Activity, addressesRow, leaked, loadLeaked } from './activity.js'

placeCredentialFields()

const PAGE_SIZE = 10
const root = document.documentElement
// Rendered into the page by the server: whether anyone may sign up ('open' or 'closed'), and
// whether the server has no account yet (then the first signup is accepted all the same).
const signupOpen = root.dataset.signup === 'open'
let firstRun = root.dataset.firstRun === 'true'
const maxTokenDays = Number(root.dataset.maxTokenDays) || null
const query = new URLSearchParams(location.search)
// The setup code that claims a fresh install comes in the link `vai serve` printed
// (/?setup=<code>). It is taken out of the address at once, so that it stays in neither
// the history nor a bookmark, and sent with the first signup.
const setupFromLink = query.get('setup')
// A proxy in front of an app on the cookie's domain sends a signed-out visitor here with
// ?rd=<the app's URL>: once signed in (or at once, when already), the console goes back
// there, if return-to.js allows it; otherwise it stays. Taken out of the address too.
const returnURL = returnTo(query.get('rd'), root.dataset.cookieDomain)
if (query.has('setup') || query.has('rd')) history.replaceState(null, '', location.pathname + location.hash)

// ---- Views ----------------------------------------------------------------------------

let me = null
onSessionEnded(() => {
  if (!me) return false
  signedOut('Your session has ended: it expired, or it was signed out from elsewhere. Please sign in again.')
  return true
})

function show(view) {
  for (const id of ['view-loading', 'view-signin', 'view-signup', 'view-tokens']) $(id).hidden = id !== view
  $('account').hidden = view !== 'view-tokens'
  const heading = $(view).querySelector('h1')
  if (heading) {
    document.title = `${heading.textContent} · vai`
    heading.focus()
  }
}

/** The sign-in or sign-up view, as the address asks (#signup) and the server allows. */
function showAuth() {
  const wantsSignup = location.hash === '#signup' || (firstRun && location.hash !== '#signin')
  show(wantsSignup ? 'view-signup' : 'view-signin')
}

function signedOut(message) {
  me = null
  for (const list of Object.values(lists)) list.reset()
  $('whoami').textContent = ''
  hideCreated()
  $('confirm').open && $('confirm').close()
  if (location.hash === '#signup') history.replaceState(null, '', '#signin')
  show('view-signin')
  if (message) showNotice(message)
}

async function signedIn() {
  me = await api('GET', '/auth/me')
  if (returnURL) {
    // Nothing more is drawn or changed (a history change could cancel the navigation).
    showStatus(`Signed in. Taking you back to ${new URL(returnURL).host}…`)
    return location.assign(returnURL)
  }
  $('whoami').textContent = me.user.name ? `${me.user.name} (${me.user.email})` : me.user.email
  if (location.hash) history.replaceState(null, '', location.pathname)
  show('view-tokens')
  await reloadAll()
}

/** Every list afresh, from its first page: after a sign-in, and after revoking everything. */
async function reloadAll() {
  for (const list of Object.values(lists)) list.reset()
  // Before the token lists draw: a token revoked as leaked says so.
  await loadLeaked().catch(() => {})
  await Promise.all(Object.values(lists).map((list) => list.load()))
}

// ---- Token lists ----------------------------------------------------------------------

function status(token) {
  if (token.revokedAt) return el('span', { class: 'badge revoked', text: leaked.has(token.id) ? 'Revoked: reported as leaked' : 'Revoked' })
  if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return el('span', { class: 'badge expired', text: 'Expired' })
  return el('span', { class: 'badge active', text: 'Active' })
}

// A session always has every scope: only API tokens show theirs.
const COLUMNS = {
  api: ['Name', 'Prefix', 'Scopes', 'Created', 'Expires', 'Last used', 'Status', 'Actions'],
  session: ['Name', 'Prefix', 'Created', 'Expires', 'Last used', 'Status', 'Actions'],
}

/** A token's scopes, compact: "Full access" for `*` (which holds every other), else each one. */
function scopeList(scopes) {
  if (scopes.includes('*')) return el('span', { text: 'Full access' })
  if (scopes.length === 0) return el('span', { class: 'muted', text: 'None' })
  return el('span', { class: 'token-scopes' }, ...scopes.map((scope) => el('code', { text: scope })))
}

/** When a token was last used and, when known, from which address. */
function lastUse(token) {
  return [time(token.lastUsedAt, 'Never'), token.lastUsedIp ? el('span', { class: 'address muted', text: `from ${token.lastUsedIp}` }) : null]
}

class TokenList extends PagedList {
  constructor(type, container, revokedBox) {
    const noun = type === 'api' ? 'API token' : 'session'
    super({
      container,
      noun,
      live: () => me !== null,
      fetchPage: (cursor) => {
        const query = new URLSearchParams({ tokenType: type, limit: String(PAGE_SIZE) })
        if (revokedBox.checked) query.set('includeRevoked', 'true')
        if (cursor) query.set('cursor', cursor)
        return api('GET', `/access-tokens?${query}`)
      },
      render: (items) => items.length === 0
        ? el('p', { class: 'empty', text: type === 'api' ? 'You have no API tokens yet.' : 'No sessions.' })
        : table(`Your ${noun}s, newest first`, COLUMNS[type], items.flatMap((token) => this.row(token))),
    })
    this.type = type
    revokedBox.addEventListener('change', () => {
      this.reset()
      void this.load()
    })
  }

  /** A token's row; an API token's also has its addresses' row, shown on demand. */
  row(token) {
    const current = me && token.id === me.token.id
    const nameCell = el('td', { 'data-label': 'Name', class: 'name' }, el('span', { text: token.name }),
      current ? el('span', { class: 'badge current', text: 'This browser' }) : null)
    let action = null
    if (!token.revokedAt && !current) {
      action = el('button', { type: 'button', class: 'danger small', 'aria-label': `Revoke ${this.noun} ${token.name} (${token.tokenPrefix})`, text: 'Revoke' })
      action.addEventListener('click', () => revoke(this, token))
    }
    const where = this.type === 'api' ? addressesRow(token, COLUMNS.api.length) : null
    const row = el('tr', { 'data-id': token.id, class: current ? 'current' : '' },
      nameCell,
      el('td', { 'data-label': 'Prefix' }, el('code', { text: token.tokenPrefix })),
      this.type === 'api' ? el('td', { 'data-label': 'Scopes', class: 'scopes-cell' }, scopeList(token.scopes)) : null,
      el('td', { 'data-label': 'Created' }, time(token.createdAt, '')),
      el('td', { 'data-label': 'Expires' }, time(token.expiresAt, 'Never')),
      el('td', { 'data-label': 'Last used', class: 'last-used' }, el('span', {}, ...lastUse(token), where?.toggle)),
      el('td', { 'data-label': 'Status' }, status(token)),
      el('td', { class: 'actions' }, action))
    return where ? [row, where.row] : [row]
  }
}

const lists = {
  api: new TokenList('api', $('api-list'), $('api-revoked')),
  session: new TokenList('session', $('session-list'), $('session-revoked')),
  activity: new Activity(() => me !== null),
}

// ---- Confirmation ---------------------------------------------------------------------

/** Asks in a modal dialog; Cancel (also Escape) is the default. */
function confirmed({ title, text, ok }) {
  const dialog = $('confirm')
  $('confirm-title').textContent = title
  $('confirm-text').textContent = text
  $('confirm-ok').textContent = ok
  dialog.returnValue = ''
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true })
    dialog.showModal()
    $('confirm-cancel').focus()
  })
}

async function revoke(list, token) {
  const what = list.type === 'api' ? 'API token' : 'session'
  const ok = await confirmed({
    title: `Revoke ${what} “${token.name}”?`,
    text: list.type === 'api'
      ? `Anything using the token ${token.tokenPrefix}… stops working at once. This cannot be undone.`
      : `The browser or client signed in with ${token.tokenPrefix}… is signed out at once.`,
    ok: `Revoke ${what}`,
  })
  if (!ok) return
  try {
    await api('DELETE', `/access-tokens/${token.id}`)
    showStatus(`Revoked ${what} “${token.name}”.`)
  } catch (error) {
    if (error.handled) return
    showNotice(plainWords(error, 'revoke'))
  }
  await Promise.all([list.load(), lists.activity.load()])
}

// ---- Creating a token -----------------------------------------------------------------

function hideCreated() {
  $('created').hidden = true
  $('created-plaintext').value = ''
  $('copy-status').textContent = ''
}

function setUpExpiry() {
  const select = $('create-expiry')
  if (maxTokenDays) {
    for (const option of select.options) {
      if (/^\d+$/.test(option.value) && Number(option.value) > maxTokenDays) option.disabled = true
    }
    select.querySelector('option[value=never]').textContent = `Longest allowed (${maxTokenDays} days)`
    if (select.selectedOptions[0]?.disabled) select.value = 'never'
    $('create-days').max = String(maxTokenDays)
  }
  select.addEventListener('change', () => {
    $('create-days-field').hidden = select.value !== 'custom'
    if (select.value === 'custom') $('create-days').focus()
  })
}

function setUpAccess(form) {
  for (const radio of form.querySelectorAll('input[name=access]')) {
    radio.addEventListener('change', () => {
      $('create-scopes-field').hidden = form.elements.namedItem('access').value !== 'chosen'
    })
  }
}

// The contract's scope syntax; `*` is not typed here: it is what Full access asks for.
const SCOPE = /^[A-Za-z0-9_.:/-]{1,64}$/

/**
 * What the form asks for: `scopes` undefined for full access (the API then gives the
 * caller's own, `*`), or the boxes ticked and the application scopes typed; or, when they
 * cannot be sent, the field to blame and why.
 */
function chosenScopes(form) {
  if (form.elements.namedItem('access').value !== 'chosen') return { scopes: undefined }
  const typedField = $('create-app-scopes')
  const typed = typedField.value.split(/[\s,]+/).filter(Boolean)
  const bad = typed.filter((scope) => !SCOPE.test(scope))
  if (bad.length) return { field: typedField, error: `Not ${bad.length === 1 ? 'a scope' : 'scopes'}: ${bad.map((scope) => `“${scope}”`).join(', ')}. ${typedField.dataset.patternHelp}` }
  const ticked = [...form.querySelectorAll('input[name=scope]:checked')].map((box) => box.value)
  const scopes = [...new Set([...ticked, ...typed])]
  // None would make a token that can only say whose it is: far likelier a slip than a wish.
  if (scopes.length === 0) return { field: $('create-scopes'), error: 'Pick at least one scope, or choose Full access.' }
  return { scopes, typed: typed.length > 0 }
}

async function createToken(form) {
  clearErrors(form)
  hideCreated()
  const name = form.elements.namedItem('name').value
  const chosen = chosenScopes(form)
  if (chosen.error) {
    fieldError(chosen.field, chosen.error)
    ;(chosen.field.querySelector('input') ?? chosen.field).focus()
    return
  }
  const expiry = form.elements.namedItem('expiry').value
  let expiresInDays = null
  if (expiry === 'custom') {
    const days = $('create-days')
    if (!/^\d+$/.test(days.value.trim())) {
      fieldError(days, 'Enter a whole number of days.')
      days.focus()
      return
    }
    expiresInDays = Number(days.value)
  } else if (expiry !== 'never') expiresInDays = Number(expiry)
  try {
    const created = await api('POST', '/access-tokens', { body: { name, expiresInDays, scopes: chosen.scopes } })
    form.reset()
    $('create-days-field').hidden = true
    $('create-scopes-field').hidden = true
    $('created-name').textContent = created.token.name
    $('created-plaintext').value = created.plaintext
    $('created').hidden = false
    $('created').focus()
    showStatus(`Created API token “${created.token.name}”.`)
    lists.api.reset()
    lists.activity.reset()
    await Promise.all([lists.api.load(), lists.activity.load()])
  } catch (error) {
    const fields = {
      expiresInDays: expiry === 'custom' ? $('create-days') : $('create-expiry'),
      // A ticked box is never refused: a 422 about scopes is about the typed ones.
      scopes: chosen.typed ? $('create-app-scopes') : $('create-scopes'),
    }
    showFormError(form, error, 'create', (field) => fields[field] ?? form.elements.namedItem(field))
  }
}

async function copyToken() {
  const input = $('created-plaintext')
  let copied = false
  try {
    await navigator.clipboard.writeText(input.value)
    copied = true
  } catch {
    // No clipboard API outside a secure context (plain HTTP on a LAN): the old way.
    input.select()
    copied = document.execCommand('copy')
  }
  $('copy-status').textContent = copied ? 'Copied to the clipboard.' : 'Copying failed: select the token and copy it yourself.'
}

// ---- Wiring ---------------------------------------------------------------------------

function credentials(form) {
  return { email: form.elements.namedItem('email').value.trim(), password: form.elements.namedItem('password').value }
}

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget
  void busy(form, async () => {
    clearErrors(form)
    try {
      await api('POST', '/auth/login', { body: credentials(form), open: true })
      form.reset()
      showNotice('')
      await signedIn()
    } catch (error) {
      showFormError(form, error, 'signin')
    }
  })
})

$('signup-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget
  void busy(form, async () => {
    clearErrors(form)
    const body = credentials(form)
    const name = form.elements.namedItem('name').value.trim()
    if (name) body.name = name
    const setupCode = $('signup-setup').value.trim()
    if (firstRun && setupCode) body.setupCode = setupCode
    try {
      await api('POST', '/auth/signup', { body, open: true })
      firstRun = false
      setUpSignup()
    } catch (error) {
      if (error.body?.detail !== NOT_CLAIMED) return showFormError(form, error, 'signup')
      // A link without the code, or a stale one: ask for the code beside its field.
      $('signup-setup-field').hidden = false
      fieldError($('signup-setup'), plainWords(error, 'signup'))
      return $('signup-setup').focus()
    }
    try {
      await api('POST', '/auth/login', { body: { email: body.email, password: body.password }, open: true })
    } catch (error) {
      show('view-signin')
      return showFormError($('signin-form'), error, 'signin')
    }
    form.reset()
    showStatus('Your account is ready.')
    await signedIn()
  })
})

$('create-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget
  void busy(form, () => createToken(form))
})

$('copy').addEventListener('click', () => void copyToken())
$('created-done').addEventListener('click', () => {
  hideCreated()
  $('create-name').focus()
})

$('sign-out').addEventListener('click', async () => {
  try {
    await api('POST', '/auth/logout', { open: true })
  } catch (error) {
    // A session that has already ended is signed out all the same.
    if (error.status !== 401) return showNotice(plainWords(error))
  }
  signedOut()
  showStatus('You are signed out.')
})

$('revoke-others').addEventListener('click', async () => {
  const ok = await confirmed({
    title: 'Sign out everywhere else and revoke all API tokens?',
    text: 'Every other session is signed out and every API token is revoked: scripts and services using them stop working at once. This browser stays signed in.',
    ok: 'Sign out everywhere else and revoke all API tokens',
  })
  if (!ok) return
  try {
    const { revokedCount } = await api('DELETE', '/access-tokens?exclude_current=true')
    showStatus(revokedCount === 0
      ? 'Nothing to revoke: this browser was your only active session and you had no API tokens.'
      : `Signed out everywhere else: revoked ${revokedCount} ${revokedCount === 1 ? 'session or token' : 'sessions and tokens'}.`)
  } catch (error) {
    if (error.handled) return
    showNotice(plainWords(error, 'revoke'))
  }
  await reloadAll()
})

window.addEventListener('hashchange', () => {
  if (!me) {
    showNotice('')
    showAuth()
  }
})

/** What the sign-in and sign-up views offer: the first account, anyone's, or none. */
function setUpSignup() {
  $('signup-offer').hidden = !(signupOpen || firstRun)
  $('signup-closed').hidden = signupOpen || firstRun
  $('first-run').hidden = !firstRun
  $('signup-title').textContent = firstRun ? 'Create the first account' : 'Create an account'
  // The code from the link is sent as is; the field shows only on a first run without one.
  $('signup-setup').value = firstRun ? setupFromLink ?? '' : ''
  $('signup-setup-field').hidden = !firstRun || setupFromLink !== null
}

async function start() {
  setUpExpiry()
  setUpAccess($('create-form'))
  setUpSignup()
  try {
    await signedIn()
  } catch (error) {
    if (error.status === 401) {
      // Not signed in yet: no message, just the form.
      showNotice('')
      showAuth()
    } else showNotice(plainWords(error))
  }
}

void start()
