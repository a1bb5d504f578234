// The schema kinds of our own, for what TypeBox's built-in ones check differently from
// the contract (which follows Pydantic). Each kind's check is registered once, here; its
// refusal is described by explain.ts from the same functions.
import { t } from 'elysia'
import { Kind, TypeRegistry } from '@sinclair/typebox'
import { isScope, isScopeList, SCOPE_PATTERN } from '../tokens/scopes'

// TypeBox measures strings in UTF-16 units; the contract counts code points and
// refuses lone surrogates, so user-supplied text gets a kind of its own.
TypeRegistry.Set<TextOptions>('Text', (schema, value) => textProblem(schema, value) === undefined)

export interface TextOptions {
  minLength?: number
  maxLength?: number
  description?: string
  examples?: string[]
}

const SURROGATE = /[\uD800-\uDFFF]/

export type TextProblem = 'string_type' | 'string_unicode' | 'string_too_short' | 'string_too_long'

export function textProblem(schema: TextOptions, value: unknown): TextProblem | undefined {
  if (typeof value !== 'string') return 'string_type'
  if (!value.isWellFormed()) return 'string_unicode'
  // Count code points the slow way only when surrogate pairs make UTF-16 length lie.
  const length = SURROGATE.test(value) ? [...value].length : value.length
  if (length < (schema.minLength ?? 0)) return 'string_too_short'
  if (length > (schema.maxLength ?? Infinity)) return 'string_too_long'
  return undefined
}

export const Text = (options: TextOptions = {}) => t.Unsafe<string>({ [Kind]: 'Text', type: 'string', ...options })

// Pydantic's lax booleans, which the contract adopts for query strings.
export const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false,
  on: true, off: false, t: true, f: false, y: true, n: false,
}

export const isQueryBoolean = (value: unknown) =>
  typeof value === 'boolean' || (typeof value === 'string' && value.toLowerCase() in BOOLEAN_WORDS)
TypeRegistry.Set('QueryBoolean', (_schema, value) => isQueryBoolean(value))

export const QueryBoolean = (options: { default: boolean; description?: string }) =>
  t
    .Transform(t.Unsafe<string | boolean>({ [Kind]: 'QueryBoolean', type: 'boolean', ...options }))
    .Decode((value) => (typeof value === 'boolean' ? value : BOOLEAN_WORDS[value.toLowerCase()]!))
    .Encode((value) => value)

// Pydantic's lax integers: a JSON number without a fractional part, or a string
// holding one ("42", " 42 ", "42.0"). Elysia's own t.Integer coerces strings too, but
// refuses an out-of-range one after validation, in an error that no longer says which
// field it was; as a kind of our own the refusal reaches explain() with its location.
export interface IntegerOptions {
  minimum: number
  maximum: number
  default?: number
  description?: string
  examples?: number[]
}

const INTEGER_STRING = /^\s*[+-]?\d+(?:\.0*)?\s*$/

/** The integer `value` stands for, or undefined when it is not one. */
export function laxInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined
  return typeof value === 'string' && INTEGER_STRING.test(value) ? Number.parseInt(value, 10) : undefined
}
TypeRegistry.Set<IntegerOptions>('LaxInteger', (schema, value) => {
  const number = laxInteger(value)
  return number !== undefined && number >= schema.minimum && number <= schema.maximum
})

export const LaxInteger = (options: IntegerOptions) =>
  t
    .Transform(t.Unsafe<number | string>({ [Kind]: 'LaxInteger', type: 'integer', ...options }))
    .Decode((value) => laxInteger(value)!)
    .Encode((value) => value)

// The address check of Elysia's `email` format, applied after trimming: emails are
// trimmed and lower-cased before they are stored or compared.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i
const EMAIL_MAX = 254

export function emailProblem(value: unknown): 'string_type' | 'string_unicode' | 'string_too_long' | 'value_error' | undefined {
  if (typeof value !== 'string') return 'string_type'
  if (!value.isWellFormed()) return 'string_unicode'
  const email = value.trim()
  if (email.length > EMAIL_MAX) return 'string_too_long'
  return EMAIL.test(email) ? undefined : 'value_error'
}
TypeRegistry.Set('Email', (_schema, value) => emailProblem(value) === undefined)

export const Email = () =>
  t.Unsafe<string>({ [Kind]: 'Email', type: 'string', format: 'email', maxLength: EMAIL_MAX, examples: ['ada@example.com'] })

// A scope (see src/tokens/scopes.ts): TypeBox's own pattern check would explain itself in
// a regular expression; a kind of its own gets a sentence.
TypeRegistry.Set('Scope', (_schema, value) => isScope(value))

export const Scope = () =>
  t.Unsafe<string>({ [Kind]: 'Scope', type: 'string', pattern: SCOPE_PATTERN.source, examples: ['deploy:staging'] })

// A query's list of scopes: space-separated, and the key may repeat (`?scope=a b&scope=c`).
TypeRegistry.Set('ScopeQuery', (_schema, value) => isScopeList(value))

// Checked only: the handler reads it with scopeList(). A Transform that did it here would
// cost verify, the hot path of every protected service, more than the rest of its query.
export const ScopeQuery = (description: string) =>
  t.Unsafe<string | string[]>({ [Kind]: 'ScopeQuery', type: 'string', description, examples: ['deploy:staging grafana:read'] })
