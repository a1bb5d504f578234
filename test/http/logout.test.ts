import { describe, expect, test } from 'bun:test'
import { INVALID_TOKEN, iso, makeApp, seedToken, seedUser } from '../support/app'

const PATH = '/api/v1/auth/logout'
const CLEARED = 'vai_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0'

describe('POST /api/v1/auth/logout', () => {
  test('204, empty body, the cookie cleared; the session is revoked and stops working', async () => {
    const t = makeApp()
    const ada = await seedUser(t)
    const other = await seedToken(t, ada.user.id, { tokenType: 'session' })
    t.clock.advance(1000)
    const reply = await t.post(PATH, { token: ada.plaintext, via: 'cookie' })
    expect(reply.status).toBe(204)
    expect(reply.body).toBe('')
    expect(reply.headers.get('set-cookie')).toBe(CLEARED)
    const after = await t.get('/api/v1/auth/me', { token: ada.plaintext, via: 'cookie' })
    expect(after.status).toBe(401)
    expect(after.body).toEqual(INVALID_TOKEN)
    // Only the current token: the user's other session still works and sees the revocation.
    const shown = await t.get(`/api/v1/access-tokens/${ada.token.id}`, { token: other.plaintext })
    expect(shown.body.revokedAt).toBe(iso(t.clock.now()))
  })

  test('logging out with an API token revokes that token', async () => {
    const t = makeApp()
    const ada = await seedUser(t)
    const api = await seedToken(t, ada.user.id)
    expect((await t.post(PATH, { token: api.plaintext, via: 'apiKey' })).status).toBe(204)
    expect((await t.get('/api/v1/auth/me', { token: api.plaintext, via: 'apiKey' })).status).toBe(401)
    expect((await t.get('/api/v1/auth/me', { token: ada.plaintext })).status).toBe(200)
  })

  test('a second logout with the same token is a 401', async () => {
    const t = makeApp()
    const ada = await seedUser(t)
    await t.post(PATH, { token: ada.plaintext })
    const again = await t.post(PATH, { token: ada.plaintext })
    expect(again.status).toBe(401)
    expect(again.body).toEqual(INVALID_TOKEN)
  })

  test('a body, if any, is ignored', async () => {
    const t = makeApp()
    const ada = await seedUser(t)
    expect((await t.post(PATH, { token: ada.plaintext, body: { everywhere: true } })).status).toBe(204)
  })

  test.each([
    ['auto', 'http://localhost', {}, false],
    ['auto', 'https://localhost', {}, true],
    ['auto', 'http://localhost', { 'x-forwarded-proto': 'https' }, true],
    // A proxy that appends leaves the client's claim first, its own last: its own counts.
    ['auto', 'http://localhost', { 'x-forwarded-proto': 'https, http' }, false],
    ['auto', 'http://localhost', { 'x-forwarded-proto': 'http, HTTPS' }, true],
    ['auto', 'http://localhost', { 'x-forwarded-proto': 'http' }, false],
    ['true', 'http://localhost', {}, true],
    ['true', 'https://localhost', {}, true],
    ['false', 'https://localhost', {}, false],
    ['false', 'http://localhost', { 'x-forwarded-proto': 'https' }, false],
  ] as const)('--cookie-secure %s, %s %p → Secure: %p', async (cookieSecure, origin, headers, secure) => {
    const t = makeApp({ cookieSecure })
    const ada = await seedUser(t)
    const reply = await t.post(PATH, { token: ada.plaintext, headers, origin })
    expect(reply.status).toBe(204)
    expect(reply.headers.get('set-cookie')).toBe(`${CLEARED}${secure ? '; Secure' : ''}`)
  })
})
