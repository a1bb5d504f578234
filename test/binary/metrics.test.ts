// dist/vai's /metrics: the gauges it reads from the database are counted by main.ts, at
// start and then on a timer, never by a scrape.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { binaryInEmptyDir, call, killServers, signUpAndLogIn, startServer, stopServer } from '../support/binary'

let dir: string
let vai: string

beforeAll(() => ({ dir, vai } = binaryInEmptyDir()), 60_000)
afterAll(() => {
  killServers()
  rmSync(dir, { recursive: true, force: true })
})

describe('hardening 9: /metrics', () => {
  test('the first scrape finds the active tokens counted at start', async () => {
    const db = join(dir, 'metrics.db')
    const first = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    const session = await signUpAndLogIn(first, 'metrics@example.com', 'correct horse battery')
    await call(first, 'POST', '/api/v1/access-tokens', { token: session, body: { name: 'ci' } })
    await stopServer(first)

    const second = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--metrics'])
    const scraped = (await call(second, 'GET', '/metrics')).body as string
    expect(scraped.split('\n').filter((line) => line.startsWith('vai_active_tokens{'))).toEqual([
      'vai_active_tokens{type="session"} 1',
      'vai_active_tokens{type="api"} 1',
    ])
    expect(scraped).toMatch(/^vai_database_size_bytes [1-9]\d*$/m)
    await stopServer(second)
    expect(second.errors()).toBe('')
  }, 30_000)
})
