import { t } from 'elysia'
import type { TProperties, TSchema } from '@sinclair/typebox'
import { EVENT_TYPES, type EventType } from './audit/events'
import { MAX_SCOPES } from './tokens/scopes'
import { Email, LaxInteger, QueryBoolean, Scope, ScopeQuery, Text } from './validation/kinds'

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
    lastUsedIp: Nullable(t.String({ description: 'The client address of the last use.', examples: ['203.0.113.7'] })),
    revokedAt: Nullable(Timestamp),
    scopes: t.Array(t.String(), { description: 'What the token may do, sorted. Sessions have `["*"]`.', examples: [['deploy:staging', 'tokens:read']] }),
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

// RFC 7662's answer: for a live token its facts (`exp` only when it expires), else only that it is not.
const activeToken = {
  active: t.Literal(true),
  scope: t.String({ description: 'Its scopes, space-separated.', examples: ['deploy:staging tokens:read'] }),
  token_type: TokenType,
  sub: t.String({ description: 'The owner’s user id.' }),
  username: t.String({ description: 'The owner’s email.' }),
  iat: t.Integer({ description: 'When it was made, in seconds since 1970.' }),
}
const tokenId = { jti: t.String({ description: 'Its id.' }) }
export const ActiveIntrospection = t.Object(
  { ...activeToken, exp: t.Integer({ description: 'When it expires, in seconds since 1970.' }), ...tokenId },
  { $id: 'ActiveIntrospection', description: 'A token that would authenticate now, and expires.' },
)
export const ActiveIntrospectionNoExpiry = t.Object(
  { ...activeToken, ...tokenId },
  { $id: 'ActiveIntrospectionNoExpiry', description: 'A token that would authenticate now, and never expires.' },
)
export const InactiveIntrospection = t.Object(
  { active: t.Literal(false) },
  { $id: 'InactiveIntrospection', description: 'Anything else: unknown, malformed, revoked or expired.' },
)
export const Introspection = t.Union([ActiveIntrospection, ActiveIntrospectionNoExpiry, InactiveIntrospection])
export type Introspection = typeof Introspection.static

/** OAuth's error body (RFC 6749 §5.2), which RFC 7662 clients expect of introspection. */
export const OAuthError = t.Object({ error: t.String({ examples: ['invalid_request'] }), error_description: t.String() }, { $id: 'OAuthError' })

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

/** A JSON body: a key it does not define is a 422 extra_forbidden, so a typo is never silently ignored. */
const Body = <P extends TProperties>(properties: P) => t.Object(properties, { additionalProperties: false })

/** A query: a parameter it does not define is ignored (Elysia would refuse one, as it does a body key). */
const Query = <P extends TProperties>(properties: P) => t.Object(properties, { additionalProperties: true })

export const TokenIdParams = t.Object({ token_id: Uuid })

export const ListTokensQuery = Query({
  tokenType: t.Optional(TokenType),
  includeRevoked: QueryBoolean({ default: false, description: 'Also list revoked tokens.' }),
  limit: LaxInteger({ minimum: 1, maximum: 200, default: 50 }),
  cursor: t.Optional(t.String({ description: 'The `nextCursor` of the previous page.' })),
})

export const RevokeAllQuery = Query({
  exclude_current: QueryBoolean({ default: true, description: 'Keep the token that makes this request.' }),
})

/**
 * The bound on `expiresInDays` is the server's `--max-token-days` when it has one, so
 * that a refusal is listed with every other problem (and shows in the OpenAPI document).
 */
const ExpiresInDays = (maxTokenDays: number | null, description?: string) =>
  t.Optional(Nullable(LaxInteger({ minimum: 1, maximum: maxTokenDays ?? 3650, ...(description ? { description } : {}) })))

export const CreateTokenBody = (maxTokenDays: number | null) =>
  Body({
    name: Text({ minLength: 1, maxLength: 255, examples: ['ci deploy key'] }),
    expiresInDays: ExpiresInDays(maxTokenDays),
    scopes: t.Optional(
      t.Array(Scope(), {
        maxItems: MAX_SCOPES,
        description: 'What the new token may do: scopes the caller holds. Omitted: the caller’s own scopes.',
      }),
    ),
  })

/** Every key optional, and so is the body itself: an empty one (or none) means `{}`. */
export const RotateTokenBody = (maxTokenDays: number | null) =>
  Body({
    graceSeconds: t.Optional(
      LaxInteger({
        minimum: 0,
        maximum: 86_400,
        default: 0,
        description: 'How long the old token keeps working beside its successor, in seconds. 0: it is revoked at once.',
      }),
    ),
    expiresInDays: ExpiresInDays(
      maxTokenDays,
      'The successor’s lifetime in days from now. Omitted: as long as the old token’s was (expiresAt − createdAt), or none; null: none. Capped like a create.',
    ),
  })

