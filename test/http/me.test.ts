import { beforeAll, describe, expect, test } from 'bun:test'
import { makeApp, seedToken, seedUser, tokenJson, userJson, type Seeded, type TestApp } from '../support/app'

const PATH = '/api/v1/auth/me'

describe('GET /api/v1/auth/me', () => {
  let t: TestApp
  let ada: Seeded

  beforeAll(async () => {
    t = makeApp()
    ada = await seedUser(t, { name: 'Ada' })
    t.clock.advance(5000)
  })

  const lastUsed = async (id: string) => (await t.row('tokens', id))!.last_used_at

  test('200 → the user and the current token, its use shown at once', async () => {
    const reply = await t.get(PATH, { token: ada.plaintext })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ user: userJson(ada.user), token: tokenJson(ada.token, { lastUsedAt: t.clock.now() }) })
    expect(reply.body.user).toEqual({ id: ada.user.id, email: ada.email, name: 'Ada', createdAt: '2026-11-30T09:14:03.512Z' })
  })

  test.each(['bearer', 'apiKey', 'cookie'] as const)('the current token is whichever authenticated the request (%s)', async (via) => {
    const api = await seedToken(t, ada.user.id, { name: via })
    const reply = await t.get(PATH, { token: api.plaintext, via })
    expect(reply.body.token).toEqual(tokenJson(api.token, { lastUsedAt: t.clock.now() }))
  })

  test('lastUsedAt is coalesced: shown at once, written at the next flush', async () => {
    const api = await seedToken(t, ada.user.id)
    expect(await lastUsed(api.token.id)).toBeNull()
    await t.get(PATH, { token: api.plaintext })
    const firstUse = t.clock.now()
    expect(await lastUsed(api.token.id)).toBeNull()
    await t.store.flushTouches()
    expect(await lastUsed(api.token.id)).toBe(firstUse)

    t.clock.advance(30_000)
    await t.get(PATH, { token: api.plaintext })
    t.clock.advance(30_000)
    const reply = await t.get(PATH, { token: api.plaintext })
    expect(reply.body.token.lastUsedAt).toBe(new Date(t.clock.now()).toISOString())
    // Another token's listing sees the newest use before the flush, too.
    const listed = await t.get(`/api/v1/access-tokens/${api.token.id}`, { token: ada.plaintext })
    expect(listed.body.lastUsedAt).toBe(new Date(t.clock.now()).toISOString())
    await t.store.flushTouches()
    expect(await lastUsed(api.token.id)).toBe(t.clock.now())
  })

  test('a user with no name has name null', async () => {
    const nameless = await seedUser(t)
    const reply = await t.get(PATH, { token: nameless.plaintext })
    expect(reply.body.user).toEqual({ ...userJson(nameless.user), name: null })
  })

  test('a query string is ignored', async () => {
    expect((await t.get(`${PATH}?verbose=1`, { token: ada.plaintext })).status).toBe(200)
  })
})
