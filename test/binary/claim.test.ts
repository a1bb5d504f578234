// Claiming a fresh install, against the compiled binary: the setup code `serve` prints while
// the database has no account, the same for every instance on it, shown by `vai doctor`,
// needed by a first signup from another machine and gone once an account exists.
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { binaryFixture, call, LAN_ADDRESS, runIn, setupCodeOf, startServer, stopServer } from '../support/binary'

const bin = binaryFixture()

const NOT_CLAIMED = { detail: 'This server is not claimed yet: use the setup code printed at start' }
const PASSWORD = 'correct horse battery'

describe('hardening 6: an unclaimed server on 0.0.0.0', () => {
  test('serve prints a one-time setup code after its start line; a second instance on the database prints the same; doctor shows it', async () => {
    const db = join(bin.dir, 'fresh.db')
    const first = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    const second = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    try {
      const code = await setupCodeOf(first)
      expect(first.output().split('\n').slice(0, 2)).toEqual([first.firstLine, `vai: no account yet — open ${first.url}/?setup=${code} to create the first one`])
      expect(await setupCodeOf(second)).toBe(code)
      const doctor = runIn(bin.dir, bin.vai, ['doctor', '--db', db])
      expect(doctor.code).toBe(0)
      expect(doctor.stdout).toContain(`warn  no account yet: the first signup from another machine needs the setup code ${code} (open /?setup=${code} on the server), or create it with vai user add\n`)
      // The page tells a visitor the server is unclaimed, never the code.
      expect(await (await fetch(`${first.url}/`)).text()).not.toContain(code)
    } finally {
      await Promise.all([stopServer(first), stopServer(second)])
    }
  }, 30_000)

  test.skipIf(!LAN_ADDRESS)('over the network, a first signup from another machine needs the code; once claimed, neither serve nor doctor shows one', async () => {
    const db = join(bin.dir, 'lan.db')
    const server = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '0.0.0.0', '--db', db])
    const code = await setupCodeOf(server)
    const remote = { ...server, url: `http://${LAN_ADDRESS}:${new URL(server.url).port}` }
    try {
      const refused = await call(remote, 'POST', '/api/v1/auth/signup', { body: { email: 'ada@example.com', password: PASSWORD } })
      expect(refused.status).toBe(403)
      expect(refused.body).toEqual(NOT_CLAIMED)
      const claimed = await call(remote, 'POST', '/api/v1/auth/signup', { body: { email: 'ada@example.com', password: PASSWORD, setupCode: code } })
      expect(claimed.status).toBe(201)
    } finally {
      await stopServer(server)
    }
    const again = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    await stopServer(again)
    expect(again.output()).not.toContain('no account yet')
    expect(runIn(bin.dir, bin.vai, ['doctor', '--db', db]).stdout).not.toContain('no account yet')
  }, 30_000)

  test('vai user add needs no code, and ends it', async () => {
    const db = join(bin.dir, 'added.db')
    const server = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    await setupCodeOf(server)
    await stopServer(server)
    expect(runIn(bin.dir, bin.vai, ['user', 'add', '--email', 'ada@example.com', '--db', db], { stdin: `${PASSWORD}\n` }).code).toBe(0)
    const doctor = runIn(bin.dir, bin.vai, ['doctor', '--db', db])
    expect(doctor.stdout).not.toContain('setup code')
    const again = await startServer(bin.dir, bin.vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    await stopServer(again)
    expect(again.output()).not.toContain('no account yet')
  }, 30_000)

  test('doctor before any serve: no account and no code yet, and says where one comes from', () => {
    const db = join(bin.dir, 'unserved.db')
    expect(runIn(bin.dir, bin.vai, ['migrate', '--db', db]).code).toBe(0)
    expect(runIn(bin.dir, bin.vai, ['doctor', '--db', db]).stdout).toContain('warn  no account yet, and no setup code: vai serve makes one at start (or create the first account with vai user add)\n')
  })
})
