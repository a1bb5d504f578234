import { describe, expect, test } from 'bun:test'
import { decodeCursor, encodeCursor } from '../../src/pagination'

const secret = crypto.getRandomValues(new Uint8Array(32))
const alice = '01939f2a-0000-7000-8000-00000000000a'
const bob = '01939f2a-0000-7000-8000-00000000000b'
const start = { createdAt: Date.parse('2026-11-30T09:14:03.512Z'), id: '01939f2a-1111-7222-8333-444455556666' }

const flipAt = (text: string, index: number) =>
  text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1)

describe('pagination cursor', () => {
  test('decodes to the page start it was made from', () => {
    const cursor = encodeCursor(secret, alice, start)
    expect(decodeCursor(secret, alice, cursor)).toEqual(start)
  })

  test('is opaque and URL-safe', () => {
    const cursor = encodeCursor(secret, alice, start)
    expect(cursor).toMatch(/^[A-Za-z0-9_.-]+$/)
    expect(cursor).not.toContain(start.id)
  })

  test("another user's cursor is refused", () => {
    expect(decodeCursor(secret, bob, encodeCursor(secret, alice, start))).toBeNull()
  })

  test('a cursor signed with another secret is refused', () => {
    const other = crypto.getRandomValues(new Uint8Array(32))
    expect(decodeCursor(secret, alice, encodeCursor(other, alice, start))).toBeNull()
  })

  test('a cursor whose payload was changed keeps no valid signature', () => {
    const [, signature] = encodeCursor(secret, alice, start).split('.')
    const forged = Buffer.from(`${start.createdAt + 1}.${start.id}`).toString('base64url')
    expect(decodeCursor(secret, alice, `${forged}.${signature}`)).toBeNull()
  })

  test('every single-character change to the signature is refused', () => {
    const cursor = encodeCursor(secret, alice, start)
    for (let index = cursor.indexOf('.') + 1; index < cursor.length; index++) {
      expect(decodeCursor(secret, alice, flipAt(cursor, index))).toBeNull()
    }
  })

  test('a change to the payload is refused unless it decodes to the very same page start', () => {
    const cursor = encodeCursor(secret, alice, start)
    for (let index = 0; index < cursor.indexOf('.'); index++) {
      const decoded = decodeCursor(secret, alice, flipAt(cursor, index))
      // base64url's last character may carry unused bits: changing those changes nothing.
      if (decoded !== null) {
        expect(index).toBe(cursor.indexOf('.') - 1)
        expect(decoded).toEqual(start)
      }
    }
  })

  test.each(['', '.', 'abc', 'abc.def', 'a.b.c', `${encodeCursor(secret, alice, start)}.x`, '😀.😀'])(
    'garbage %p is refused',
    (cursor) => {
      expect(decodeCursor(secret, alice, cursor)).toBeNull()
    },
  )
})
