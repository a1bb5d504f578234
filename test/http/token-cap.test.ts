// POST /api/v1/access-tokens past the cap on active API tokens per user (--max-active-tokens).
import { describe, expect, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import { loadConfig, UsageError } from '../../src/config'
import { login, makeApp, seedToken, seedUser, type TestApp } from '../support/app'

const create = (t: TestApp, token: string, body: object = { name: 'ci' }) => t.post('/api/v1/access-tokens', { token, body })
const TOO_MANY = (limit: number) => ({ detail: `Too many active tokens: revoke some first (at most ${limit})` })

describe('hardening 10: at most --max-active-tokens active API tokens per user', () => {
  test('10000 by default, from the flag or its twin; 1 to 1000000', () => {
    expect(loadConfig([], {}).maxActiveTokens).toBe(10_000)
    expect(loadConfig(['--max-active-tokens', '50'], { VAI_MAX_ACTIVE_TOKENS: '7' }).maxActiveTokens).toBe(50)
    expect(loadConfig([], { VAI_MAX_ACTIVE_TOKENS: '7' }).maxActiveTokens).toBe(7)
    expect(() => loadConfig(['--max-active-tokens', '0'], {})).toThrow(new UsageError("invalid --max-active-tokens '0': expected a whole number of tokens from 1 to 1000000"))
  })

  test('one more than the cap is a 409 that says the cap, and creates nothing', async () => {
    const t = makeApp({ maxActiveTokens: 3 })
    const ada = await seedUser(t)
    for (let i = 0; i < 3; i++) expect((await create(t, ada.plaintext)).status).toBe(201)
    const before = await t.rows('tokens')
    const refused = await create(t, ada.plaintext)
    expect([refused.status, refused.body, refused.headers.get('content-type')]).toEqual([409, TOO_MANY(3), 'application/json;charset=utf-8'])
    expect(await t.rows('tokens')).toEqual(before)
  })

  test('revoked and expired tokens, sessions and other users\' tokens do not count; a login at the cap is never refused', async () => {
    const t = makeApp({ maxActiveTokens: 2 })
    const ada = await seedUser(t)
    const bob = await seedUser(t)
    await seedToken(t, bob.user.id)
    await seedToken(t, bob.user.id)
    await seedToken(t, ada.user.id, { expiresAt: t.clock.now() + DAY_MS })
    const kept = await create(t, ada.plaintext)
    expect(kept.status).toBe(201)
    expect((await create(t, ada.plaintext)).body).toEqual(TOO_MANY(2))
    // Sessions are not API tokens: logging in at the cap works, and adds none to it.
    await login(t, ada.email)
    expect((await create(t, ada.plaintext)).status).toBe(409)
    // One that expires makes room, as does one revoked.
    t.clock.advance(DAY_MS)
    expect((await create(t, ada.plaintext)).status).toBe(201)
    expect((await t.del(`/api/v1/access-tokens/${kept.body.token.id}`, { token: ada.plaintext })).status).toBe(204)
    expect((await create(t, ada.plaintext)).status).toBe(201)
    expect((await create(t, ada.plaintext)).status).toBe(409)
  })

  test('concurrent creates never pass the cap together', async () => {
    const t = makeApp({ maxActiveTokens: 5 })
    const ada = await seedUser(t)
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => create(t, ada.plaintext, { name: `c${i}` }).then((reply) => reply.status)))
    expect(statuses.filter((status) => status === 201).length).toBe(5)
    expect(statuses.filter((status) => status === 409).length).toBe(15)
    const listed = await t.get('/api/v1/access-tokens?tokenType=api&limit=50', { token: ada.plaintext })
    expect(listed.body.items.length).toBe(5)
  })
})
