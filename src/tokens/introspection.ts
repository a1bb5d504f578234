// RFC 7662's answer about a token, from what authentication found: its facts when it
// would authenticate now, else only that it is not active (nothing says why, or whether
// it exists). Pure: the route authenticates, this shapes the answer.
import type { Caller, Refusal } from '../auth/tokens'
import type { Introspection } from '../schemas'

const INACTIVE: Introspection = { active: false }

const seconds = (ms: number) => Math.floor(ms / 1000)

export function introspection(found: { caller: Caller } | { refused: Refusal }): Introspection {
  if ('refused' in found) return INACTIVE
  const { user, token } = found.caller
  return {
    active: true,
    scope: token.scopes.join(' '),
    token_type: token.tokenType,
    sub: user.id,
    username: user.email,
    iat: seconds(token.createdAt),
    ...(token.expiresAt === null ? {} : { exp: seconds(token.expiresAt) }),
    jti: token.id,
  }
}
