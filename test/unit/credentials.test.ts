import { describe, expect, test } from 'bun:test'
import { basicPassword, cookieValue, presentedCredential } from '../../src/auth/credentials'

describe('cookieValue', () => {
  test.each([
    ['vai_token=abc', 'abc'],
    ['a=1; vai_token=abc; b=2', 'abc'],
    ['a=1;vai_token=abc', 'abc'],
    ['  vai_token = abc  ', 'abc'],
    ['vai_token_old=zzz; vai_token=abc', 'abc'],
    ['vai_token_old=zzz', undefined],
    ['xvai_token=zzz', undefined],
    ['vai_token=', ''],
    ['', undefined],
  ])('%p → %p', (header, value) => {
    expect(cookieValue(header, 'vai_token')).toBe(value as string | undefined)
  })

  test('no header', () => expect(cookieValue(null, 'vai_token')).toBeUndefined())
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
    expect(presentedCredential(new Headers(headers))?.token).toBe(token as string | undefined)
  })
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
