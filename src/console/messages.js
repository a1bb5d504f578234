// What went wrong, in words a person can act on: the API's refusals as the console tells
// them. Pure (no page), so Bun table-tests it as it is; a module of forms.js and console.js.

/** The API's refusal of a first signup without the install's setup code. */
export const NOT_CLAIMED = 'This server is not claimed yet: use the setup code printed at start'

function waitWords(seconds) {
  const s = Number(seconds)
  if (!Number.isFinite(s) || s <= 0) return 'a moment'
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`
  const m = Math.ceil(s / 60)
  return `${m} minute${m === 1 ? '' : 's'}`
}

// What the console was doing, for "This session cannot …".
const DOING = { create: 'create tokens', list: 'list your tokens', revoke: 'revoke tokens' }

/** `a`, `a and b`, `a, b and c`. */
const both = (words) => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`)

/** A 403, by its detail (src/errors.ts has every one). */
function refusal(detail, action) {
  if (detail === 'Signup is closed') return 'Sign-up is closed on this server. Ask its administrator to create an account for you.'
  if (detail === NOT_CLAIMED) return 'This server has no account yet, and only the person who started it can create the first one: enter the setup code vai printed when it started.'
  if (detail === 'Cross-site request refused') return 'The server refused this request because it did not seem to come from this page. Reload the page and try again.'
  if (detail === 'A token cannot outlive the token that creates it') return 'A token cannot last longer than the one that creates it: choose an earlier expiry.'
  const lacks = /^This token lacks the scope (.+)$/.exec(detail)
  if (lacks) {
    const scopes = lacks[1].split(' ')
    return `This session cannot ${DOING[action] ?? 'do that'}: it lacks the scope${scopes.length === 1 ? '' : 's'} ${both(scopes)}.`
  }
  const ungrantable = /^A token cannot grant a scope it does not have: (.+)$/.exec(detail)
  if (ungrantable) {
    const scopes = ungrantable[1].split(' ')
    const others = scopes.filter((scope) => scope !== 'admin')
    const sentences = []
    if (others.length) sentences.push(`You cannot give a token the scope${others.length === 1 ? '' : 's'} ${both(others)}: a token can only be given scopes that the one creating it has.`)
    if (others.length < scopes.length) sentences.push('Nobody can give a token the scope admin yet: this server has no administrators.')
    return sentences.join(' ')
  }
  return `Not allowed: ${detail || 'the server refused this request'}.`
}

/** What went wrong, as a sentence a person can act on. */
export function plainWords(error, action) {
  const detail = typeof error.body?.detail === 'string' ? error.body.detail : ''
  switch (error.status) {
    case 0: return 'Could not reach the vai server. Check your connection and try again.'
    case 401: return action === 'signin' ? 'Wrong email or password.' : 'You are not signed in.'
    case 403: return refusal(detail, action)
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