export const SignupBody = Body({
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

export const LoginBody = Body({
  email: Text({ maxLength: 254, examples: ['ada@example.com'] }),
  password: Text({ maxLength: 256 }),
  name: t.Optional(Text({ minLength: 1, maxLength: 255, description: 'Labels the session.' })),
})

export const VerifyQuery = Query({
  scope: t.Optional(ScopeQuery('Scopes the token must hold: space-separated, and the key may repeat.')),
  writeScope: t.Optional(ScopeQuery('Scopes it must also hold when the original method is not GET, HEAD or OPTIONS.')),
})

export const Revocation = t.Object(
  {
    seq: t.Integer({ minimum: 1, description: 'Increasing by one across the whole service, all instances.' }),
    digest: t.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the token’s plaintext, in hex: what a cache keys a token by without holding it.' }),
    revokedAt: t.String({ format: 'date-time' }),
  },
  { $id: 'Revocation', description: 'A token that stopped authenticating before its time.' },
)
export type Revocation = typeof Revocation.static

export const RevocationPage = t.Object(
  {
    items: t.Array(Revocation),
    nextAfter: t.Integer({ minimum: 0, description: 'The `after` of the next page: the last item’s `seq`, or this page’s `after` when it is empty.' }),
  },
  { $id: 'RevocationPage' },
)

const FeedAfter = (description: string, defaultValue?: number) =>
  LaxInteger({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description, ...(defaultValue === undefined ? {} : { default: defaultValue }) })

export const RevocationsQuery = Query({
  after: FeedAfter('Entries with a greater `seq`.', 0),
  limit: LaxInteger({ minimum: 1, maximum: 1000, default: 500 }),
})

export const RevocationStreamQuery = Query({
  after: t.Optional(FeedAfter('Entries with a greater `seq`; `Last-Event-ID` wins when both are sent.')),
})

/** Headers are never refused for being there: only the one the route reads is checked. */
export const RevocationStreamHeaders = t.Object(
  { 'last-event-id': t.Optional(FeedAfter('The `id` of the last event received: the stream resumes after it.')) },
  { additionalProperties: true },
)

export const LeakReport = Body({
  credentials: t.Array(t.String({ examples: ['vai_…'] }), {
    minItems: 1,
    maxItems: 1000,
    description: 'Strings that may be vai tokens: any strings, up to 1000. Only those with a vai token’s shape and checksum are looked up.',
  }),
})

export const LeakReportReceived = t.Object(
  { received: t.Integer({ minimum: 1, description: 'How many strings the report held: the same answer whatever they were.' }) },
  { $id: 'LeakReportReceived' },
)

/** RFC 7662's request, as JSON or a form: `token` is checked by hand (a missing one is OAuth's 400, not a 422). */
export const IntrospectionRequest = Body({
  token: t.String({ description: 'The token to introspect.', examples: ['vai_...'] }),
  token_type_hint: t.Optional(t.String({ description: 'Ignored: vai has one kind of token.' })),
})

export const EventTypeSchema = t.Enum(Object.fromEntries(EVENT_TYPES.map((type) => [type, type])) as { [T in EventType]: T }, {
  description: 'One of the event types (see Activity and audit events).',
})

export const AuditEvent = t.Object(
  {
    id: Uuid,
    type: EventTypeSchema,
    at: Timestamp,
    tokenId: Nullable(Uuid),
    tokenPrefix: Nullable(t.String({ examples: ['vai_3kT9xQ2m'] })),
    ip: Nullable(t.String({ description: 'The client address it came from; null for the server’s own jobs and its command line.', examples: ['203.0.113.7'] })),
    userAgent: Nullable(t.String({ description: 'The client’s user agent, up to 256 characters.' })),
    detail: t.Object({}, { additionalProperties: true, description: 'What else the type says (a count, the successor’s id, a reason). Never a secret.' }),
  },
  { $id: 'Event', description: 'Something that happened to an account or one of its tokens.' },
)
export type AuditEvent = typeof AuditEvent.static

export const EventPage = t.Object({ items: t.Array(AuditEvent), nextCursor: Nullable(t.String()) }, { $id: 'EventPage' })

export const ListEventsQuery = Query({
  limit: LaxInteger({ minimum: 1, maximum: 200, default: 50 }),
  cursor: t.Optional(t.String({ description: 'The `nextCursor` of the previous page.' })),
  type: t.Optional(EventTypeSchema),
})

export const TokenAddress = t.Object(
  {
    ip: t.String({ examples: ['203.0.113.7'] }),
    firstSeenAt: t.String({ format: 'date-time', description: 'The first use from it in the current run of uses (none for 30 days before).' }),
    lastSeenAt: t.String({ format: 'date-time' }),
  },
  { $id: 'TokenAddress', description: 'A client address a token was used from.' },
)
export type TokenAddress = typeof TokenAddress.static

export const TokenAddressList = t.Object(
  { items: t.Array(TokenAddress, { description: 'Most recently used first, up to 20; an address unused for 30 days is forgotten.' }) },
  { $id: 'TokenAddressList' },
)
