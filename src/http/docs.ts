import { Elysia, type AnyElysia } from 'elysia'
import { FormatRegistry, type TSchema } from '@sinclair/typebox'
// Embedded in the binary by `bun build --compile`: the UI works with no network.
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import pkg from '../../package.json'
import { SESSION_COOKIE } from '../auth/credentials'
import * as schemas from '../schemas'
import { readOptionalBody } from './body'
import { refusalResponses } from './caller'
import { embeddedFile } from './embedded'
import { errorResponses } from './openapi'

const ASSETS = '/swagger/assets'
const SPEC = '/swagger/json'

// The hand-written part of the document; paths and schemas come from the routes.
const DOCUMENT_BASE = {
  openapi: '3.0.3',
  info: {
    title: 'vai',
    version: pkg.version,
    description: 'Self-hosted access tokens: sign up, log in, then mint, list and revoke API tokens.',
    license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
  },
  // Relative, so "Try it out" calls whichever origin served the page.
  servers: [{ url: '/' }],
  tags: [
    { name: 'Accounts', description: 'Sign up, log in and out, and who you are' },
    { name: 'Access tokens', description: 'Your session and API tokens' },
    { name: 'Activity', description: 'What happened to your account and tokens, when and from where' },
    { name: 'Verification', description: 'For other services: forward authentication, token introspection and the revocation feed' },
    { name: 'Leaks', description: 'Reporting tokens found where they should not be' },
    { name: 'Service', description: 'Health of the running server' },
  ],
}

const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer vai_…' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: vai_…' },
  cookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session cookie set by login' },
  basic: { type: 'http', scheme: 'basic', description: 'Authorization: Basic, the token as the password (any user name): verify and introspect only' },
}

const hidden = { detail: { hide: true } }
// swagger-ui-dist is pinned: what it ships does not change under a version.
const ASSET_CACHE = 'public, max-age=86400'

// What the auth macro adds to every answer once it has the caller (src/http/caller.ts, TOKEN_EXPIRES).
const TOKEN_EXPIRES_HEADER = {
  description: 'When the token that authenticated the request expires; absent for one that never does',
  schema: { type: 'string', format: 'date-time' },
}

export function docsRoutes() {
  const docs = new Elysia()
  // Built on first request, once every route of the app is registered.
  let document: OpenAPIDocument | undefined
  return docs
    .get('/swagger', () => new Response(SWAGGER_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), hidden)
    .get(SPEC, async () => (document ??= await openApiDocument(docs)), hidden)
    .get(`${ASSETS}/swagger-ui-bundle.js`, embeddedFile(swaggerBundle, 'text/javascript; charset=utf-8', ASSET_CACHE), hidden)
    .get(`${ASSETS}/swagger-ui.css`, embeddedFile(swaggerCss, 'text/css; charset=utf-8', ASSET_CACHE), hidden)
    .get(`${ASSETS}/swagger-init.js`, () => new Response(SWAGGER_INIT, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } }), hidden)
}

// Swagger UI's initialiser, served as a script of its own: the page's CSP allows no inline
// script. Plus one thing Swagger UI cannot do alone: a browser drops the Cookie header a
// script sets, so a `vai_token` given to Authorize is stored as a cookie of this origin
// and the browser sends it. (An HttpOnly cookie left by logging in cannot be overwritten
// by a script and wins; logging out clears it.)
const SWAGGER_INIT = `window.ui = SwaggerUIBundle({
  url: '${SPEC}',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  requestInterceptor: (request) => {
    for (const pair of (request.headers.Cookie || '').split(';')) {
      if (pair.trim()) document.cookie = pair.trim() + '; Path=/; SameSite=Strict'
    }
    return request
  },
})
`

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>vai API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${ASSETS}/swagger-ui-bundle.js"></script>
  <script src="${ASSETS}/swagger-init.js"></script>
