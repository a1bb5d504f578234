// What a token may do: its scopes, and the rules that read them. One module for the
// auth macro (a route's scope), token creation (the subset rule), verify and introspect.
// Pure: no Elysia, no store.

/** The scope that grants everything the owner may do: what session tokens have. */
export const FULL_ACCESS = '*'

/** The scopes vai itself interprets; any other is an application scope, for other services to ask about. */
export const BUILT_IN_SCOPES = ['tokens:read', 'tokens:write', 'introspect', 'admin'] as const
export type BuiltInScope = (typeof BUILT_IN_SCOPES)[number]

/** The one scope `*` never covers: an admin's powers are granted only by name. */
const ADMIN: BuiltInScope = 'admin'

/** A scope's syntax: `*`, or 1–64 characters of A-Z a-z 0-9 _ . : / - */
export const SCOPE_PATTERN = /^(?:\*|[A-Za-z0-9_.:/-]{1,64})$/

/** How many scopes one token may carry. */
export const MAX_SCOPES = 64

export const isScope = (value: unknown): value is string => typeof value === 'string' && SCOPE_PATTERN.test(value)

/** Sorted (by code point), each once: how a token's scopes are stored and shown. */
export function normaliseScopes(scopes: Iterable<string>): string[] {
  return [...new Set(scopes)].sort()
}

/**
 * Whether a token holding `held` has `scope`: by name, or through `*`, which covers every
 * scope but `admin` (nobody is an admin yet, so no token holds it).
 */
export function holds(held: readonly string[], scope: string): boolean {
  return held.includes(scope) || (scope !== ADMIN && held.includes(FULL_ACCESS))
}

/** The scopes of `required` that `held` lacks, in the order asked, each once. */
export function missingScopes(held: readonly string[], required: readonly string[]): string[] {
  const missing = required.filter((scope) => !holds(held, scope))
  return missing.length > 1 ? [...new Set(missing)] : missing
}

/**
 * The scopes a query's `scope` values name (each space-separated, the key may repeat), in
 * order; a repeated one is not folded here, only where it is reported.
 */
export function scopeList(values: string | readonly string[] | undefined): string[] {
  if (values === undefined) return []
  const words = typeof values === 'string' ? values.split(' ') : values.flatMap((value) => value.split(' '))
  return words.includes('') ? words.filter((word) => word !== '') : words
}

// One scope or more, separated by spaces, with spaces around: checked without splitting,
// since verify, the hot path, checks its query on every request.
const SCOPE_LIST = /^ *(?:(?:\*|[A-Za-z0-9_.:/-]{1,64})(?: +|$))*$/

/** Whether every scope a `scope` query value names is well formed. */
export const isScopeList = (values: unknown): boolean =>
  typeof values === 'string' ? SCOPE_LIST.test(values) : Array.isArray(values) && values.every((value) => typeof value === 'string' && SCOPE_LIST.test(value))

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * What verify requires of a token: `scope`, plus `writeScope` when the request it guards
 * (the proxy's original method, asked only when there is a writeScope) may change something.
 */
export function verifyRequirement(scope: string[], writeScope: string[], originalMethod: () => string): string[] {
  return writeScope.length === 0 || SAFE_METHODS.has(originalMethod().toUpperCase()) ? scope : [...scope, ...writeScope]
}
