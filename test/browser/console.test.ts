// The web console in a real browser, against the compiled binary, with every request to
// another host refused: first-run signup, sign in, create a token and use it, revoke it,
// page through the lists, sign out everywhere else, a 401 back to sign-in, sign out.
// Each page is checked at desktop and phone width (no sideways scrolling, every control
// named); VAI_SCREENSHOTS=1 also writes them to docs/screenshots/ for the README.
// Skips where there is no Chromium (CI installs Debian's).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser'
import { TEST_POSTGRES } from '../support/app'
import { binaryInEmptyDir, killServers, LAN_ADDRESS, setupCodeOf, signUpAndLogIn, startServer, type Server } from '../support/binary'
import { testDatabases } from '../support/postgres'

const SCREENSHOTS = process.env.VAI_SCREENSHOTS === '1' ? join(import.meta.dir, '../../docs/screenshots') : null
const EMAIL = 'ada@example.com'
const PASSWORD = 'correct horse battery'
// What the page must live with; the server's own policy wins where it sends one.
const STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } }

if (!existsSync(CHROMIUM)) console.warn(`console.test.ts: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does)`)

describe.skipIf(!existsSync(CHROMIUM))('web console', () => {
  let dir: string
  let server: Server
  let profile: string
  let context: BrowserContext
  let page: Page
  const refused: string[] = []
  const problems: string[] = []

  const api = (path: string, init: RequestInit = {}) => fetch(server.url + path, init)
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  /** A session of our own, as another device would have. */
  const loginElsewhere = async (name: string) => {
    const response = await post('/api/v1/auth/login', { email: EMAIL, password: PASSWORD, name })
    expect(response.status).toBe(200)
    return ((await response.json()) as { plaintext: string }).plaintext
  }
  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true })
  /** Fills in the sign-in form and sends it. */
  const signIn = async (email: string, password: string) => {
    await page.fill('#signin-email', email)
    await page.fill('#signin-password', password)
    await page.click('#signin-form button[type=submit]')
  }
  /** Signs in as Ada and waits for her lists, this browser's session among them. */
  const signInAsAda = async () => {
    await signIn(EMAIL, PASSWORD)
    await page.locator('#session-list tbody tr.current').waitFor()
  }

  /** Waits until the element says exactly `text` (a message appears once its request is answered). */
  const shows = (selector: string, text: string) =>
    page.locator(selector, { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor({ timeout: 5_000 })

  /**
   * Waits until `selector` matches exactly `count` elements. The two lists load side by side,
   * so one being drawn says nothing of the other: a bare `count()` would race.
   */
  async function hasCount(selector: string, count: number) {
    const deadline = Date.now() + 5_000
    let seen = await page.locator(selector).count()
    while (seen !== count && Date.now() < deadline) {
      await Bun.sleep(25)
      seen = await page.locator(selector).count()
    }
    expect({ selector, count: seen }).toEqual({ selector, count })
  }

  /**
   * The page as it stands, at both widths: nothing scrolls sideways, every visible control
   * has a name a screen reader can say; with VAI_SCREENSHOTS=1, a PNG of each.
   */
  async function atEveryWidth(name: string, options: { dark?: boolean; fullPage?: boolean } = {}) {
    if (options.dark) await page.emulateMedia({ colorScheme: 'dark' })
    for (const [width, size] of Object.entries(WIDTHS)) {
      await page.setViewportSize(size)
      // Runs in the page; the tests are type-checked without the DOM library, hence `any`.
      const { overflow, unnamed }: { overflow: number; unnamed: string[] } = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any
        const visible = (el: any) => el.offsetParent !== null || el.closest('dialog[open]') !== null
        const named = (el: any) =>
          Boolean(el.getAttribute('aria-label')?.trim()) ||
          (['INPUT', 'SELECT'].includes(el.tagName) && el.labels?.length > 0) ||
          (el.tagName !== 'INPUT' && Boolean(el.textContent?.trim()))
        return {
          overflow: document.documentElement.scrollWidth - innerWidth,
          unnamed: [...document.querySelectorAll('input, select, button, a[href]')].filter(visible).filter((el) => !named(el)).map((el) => el.outerHTML),
        }
      })
      expect({ page: name, width, overflow, unnamed }).toEqual({ page: name, width, overflow: 0, unnamed: [] })
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: options.fullPage ?? true, animations: 'disabled', caret: 'hide' })
    }
    await page.setViewportSize(WIDTHS.desktop)
    if (options.dark) await page.emulateMedia({ colorScheme: 'light' })
  }

  // On the suite's backend: a SQLite file, or a PostgreSQL database of its own.
  const databases = testDatabases('console')

  beforeAll(async () => {
    let vai: string
    ;({ dir, vai } = binaryInEmptyDir())
    const db = TEST_POSTGRES ? await databases.create() : join(dir, 'vai.db')
    server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true })

    profile = mkdtempSync(join(tmpdir(), 'vai-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: WIDTHS.desktop,
      // A desktop Chrome's: vai names sessions after the User-Agent, and headless Chromium's
      // ("HeadlessChrome/…") reads as Safari there, which would look odd in the screenshots.
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      colorScheme: 'light',
      args: CHROMIUM_ARGS,
    })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
    // Nothing but the server under test: the console must need no CDN, font or anything else.
    const origin = new URL(server.url).origin
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url())
      if (url.origin !== origin) {
        refused.push(url.href)
        return route.abort()
      }
      if (route.request().resourceType() !== 'document') return route.continue()
      const response = await route.fetch()
      const headers = response.headers()
      headers['content-security-policy'] ??= STRICT_CSP
      return route.fulfill({ response, headers })
    })
    // Fail on the step that waits, well inside the test's own timeout.
    context.setDefaultTimeout(5_000)
    page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (error) => problems.push(`page error: ${error}`))
    // A script or style refused by the Content-Security-Policy shows up here.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[13]|status of 42[29]/.test(message.text())) problems.push(`console: ${message.text()}`)
    })
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    killServers()
    if (TEST_POSTGRES) await databases.dropAll()
    if (profile) rmSync(profile, { recursive: true, force: true })
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('a fresh server invites the first account; a 422 shows next to its field, in plain words (hardening 11); signing up signs in', async () => {
    await page.goto(server.url)
    await heading('Create the first account').waitFor()
    expect(await page.locator('#first-run').isVisible()).toBe(true)
    await atEveryWidth('signup')

    // Asked for (the page cannot tell where it is opened from), but from this machine it may stay empty.
    expect(await page.locator('#signup-setup').isVisible()).toBe(true)

    await page.fill('#signup-name', 'Ada')
    await page.fill('#signup-email', 'ada.example.com')
    await page.fill('#signup-password', 'short')
    await page.click('#signup-form button[type=submit]')
    const passwordError = page.locator('#signup-password-error')
    await passwordError.waitFor()
    expect(await passwordError.textContent()).toMatch(/8 characters/)
    expect(await page.getAttribute('#signup-password', 'aria-invalid')).toBe('true')
    // hardening 11: each field's error is a sentence of the page's, not the API's words.
    expect(await page.textContent('#signup-email-error')).toBe('Enter an email address, like name@example.com.')
    expect(await passwordError.textContent()).toBe('Use at least 8 characters.')

    await page.fill('#signup-email', EMAIL)
    await page.fill('#signup-password', PASSWORD)
    await page.click('#signup-form button[type=submit]')
    await page.locator('#view-tokens').waitFor()
    expect(await page.textContent('#whoami')).toBe(`Ada (${EMAIL})`)
    expect(await page.locator('#session-list tr.current .badge.current').textContent()).toBe('This browser')
  }, 15_000)

  test('sign out, then sign in; wrong passwords and the rate limit are told in plain words', async () => {
    await page.click('#sign-out')
    await page.locator('#view-signin').waitFor()
    expect(await page.textContent('#status')).toBe('You are signed out.')
    // Signup is closed (the default) now that the server has an account.
    expect(await page.locator('#signup-closed').isVisible()).toBe(true)
    await atEveryWidth('signin')

    await signIn(EMAIL, 'not my password')
    await shows('#signin-form-error', 'Wrong email or password.')

    // Five failures lock an account for a while: the sixth attempt hears how long to wait.
    const stranger = 'mallory@example.com'
    await Promise.all(Array.from({ length: 5 }, () => post('/api/v1/auth/login', { email: stranger, password: 'guess guess' })))
    await signIn(stranger, 'guess again')
    await page.locator('#signin-form-error', { hasText: 'Too many' }).waitFor()
    expect(await page.textContent('#signin-form-error')).toMatch(/^Too many failed sign-in attempts\. Wait \d+ minutes? and try again\.$/)

    await signInAsAda()
  }, 15_000)

  test('create a token: its plaintext is shown once, works against the API, and stops working once revoked', async () => {
    // A lifetime over the 3650-day limit is the API's 422, shown beside the custom field.
    await page.fill('#create-name', 'too long')
    await page.selectOption('#create-expiry', 'custom')
    await page.fill('#create-days', '4000')
    await page.click('#create-form button[type=submit]')
    await page.locator('#create-days-error').waitFor()
    expect(await page.textContent('#create-days-error')).toMatch(/3650/)

    await page.fill('#create-name', 'ci deploy key')
    await page.selectOption('#create-expiry', '90')
    await page.click('#create-form button[type=submit]')
    await page.locator('#created').waitFor()
    expect(await page.locator('#create-days-error').isVisible()).toBe(false)
    const plaintext = await page.inputValue('#created-plaintext')
    expect(plaintext).toMatch(/^vai_[0-9A-Za-z]{38,}$/)
    expect(await page.textContent('#created .warning')).toContain('never')
    await page.click('#copy')
    await shows('#copy-status', 'Copied to the clipboard.')
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(plaintext)
    await atEveryWidth('token-created')

    const me = await api('/api/v1/auth/me', { headers: bearer(plaintext) })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { token: { name: string; tokenType: string } }).token).toMatchObject({ name: 'ci deploy key', tokenType: 'api' })

    await page.click('#created-done')
    expect(await page.locator('#created').isVisible()).toBe(false)
    const row = page.locator('#api-list tbody tr', { hasText: 'ci deploy key' })
    expect(await row.locator('code').textContent()).toBe(plaintext.slice(0, 12))
    expect(await row.locator('td[data-label=Scopes]').textContent()).toBe('Full access')
    // Drawn when it was made, before any use: no address yet.
    expect(await row.locator('td.last-used .address').count()).toBe(0)
    await row.getByRole('button', { name: /^Revoke API token ci deploy key/ }).click()
    await page.locator('#confirm[open]').waitFor()
    expect(await page.textContent('#confirm-title')).toBe('Revoke API token “ci deploy key”?')
    // The safe choice has the focus: Enter on a dialog opened by mistake revokes nothing.
    expect(await page.evaluate(() => (globalThis as any).document.activeElement.id)).toBe('confirm-cancel')
    // The modal's backdrop covers the viewport only: no full-page shot.
    await atEveryWidth('revoke-dialog', { fullPage: false })
    // Cancel first: nothing happens.
    await page.keyboard.press('Escape')
    await hasCount('#confirm[open]', 0)
    expect((await api('/api/v1/auth/me', { headers: bearer(plaintext) })).status).toBe(200)

    await row.getByRole('button', { name: /^Revoke/ }).click()
    await page.click('#confirm-ok')
    await shows('#status', 'Revoked API token “ci deploy key”.')
    await page.locator('#api-list .empty').waitFor()
    expect((await api('/api/v1/auth/me', { headers: bearer(plaintext) })).status).toBe(401)
  }, 15_000)

  test('create a token with chosen scopes: at least one, the typed ones checked here and by the API, the token has exactly those; the list shows them and the last address', async () => {
    await page.fill('#create-name', 'deploy bot')
    expect(await page.locator('#create-scopes-field').isVisible()).toBe(false)
    await page.check('input[name=access][value=chosen]')
    await page.locator('#create-scopes-field').waitFor()
    await atEveryWidth('create-scopes')
    const submit = () => page.click('#create-form button[type=submit]')

    // Nothing picked.
    await submit()
    await shows('#create-scopes-error', 'Pick at least one scope, or choose Full access.')
    expect(await page.getAttribute('#create-scopes', 'aria-invalid')).toBe('true')
    // Not a scope, caught here.
    await page.check('input[name=scope][value="tokens:read"]')
    await page.fill('#create-app-scopes', 'deploy:staging scope!')
    await submit()
    await shows('#create-app-scopes-error', 'Not a scope: “scope!”. Each scope is 1 to 64 letters, digits or _ . : / -, separated by spaces.')
    expect(await page.locator('#create-scopes-error').isVisible()).toBe(false)
    // Too many: the API's 422, beside the field.
    await page.fill('#create-app-scopes', Array.from({ length: 65 }, (_, i) => `app:${i}`).join(' '))
    await submit()
    await shows('#create-app-scopes-error', 'Use at most 64 scopes.')
    // admin: the API's 403, in plain words.
    await page.fill('#create-app-scopes', 'admin')
    await submit()
    await shows('#create-form-error', 'Nobody can give a token the scope admin yet: this server has no administrators.')
    const names: string[] = await page.evaluate(async () =>
      ((await (await fetch('/api/v1/access-tokens?limit=100')).json()) as { items: { name: string }[] }).items.map((token) => token.name))
    expect(names).not.toContain('deploy bot')

    await page.fill('#create-app-scopes', ' deploy:staging,grafana:read  deploy:staging ')
    await submit()
    await page.locator('#created').waitFor()
    const plaintext = await page.inputValue('#created-plaintext')
    const me = await api('/api/v1/auth/me', { headers: bearer(plaintext) })
    const token = ((await me.json()) as { token: { id: string; scopes: string[] } }).token
    expect(token.scopes).toEqual(['deploy:staging', 'grafana:read', 'tokens:read'])
    // The form is back to full access for the next one.
    expect(await page.isChecked('input[name=access][value=full]')).toBe(true)
    expect(await page.locator('#create-scopes-field').isVisible()).toBe(false)

    await page.click('#created-done')
    await page.reload()
    const row = page.locator('#api-list tbody tr', { hasText: 'deploy bot' })
    await row.waitFor()
    expect(await row.locator('td[data-label=Scopes] code').allTextContents()).toEqual(['deploy:staging', 'grafana:read', 'tokens:read'])
    expect(await row.locator('td.last-used .address').textContent()).toBe('from 127.0.0.1')
    // Sessions have every scope: their list has no such column.
    expect(await page.locator('#session-list th', { hasText: 'Scopes' }).count()).toBe(0)

    expect((await api(`/api/v1/access-tokens/${token.id}`, { method: 'DELETE', headers: bearer(plaintext) })).status).toBe(204)
    await page.reload()
    await page.locator('#api-list .empty').waitFor()
  }, 20_000)

  test('both lists page newest first', async () => {
    const laptop = await loginElsewhere('Laptop')
    for (let i = 1; i <= 12; i++) {
      expect((await post('/api/v1/access-tokens', { name: `token ${i}`, expiresInDays: i === 3 ? null : 30 }, bearer(laptop))).status).toBe(201)
    }
    await page.reload()
    await page.locator('#api-list tbody tr').first().waitFor()
    const names = () => page.locator('#api-list td.name > span:first-child').allTextContents()
    expect(await names()).toEqual(Array.from({ length: 10 }, (_, i) => `token ${12 - i}`))
    await hasCount('#session-list tbody tr', 2)
    expect(await page.locator('#session-list tbody tr.current td.name').textContent()).toBe('Chrome on LinuxThis browser')
    await atEveryWidth('tokens')
    await atEveryWidth('tokens-dark', { dark: true, fullPage: false })

    const pager = page.locator('#api-list .pager')
    expect(await pager.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true)
    await pager.getByRole('button', { name: 'Older →' }).click()
    await page.locator('#api-list .page', { hasText: 'Page 2' }).waitFor()
    expect(await names()).toEqual(['token 2', 'token 1'])
    expect(await pager.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true)
    await pager.getByRole('button', { name: '← Newer' }).click()
    await page.locator('#api-list .page', { hasText: 'Page 1' }).waitFor()
    expect((await names())[0]).toBe('token 12')

    // "Show revoked" brings back the session signed out in the second test, marked so.
    await page.check('#session-revoked')
    await page.locator('#session-list .badge.revoked').waitFor()
    expect(await page.locator('#session-list tbody tr').count()).toBe(3)
    await page.uncheck('#session-revoked')
    await page.locator('#session-list .badge.revoked').waitFor({ state: 'detached' })
  }, 20_000)

  test('hardening 11: the actions column is a table cell like the others, with a Revoke button or without (this browser\'s row): no row staggers', async () => {
    await hasCount('#session-list tbody tr', 2)
    const staggered: string[] = await page.evaluate(() => {
      const { document, getComputedStyle } = globalThis as any
      return [...document.querySelectorAll('#api-list tbody tr, #session-list tbody tr')].flatMap((row: any) => {
        const box = row.getBoundingClientRect()
        return [...row.cells]
          .filter((cell: any) => getComputedStyle(cell).display !== 'table-cell' || cell.getBoundingClientRect().top !== box.top || cell.getBoundingClientRect().bottom !== box.bottom)
          .map((cell: any) => `${row.cells[0].textContent}: ${cell.className || cell.dataset.label}`)
      })
    })
    expect(staggered).toEqual([])
  })

  test('sign out everywhere else (hardening 11: it says that API tokens go too): says how many went, and the other session is refused', async () => {
    const phone = await loginElsewhere('Phone')
    await page.reload()
    await page.locator('#session-list tbody tr').nth(2).waitFor()
    // The button, the question and its answer all say that API tokens go too.
    expect(await page.textContent('#revoke-others')).toBe('Sign out everywhere else and revoke all API tokens')
    await page.click('#revoke-others')
    await page.locator('#confirm[open]').waitFor()
    expect(await page.textContent('#confirm-title')).toBe('Sign out everywhere else and revoke all API tokens?')
    expect(await page.textContent('#confirm-ok')).toBe('Sign out everywhere else and revoke all API tokens')
    await page.click('#confirm-ok')
    // 12 API tokens and the Laptop and Phone sessions.
    await shows('#status', 'Signed out everywhere else: revoked 14 sessions and tokens.')
    expect((await api('/api/v1/auth/me', { headers: bearer(phone) })).status).toBe(401)
    await page.locator('#api-list .empty').waitFor()
    await hasCount('#session-list tbody tr', 1)
    expect(await page.locator('#session-list tbody tr.current').count()).toBe(1)
  }, 15_000)

  test('a session that ends elsewhere sends the page back to sign-in', async () => {
    const other = await loginElsewhere('Admin laptop')
    const browserSession = await page.getAttribute('#session-list tbody tr.current', 'data-id')
    expect((await api(`/api/v1/access-tokens/${browserSession}`, { method: 'DELETE', headers: bearer(other) })).status).toBe(204)
    await page.check('#session-revoked') // any request now gets a 401
    await page.locator('#view-signin').waitFor()
    expect(await page.textContent('#notice')).toMatch(/^Your session has ended/)
    await atEveryWidth('session-ended')

    await signInAsAda()
  }, 15_000)

  test('a list that answers after the sign-out is dropped: the sign-in view says only that you signed out', async () => {
    // The API list's answers are held back, so the page signs out while one is in flight.
    const held = '**/api/v1/access-tokens?*tokenType=api*'
    let answered!: () => void
    const lateAnswer = new Promise<void>((resolve) => (answered = resolve))
    await page.route(held, async (route) => {
      await Bun.sleep(500)
      await route.continue()
      answered()
    })
    try {
      await page.reload()
      await page.locator('#session-list tbody tr.current').waitFor()
      await page.click('#sign-out')
      await page.locator('#view-signin').waitFor()
      await lateAnswer
      await Bun.sleep(100) // the page's handling of it
      expect(await page.textContent('#status')).toBe('You are signed out.')
      expect(await page.locator('#notice').isHidden()).toBe(true)
    } finally {
      await page.unroute(held)
    }
    await signInAsAda()
  }, 15_000)

  test('Activity: what happened, from where, with which token; a filter; where a token was used; a token reported as leaked says so', async () => {
    await page.fill('#create-name', 'pasted in a gist')
    await page.selectOption('#create-expiry', '30')
    await page.click('#create-form button[type=submit]')
    await page.locator('#created').waitFor()
    const plaintext = await page.inputValue('#created-plaintext')
    await page.click('#created-done')
    // Drawn again after the create: the newest row is the token, made from this browser.
    await page.locator('#activity-list tbody tr:first-child td[data-label=Token] code', { hasText: plaintext.slice(0, 12) }).waitFor()
    const newest = page.locator('#activity-list tbody tr').first()
    expect(await newest.getAttribute('data-type')).toBe('token.created')
    expect(await newest.locator('td[data-label=What]').textContent()).toBe('API token created')
    expect(await newest.locator('td[data-label=Token] code').textContent()).toBe(plaintext.slice(0, 12))
    expect(await newest.locator('td.from').textContent()).toMatch(/^127\.0\.0\.1Mozilla\/5\.0 \(X11; Linux x86_64\)/)

    // Where used: the address the token was made from, fetched when the button opens it.
    const row = page.locator('#api-list tbody tr', { hasText: 'pasted in a gist' })
    const where = row.getByRole('button', { name: `Where pasted in a gist (${plaintext.slice(0, 12)}) was used from` })
    expect(await where.getAttribute('aria-expanded')).toBe('false')
    await where.click()
    await page.locator('#api-list .address-list li code', { hasText: '127.0.0.1' }).waitFor()
    expect(await where.getAttribute('aria-expanded')).toBe('true')
    await where.click()
    await page.locator('#api-list .addresses-row').first().waitFor({ state: 'hidden' })

    // Someone finds it in public and reports it: vai revokes it, and the console says why.
    const report = await post('/api/v1/credentials/revoke', { credentials: [plaintext] })
    expect(report.status).toBe(202)
    await page.reload()
    await page.locator('#activity-list tbody tr[data-type="token.leak_reported"]').waitFor()
    const leak = page.locator('#activity-list tbody tr').first()
    expect(await leak.locator('td[data-label=What]').textContent()).toBe('Token reported as leaked, and revoked')
    expect(await leak.locator('td[data-label=Token] code').textContent()).toBe(plaintext.slice(0, 12))
    await page.check('#api-revoked')
    const revoked = page.locator('#api-list tbody tr', { hasText: 'pasted in a gist' })
    await revoked.locator('.badge.revoked', { hasText: 'Revoked: reported as leaked' }).waitFor()
    await page.uncheck('#api-revoked')

    // The filter asks the server for one type: only sign-ins, every one of them this account's.
    await page.selectOption('#activity-type', 'login.succeeded')
    await page.locator('#activity-list tbody tr[data-type="token.created"]').first().waitFor({ state: 'detached' })
    const types: string[] = await page.locator('#activity-list tbody tr').evaluateAll((rows) => rows.map((r: any) => r.dataset.type))
    expect(types.length).toBeGreaterThan(0)
    expect(new Set(types)).toEqual(new Set(['login.succeeded']))
    expect(await page.locator('#activity-list tbody tr td[data-label=What]').first().textContent()).toBe('Signed in')
    await atEveryWidth('activity')
    await page.selectOption('#activity-type', '')
    await page.locator('#activity-list tbody tr[data-type="token.leak_reported"]').waitFor()
  }, 20_000)

  test('sign out: the cookie is gone and the API refuses the page', async () => {
    await page.click('#sign-out')
    await page.locator('#view-signin').waitFor()
    expect((await context.cookies(server.url)).map((cookie) => cookie.name)).not.toContain('vai_token')
    expect(await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status)).toBe(401)
    // A fresh load lands on sign-in too.
    await page.reload()
    await page.locator('#view-signin').waitFor()
    expect(refused).toEqual([])
    expect(problems).toEqual([])
  }, 15_000)
})

