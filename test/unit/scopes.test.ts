// The scope rules of src/tokens/scopes.ts: what a token holds, what verify asks, the syntax.
import { describe, expect, test } from 'bun:test'
import { holds, isScope, isScopeList, missingScopes, normaliseScopes, scopeList, verifyRequirement } from '../../src/tokens/scopes'

describe('holds: by name, or through *, which never covers admin', () => {
  test.each([
    [['tokens:read'], 'tokens:read', true],
    [['tokens:read'], 'tokens:write', false],
    [['tokens:read'], '*', false],
    [['*'], 'tokens:write', true],
    [['*'], 'introspect', true],
    [['*'], 'deploy:staging', true],
    [['*'], '*', true],
    [['*'], 'admin', false],
    [['admin'], 'admin', true],
    [['*', 'admin'], 'admin', true],
    [[], 'tokens:read', false],
    [['deploy:staging'], 'deploy:prod', false],
    [['deploy'], 'deploy:staging', false],
  ])('%p holds %p: %p', (held, scope, expected) => {
    expect(holds(held, scope)).toBe(expected)
  })

  test('missingScopes: those not held, in the order asked, each once', () => {
    expect(missingScopes(['b', 'tokens:read'], ['z', 'b', 'a', 'tokens:read', 'z'])).toEqual(['z', 'a'])
    expect(missingScopes(['*'], ['admin', 'x'])).toEqual(['admin'])
    expect(missingScopes([], [])).toEqual([])
  })
})

test('normaliseScopes: sorted by code point, each once', () => {
  expect(normaliseScopes(['tokens:read', 'a', 'Z', '*', 'a', '0'])).toEqual(['*', '0', 'Z', 'a', 'tokens:read'])
})

describe('the syntax: *, or 1–64 of A-Z a-z 0-9 _ . : / -', () => {
  test.each(['*', 'a', 'tokens:read', 'deploy:staging', 'A-Z_a.z:0/9-', 'x'.repeat(64), 'grafana/org-1.read'])('%p is a scope', (scope) => {
    expect(isScope(scope)).toBe(true)
  })
  test.each(['', 'x'.repeat(65), '**', '*a', 'a b', 'a,b', 'a\tb', 'scöpe', 'a@b', '\ud800', 'a\n'])('%p is not', (scope) => {
    expect(isScope(scope)).toBe(false)
  })
  test.each([[5], [null], [undefined], [['a']]])('%p is not a string, so not a scope', (value) => expect(isScope(value)).toBe(false))
})

describe('scopeList: a query’s scope values, space-separated and/or repeated', () => {
  test.each([
    [undefined, []],
    ['', []],
    ['a', ['a']],
    ['a b', ['a', 'b']],
    ['  a   b  ', ['a', 'b']],
    [['a b', 'c'], ['a', 'b', 'c']],
    // Not folded here: missingScopes folds what it reports.
    [['a', 'a b'], ['a', 'a', 'b']],
  ] as const)('%p → %p', (values, scopes) => {
    expect(scopeList(values)).toEqual([...scopes])
  })

  test.each([
    ['a b', true],
    [['a', 'b c'], true],
    ['', true],
    ['a b!', false],
    [['a', 'b,c'], false],
    [5, false],
    [['a', 5], false],
  ] as const)('isScopeList(%p) → %p', (values, ok) => {
    expect(isScopeList(values)).toBe(ok)
  })
})

describe('verifyRequirement: writeScope counts when the original method may change something', () => {
  test.each([
    ['GET', ['r'], ['w'], ['r']],
    ['head', ['r'], ['w'], ['r']],
    ['OPTIONS', ['r'], ['w'], ['r']],
    ['POST', ['r'], ['w'], ['r', 'w']],
    ['put', ['r'], ['w'], ['r', 'w']],
    ['PATCH', [], ['w'], ['w']],
    ['DELETE', ['r', 'w'], ['w'], ['r', 'w', 'w']],
    ['PROPFIND', ['r'], ['w'], ['r', 'w']],
    ['POST', ['r'], [], ['r']],
  ])('%s, scope %p, writeScope %p → %p', (method, scope, writeScope, required) => {
    expect(verifyRequirement(scope, writeScope, () => method)).toEqual(required)
  })
})
