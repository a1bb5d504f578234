// The contract's errors, each defined once: its status, the `detail` its body carries,
// the headers sent with it and what the OpenAPI document says of it. Rules throw them
// (`throw httpError('tokenNotFound')`), the error renderer turns them into responses and
// the document lists them. Plain data: no framework, so rules may import it.
import type { ValidationIssue } from './schemas'

/** The largest request body a protected route reads, once its caller is authenticated; a larger one is a 413. */
export const MAX_BODY_BYTES = 1024 * 1024
/** The largest body login and signup read: they answer anyone, and a real one is well under 1 KiB. */
export const MAX_ENTRY_BODY_BYTES = 64 * 1024

/** A header an error may carry, named as it goes on the wire (lower case). */
export type ErrorHeader = 'www-authenticate' | 'retry-after' | 'allow'

export interface ContractError {
  status: number
  detail: string | ValidationIssue[]
  /** Sent with it. `null`: the value depends on the moment and is given where it is raised. */
  headers?: Partial<Record<ErrorHeader, string | null>>
  /** Why an operation gives it, in the document; none for errors no operation lists (unknown path, bugs). */
  description?: string
}

const CHALLENGE = { 'www-authenticate': 'Bearer' }

export const ERRORS = {
  notAuthenticated: { status: 401, detail: 'Not authenticated', headers: CHALLENGE, description: 'No token' },
  // Still the contract's "no credential" (the header is not a carrier), with a hint in
  // RFC 6750's words; error_description may hold no `"` or `\`.
  tokenWithoutBearer: {
    status: 401,
    detail: 'Not authenticated',
    headers: { 'www-authenticate': 'Bearer error="invalid_request", error_description="use Authorization: Bearer <token>"' },
    description: 'an `Authorization` header holding a token without the word `Bearer` (then `WWW-Authenticate` says so: `error="invalid_request"`)',
  },
  invalidToken: {
    status: 401,
    detail: 'Invalid or expired token',
    headers: CHALLENGE,
    description: 'a token that is malformed, unknown, expired or revoked',
  },
  wrongPassword: { status: 401, detail: 'Invalid email or password', description: 'at login, a wrong email or password' },
  signupClosed: { status: 403, detail: 'Signup is closed', description: 'Signup is closed' },
  // `<scope>` stands for the scopes, space-separated (scopeError).
  lacksScope: {
    status: 403,
    detail: 'This token lacks the scope <scope>',
    headers: { 'www-authenticate': null },
    description: 'the token lacks a scope this route needs',
  },
  cannotGrant: {
    status: 403,
    detail: 'A token cannot grant a scope it does not have: <scope>',
    description: 'a scope the calling token does not hold itself (admin: nobody is an admin yet)',
  },
  cannotOutlive: {
    status: 403,
    detail: 'A token cannot outlive the token that creates it',
    description: 'an API token asked for a token that would expire after it does',
  },
  notClaimed: {
    status: 403,
    detail: 'This server is not claimed yet: use the setup code printed at start',
    description: 'at signup, the first account of a fresh install without its setup code (needed unless the client is on the server itself)',
  },
  crossSite: {
    status: 403,
    detail: 'Cross-site request refused',
    description: 'a browser request from another site (cookie-authenticated changes, login and signup must come from the same origin)',
  },
  tokenNotFound: { status: 404, detail: 'Token not found', description: 'No such token among yours' },
  notFound: { status: 404, detail: 'Not Found' },
  methodNotAllowed: { status: 405, detail: 'Method Not Allowed', headers: { allow: null } },
  emailTaken: { status: 409, detail: 'Email already registered', description: 'Email already registered' },
  // Raised with the limit appended, " (at most N)": see tooManyTokens().
  tooManyTokens: {
    status: 409,
    detail: 'Too many active tokens: revoke some first',
    description: 'The caller has as many active API tokens as the server allows (`--max-active-tokens`, 10000 by default)',
  },
  // Why a token cannot be rotated (rotationRefusal in src/store/token-state.ts).
  rotateSession: {
    status: 409,
    detail: 'Session tokens cannot be rotated: sign in again instead',
    description: 'at rotation, a session token',
  },
  alreadyRotated: {
    status: 409,
    detail: 'This token has been rotated already: rotate its successor instead',
    description: 'at rotation, a token rotated before',
  },
  rotateRevoked: { status: 409, detail: 'A revoked token cannot be rotated', description: 'at rotation, a revoked token' },
  rotateExpired: { status: 409, detail: 'An expired token cannot be rotated', description: 'at rotation, an expired token' },
  tooLarge: {
    status: 413,
    detail: `Request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`,
    description: 'Body over its limit: 1 MiB, or 64 KiB on signup and login',
  },
  entryTooLarge: { status: 413, detail: `Request body is larger than ${MAX_ENTRY_BODY_BYTES} bytes (64 KiB)` },
  // Never seen by the client, which has gone: what the access log and the metrics count.
  bodyAborted: { status: 400, detail: 'Request body ended before its Content-Length' },
  // Its detail is the list of problems, which explain() finds; a cursor is checked by hand.
  invalidInput: { status: 422, detail: [], description: 'Validation failed: every problem, one entry each' },
  invalidCursor: {
    status: 422,
    detail: [{ loc: ['query', 'cursor'], msg: 'Cursor is not one this server issued: pass a nextCursor unchanged', type: 'value_error' }],
  },
  tooManyLogins: {
    status: 429,
    detail: 'Too many failed login attempts; try again later',
    headers: { 'retry-after': null },
    description: 'Too many failed logins',
  },
  tooManyReports: {
    status: 429,
    detail: 'Too many leak reports from this address; try again later',
    headers: { 'retry-after': null },
    description: 'Over 60 leak reports from this address in an hour',
  },
  internal: { status: 500, detail: 'Internal Server Error' },
  // Not the request's fault and not a bug: try again shortly, the backend reconnects by itself.
  databaseUnavailable: {
    status: 503,
    detail: 'Database unavailable',
    headers: { 'retry-after': '1' },
    description: 'The database does not answer; the instance reconnects by itself',
  },
  // Not a failure either: more password hashes are waiting than the cores can work off soon.
  serverBusy: {
    status: 503,
    detail: 'Server busy',
    headers: { 'retry-after': '1' },
    description: 'at signup and login, too many password hashes are waiting already',
  },
} satisfies Record<string, ContractError>

