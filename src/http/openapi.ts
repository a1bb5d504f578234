import { t } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
import { ErrorBody, ValidationErrorBody } from '../schemas'

/** Each protected operation accepts any one of the three carriers. */
export const PROTECTED: { security: Record<string, string[]>[] } = { security: [{ bearer: [] }, { apiKey: [] }, { cookie: [] }] }
export const PUBLIC: { security: Record<string, string[]>[] } = { security: [] }

// The same named body under a description of this status: the document lists the body
// once, as a component, and the description becomes the response's.
const described = <T extends TSchema>(schema: T, description: string): T => ({ ...schema, description })

// The response headers the generator documents (its own `withHeaders`, which we do not
// import here: see docs.ts on what importing that package does).
const withHeaders = <T extends TSchema>(schema: T, headers: Record<string, TSchema>): T => ({ ...schema, headers })

const ERRORS = {
  // Login's wrong password is a 401 too, but without the challenge header.
  401: withHeaders(described(ErrorBody, 'No token, or one that is malformed, unknown, expired or revoked; at login, a wrong email or password'), {
    'WWW-Authenticate': t.Literal('Bearer', { description: 'Sent when the token was missing or bad' }),
  }),
  403: described(ErrorBody, 'Signup is closed, or a browser request from another site (cookie-authenticated changes, login and signup must come from the same origin)'),
  404: described(ErrorBody, 'No such token among yours'),
  409: described(ErrorBody, 'Email already registered'),
  413: described(ErrorBody, 'Body over 1 MiB'),
  422: described(ValidationErrorBody, 'Validation failed: every problem, one entry each'),
  503: withHeaders(described(ErrorBody, 'The database does not answer; the instance reconnects by itself'), {
    'Retry-After': t.Integer({ minimum: 1, description: 'Seconds to wait before trying again' }),
  }),
  429: withHeaders(described(ErrorBody, 'Too many failed logins'), {
    'Retry-After': t.Integer({ minimum: 1, description: 'Seconds until an attempt is allowed again' }),
  }),
}

/** The error responses an operation documents (errors never pass response validation: they are rendered apart). */
export function errorResponses<const S extends keyof typeof ERRORS>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((status) => [status, ERRORS[status]])) as { [K in S]: (typeof ERRORS)[K] }
}
