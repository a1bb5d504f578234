// Request bodies over a real socket, against the compiled binary: any size gets the
// contract's JSON 413, and a client that hangs up mid-body is its own fault, not a 500.
// (The limits themselves, in process: test/http/protocol.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import { binaryInEmptyDir, killServers, signUpAndLogIn, startServer, type Server } from '../support/binary'
import { PASSWORD } from '../support/app'

let server: Server
let bearer: string

beforeAll(async () => {
  const { dir, vai } = binaryInEmptyDir()
  server = await startServer(dir, vai, ['--port', '0', '--host', '127.0.0.1', '--db', 'vai.db', '--metrics'])
  bearer = await signUpAndLogIn(server, 'ada@example.com', PASSWORD)
}, 30_000)

afterAll(() => killServers())

const MIB = 1024 * 1024
const FIVE_MIB = new Uint8Array(5 * MIB).fill(0x20)

/** The same bytes as a stream: sent chunked, with no Content-Length. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const step = 64 * 1024
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.subarray(at, (at += step)))
    },
  })
}

async function healthy() {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })
  expect(me.status).toBe(200)
}

describe('hardening 5: a bare 413', () => {
  test.each([
    ['signup', '/api/v1/auth/signup', false, 'Request body is larger than 65536 bytes (64 KiB)'],
    ['login', '/api/v1/auth/login', false, 'Request body is larger than 65536 bytes (64 KiB)'],
    ['a protected route, with its token', '/api/v1/access-tokens', true, 'Request body is larger than 1048576 bytes (1 MiB)'],
  ])('a 5 MiB body to %s, with Content-Length and chunked → the contract\'s JSON 413; the server goes on', async (_name, path, withToken, detail) => {
    for (const body of [FIVE_MIB, chunked(FIVE_MIB)]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (withToken) headers.authorization = `Bearer ${bearer}`
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body })
      expect(response.status).toBe(413)
      expect(response.headers.get('content-type')).toStartWith('application/json')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(await response.json()).toEqual({ detail })
      await healthy()
    }
  }, 30_000)
})

/** Sends `head` and `bodyPart` on a fresh connection, then closes it without waiting for an answer. */
function hangUpMidBody(head: string, bodyPart: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(server.url).port) }, () => {
      socket.write(head + bodyPart, () => setTimeout(() => socket.end(), 50))
    })
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
}

describe('hardening 8: an aborted body', () => {
  test.each([
    ['login', '/api/v1/auth/login', ''],
    ['a protected route, with its token', '/api/v1/access-tokens', `Authorization: Bearer ${'{token}'}\r\n`],
  ])('Content-Length 100, 10 bytes, then the client hangs up (%s): logged as a 400, no stack, no 500 in the metrics', async (_name, path, auth) => {
    const logged = server.output().length
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${auth.replace('{token}', bearer)}Content-Length: 100\r\n\r\n`
    await hangUpMidBody(head, '{"email":"')
    // The access log is written once the server has given up on the request.
    const deadline = performance.now() + 5000
    while (!server.output().slice(logged).includes(`POST ${path} `) && performance.now() < deadline) await Bun.sleep(20)
    const line = server.output().slice(logged).split('\n').find((entry) => entry.includes(`POST ${path} `))
    expect(line).toMatch(new RegExp(`^\\S+Z POST ${path} 400 `))
    expect(server.errors()).toBe('')
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain(`vai_http_requests_total{method="POST",route="${path}",status="400"}`)
    expect(metrics).not.toMatch(/vai_http_requests_total\{[^}]*status="5\d\d"\}/)
    await healthy()
  }, 30_000)
})
