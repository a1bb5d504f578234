import { sameSecret } from './auth/same-secret'
import type { PageStart } from './store/store'

// A cursor names the last item of a page. It is signed (with a secret kept in the
// database, so every instance and restart agrees) and bound to its owner, so a
// client cannot forge one or reuse another user's.

// 16 bytes of HMAC-SHA256, base64url.
const MAC_CHARS = 22

function mac(secret: Uint8Array, payload: string): string {
  return new Bun.CryptoHasher('sha256', secret).update(payload).digest('base64url').slice(0, MAC_CHARS)
}

export function encodeCursor(secret: Uint8Array, userId: string, start: PageStart): string {
  const payload = `${start.createdAt}.${start.id}`
  return `${Buffer.from(payload).toString('base64url')}.${mac(secret, `${userId}.${payload}`)}`
}

const PAYLOAD = /^(\d{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/

/** The page start a cursor names, or null when this server did not make it for this user. */
export function decodeCursor(secret: Uint8Array, userId: string, cursor: string): PageStart | null {
  const [encoded, signature, extra] = cursor.split('.')
  if (!encoded || !signature || extra !== undefined) return null
  const payload = Buffer.from(encoded, 'base64url').toString()
  const match = PAYLOAD.exec(payload)
  if (!match) return null
  if (!sameSecret(signature, mac(secret, `${userId}.${payload}`))) return null
  return { createdAt: Number(match[1]), id: match[2]! }
}
