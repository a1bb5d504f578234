// The web console's one way to the API (/api/v1): JSON in and out with the session cookie,
// and a refusal as an ApiError. A module of console.js.

/** A refused or failed request; `handled` once the page has already dealt with it (a 401). */
class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(`HTTP ${status}`)
    this.status = status
    this.body = body
    this.retryAfter = retryAfter
    this.handled = false
  }
}

let sessionEnded = () => false

/**
 * What a 401 on a route that needs a session means to the page (its session ended): true
 * when it has dealt with it, so the caller says nothing more.
 */
export function onSessionEnded(handler) {
  sessionEnded = handler
}

/** One call to the API. `open` routes (sign-in, sign-up) answer 401 for a wrong password, not an ended session. */
export async function api(method, path, { body, open = false } = {}) {
  let response
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, null, null)
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null)
  if (response.ok) return data
  const error = new ApiError(response.status, data, response.headers.get('retry-after'))
  if (response.status === 401 && !open) error.handled = sessionEnded()
  throw error
}
