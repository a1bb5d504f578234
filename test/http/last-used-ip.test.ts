// lastUsedIp: the client address of a token's last use, coalesced like lastUsedAt. The
// address comes from the socket, so this app listens on loopback for real (IPv4, IPv6,
// and IPv4 through a dual-stack socket).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { basicAuthorization, makeApp, seedToken, seedUser, type Seeded } from '../support/app'

const t = makeApp()
let ada: Seeded
let port: number

beforeAll(async () => {
  ada = await seedUser(t)
  // Dual-stack: IPv6 clients as they are, IPv4 ones as ::ffff:a.b.c.d, which vai writes dotted.
  t.app.listen({ hostname: '::', port: 0 })
  port = t.app.server!.port!
})
afterAll(() => t.app.stop())

const via = async (host: '127.0.0.1' | '[::1]', path: string, init: RequestInit = {}) => {
  const response = await fetch(`http://${host}:${port}${path}`, init)
  return { json: async () => (await response.json()) as any }
}
const bearer = (plaintext: string) => ({ authorization: `Bearer ${plaintext}` })
const stored = async (id: string) => (await t.row('tokens', id))!

describe('lastUsedIp', () => {
  test('null before the first use', async () => {
    const fresh = await seedToken(t, ada.user.id)
    const reply = await via('127.0.0.1', `/api/v1/access-tokens/${fresh.token.id}`, { headers: bearer(ada.plaintext) })
    expect((await reply.json()).lastUsedIp).toBeNull()
  })

  test.each([
    ['an IPv4 client, through a dual-stack socket: dotted, never ::ffff:', '127.0.0.1', '127.0.0.1'],
    ['an IPv6 client: compressed, lower case', '[::1]', '::1'],
  ] as const)('%s → %s, shown at once and written at the flush', async (_name, host, address) => {
    const token = await seedToken(t, ada.user.id)
    const reply = await via(host, '/api/v1/auth/me', { headers: bearer(token.plaintext) })
    expect((await reply.json()).token.lastUsedIp).toBe(address)
    const listed = await via(host, `/api/v1/access-tokens/${token.token.id}`, { headers: bearer(ada.plaintext) })
    expect((await listed.json()).lastUsedIp).toBe(address)
    expect((await stored(token.token.id)).last_used_ip).toBeNull()
    await t.store.flushTouches()
    expect((await stored(token.token.id)).last_used_ip).toBe(address)
  })

  test('the last use wins: a later one from another address replaces it', async () => {
    const token = await seedToken(t, ada.user.id)
    await via('[::1]', '/api/v1/auth/verify', { headers: bearer(token.plaintext) })
    t.clock.advance(1000)
    await via('127.0.0.1', '/api/v1/auth/verify', { method: 'POST', headers: { authorization: basicAuthorization(token.plaintext) } })
    await t.store.flushTouches()
    expect(await stored(token.token.id)).toMatchObject({ last_used_at: t.clock.now(), last_used_ip: '127.0.0.1' })
  })

  test('an introspection is a use of the token asked about, but from the service: its lastUsedIp stays', async () => {
    const service = await seedToken(t, ada.user.id, { name: 'gateway', scopes: ['introspect'] })
    const asked = await seedToken(t, ada.user.id, { name: 'asked' })
    await via('[::1]', '/api/v1/auth/me', { headers: bearer(asked.plaintext) })
    await t.store.flushTouches()
    t.clock.advance(1000)
    const reply = await via('127.0.0.1', '/api/v1/auth/introspect', {
      method: 'POST',
      headers: { ...bearer(service.plaintext), 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${asked.plaintext}`,
    })
    expect((await reply.json()).active).toBe(true)
    // Pending, then written: the time moved, the address did not; the service's own token was used from its address.
    expect(await t.store.getToken(ada.user.id, asked.token.id)).toMatchObject({ lastUsedAt: t.clock.now(), lastUsedIp: '::1' })
    await t.store.flushTouches()
    expect(await stored(asked.token.id)).toMatchObject({ last_used_at: t.clock.now(), last_used_ip: '::1' })
    expect(await stored(service.token.id)).toMatchObject({ last_used_at: t.clock.now(), last_used_ip: '127.0.0.1' })
  })
})
