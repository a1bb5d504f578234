import { Elysia } from 'elysia'
// Embedded in the binary by `bun build --compile`: the console needs no network and nothing beside the binary.
import pageFile from '../console/index.html' with { type: 'file' }
import scriptPath from '../console/console.js' with { type: 'file' }
import apiPath from '../console/api.js' with { type: 'file' }
import formsPath from '../console/forms.js' with { type: 'file' }
import pagesPath from '../console/pages.js' with { type: 'file' }
import activityPath from '../console/activity.js' with { type: 'file' }
import messagesFile from '../console/messages.js' with { type: 'file' }
import returnToFile from '../console/return-to.js' with { type: 'file' }
import stylePath from '../console/console.css' with { type: 'file' }
import iconPath from '../console/icon.svg' with { type: 'file' }
import type { RouteDeps } from './deps'
import { embeddedFile } from './embedded'

// bun-types types every .html import as an HTML bundle, and the console's pure modules have
// the types of their functions (a .d.ts beside each, for the tests that import them);
// `type: 'file'` makes each a path.
const pagePath = pageFile as unknown as string
const messagesPath = messagesFile as unknown as string
const returnToPath = returnToFile as unknown as string

const hidden = { detail: { hide: true } }
// Revalidated on each load (they are small): an upgraded binary never runs a stale script.
const ASSET_CACHE = 'no-cache'

/** The console's script modules, each at /console/<its file name>. */
const SCRIPTS: Record<string, string> = {
  'console.js': scriptPath,
  'api.js': apiPath,
  'forms.js': formsPath,
  'pages.js': pagesPath,
  'activity.js': activityPath,
  'messages.js': messagesPath,
  'return-to.js': returnToPath,
}

/** The console's script modules, served as they are. */
function scriptRoutes(app: Elysia) {
  for (const [name, path] of Object.entries(SCRIPTS)) app.get(`/console/${name}`, embeddedFile(path, 'text/javascript; charset=utf-8', ASSET_CACHE), hidden)
  return app
}

/**
 * The web console at `/`: one static page, a stylesheet and a script that use the public
 * API with the `vai_token` cookie. The page itself is rendered per request with one fact
 * the API cannot tell a stranger — whether the server has no account yet — so that a fresh
 * install invites its first visitor to sign up (the API accepts that first signup even
 * when signup is closed), with the server's token-lifetime cap for the expiry choices, and
 * with `--cookie-domain`, the only domain whose URLs a sign-in may return to (`?rd=`).
 */
export function consoleRoutes({ config, store }: Pick<RouteDeps, 'config' | 'store'>) {
  let template: Promise<string> | undefined
  return new Elysia()
    .get(
      '/',
      async () => {
        template ??= Bun.file(pagePath).text()
        const html = (await template)
          .replace('{{signup}}', config.signup)
          .replace('{{firstRun}}', String(!(await store.hasUsers())))
          .replace('{{maxTokenDays}}', String(config.maxTokenDays ?? ''))
          // Checked at start to be a host name (letters, digits, dots, hyphens): nothing to escape.
          .replace('{{cookieDomain}}', config.cookieDomain ?? '')
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } })
      },
      hidden,
    )
    .use(scriptRoutes)
    .get('/console/console.css', embeddedFile(stylePath, 'text/css; charset=utf-8', ASSET_CACHE), hidden)
    .get('/console/icon.svg', embeddedFile(iconPath, 'image/svg+xml', ASSET_CACHE), hidden)
}
