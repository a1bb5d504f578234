// Swagger UI in a real browser that may reach nothing but vai: the page must render every
// operation, and Authorize + "Try it out" must work with each of the three carriers, and
// with Basic (the token as the password) on verify.
// Skips where there is no Chromium (CI installs Debian's).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser'
import { makeApp, PASSWORD } from '../support/app'

// A name that is not loopback, so the page is a plain-HTTP origin like a server on a LAN,
// where the browser refuses the Secure cookie Swagger UI would set on its own.
const HOST = 'vai.test'
const EMAIL = 'ada@example.com'

describe.skipIf(!existsSync(CHROMIUM))('Swagger UI with no network', () => {
  const { app } = makeApp()
  let origin: string
  let plaintext: string
  let profile: string
  let context: BrowserContext
  let page: Page
  const refused: string[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    app.listen({ port: 0, hostname: '127.0.0.1' })
    const port = app.server!.port
    origin = `http://${HOST}:${port}`
    const local = `http://127.0.0.1:${port}`
    const post = (path: string, body: unknown) =>
      fetch(`${local}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect((await post('/api/v1/auth/signup', { email: EMAIL, password: PASSWORD })).status).toBe(201)
    const login = await post('/api/v1/auth/login', { email: EMAIL, password: PASSWORD })
    plaintext = ((await login.json()) as { plaintext: string }).plaintext

    profile = mkdtempSync(join(tmpdir(), 'vai-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    })
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (url.protocol === 'data:' || url.hostname === HOST) return route.continue()
      refused.push(url.href)
      return route.abort()
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (error) => pageErrors.push(String(error)))
  }, 20_000)

  afterAll(async () => {
    await context?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
    await app.stop()
  })

  test('renders every documented operation, needing nothing from another host', async () => {
    await page.goto(`${origin}/swagger`)
    await page.waitForSelector('.opblock-summary', { timeout: 10_000 })
    const rendered = await page.locator('.opblock-summary-path').evaluateAll((paths) => paths.map((p) => p.getAttribute('data-path')))
    const spec = (await (await fetch(`http://127.0.0.1:${app.server!.port}/swagger/json`)).json()) as { paths: Record<string, object> }
    const documented = Object.entries(spec.paths).flatMap(([path, item]) => Object.keys(item).map(() => path))
    expect(rendered.sort()).toEqual(documented.sort())
    expect(refused).toEqual([])
    expect(pageErrors).toEqual([])
  }, 15_000)

  // What reached the server for each scheme: that carrier and no other.
  const carriers = (headers: Record<string, string>) => ({ authorization: headers.authorization, 'x-api-key': headers['x-api-key'], cookie: headers.cookie })
  const NONE = { authorization: undefined, 'x-api-key': undefined, cookie: undefined }

  /** Opens the operation with "Try it out", authorizes `scheme` with what `fill` types, executes, and answers the headers sent. */
  async function tryItOut(operationId: string, path: string, scheme: string, fill: (form: ReturnType<Page['locator']>) => Promise<void>) {
    const operation = page.locator(`#operations-${operationId}`)
    if (!(await operation.locator('button.execute').isVisible())) {
      await operation.locator('.opblock-summary').click()
      await operation.locator('button.try-out__btn').click()
    }

    await page.click('.auth-wrapper button.authorize')
    const form = page.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) })
    await fill(form)
    await form.locator('button.authorize').click()
    await page.click('button.close-modal')

    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === path)
    await operation.locator('button.execute').click()
    const headers = await (await sent).allHeaders()
    const status = operation.locator('.live-responses-table tbody .response-col_status').first()
    await status.waitFor({ timeout: 5_000 })
    expect((await status.textContent())?.trim()).toBe('200')
    expect(await operation.locator('.live-responses-table .response-col_description pre').first().textContent()).toContain(EMAIL)

    // Back to no credential for the next scheme.
    await page.click('.auth-wrapper button.authorize')
    const logout = page.locator('.auth-container button', { hasText: 'Logout' })
    while ((await logout.count()) > 0) await logout.first().click()
    await page.click('button.close-modal')
    await context.clearCookies()
    expect(refused).toEqual([])
    return carriers(headers)
  }

  test.each([
    ['bearer', (token: string) => ({ authorization: `Bearer ${token}` })],
    ['apiKey', (token: string) => ({ 'x-api-key': token })],
    ['cookie', (token: string) => ({ cookie: `vai_token=${token}` })],
  ])('Authorize with %s, then Try it out on GET /api/v1/auth/me', async (scheme, carrier) => {
    const sent = await tryItOut('Accounts-me', '/api/v1/auth/me', scheme, (form) => form.locator('input').fill(plaintext))
    expect(sent).toEqual({ ...NONE, ...carrier(plaintext) })
  }, 15_000)

  test('Authorize with Basic (any user name, the token as the password), then Try it out on GET /api/v1/auth/verify', async () => {
    const sent = await tryItOut('Verification-verifyGet', '/api/v1/auth/verify', 'basic', async (form) => {
      await form.locator('input[type=text]').fill('grafana')
      await form.locator('input[type=password]').fill(plaintext)
    })
    expect(sent).toEqual({ ...NONE, authorization: `Basic ${btoa(`grafana:${plaintext}`)}` })
  }, 15_000)
})
