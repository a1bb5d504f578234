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

// Each character code's base62 digit: the checksum is read as a number, not written out.
const DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE62.length; i++) DIGIT[BASE62.charCodeAt(i)] = i

/** The number a base62 run of `text` from `start` spells (every character checked as base62 already). */
function base62Value(text: string, start: number): number {
  let value = 0
  for (let i = start; i < text.length; i++) value = value * 62 + DIGIT[text.charCodeAt(i)]!
  return value
}

/**
 * True when the string has the shape and checksum of a vai token. A leak report checks a
 * thousand at once, so the checksum is compared as a number (62^6 > 2^32: one spelling each).
 */
export function isWellFormedToken(candidate: string): boolean {
  const randomLength = candidate.length - PREFIX.length - CHECKSUM_LENGTH
  if (randomLength < RANDOM_LENGTH || randomLength > MAX_RANDOM_LENGTH) return false
  if (!candidate.startsWith(PREFIX)) return false
  if (!BASE62_RUN.test(candidate.slice(PREFIX.length))) return false
  const checksumAt = PREFIX.length + randomLength
  return Bun.hash.crc32(candidate.slice(PREFIX.length, checksumAt)) === base62Value(candidate, checksumAt)
}

/** SHA-256 of the plaintext: what the store keeps and looks tokens up by. */
export function tokenDigest(plaintext: string): Uint8Array {
  return Bun.SHA256.hash(plaintext) as Uint8Array
}

export function tokenPrefix(plaintext: string): string {
  return plaintext.slice(0, 12)
}
