// SIGTERM under load: every request answered before the signal is still true
// after a restart, and the process exits 0 promptly. On the suite's backend.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_POSTGRES } from '../support/app'
import { binaryInEmptyDir, killServers, startServer } from '../support/binary'
import { testDatabases } from '../support/postgres'

let dir: string
let vai: string

beforeAll(() => ({ dir, vai } = binaryInEmptyDir()), 60_000)
const databases = testDatabases('lifecycle')
afterAll(async () => {
  killServers()
  if (TEST_POSTGRES) await databases.dropAll()
  rmSync(dir, { recursive: true, force: true })
})

const start = (db: string) => startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])

test('SIGTERM under load loses nothing that was acknowledged', async () => {
  const db = TEST_POSTGRES ? await databases.create() : join(dir, 'load.db')
  const first = await start(db)
  const json = { 'content-type': 'application/json' }
  const credentials = JSON.stringify({ email: 'load@example.com', password: 'correct horse' })
  await fetch(`${first.url}/api/v1/auth/signup`, { method: 'POST', headers: json, body: credentials })
  const session = (await (await fetch(`${first.url}/api/v1/auth/login`, { method: 'POST', headers: json, body: credentials })).json()) as { plaintext: string }
  const auth = { ...json, authorization: `Bearer ${session.plaintext}` }

  const created: { id: string; plaintext: string }[] = []
  const revoked: string[] = []
  let stop = false
  const worker = async (n: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const response = await fetch(`${first.url}/api/v1/access-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `w${n}-${i}` }) })
        if (response.status !== 201) continue
        const body = (await response.json()) as { plaintext: string; token: { id: string } }
        created.push({ id: body.token.id, plaintext: body.plaintext })
        if (i % 2 === 0) {
          const revoke = await fetch(`${first.url}/api/v1/access-tokens/${body.token.id}`, { method: 'DELETE', headers: auth })
          if (revoke.status === 204) revoked.push(body.token.id)
        }
      } catch {
        return // the server stopped accepting
      }
    }
  }
  const workers = Array.from({ length: 8 }, (_, n) => worker(n))
  await Bun.sleep(400)
  first.proc.kill('SIGTERM')
  const signalled = performance.now()
  const code = await first.proc.exited
  const stoppedIn = performance.now() - signalled
  stop = true
  await Promise.all(workers)
  expect(code).toBe(0)
  expect(stoppedIn).toBeLessThan(5000)
  expect(created.length).toBeGreaterThan(20)

  const second = await start(db)
  try {
    const revokedSet = new Set(revoked)
    for (const { id, plaintext } of created) {
      const response = await fetch(`${second.url}/api/v1/access-tokens/${id}`, { headers: { authorization: `Bearer ${session.plaintext}` } })
      expect(response.status).toBe(200)
      const token = (await response.json()) as { revokedAt: string | null }
      expect(token.revokedAt !== null).toBe(revokedSet.has(id))
      // An unrevoked token still authenticates; a revoked one never does.
      const me = await fetch(`${second.url}/api/v1/auth/me`, { headers: { 'x-api-key': plaintext } })
      expect(me.status).toBe(revokedSet.has(id) ? 401 : 200)
    }
    console.log(`lifecycle: ${created.length} creates and ${revoked.length} revokes acknowledged before SIGTERM, all found after restart; stopped in ${Math.round(stoppedIn)} ms`)
  } finally {
    second.proc.kill('SIGTERM')
    await second.proc.exited
  }
}, 60_000)
