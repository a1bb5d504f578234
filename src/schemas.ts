import { t } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
import { Email, LaxInteger, QueryBoolean, Text } from './validation/kinds'

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
  setupCode: t.Optional(
    Text({
      maxLength: 64,
      description: 'The one-time code `vai serve` prints at start while the server has no account: the first signup needs it unless it comes from the server\'s own machine (loopback). Ignored once an account exists.',
      examples: ['3f9c0e1a7b2d4c5e8f60718293a4b5c6'],
    }),
  ),
})

export const LoginBody = t.Object({
  email: Text({ maxLength: 254, examples: ['ada@example.com'] }),
  password: Text({ maxLength: 256 }),
  name: t.Optional(Text({ minLength: 1, maxLength: 255, description: 'Labels the session.' })),
})
