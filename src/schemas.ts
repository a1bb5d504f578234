import { t } from 'elysia'
import { Kind, TypeRegistry, type TSchema } from '@sinclair/typebox'

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
TypeRegistry.Set('QueryBoolean', (_schema, value) =>
  typeof value === 'boolean' || (typeof value === 'string' && value.toLowerCase() in BOOLEAN_WORDS))

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

export const Nullable = <T extends TSchema>(schema: T) => t.Union([schema, t.Null()])

const Timestamp = t.String({ format: 'date-time', examples: ['2026-11-30T09:14:03.512Z'] })
const Uuid = t.String({
  format: 'uuid',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  examples: ['0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f'],
})

export const TokenType = t.Union([t.Literal('session'), t.Literal('api')])
export type TokenType = typeof TokenType.static

export const Token = t.Object(
  {
    id: Uuid,
    name: t.String(),
    tokenType: TokenType,
    tokenPrefix: t.String({ examples: ['vai_3kT9xQ2m'] }),
    createdAt: Timestamp,
    expiresAt: Nullable(Timestamp),
    lastUsedAt: Nullable(Timestamp),
    revokedAt: Nullable(Timestamp),
  },
  { $id: 'Token', description: 'An access token. The plaintext is never part of it.' },
)
export type Token = typeof Token.static

export const TokenWithPlaintext = t.Object(
  {
    plaintext: t.String({ description: 'Shown exactly once. Store it now.', examples: ['vai_...'] }),
    token: Token,
  },
  { $id: 'TokenWithPlaintext' },
)

export const TokenPage = t.Object(
  { items: t.Array(Token), nextCursor: Nullable(t.String()) },
  { $id: 'TokenPage' },
)

export const User = t.Object(
  { id: Uuid, email: t.String({ format: 'email' }), name: Nullable(t.String()), createdAt: Timestamp },
  { $id: 'User' },
)
export type User = typeof User.static

export const Me = t.Object({ user: User, token: Token }, { $id: 'Me' })

export const RevokedCount = t.Object({ revokedCount: t.Integer({ minimum: 0 }) }, { $id: 'RevokedCount' })

export const Health = t.Object({ status: t.Literal('ok') }, { $id: 'Health' })

export const ErrorBody = t.Object({ detail: t.String() }, { $id: 'Error' })
export type ErrorBody = typeof ErrorBody.static

export const ValidationIssue = t.Object({
  loc: t.Array(t.Union([t.String(), t.Integer()])),
  msg: t.String(),
  type: t.String(),
})
export type ValidationIssue = typeof ValidationIssue.static

export const ValidationErrorBody = t.Object({ detail: t.Array(ValidationIssue) }, { $id: 'ValidationError' })

// Requests

export const TokenIdParams = t.Object({ token_id: Uuid })

export const ListTokensQuery = t.Object({
  tokenType: t.Optional(TokenType),
  includeRevoked: QueryBoolean({ default: false, description: 'Also list revoked tokens.' }),
  limit: LaxInteger({ minimum: 1, maximum: 200, default: 50 }),
  cursor: t.Optional(t.String({ description: 'The `nextCursor` of the previous page.' })),
})

export const RevokeAllQuery = t.Object({
  exclude_current: QueryBoolean({ default: true, description: 'Keep the token that makes this request.' }),
})

/**
 * The bound on `expiresInDays` is the server's `--max-token-days` when it has one, so
 * that a refusal is listed with every other problem (and shows in the OpenAPI document).
 */
export const CreateTokenBody = (maxTokenDays: number | null) =>
  t.Object({
    name: Text({ minLength: 1, maxLength: 255, examples: ['ci deploy key'] }),
    expiresInDays: t.Optional(Nullable(LaxInteger({ minimum: 1, maximum: maxTokenDays ?? 3650 }))),
  })

export const SignupBody = t.Object({
  email: Email(),
  password: Text({ minLength: 8, maxLength: 256 }),
  name: t.Optional(Text({ maxLength: 255 })),
})

export const LoginBody = t.Object({
  email: Text({ maxLength: 254, examples: ['ada@example.com'] }),
  password: Text({ maxLength: 256 }),
  name: t.Optional(Text({ minLength: 1, maxLength: 255, description: 'Labels the session.' })),
})
