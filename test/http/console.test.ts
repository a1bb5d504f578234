// The web console's files, in-process: what the page is told about the server, and that
// its script and styles are separate files (a strict Content-Security-Policy allows no inline ones).
import { describe, expect, test } from 'bun:test'
import { makeApp, seedUser } from '../support/app'

describe('GET /', () => {
  test.each([
    ['a fresh server invites the first account', { signup: 'closed' as const }, false, 'data-signup="closed" data-first-run="true" data-max-token-days="" data-cookie-domain=""'],
    ['then signup is as configured', { signup: 'closed' as const }, true, 'data-signup="closed" data-first-run="false" data-max-token-days="" data-cookie-domain=""'],
    ['an open server says so', { signup: 'open' as const }, true, 'data-signup="open" data-first-run="false" data-max-token-days="" data-cookie-domain=""'],
    ['the token-lifetime cap reaches the expiry choices', { signup: 'open' as const, maxTokenDays: 90 }, true, 'data-signup="open" data-first-run="false" data-max-token-days="90" data-cookie-domain=""'],
    ['the cookie domain, for ?rd=', { signup: 'open' as const, cookieDomain: 'example.com' }, true, 'data-signup="open" data-first-run="false" data-max-token-days="" data-cookie-domain="example.com"'],
  ])('%s', async (_, config, withUser, attributes) => {
    const t = makeApp(config)
    if (withUser) await seedUser(t)
    const reply = await t.get('/')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect(reply.body).toContain(`<html lang="en" ${attributes}>`)
  })

  test('no inline script, style or event handler', async () => {
    const { body } = await makeApp().get('/')
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(body).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i)
  })
})

describe('console assets', () => {
  test.each([
    ['/console/console.js', 'text/javascript; charset=utf-8', "from './forms.js'"],
    ['/console/api.js', 'text/javascript; charset=utf-8', 'export async function api'],
    ['/console/forms.js', 'text/javascript; charset=utf-8', 'export function showFormError'],
    ['/console/pages.js', 'text/javascript; charset=utf-8', 'export class PagedList'],
    ['/console/activity.js', 'text/javascript; charset=utf-8', 'export class Activity'],
    ['/console/messages.js', 'text/javascript; charset=utf-8', 'export function plainWords'],
    ['/console/return-to.js', 'text/javascript; charset=utf-8', 'export function returnTo'],
    ['/console/console.css', 'text/css; charset=utf-8', 'prefers-color-scheme: dark'],
    ['/console/icon.svg', 'image/svg+xml', '<svg'],
  ])('%s is served as %s', async (path, type, content) => {
    const reply = await makeApp().get(path)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toBe(type)
    expect(reply.body).toContain(content)
  })

  test('the console is not part of the API document', async () => {
    const { body } = await makeApp().get('/swagger/json')
    expect(Object.keys(body.paths).filter((path) => !path.startsWith('/api/v1') && path !== '/healthz')).toEqual([])
  })
})