</body>
</html>
`

type Schema = Record<string, any>

export interface OpenAPIDocument extends Schema {
  openapi: string
  paths: Record<string, Record<string, Schema>>
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> }
}

/** The OpenAPI 3.0 document of every route of `app` that is not hidden. */
/**
 * Loads the generator only when the document is first asked for, and undoes what
 * loading it does to the process: @elysiajs/openapi re-registers TypeBox's global
 * string formats (uuid, email, date-time, …) with checks that build a Zod schema on
 * every call, 100× slower than the regular expressions they replace, and every
 * request's validation would pay for that.
 */
async function loadGenerator() {
  const formats = new Map(FormatRegistry.Entries())
  const { toOpenAPISchema } = await import('@elysiajs/openapi')
  FormatRegistry.Clear()
  for (const [name, check] of formats) FormatRegistry.Set(name, check)
  return toOpenAPISchema
}

async function openApiDocument(app: AnyElysia): Promise<OpenAPIDocument> {
  const toOpenAPISchema = await loadGenerator()
  // jsonBody's global parser is a function, which the generator cannot describe: it
  // leaves every requestBody without content. What the body steps accept is JSON, so
  // the generator sees each route as if it named Elysia's own 'json' parser, or the
  // parsers a route names to say what it takes (introspect: a form too). Every route but
  // GET and HEAD behind the body step (verify's are mounted before it) reads its body — a
  // protected one once its caller is accepted — and refuses one over its limit: a 413 is
  // possible even where no body is expected. A protected route (`auth`, which lists the
  // carriers as its security) may refuse its caller.
  const routes = app['getGlobalRoutes']().map((route) => {
    const hooks = (route.hooks.parse ?? []) as { fn: unknown }[]
    // `parse: 'none'` (verify) reads nothing.
    const parsers = hooks.some((parser) => parser.fn === 'none') ? [] : hooks
    const readsBody = route.method !== 'GET' && route.method !== 'HEAD' && parsers.length > 0
    const declared = parsers.filter((parser) => typeof parser.fn === 'string')
    const refusals = route.hooks.detail?.security?.length ? refusalResponses(route.method, route.hooks.detail) : {}
    const added = { ...refusals, ...(readsBody ? errorResponses(413) : {}) }
    const response = Object.keys(added).length > 0 ? { ...added, ...route.hooks.response } : route.hooks.response
    return { ...route, hooks: { ...route.hooks, parse: declared.length > 0 ? declared : [{ fn: 'json' }], response } }
  })
  const described: AnyElysia = Object.create(app, { getGlobalRoutes: { value: () => routes } })
  // OPTIONS too: verify answers it (the generator leaves it out unless told otherwise).
  const { paths } = toOpenAPISchema(described, { methods: [] }, undefined, undefined, '3.0.3')
  // A route that reads its body with readOptionalBody (`auth: { optionalBody: true }`) takes none as `{}`.
  for (const route of routes) {
    const transforms = (route.hooks.transform ?? []) as { fn: unknown }[]
    if (!transforms.some((hook) => hook.fn === readOptionalBody)) continue
    const body = (paths as Schema)[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()]?.requestBody
    if (body) body.required = false
  }
  // Once a protected operation has its caller, every answer says when the caller's token expires.
  for (const operation of Object.values(paths as Record<string, Record<string, Schema>>).flatMap((item) => Object.values(item))) {
    if (!operation.security?.length) continue
    for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
      if (status !== '401') response.headers = { ...response.headers, 'Vai-Token-Expires': TOKEN_EXPIRES_HEADER }
    }
  }
  const named = Object.values(schemas as Record<string, unknown>).filter((value): value is TSchema & { $id: string } => typeof (value as Schema)?.$id === 'string')
  return toOpenAPI30({ ...DOCUMENT_BASE, paths: paths as OpenAPIDocument['paths'], components: { schemas: {}, securitySchemes: SECURITY_SCHEMES } }, named)
}

// What an OpenAPI 3.0 Schema Object may hold; anything else (`$id`, `$schema`, `const`,
// `examples`, TypeBox's own keys) makes the document invalid.
const OPENAPI_30_KEYWORDS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type',
  'allOf', 'oneOf', 'anyOf', 'not', 'items', 'properties', 'additionalProperties', 'description', 'format',
  'default', 'nullable', 'discriminator', 'readOnly', 'writeOnly', 'xml', 'externalDocs', 'example', 'deprecated',
])

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/**
 * Rewrites what Elysia's generator makes of our TypeBox schemas as OpenAPI 3.0.3.
 *
 * - A schema with an `$id` is a component: listed once under `components.schemas`,
 *   referred to everywhere else. `named` are registered first, so that their own
 *   description, not the one a use gives them, describes the component.
 * - `T | null` becomes `nullable: true` (3.0 has no `type: "null"`); a union of
 *   constants an `enum`; a `const` a one-value `enum`; `examples` its first `example`.
 * - Elysia's `t.Integer` accepts a numeric string too, and says so as
 *   `anyOf [string with format integer, integer]`; clients should send an integer.
 * - A query parameter with a default is not required; its description sits on it.
 * - A response without a body (`t.Void()`) has no content.
 * - A body schema's `contentMediaType` (the revocation stream's) is its media type, where
 *   the generator would say `text/plain` of any string.
 */
export function toOpenAPI30(document: OpenAPIDocument, named: (TSchema & { $id: string })[] = []): OpenAPIDocument {
  const components: Record<string, Schema> = {}

  const register = (schema: Schema): Schema => {
    const name: string = schema.$id
    if (!(name in components)) {
      components[name] = {} // a schema that contains itself finds its name taken
      components[name] = rewrite(schema)
    }
    return { $ref: `#/components/schemas/${name}` }
  }

  const convert = (schema: Schema): Schema =>
    typeof schema.$ref === 'string' ? { $ref: schema.$ref } : typeof schema.$id === 'string' ? register(schema) : rewrite(schema)

  const rewrite = (schema: Schema): Schema => {
    if (Array.isArray(schema.anyOf)) return rewriteUnion(schema)
    const out: Schema = {}
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'examples' && Array.isArray(value) && value.length > 0) out.example = value[0]
      else if (key === 'const') {
        out.enum = [value]
        out.type ??= typeof value
      } else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([name, child]) => [name, convert(child)]))
      else if (key === 'allOf' || key === 'oneOf') out[key] = (value as Schema[]).map(convert)
      else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && typeof value === 'object') out[key] = convert(value)
      else if (OPENAPI_30_KEYWORDS.has(key)) out[key] = value
    }
    return out
  }

  const rewriteUnion = ({ anyOf, ...outer }: Schema): Schema => {
    const branches = (anyOf as Schema[]).filter((branch) => branch.type !== 'null' && !isCoercedIntegerString(branch, anyOf))
    const nullable = branches.length < anyOf.length && anyOf.some((branch: Schema) => branch.type === 'null')
    const withNull = (schema: Schema) => (nullable ? { ...schema, nullable: true } : schema)
    if (branches.length > 1 && branches.every((branch) => 'const' in branch)) {
      const values = branches.map((branch) => branch.const)
      return withNull(rewrite({ ...outer, type: typeof values[0], enum: values }))
    }
    if (branches.length === 1) {
      const [only] = branches as [Schema]
      // A named schema cannot take `nullable` beside its $ref: wrap it.
      if (typeof only.$id === 'string') return rewrite({ ...outer, allOf: [only], ...(nullable ? { nullable: true } : {}) })
      return withNull(rewrite({ ...outer, ...only }))
    }
    return withNull({ ...rewrite(outer), anyOf: branches.map(convert) })
  }

  for (const schema of named) register(schema)

  const paths: OpenAPIDocument['paths'] = {}
  for (const [path, item] of Object.entries(document.paths)) {
    paths[path] = {}
    for (const [method, operation] of Object.entries(item)) {
      paths[path][method] = HTTP_METHODS.has(method) ? rewriteOperation(operation, convert) : operation
    }
  }

  return {
    ...document,
    paths,
    components: { ...document.components, schemas: { ...document.components.schemas, ...components } },
  }
}

