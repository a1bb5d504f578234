// The plaintext format: `vai_` + random base62 + 6-char base62 CRC32 of the random part.
// The checksum lets a secret scanner recognise a token offline and lets the server
// turn away a mistyped or made-up token before it touches the database.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const PREFIX = 'vai_'
const RANDOM_LENGTH = 32
const CHECKSUM_LENGTH = 6
// Longer random parts are allowed by the format; anything past this is not ours.
const MAX_RANDOM_LENGTH = 128

/** What a secret scanner can match. */
export const TOKEN_PATTERN = /\bvai_[0-9A-Za-z]{38,134}\b/

export function base62(value: number, width: number): string {
  let out = ''
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) out = BASE62[rest % 62] + out
  return out.padStart(width, '0')
}

export function checksum(random: string): string {
  return base62(Bun.hash.crc32(random), CHECKSUM_LENGTH)
}

export function generateToken(): string {
  let random = ''
  while (random.length < RANDOM_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      // 248 = 4 × 62: dropping the top bytes keeps every digit equally likely.
      if (byte < 248 && random.length < RANDOM_LENGTH) random += BASE62[byte % 62]
    }
  }
  return PREFIX + random + checksum(random)
}

const BASE62_RUN = /^[0-9A-Za-z]+$/

/** True when the string has the shape and checksum of a vai token. */
export function isWellFormedToken(candidate: string): boolean {
  const randomLength = candidate.length - PREFIX.length - CHECKSUM_LENGTH
  if (randomLength < RANDOM_LENGTH || randomLength > MAX_RANDOM_LENGTH) return false
  if (!candidate.startsWith(PREFIX)) return false
  const body = candidate.slice(PREFIX.length)
  if (!BASE62_RUN.test(body)) return false
  const random = body.slice(0, randomLength)
  return checksum(random) === body.slice(randomLength)
}

export function tokenDigest(plaintext: string): Uint8Array {
  return new Bun.CryptoHasher('sha256').update(plaintext).digest() as Uint8Array
}

export function tokenPrefix(plaintext: string): string {
  return plaintext.slice(0, 12)
}
