import { Elysia } from 'elysia'
import { openapi } from '@elysiajs/openapi'
// Embedded in the binary by `bun build --compile`: the UI works with no network.
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import pkg from '../../package.json'

const ASSETS = '/swagger/assets'

const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } })

export function docsRoutes() {
  return new Elysia()
    .use(
      openapi({
        path: '/swagger',
        specPath: '/swagger/json',
        provider: 'swagger-ui',
        openapiVersion: '3.0.3',
        exclude: { paths: [/^\/swagger/] },
        swagger: {
          cdn: `${ASSETS}/swagger-ui-bundle.js`,
          theme: `${ASSETS}/swagger-ui.css`,
          persistAuthorization: true,
        },
        documentation: {
          info: {
            title: 'vai',
            version: pkg.version,
            description: 'Self-hosted access tokens: sign up, log in, then mint, list and revoke API tokens.',
            license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
          },
          servers: [{ url: '/' }],
          tags: [
            { name: 'Accounts', description: 'Sign up, log in and out, and who you are' },
            { name: 'Access tokens', description: 'Your session and API tokens' },
            { name: 'Service', description: 'Health of the running server' },
          ],
          components: {
            securitySchemes: {
              bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer vai_…' },
              apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: vai_…' },
              cookie: { type: 'apiKey', in: 'cookie', name: 'vai_token', description: 'The session cookie set by login' },
            },
          },
        },
      }),
    )
    .get(`${ASSETS}/swagger-ui-bundle.js`, asset(swaggerBundle, 'text/javascript; charset=utf-8'), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, asset(swaggerCss, 'text/css; charset=utf-8'), { detail: { hide: true } })
}
