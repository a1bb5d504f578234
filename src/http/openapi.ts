import type { TSchema } from '@sinclair/typebox'
import { ERROR_HEADERS, ERRORS, type ContractError, type ErrorHeader } from '../errors'
import { ErrorBody, ValidationErrorBody } from '../schemas'

/** A public operation takes no credential. (A protected one is declared with `auth`.) */
export const PUBLIC: { security: Record<string, string[]>[] } = { security: [] }

const DOCUMENTED: ContractError[] = Object.values(ERRORS).filter((error: ContractError) => error.description !== undefined)

// A status is documented once per operation: by every catalogued error that has it, the
// named body (listed once, as a component) under their descriptions, with their headers.
const documented = (status: number): TSchema => {
  const errors = DOCUMENTED.filter((error) => error.status === status)
  if (errors.length === 0) throw new Error(`no error of the catalogue documents ${status}`)
  const description = errors.map((error) => error.description).join('; ')
  const names = [...new Set(errors.flatMap((error) => Object.keys(error.headers ?? {}) as ErrorHeader[]))]
  // The generator documents response headers from a `headers` property of the schema.
  const headers = Object.fromEntries(names.map((name) => [ERROR_HEADERS[name].name, ERROR_HEADERS[name].schema]))
  return { ...(status === ERRORS.invalidInput.status ? ValidationErrorBody : ErrorBody), description, ...(names.length > 0 ? { headers } : {}) }
}

/** The error responses an operation documents (errors never pass response validation: they are rendered apart). */
export function errorResponses<const S extends number>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((status) => [status, documented(status)])) as {
    [K in S]: K extends 422 ? typeof ValidationErrorBody : typeof ErrorBody
  }
}
