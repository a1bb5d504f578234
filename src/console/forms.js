// The web console's messages and forms: what went wrong, in words a person can act on, put
// where it belongs (beside its field, or at the top of its form). A module of console.js.

export const $ = (id) => document.getElementById(id)

/** The API's refusal of a first signup without the install's setup code. */
export const NOT_CLAIMED = 'This server is not claimed yet: use the setup code printed at start'

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

function waitWords(seconds) {
  const s = Number(seconds)
  if (!Number.isFinite(s) || s <= 0) return 'a moment'
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`
  const m = Math.ceil(s / 60)
  return `${m} minute${m === 1 ? '' : 's'}`
}

/** What went wrong, as a sentence a person can act on. */
export function plainWords(error, action) {
  const detail = typeof error.body?.detail === 'string' ? error.body.detail : ''
  switch (error.status) {
    case 0: return 'Could not reach the vai server. Check your connection and try again.'
    case 401: return action === 'signin' ? 'Wrong email or password.' : 'You are not signed in.'
    case 403: return detail === 'Signup is closed'
      ? 'Sign-up is closed on this server. Ask its administrator to create an account for you.'
      : detail === NOT_CLAIMED
        ? 'This server has no account yet, and only the person who started it can create the first one: enter the setup code vai printed when it started.'
        : `Not allowed: ${detail || 'the server refused this request'}.`
    case 404: return 'That token no longer exists.'
    case 409: return action === 'create' ? `${detail}.` : 'An account with this email already exists. Sign in instead.'
    case 413: return 'That is too much text to send.'
    case 422: return 'Please correct the fields marked below.'
    case 429: return `Too many failed sign-in attempts. Wait ${waitWords(error.retryAfter)} and try again.`
    case 503: return detail === 'Server busy'
      ? 'The server is busy. Try again in a moment.'
      : 'The server cannot reach its database. Try again in a moment.'
    default: return error.status >= 500
      ? `The server had a problem (error ${error.status}). Try again in a moment.`
      : detail || `The server refused this request (error ${error.status}).`
  }
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

