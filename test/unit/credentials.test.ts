import { describe, expect, test } from 'bun:test'
import { cookieValue, presentedCredential } from '../../src/auth/credentials'

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
