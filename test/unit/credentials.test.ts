import { describe, expect, test } from 'bun:test'
import { cookieValues, presentedCredential, tokenWithoutBearer } from '../../src/auth/credentials'

describe('cookieValues', () => {
  test.each([
    ['vai_token=abc', ['abc']],
    ['a=1; vai_token=abc; b=2', ['abc']],
    ['a=1;vai_token=abc', ['abc']],
    ['  vai_token = abc  ', ['abc']],
    ['vai_token_old=zzz; vai_token=abc', ['abc']],
    ['vai_token=abc; vai_token=def', ['abc', 'def']],
    ['vai_token=; vai_token=def', ['', 'def']],
    ['vai_token_old=zzz', []],
    ['xvai_token=zzz', []],
    ['vai_token=', ['']],
    ['', []],
  ])('%p → %p', (header, values) => {
    expect(cookieValues(header, 'vai_token')).toEqual(values)
  })

  test('no header', () => expect(cookieValues(null, 'vai_token')).toEqual([]))
})

describe('presentedCredential: which token a request presents', () => {
  test.each([
    [{ authorization: 'Bearer a', 'x-api-key': 'b', cookie: 'vai_token=c' }, 'a'],
    [{ authorization: 'bEaReR   a', 'x-api-key': 'b' }, 'a'],
    [{ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'b' }, 'b'],
    [{ authorization: 'Bearer', 'x-api-key': 'b' }, 'b'],
    [{ 'x-api-key': 'b', cookie: 'vai_token=c' }, 'b'],
    [{ cookie: 'other=1; vai_token=c' }, 'c'],
    [{ cookie: 'vai_token=' }, undefined],
    [{}, undefined],
  ])('%j → %p', (headers, token) => {
    const presented = presentedCredential(new Headers(headers))
    expect(presented && 'token' in presented ? presented.token : undefined).toBe(token as string | undefined)
  })
})

describe('hardening 2: cookie tossing', () => {
  test.each([
    [{ cookie: 'vai_token=a; vai_token=b' }, { via: 'cookie', ambiguous: true }],
    [{ cookie: 'vai_token=a; theme=dark; vai_token=a' }, { via: 'cookie', ambiguous: true }],
    [{ cookie: 'vai_token=; vai_token=b' }, { via: 'cookie', ambiguous: true }],
    [{ cookie: 'vai_token=; vai_token=' }, undefined],
    [{ cookie: 'vai_token=a; vai_token_old=b' }, { via: 'cookie', token: 'a' }],
    // A header carrier decides first: the cookies are not looked at.
    [{ authorization: 'Bearer h', cookie: 'vai_token=a; vai_token=b' }, { via: 'bearer', token: 'h' }],
    [{ 'x-api-key': 'k', cookie: 'vai_token=a; vai_token=b' }, { via: 'apiKey', token: 'k' }],
  ])('%j → %j', (headers, presented) => {
    expect(presentedCredential(new Headers(headers))).toEqual(presented as never)
  })
})

describe('hardening 11: a token in Authorization without the word Bearer', () => {
  test.each([
    ['vai_abc', true],
    ['  vai_abc  ', true],
    ['Token vai_abc', true],
    ['Bearer', false],
    ['Basic dXNlcjpwYXNz', false],
    ['vai', false],
    ['vai_token=abc', false],
    ['x vai_a y', false],
  ])('%p → %p', (authorization, hinted) => {
    expect(tokenWithoutBearer(new Headers({ authorization }))).toBe(hinted)
  })

  test('no Authorization header', () => expect(tokenWithoutBearer(new Headers())).toBe(false))
})