export type ErrorName = keyof typeof ERRORS

/** How the document describes each header, under the name it is best known by. */
export const ERROR_HEADERS: Record<ErrorHeader, { name: string; schema: Record<string, unknown> }> = {
  'www-authenticate': {
    name: 'WWW-Authenticate',
    schema: {
      type: 'string',
      description: '`Bearer` when the token was missing or bad; with `error="invalid_request"` and a hint when it came without the word Bearer; `Bearer error="insufficient_scope", scope="…"` when it lacks a scope',
    },
  },
  'retry-after': { name: 'Retry-After', schema: { type: 'integer', minimum: 1, description: 'Seconds to wait before trying again' } },
  allow: { name: 'Allow', schema: { type: 'string', description: 'The methods the path answers to' } },
}

/** An error of the contract, raised on purpose: a status, the contract's `detail`, its headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'Validation failed')
  }
}

/** The fixed headers of an error, as they go on the wire. */
export function fixedHeaders(name: ErrorName): Record<string, string> {
  const { headers = {} }: ContractError = ERRORS[name]
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null))
}

/**
 * The catalogue's error about scopes, `<scope>` being `scopes`, space-separated. A
 * missing scope is also said in the challenge (RFC 6750 §3.1), where a client reads it.
 */
export function scopeError(name: 'lacksScope' | 'cannotGrant', scopes: readonly string[]): HttpError {
  const named = scopes.join(' ')
  const headers: Record<string, string> = name === 'lacksScope' ? { 'www-authenticate': `Bearer error="insufficient_scope", scope="${named}"` } : {}
  return new HttpError(ERRORS[name].status, ERRORS[name].detail.replace('<scope>', named), headers)
}

/** The error `name` of the catalogue, with the values of its momentary headers. */
export function httpError(name: ErrorName, given: Partial<Record<ErrorHeader, string>> = {}): HttpError {
  const { status, detail }: ContractError = ERRORS[name]
  return new HttpError(status, detail, { ...fixedHeaders(name), ...given })
}

/** The 409 of a create past the cap on active API tokens, saying what the cap is. */
export function tooManyTokens(limit: number): HttpError {
  const { status, detail } = ERRORS.tooManyTokens
  return new HttpError(status, `${detail} (at most ${limit})`)
}
