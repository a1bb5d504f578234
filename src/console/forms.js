// The web console's elements, messages and forms: nodes built in one call, and what went
// wrong (in messages.js's words) put where it belongs (beside its field, or at the top of
// its form). A module of console.js.
import { plainWords } from './messages.js'

export const $ = (id) => document.getElementById(id)

// ---- Elements ---------------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value
    else if (key === 'text') node.textContent = value
    else node.setAttribute(key, value)
  }
  node.append(...children.filter((child) => child !== null && child !== undefined))
  return node
}

export function time(iso, empty) {
  if (!iso) return el('span', { class: 'muted', text: empty })
  return el('time', { datetime: iso, title: iso, text: dateFormat.format(new Date(iso)) })
}

// ---- Messages -------------------------------------------------------------------------

export function showNotice(text) {
  const notice = $('notice')
  notice.textContent = text
  notice.hidden = !text
  if (text) $('status').textContent = ''
}

export function showStatus(text) {
  $('status').textContent = text
  if (text) showNotice('')
}

// ---- Forms and their errors -----------------------------------------------------------

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) {
    p.textContent = ''
    p.hidden = true
  }
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid')
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter((id) => !id.endsWith('-error'))
    if (described.length) input.setAttribute('aria-describedby', described.join(' '))
    else input.removeAttribute('aria-describedby')
  }
}

export function fieldError(input, text) {
  const p = $(`${input.id}-error`)
  p.textContent = text
  p.hidden = false
  input.setAttribute('aria-invalid', 'true')
  const described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
  if (!described.includes(p.id)) input.setAttribute('aria-describedby', [...described, p.id].join(' '))
}

function formError(form, text) {
  const p = $(`${form.id}-error`)
  p.textContent = text
  p.hidden = false
}

/**
 * A 422 entry as a sentence about its field. The API's `msg` is written for developers
 * ("value is not a valid email address: …"); its `type` says what is wrong, and the numbers
 * in `msg` (a length, a bound) are what the sentence needs of it.
 */
function fieldSentence({ type, msg }, input) {
  const n = Number(/\d+/.exec(msg ?? '')?.[0])
  const unit = input.dataset.unit ? ` ${input.dataset.unit}` : ''
  switch (type) {
    case 'missing': return 'Please fill this in.'
    case 'string_too_short': return n === 1 ? 'Please fill this in.' : `Use at least ${n} characters.`
    case 'string_too_long': return `Use at most ${n} characters.`
    case 'string_pattern_mismatch': return input.dataset.patternHelp ?? 'This value is not accepted.'
    case 'too_long': return `Use at most ${n} ${input.dataset.items ?? 'items'}.`
    case 'string_type': case 'string_unicode': return 'Enter plain text here.'
    case 'value_error': return input.type === 'email' ? 'Enter an email address, like name@example.com.' : 'This value is not accepted.'
    case 'int_type': case 'int_parsing': case 'int_from_float': return 'Enter a whole number.'
    case 'greater_than_equal': return `Enter at least ${n}${unit}.`
    case 'less_than_equal': return `Enter at most ${n}${unit}.`
    default: return 'This value is not accepted.'
  }
}

/** Puts each 422 entry next to its field (loc ["body", name]); the rest, and other errors, at the top of the form. */
export function showFormError(form, error, action, fieldFor = (name) => form.elements.namedItem(name)) {
  if (error.handled) return
  clearErrors(form)
  const detail = error.status === 422 && Array.isArray(error.body?.detail) ? error.body.detail : null
  if (!detail) {
    formError(form, plainWords(error, action))
    form.querySelector('input')?.focus()
    return
  }
  const unplaced = []
  let first
  for (const entry of detail) {
    const { loc, msg } = entry
    const input = loc?.[0] === 'body' && typeof loc[1] === 'string' ? fieldFor(loc[1]) : null
    if (input instanceof HTMLElement && $(`${input.id}-error`)?.hidden) {
      fieldError(input, fieldSentence(entry, input))
      first ??= input
    } else if (!input) unplaced.push(msg)
  }
  if (unplaced.length || !first) formError(form, unplaced.join(' ') || plainWords(error, action))
  ;(first ?? form.querySelector('input'))?.focus()
}

/**
 * Puts the email and password fields (the page's <template id="credentials">) in place of
 * each `[data-credentials="<prefix>"]`: ids `<prefix>-email`, `<prefix>-password` and their
 * `-error`, the password's autocomplete and hint from the placeholder's data attributes.
 */
export function placeCredentialFields() {
  for (const slot of document.querySelectorAll('[data-credentials]')) {
    const { credentials: prefix, passwordAutocomplete, passwordHint } = slot.dataset
    const fields = $('credentials').content.cloneNode(true)
    for (const node of fields.querySelectorAll('[data-id]')) node.id = `${prefix}-${node.dataset.id}`
    for (const label of fields.querySelectorAll('label[data-for]')) label.htmlFor = `${prefix}-${label.dataset.for}`
    const password = fields.querySelector('[data-id=password]')
    password.autocomplete = passwordAutocomplete
    const hint = fields.querySelector('[data-id=password-hint]')
    if (passwordHint) {
      hint.textContent = passwordHint
      password.setAttribute('aria-describedby', hint.id)
    } else hint.remove()
    slot.replaceWith(fields)
  }
}

/** Disables a form's submit button while its request runs, so a double click sends one request. */
export async function busy(form, work) {
  const button = form.querySelector('button[type=submit]')
  button.disabled = true
  try {
    await work()
  } finally {
    button.disabled = false
  }
}

