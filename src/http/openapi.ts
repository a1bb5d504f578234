import { t } from 'elysia'
import { ErrorBody, ValidationErrorBody } from '../schemas'

/** Each protected operation accepts any one of the three carriers. */
export const PROTECTED: { security: Record<string, string[]>[] } = { security: [{ bearer: [] }, { apiKey: [] }, { cookie: [] }] }
export const PUBLIC: { security: Record<string, string[]>[] } = { security: [] }

const ERRORS = {
  401: t.Object(ErrorBody.properties, { description: 'No credential, or one that is malformed, unknown, expired or revoked' }),
  403: t.Object(ErrorBody.properties, { description: 'Signup is closed' }),
  404: t.Object(ErrorBody.properties, { description: 'No such token among yours' }),
  409: t.Object(ErrorBody.properties, { description: 'Email already registered' }),
  413: t.Object(ErrorBody.properties, { description: 'Body over 1 MiB' }),
  422: t.Object(ValidationErrorBody.properties, { description: 'Validation failed: every problem, one entry each' }),
  429: t.Object(ErrorBody.properties, { description: 'Too many failed logins; see Retry-After' }),
}

/** The error responses an operation documents (errors never pass response validation: they are rendered apart). */
export function errorResponses<const S extends keyof typeof ERRORS>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((status) => [status, ERRORS[status]])) as { [K in S]: (typeof ERRORS)[K] }
}
