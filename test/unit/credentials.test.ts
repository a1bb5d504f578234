import { describe, expect, test } from 'bun:test'
import { basicPassword, cookieValues, presentedCredential, tokenWithoutBearer } from '../../src/auth/credentials'

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

describe('basicPassword: the token in Authorization: Basic (verify and introspect)', () => {
  const basic = (pair: string) => `Basic ${btoa(pair)}`
  test.each([
    [basic('user:vai_abc'), 'vai_abc'],
    [basic(':vai_abc'), 'vai_abc'],
    [basic('a-client-id:vai_abc'), 'vai_abc'],
    // Only the first colon separates: the password may hold more.
    [basic('user:vai:abc'), 'vai:abc'],
    // RFC 6749 §2.3.1: form-urlencoded, so %5F is _ and + a space.
    [basic('client:vai%5Fabc'), 'vai_abc'],
    [basic('client:a+b'), 'a b'],
    [`basic ${btoa('u:vai_abc')}`, 'vai_abc'],
    [`  BASIC   ${btoa('u:vai_abc')}  `, 'vai_abc'],
    // A broken percent-escape or base64 is handed on as it came, to be refused as malformed.
    [basic('client:vai%zz'), 'vai%zz'],
    ['Basic %%%', '%%%'],
    // No password: no carrier.
    [basic('user:'), undefined],
    [basic('vai_abc'), undefined],
    ['Basic', undefined],
    ['Basic ', undefined],
    [`Bearer ${btoa('u:vai_abc')}`, undefined],
    ['', undefined],
  ])('%p → %p', (authorization, token) => {
    expect(basicPassword(authorization)).toBe(token as string | undefined)
  })

  test('no header', () => expect(basicPassword(null)).toBeUndefined())
})