function rewriteOperation(operation: Schema, convert: (schema: Schema) => Schema): Schema {
  const out: Schema = { ...operation }
  if (operation.parameters) {
    out.parameters = (operation.parameters as Schema[]).map((parameter) => {
      const described = describedBySchema(parameter, convert)
      return { ...described, required: parameter.in === 'path' || (parameter.required && !('default' in described.schema)) }
    })
  }
  if (operation.requestBody) {
    const { content, ...body } = operation.requestBody as Schema
    out.requestBody = { ...body, content: rewriteContent(content, convert) }
  }
  if (operation.responses) {
    out.responses = Object.fromEntries(
      Object.entries(operation.responses as Record<string, Schema>).map(([status, { content, headers, ...response }]) => {
        const body = content ? rewriteContent(content, convert) : {}
        if (Object.keys(body).length > 0) response.content = body
        if (headers) {
          response.headers = Object.fromEntries(
            Object.entries(headers as Record<string, Schema>).map(([name, header]) => [name, describedBySchema(header, convert)]),
          )
        }
        return [status, response]
      }),
    )
  }
  return out
}

/** A parameter or header with its schema converted and the schema's description on it, where Swagger UI shows it. */
function describedBySchema(holder: Schema, convert: (schema: Schema) => Schema): Schema & { schema: Schema } {
  const { description, ...schema } = convert(holder.schema)
  return { ...holder, ...(description === undefined ? {} : { description }), schema }
}

/** Media types with their schemas converted; the generator's `{ type: 'void' }` stand-in for "no body" is dropped. */
function rewriteContent(content: Schema, convert: (schema: Schema) => Schema): Schema {
  return Object.fromEntries(
    Object.entries(content)
      .filter(([mediaType, media]) => mediaType.includes('/') && typeof media === 'object')
      .map(([mediaType, media]) => {
        const { contentMediaType, ...schema } = media.schema as Schema
        return [contentMediaType ?? mediaType, { ...media, schema: convert(schema) }]
      }),
  )
}

function isCoercedIntegerString(branch: Schema, union: Schema[]): boolean {
  return branch.type === 'string' && branch.format === 'integer' && union.some((other) => other.type === 'integer')
}
