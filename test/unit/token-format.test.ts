import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import {
  base62, checksum, generateToken, isWellFormedToken, TOKEN_PATTERN, tokenDigest, tokenPrefix,
} from '../../src/auth/token-format'

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

// Written apart from the code under test: zlib's CRC32, then base62 with BigInt.
function expectedChecksum(random: string): string {
  let rest = BigInt(crc32(random))
  let out = ''
  while (rest > 0n) {
    out = DIGITS[Number(rest % 62n)] + out
    rest /= 62n
  }
  return out.padStart(6, '0')
}

/** Replaces the character at `index` with a different base62 digit. */
const flip = (token: string, index: number) => {
  const replacement = DIGITS[(DIGITS.indexOf(token[index]!) + 1) % 62]
  return token.slice(0, index) + replacement + token.slice(index + 1)
}

describe('token format', () => {
  test('a generated token is vai_ + 32 base62 + a 6-digit base62 checksum', () => {
    for (let i = 0; i < 200; i++) {
      const token = generateToken()
      expect(token).toMatch(/^vai_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$/)
      expect(token.slice(36)).toBe(expectedChecksum(token.slice(4, 36)))
      expect(isWellFormedToken(token)).toBe(true)
      expect(token).toMatch(TOKEN_PATTERN)
    }
  })

  test('tokens do not repeat and use the whole base62 alphabet', () => {
    const tokens = Array.from({ length: 500 }, generateToken)
    expect(new Set(tokens).size).toBe(tokens.length)
    const seen = new Set(tokens.flatMap((token) => [...token.slice(4, 36)]))
    expect(seen.size).toBe(62)
  })

  test.each([
    ['123456789', '3jZRME'], // the CRC-32/IEEE check value 0xCBF43926
    ['', '000000'],
    ['a', '4GEHKN'],
    ['0000000000000000000000000000001F', '00dRxQ'], // CRC 9402264: padded with two zeros
  ])('checksum(%p) = %p', (random, expected) => {
    expect(checksum(random)).toBe(expected)
    expect(expectedChecksum(random)).toBe(expected)
  })

  test.each([
    [0, '000000'],
    [61, '00000z'],
    [62, '000010'],
    [2 ** 32 - 1, '4gfFC3'],
  ])('base62(%p, 6) = %p', (value, expected) => {
    expect(base62(value, 6)).toBe(expected)
  })

  test('any single changed character after the prefix fails the check', () => {
    for (let n = 0; n < 5; n++) {
      const token = generateToken()
      for (let index = 4; index < token.length; index++) {
        expect(isWellFormedToken(flip(token, index))).toBe(false)
      }
    }
  })

  test('swapping two different adjacent characters fails the check', () => {
    const token = generateToken()
    for (let index = 4; index < token.length - 1; index++) {
      if (token[index] === token[index + 1]) continue
      const swapped = token.slice(0, index) + token[index + 1] + token[index] + token.slice(index + 2)
      expect(isWellFormedToken(swapped)).toBe(false)
    }
  })

  const random = 'k'.repeat(31) + 'Q'
  const valid = `vai_${random}${expectedChecksum(random)}`
  test.each([
    ['the valid token itself', valid, true],
    ['a longer random part', `vai_${random}xyz${expectedChecksum(`${random}xyz`)}`, true],
    ['a random part of 31', `vai_${random.slice(1)}${expectedChecksum(random.slice(1))}`, false],
    ['another prefix', `vaj_${random}${expectedChecksum(random)}`, false],
    ['an upper-case prefix', `VAI_${random}${expectedChecksum(random)}`, false],
    ['no prefix', `${random}${expectedChecksum(random)}`, false],
    ['a non-base62 character', `vai_${random.slice(0, -1)}-${expectedChecksum(`${random.slice(0, -1)}-`)}`, false],
    ['a trailing space', `${valid} `, false],
    ['the empty string', '', false],
    ['only the prefix', 'vai_', false],
  ])('isWellFormedToken: %s', (_label, candidate, expected) => {
    expect(isWellFormedToken(candidate)).toBe(expected)
  })

  test('tokenPrefix is the first 12 characters: vai_ + 8', () => {
    const token = generateToken()
    expect(tokenPrefix(token)).toBe(token.slice(0, 12))
    expect(tokenPrefix(token)).toMatch(/^vai_[0-9A-Za-z]{8}$/)
  })

  test('tokenDigest is the SHA-256 of the plaintext', () => {
    const token = generateToken()
    expect(Buffer.from(tokenDigest(token)).toString('hex')).toBe(createHash('sha256').update(token).digest('hex'))
  })
})
