import { timingSafeEqual } from 'node:crypto'

/**
 * Whether a presented secret equals the expected one, in time that depends on neither
 * where they differ nor whether their lengths match: both are reduced to SHA-256 digests
 * (32 bytes whatever the input) and those are compared in constant time. A plain
 * `===` stops at the first differing character, and a length check before
 * timingSafeEqual answers faster for a guess of the wrong length, telling a caller
 * how long the secret is.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => new Bun.CryptoHasher('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}