/**
 * For the describe blocks below the main one: a vai of their own (an empty folder, the suite's
 * backend) and a headless Chromium whose page may reach only the origins it is given; what
 * else it asks for is refused and noted, and so are its script errors.
 */
function separateConsole(label: string) {
  const databases = testDatabases(label)
  let dir: string | undefined
  let browser: Browser | undefined
  const refused: string[] = []
  const problems: string[] = []
  return {
    refused,
    problems,
    async serve(host: string, args: string[] = []) {
      let vai: string
      ;({ dir, vai } = binaryInEmptyDir())
      const db = TEST_POSTGRES ? await databases.create() : join(dir, 'vai.db')
      return startServer(dir, vai, ['serve', '--port', '0', '--host', host, '--db', db, ...args])
    },
    async page(origins: string[]) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
      const context = await browser.newContext({ viewport: WIDTHS.desktop })
      context.setDefaultTimeout(5_000)
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url())
        if (origins.includes(url.origin)) return route.continue()
        refused.push(url.href)
        return route.abort()
      })
      const page = await context.newPage()
      page.on('pageerror', (error) => problems.push(`page error: ${error}`))
      return page
    },
    async stop() {
      await browser?.close()
      killServers()
      if (TEST_POSTGRES) await databases.dropAll()
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

// The setup code over a real socket needs a client that is not on loopback: this machine's own
// address on another interface, where it has one.
describe.skipIf(!existsSync(CHROMIUM) || !LAN_ADDRESS)('hardening 6: claiming a fresh install from another machine in the console', () => {
  const fixture = separateConsole('claim')
  const { problems } = fixture
  let server: Server
  let page: Page
  let code: string
  let origin: string

  beforeAll(async () => {
    server = await fixture.serve('0.0.0.0')
    code = await setupCodeOf(server)
    origin = `http://${LAN_ADDRESS}:${new URL(server.url).port}`
    page = await fixture.page([origin])
  }, 60_000)

  afterAll(() => fixture.stop())

  const submit = async (setupCode?: string) => {
    await page.fill('#signup-email', EMAIL)
    await page.fill('#signup-password', PASSWORD)
    if (setupCode !== undefined) await page.fill('#signup-setup', setupCode)
    await page.click('#signup-form button[type=submit]')
  }
  const REFUSED = 'This server has no account yet, and only the person who started it can create the first one: enter the setup code vai printed when it started.'

  test('without the code the page asks for it beside its field; a wrong one is refused the same way', async () => {
    await page.goto(origin)
    await page.getByRole('heading', { level: 1, name: 'Create the first account' }).waitFor()
    expect(await page.locator('#signup-setup').isVisible()).toBe(true)
    await submit()
    await page.locator('#signup-setup-error').waitFor()
    expect(await page.textContent('#signup-setup-error')).toBe(REFUSED)
    expect(await page.getAttribute('#signup-setup', 'aria-invalid')).toBe('true')
    await submit('0'.repeat(32))
    await page.locator('#signup-setup-error', { hasText: REFUSED }).waitFor()
    expect((await (await fetch(`${server.url}/`)).text()).includes(code)).toBe(false)
  }, 15_000)

  test('the link vai printed claims it: the code leaves the address bar, no field is shown, and the first account is signed in', async () => {
    await page.goto(`${origin}/?setup=${code}`)
    await page.getByRole('heading', { level: 1, name: 'Create the first account' }).waitFor()
    expect(page.url()).toBe(`${origin}/`)
    expect(await page.locator('#signup-setup').isVisible()).toBe(false)
    await submit()
    await page.locator('#view-tokens').waitFor()
    expect(await page.textContent('#whoami')).toBe(EMAIL)
    expect(problems).toEqual([])
  }, 15_000)
})

// Single sign-on behind a proxy (issue 13 item 5): the console on auth.vai.localhost, an app on
// app.vai.localhost, `--cookie-domain vai.localhost`. Chromium resolves every *.localhost name
// to loopback by itself and keeps a Domain=vai.localhost cookie for all of them (Domain=localhost
// alone would stay with one host, which is why the flag wants two labels).
describe.skipIf(!existsSync(CHROMIUM))('--cookie-domain: the console returns to ?rd= on that domain only', () => {
  const fixture = separateConsole('return')
  const { refused, problems } = fixture
  let app: ReturnType<typeof Bun.serve>
  let page: Page
  let origin: string
  let appURL: string
  const cookiesAtApp: string[] = []

  beforeAll(async () => {
    const server = await fixture.serve('127.0.0.1', ['--cookie-domain', 'vai.localhost'])
    await signUpAndLogIn(server, EMAIL, PASSWORD)
    app = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request) {
        cookiesAtApp.push(request.headers.get('cookie') ?? '')
        return new Response('<!doctype html><title>the app</title><h1>The app</h1>', { headers: { 'content-type': 'text/html' } })
      },
    })
    origin = `http://auth.vai.localhost:${new URL(server.url).port}`
    appURL = `http://app.vai.localhost:${app.port}/deploy?run=1#log`
    page = await fixture.page([origin, new URL(appURL).origin])
  }, 60_000)

  afterAll(async () => {
    app?.stop(true)
    await fixture.stop()
  })

  const signInHere = async () => {
    await page.fill('#signin-email', EMAIL)
    await page.fill('#signin-password', PASSWORD)
    await page.click('#signin-form button[type=submit]')
  }
  const consoleWith = (rd: string) => `${origin}/?rd=${encodeURIComponent(rd)}`

  test.each([
    ['a foreign host', 'http://evil.localhost/'],
    ['a host that only ends like the domain', 'http://evilvai.localhost/'],
    ['a scheme-relative URL', '//evil.localhost/'],
    ['javascript:', 'javascript:alert(document.cookie)'],
  ])('rd to %s: rd leaves the address bar, and signing in stays in the console', async (_name, rd) => {
    await page.goto(consoleWith(rd))
    await page.locator('#view-signin').waitFor()
    expect(page.url()).toBe(`${origin}/`)
    await signInHere()
    await page.locator('#view-tokens').waitFor()
    expect(page.url()).toBe(`${origin}/`)
    await page.click('#sign-out')
    await page.locator('#view-signin').waitFor()
    expect(refused).toEqual([])
  }, 15_000)

  test('rd to an app on the domain: signing in lands there, and the app gets the session cookie', async () => {
    await page.goto(consoleWith(appURL))
    await page.locator('#view-signin').waitFor()
    expect(page.url()).toBe(`${origin}/`)
    await signInHere()
    await page.waitForURL(appURL)
    expect(await page.textContent('h1')).toBe('The app')
    expect(cookiesAtApp.at(-1)).toMatch(/^vai_token=vai_[0-9A-Za-z]{38}$/)
  }, 15_000)

  test('already signed in: the console goes back at once', async () => {
    const before = cookiesAtApp.length
    await page.goto(consoleWith(appURL))
    await page.waitForURL(appURL)
    expect(cookiesAtApp.length).toBe(before + 1)
    expect(refused).toEqual([])
    expect(problems).toEqual([])
  }, 15_000)
})
