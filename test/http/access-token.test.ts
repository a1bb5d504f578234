import { beforeAll, describe, expect, test } from 'bun:test'
import { DAY_MS } from '../../src/auth/tokens'
import {
  INVALID_TOKEN, iso, makeApp, seedToken, seedUser, TOKEN_NOT_FOUND, tokenJson, type Seeded, type TestApp,
} from '../support/app'

const PATH = '/api/v1/access-tokens'
const NO_SUCH_ID = '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f'
const UUID_MSG = 'Input should be a valid UUID: 32 hexadecimal digits in the 8-4-4-4-12 form'

const NOT_UUIDS = [
  'xyz',
  '0193f1c27b4a7c3e9d2f1a2b3c4d5e6f',
  '{0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f}',
  'urn:uuid:0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f',
  '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6',
  '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f0',
  '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6g',
  '%200193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f',
]

describe('GET /api/v1/access-tokens/{token_id}', () => {
  let t: TestApp
  let alice: Seeded
  let bob: Seeded
  let api: Awaited<ReturnType<typeof seedToken>>
  let revoked: Awaited<ReturnType<typeof seedToken>>

  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t, { name: 'Alice' })
    bob = await seedUser(t)
    api = await seedToken(t, alice.user.id, { name: 'ci', expiresAt: t.clock.now() + 7 * DAY_MS })
    revoked = await seedToken(t, alice.user.id, { name: 'gone' })
    t.clock.advance(1000)
    await t.store.revokeToken(alice.user.id, revoked.token.id, t.clock.now())
    t.clock.advance(1000)
  })

  const get = (id: string, token = alice.plaintext) => t.get(`${PATH}/${id}`, { token })

  test('one of my tokens → 200 Token', async () => {
    const reply = await get(api.token.id)
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual(tokenJson(api.token))
  })

  test('the current token shows its use at once', async () => {
    const reply = await get(alice.token.id)
    expect(reply.body).toEqual(tokenJson(alice.token, { lastUsedAt: t.clock.now() }))
  })

  test('a revoked token is shown too, with its revokedAt', async () => {
    const reply = await get(revoked.token.id)
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual(tokenJson(revoked.token, { revokedAt: t.clock.now() - 1000 }))
  })

  test('the id is accepted in upper case', async () => {
    const reply = await get(api.token.id.toUpperCase())
    expect(reply.status).toBe(200)
    expect(reply.body.id).toBe(api.token.id)
  })

  test.each([
    ['does not exist', () => NO_SUCH_ID],
    ["is another user's session", () => bob.token.id],
  ])('an id that %s → 404 Token not found', async (_name, id) => {
    const reply = await get(id())
    expect(reply.status).toBe(404)
    expect(reply.body).toEqual(TOKEN_NOT_FOUND)
  })

  test("bob cannot see alice's tokens, revoked or not", async () => {
    for (const id of [alice.token.id, api.token.id, revoked.token.id]) {
      const reply = await get(id, bob.plaintext)
      expect(reply.status).toBe(404)
      expect(reply.body).toEqual(TOKEN_NOT_FOUND)
    }
  })

  test.each(NOT_UUIDS)('token_id %p → 422 uuid_parsing at ["path","token_id"]', async (id) => {
    const reply = await get(id)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['path', 'token_id'], msg: UUID_MSG, type: 'uuid_parsing' }] })
  })
})

describe('DELETE /api/v1/access-tokens/{token_id}', () => {
  let t: TestApp
  let alice: Seeded
  let bob: Seeded

  beforeAll(async () => {
    t = makeApp()
    alice = await seedUser(t)
    bob = await seedUser(t)
  })

  const revoke = (id: string, token = alice.plaintext) => t.del(`${PATH}/${id}`, { token })
  const works = async (plaintext: string) => (await t.get('/api/v1/auth/me', { token: plaintext })).status

  test('204 with an empty body; the token stops working and shows revokedAt', async () => {
    const api = await seedToken(t, alice.user.id)
    t.clock.advance(1000)
    const reply = await revoke(api.token.id)
    expect(reply.status).toBe(204)
    expect(reply.body).toBe('')
    expect(await works(api.plaintext)).toBe(401)
    const shown = await t.get(`${PATH}/${api.token.id}`, { token: alice.plaintext })
    expect(shown.body).toEqual(tokenJson(api.token, { revokedAt: t.clock.now() }))
    expect(await works(alice.plaintext)).toBe(200)
  })

  test('revoking twice is a 204 that keeps the first revokedAt', async () => {
    const api = await seedToken(t, alice.user.id)
    const first = t.clock.now()
    expect((await revoke(api.token.id)).status).toBe(204)
    t.clock.advance(60_000)
    const again = await revoke(api.token.id)
    expect(again.status).toBe(204)
    expect(again.body).toBe('')
    const shown = await t.get(`${PATH}/${api.token.id}`, { token: alice.plaintext })
    expect(shown.body.revokedAt).toBe(iso(first))
  })

  test('the id is accepted in upper case', async () => {
    const api = await seedToken(t, alice.user.id)
    expect((await revoke(api.token.id.toUpperCase())).status).toBe(204)
    expect(await works(api.plaintext)).toBe(401)
  })

  test('revoking the current token is allowed and logs you out', async () => {
    const carol = await seedUser(t)
    const reply = await revoke(carol.token.id, carol.plaintext)
    expect(reply.status).toBe(204)
    const next = await t.get('/api/v1/auth/me', { token: carol.plaintext })
    expect(next.status).toBe(401)
    expect(next.body).toEqual(INVALID_TOKEN)
  })

  test.each([
    ['does not exist', async () => NO_SUCH_ID],
    ["is bob's session", async () => bob.token.id],
    ["is bob's API token", async () => (await seedToken(t, bob.user.id)).token.id],
  ])('an id that %s → 404 Token not found, and nothing changes', async (_name, id) => {
    const reply = await revoke(await id())
    expect(reply.status).toBe(404)
    expect(reply.body).toEqual(TOKEN_NOT_FOUND)
    expect(await works(bob.plaintext)).toBe(200)
  })

  test("bob's revoked token is still a 404 for alice", async () => {
    const old = await seedToken(t, bob.user.id)
    await t.store.revokeToken(bob.user.id, old.token.id, t.clock.now())
    expect((await revoke(old.token.id)).body).toEqual(TOKEN_NOT_FOUND)
  })

  test.each(NOT_UUIDS)('token_id %p → 422 uuid_parsing at ["path","token_id"]', async (id) => {
    const reply = await revoke(id)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['path', 'token_id'], msg: UUID_MSG, type: 'uuid_parsing' }] })
  })
})
