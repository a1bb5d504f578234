// Security headers on every response vai renders: successes, errors, 404s, preflights,
// assets; a strict CSP for its HTML pages, which therefore carry no inline script or style.
import { beforeAll, describe, expect, test } from 'bun:test'
import { PAGE_CSP } from '../../src/http/security'
import { BASE, brokenAppFixture, makeApp, seedUser, type Reply, type Seeded, type TestApp } from '../support/app'

const DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
const MIB = 1024 * 1024

let t: TestApp
let alice: Seeded
beforeAll(async () => {
  t = makeApp({ metrics: true })
  alice = await seedUser(t)
})

function expectSecurityHeaders(reply: Reply) {
  expect(reply.headers.get('x-content-type-options')).toBe('nosniff')
  expect(reply.headers.get('referrer-policy')).toBe('same-origin')
  expect(reply.headers.get('x-frame-options')).toBe('DENY')
  expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
}

describe('every response', () => {
  const token = () => alice.plaintext
  const CASES: [name: string, send: () => Promise<Reply>, status: number][] = [
    ['GET /healthz', () => t.get('/healthz'), 200],
    ['GET /api/v1/auth/me', () => t.get('/api/v1/auth/me', { token: token() }), 200],
    ['HEAD /api/v1/auth/me', () => t.request('HEAD', '/api/v1/auth/me', { token: token() }), 200],
    ['POST /api/v1/access-tokens', () => t.post('/api/v1/access-tokens', { token: token(), body: { name: 'h' } }), 201],
    ['OPTIONS /healthz', () => t.request('OPTIONS', '/healthz'), 204],
    ['no token', () => t.get('/api/v1/auth/me'), 401],
    ['a bad token', () => t.get('/api/v1/auth/me', { token: 'vai_nope' }), 401],
    ['a wrong password', () => t.post('/api/v1/auth/login', { body: { email: alice.email, password: 'wrong password' } }), 401],
    ['a cross-site change', () => t.post('/api/v1/auth/logout', { token: token(), via: 'cookie', headers: { 'sec-fetch-site': 'cross-site' } }), 403],
    ['an unknown token id', () => t.get('/api/v1/access-tokens/0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f', { token: token() }), 404],
    ['an unknown route', () => t.get('/nope'), 404],
    ['a wrong method', () => t.request('PUT', '/healthz'), 405],
    ['a body over 1 MiB', () => t.post('/api/v1/auth/login', { body: { email: 'a@b.c', password: 'x'.repeat(MIB) } }), 413],
    ['a validation error', () => t.get('/api/v1/access-tokens?limit=0', { token: token() }), 422],
    ['the OpenAPI document', () => t.get('/swagger/json'), 200],
    ['a Swagger UI script', () => t.get('/swagger/assets/swagger-init.js'), 200],
    ['metrics', () => t.get('/metrics'), 200],
  ]

  test.each(CASES)('%s: nosniff, Referrer-Policy, X-Frame-Options, CSP that runs and frames nothing', async (_name, send, status) => {
    const reply = await send()
    expect(reply.status).toBe(status)
    expectSecurityHeaders(reply)
    expect(reply.headers.get('content-security-policy')).toBe(DATA_CSP)
  })

  describe('a bug', () => {
    const broken = brokenAppFixture()

    test('a 500 carries them too', async () => {
      const reply = await broken.app.get('/api/v1/auth/me', { token: broken.session.plaintext })
      expect(reply.status).toBe(500)
      expectSecurityHeaders(reply)
    })
  })
})

describe('HTML pages', () => {
  // The console at / is another developer's page; it is checked here once it exists.
  const pages = ['/swagger', '/']

  test.each(pages)('%s has the page CSP: only its own scripts, styles and fetches, nothing inline, no framing', async (path) => {
    const reply = await t.get(path)
    if (path === '/' && !(reply.headers.get('content-type') ?? '').startsWith('text/html')) return
    expect(reply.status).toBe(200)
    expectSecurityHeaders(reply)
    const csp = reply.headers.get('content-security-policy')!
    expect(csp).toBe(PAGE_CSP)
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
  })

  test.each(pages)('%s holds no inline script, event handler or style the CSP would block', async (path) => {
    const reply = await t.get(path)
    if (path === '/' && !(reply.headers.get('content-type') ?? '').startsWith('text/html')) return
    const html: string = reply.body
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/[^/]/)
      expect(body!.trim()).toBe('')
    }
    expect(html).not.toMatch(/<style\b/i)
    expect(html).not.toMatch(/\sstyle="/i)
    expect(html).not.toMatch(/\son[a-z]+="/i)
    expect(html).not.toMatch(/javascript:/i)
  })

  test('every script and stylesheet the Swagger page loads is served by vai', async () => {
    const html: string = (await t.get('/swagger')).body
    const urls = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!)
    expect(urls.length).toBe(3)
    for (const url of urls) expect((await t.app.handle(new Request(`${BASE}${url}`))).status).toBe(200)
  })
})
