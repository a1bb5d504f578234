// GET /swagger/json and GET /swagger, as the contract's "Service routes" describe them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { t } from 'elysia'
import { FormatRegistry } from '@sinclair/typebox'
import pkg from '../../package.json'
import { toOpenAPI30, type OpenAPIDocument } from '../../src/http/docs'
import { makeApp, seedUser } from '../support/app'

const root = join(import.meta.dir, '../..')
const app = makeApp()
let doc: OpenAPIDocument
let formatsBefore: Map<string, (value: string) => boolean>

beforeAll(async () => {
  formatsBefore = new Map(FormatRegistry.Entries())
  const reply = await app.get('/swagger/json')
  expect(reply.status).toBe(200)
  expect(reply.headers.get('content-type')).toContain('application/json')
  doc = reply.body
})

test('making the document leaves the string-format checks every request uses as they were', () => {
  // @elysiajs/openapi swaps them for checks that are 100× slower when it is imported.
  expect(new Map(FormatRegistry.Entries())).toEqual(formatsBefore)
  expect(FormatRegistry.Get('uuid')).toBe(formatsBefore.get('uuid'))
})

type Schema = Record<string, any>

type Security = Record<string, string[]>[]
const ANY_CARRIER: Security = [{ bearer: [] }, { apiKey: [] }, { cookie: [] }]
// Verify reads Basic too, after Bearer; introspect the headers only, never the cookie.
const WITH_BASIC: Security = [{ bearer: [] }, { basic: [] }, { apiKey: [] }, { cookie: [] }]
const SERVICE: Security = [{ bearer: [] }, { basic: [] }, { apiKey: [] }]

// Every route of the contract, who may call it (public, or the carriers it reads), the
// scope it needs and the error responses it can give (every one reads the database, so
// every one can answer 503 while it is down).
const OPERATIONS: Record<string, { security: Security; scope?: string; errors: number[] }> = {
  'GET /healthz': { security: [], errors: [503] },
  'POST /api/v1/auth/signup': { security: [], errors: [403, 409, 413, 422, 429, 503] },
  'POST /api/v1/auth/login': { security: [], errors: [401, 403, 413, 422, 429, 503] },
  'POST /api/v1/auth/logout': { security: ANY_CARRIER, errors: [401, 403, 413, 503] },
  'GET /api/v1/auth/me': { security: ANY_CARRIER, errors: [401, 503] },
  'GET /api/v1/access-tokens': { security: ANY_CARRIER, scope: 'tokens:read', errors: [401, 403, 422, 503] },
  'POST /api/v1/access-tokens': { security: ANY_CARRIER, scope: 'tokens:write', errors: [401, 403, 409, 413, 422, 503] },
  'DELETE /api/v1/access-tokens': { security: ANY_CARRIER, scope: 'tokens:write', errors: [401, 403, 413, 422, 503] },
  'GET /api/v1/access-tokens/{token_id}': { security: ANY_CARRIER, scope: 'tokens:read', errors: [401, 403, 404, 422, 503] },
  'DELETE /api/v1/access-tokens/{token_id}': { security: ANY_CARRIER, scope: 'tokens:write', errors: [401, 403, 404, 413, 422, 503] },
  'POST /api/v1/access-tokens/{token_id}/rotate': { security: ANY_CARRIER, scope: 'tokens:write', errors: [401, 403, 404, 409, 413, 422, 503] },
  'GET /api/v1/access-tokens/{token_id}/addresses': { security: ANY_CARRIER, scope: 'tokens:read', errors: [401, 403, 404, 422, 503] },
  'GET /api/v1/audit-events': { security: ANY_CARRIER, scope: 'tokens:read', errors: [401, 403, 422, 503] },
  'POST /api/v1/auth/introspect': { security: SERVICE, scope: 'introspect', errors: [400, 401, 403, 413, 422, 503] },
  'POST /api/v1/credentials/revoke': { security: [], errors: [413, 422, 429, 503] },
  'GET /api/v1/revocations': { security: SERVICE, scope: 'introspect', errors: [401, 403, 422, 503] },
  'GET /api/v1/revocations/stream': { security: SERVICE, scope: 'introspect', errors: [401, 403, 422, 503] },
  // Every method alike, and never a 413: verify does not read a body.
  ...Object.fromEntries(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => [`${method} /api/v1/auth/verify`, { security: WITH_BASIC, errors: [401, 403, 422, 503] }])),
}

/** Operations that read a request body, and so may refuse one over 1 MiB: all but GET's and verify's. */
const readsBody = (key: string) => !key.startsWith('GET ') && !key.endsWith('/auth/verify')

function operations(document: OpenAPIDocument): [string, Schema][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, Schema] => [`${method.toUpperCase()} ${path}`, operation]),
  )
}

const resolve = (schema: Schema): Schema =>
  schema.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]! : schema

/** Every schema in the document, nested ones included, each with where it is. */
function allSchemas(document: OpenAPIDocument): [string, Schema][] {
  const found: [string, Schema][] = []
  const visit = (schema: Schema | undefined, at: string) => {
    if (!schema || typeof schema !== 'object') return
    found.push([at, schema])
    for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child as Schema, `${at}.${name}`)
    if (schema.items) visit(schema.items, `${at}[]`)
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      for (const [i, child] of ((schema[key] ?? []) as Schema[]).entries()) visit(child, `${at}.${key}[${i}]`)
  }
  for (const [name, schema] of Object.entries(document.components.schemas)) visit(schema, name)
  for (const [key, operation] of operations(document)) {
    for (const parameter of operation.parameters ?? []) visit(parameter.schema, `${key} ${parameter.name}`)
    for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) visit((media as Schema).schema, `${key} body ${type}`)
    for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
      for (const [type, media] of Object.entries(response.content ?? {})) visit((media as Schema).schema, `${key} ${status} ${type}`)
      for (const [name, header] of Object.entries(response.headers ?? {})) visit((header as Schema).schema, `${key} ${status} ${name}`)
    }
  }
  return found
}

describe('GET /swagger/json', () => {
  test('is an OpenAPI 3.0.3 document with title, version, license and a same-origin server', () => {
    expect(doc.openapi).toBe('3.0.3')
    expect(doc.info.title).toBe('vai')
    expect(doc.info.version).toBe(pkg.version)
    expect(doc.info.license).toEqual({ name: 'MIT', url: 'https://opensource.org/licenses/MIT' })
    expect(doc.servers).toEqual([{ url: '/' }])
  })

  test('declares the three security schemes, and Basic for verify and introspect', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
      cookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'vai_token' }),
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
    })
  })

  test('passes swagger-parser validation', async () => {
    // validate() dereferences the object it is given.
    await SwaggerParser.validate(structuredClone(doc) as never)
  })

  describe('Redocly', () => {
    let dir: string
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'vai-openapi-'))
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    test(
      "recommended lint finds no error, and only the warning we accept",
      async () => {
        const file = join(dir, 'openapi.json')
        writeFileSync(file, JSON.stringify(doc))
        const cli = Bun.resolveSync('@redocly/cli/bin/cli.js', root)
        const lint = Bun.spawn([process.execPath, cli, 'lint', '--config', join(root, 'redocly.yaml'), '--format', 'json', file], {
          cwd: dir,
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
          stdout: 'pipe',
          stderr: 'pipe',
        })
        const [out, err] = await Promise.all([new Response(lint.stdout).text(), new Response(lint.stderr).text(), lint.exited])
        if (!out.trim().startsWith('{')) throw new Error(`redocly printed no report: ${err}`)
        const report = JSON.parse(out) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] }
        const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`)
        expect(problems.filter((p) => p.startsWith('error'))).toEqual([])
        // /healthz takes no input and no credential: there is no 4xx it could give.
        expect(problems).toEqual(['warn operation-4xx-response #/paths/~1healthz/get/responses: Operation must have at least one `4XX` response.'])
      },
      20_000,
    )
  })

  test('documents exactly the contract routes', () => {
    expect(operations(doc).map(([key]) => key).sort()).toEqual(Object.keys(OPERATIONS).sort())
  })

  describe.each(Object.entries(OPERATIONS))('%s', (key, expected) => {
    const operation = () => Object.fromEntries(operations(doc))[key]!

    test('has a declared tag and a summary', () => {
      const { tags, summary } = operation()
      expect(tags.length).toBeGreaterThan(0)
      for (const tag of tags) expect(doc.tags.map((t: Schema) => t.name)).toContain(tag)
      expect(summary).toEqual(expect.stringMatching(/\S/))
    })

    const isPublic = expected.security.length === 0
    test(isPublic ? 'is public: security []' : `accepts any one of its carriers: ${expected.security.map((s) => Object.keys(s)[0]).join(', ')}`, () => {
      expect(operation().security).toEqual(expected.security)
    })

    test(`needs ${expected.scope ? `the scope ${expected.scope}` : 'no scope'}, and says so`, () => {
      const { responses } = operation()
      expect(operation()['x-vai-scope']).toBe(expected.scope)
      if (expected.scope) {
        expect(responses[403].description).toStartWith(`Needs the scope \`${expected.scope}\`.`)
        expect(responses[403].headers).toHaveProperty('WWW-Authenticate')
      }
    })

    test(`lists its errors: ${expected.errors.join(', ') || 'none'}`, () => {
      const { responses, parameters, requestBody } = operation()
      const statuses = Object.keys(responses).map(Number)
      expect(statuses.filter((s) => s >= 400)).toEqual(expected.errors)
      expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true)
      // The rules behind the table: a token means 401, validated input 422, a scope 403,
      // and any method but GET may carry a body, which the server reads (but for
      // verify's) and caps at 1 MiB (413).
      expect(statuses.includes(401)).toBe(!isPublic || key.endsWith('/login'))
      expect(statuses.includes(422)).toBe(Boolean(parameters?.length || requestBody))
      if (expected.scope) expect(statuses).toContain(403)
      expect(statuses.includes(413)).toBe(readsBody(key))
    })

    test("gives each error the contract's body", () => {
      const { responses } = operation()
      const body = (status: number) => (status === 422 ? 'ValidationError' : status === 400 ? 'OAuthError' : 'Error')
      for (const status of expected.errors) {
        expect(responses[status].description).toEqual(expect.stringMatching(/\S/))
        expect(responses[status].content).toEqual({ 'application/json': { schema: { $ref: `#/components/schemas/${body(status)}` } } })
      }
      if (responses[401]) expect(responses[401].headers).toHaveProperty('WWW-Authenticate')
      if (responses[429]) expect(responses[429].headers).toHaveProperty('Retry-After')
    })

    test(key.endsWith('/introspect') ? 'takes a JSON or a form body (RFC 7662)' : 'takes a JSON body only, if any', () => {
      const { requestBody } = operation()
      if (requestBody) expect(Object.keys(requestBody.content)).toEqual(key.endsWith('/introspect') ? ['application/json', 'application/x-www-form-urlencoded'] : ['application/json'])
    })
  })

  // The documented 413s are real: the server caps the body of any request but GET's and
  // verify's (a protected route's once its caller is accepted, so the request carries a token).
  test.each(Object.keys(OPERATIONS).filter(readsBody))('%s answers 413 to a body over 1 MiB', async (key) => {
    const [method, path] = key.split(' ') as [string, string]
    const url = path.replace('{token_id}', '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f')
    const token = OPERATIONS[key]!.security.length === 0 ? undefined : (await seedUser(app)).plaintext
    const reply = await app.request(method, url, { token, rawBody: `"${'x'.repeat(1024 * 1024)}"`, headers: { 'content-type': 'application/json' } })
    expect(reply.status).toBe(413)
  })

  // And their absence is real too: verify never reads a body, whatever its size.
  test.each(Object.keys(OPERATIONS).filter((key) => key.endsWith('/auth/verify') && key !== 'GET /api/v1/auth/verify'))('%s never reads a body, even one over 1 MiB', async (key) => {
    const [method, path] = key.split(' ') as [string, string]
    const reply = await app.request(method, path, { rawBody: `"${'x'.repeat(1024 * 1024)}"`, headers: { 'content-type': 'application/json' } })
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual({ detail: 'Not authenticated' })
  })

  test('the 422 body is {"detail":[{"loc":[string|integer...],"msg","type"}]}', () => {
    expect(doc.components.schemas.ValidationError).toEqual({
      type: 'object',
      required: ['detail'],
      properties: {
        detail: {
          type: 'array',
          items: {
            type: 'object',
            required: ['loc', 'msg', 'type'],
            properties: {
              loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
              msg: { type: 'string' },
              type: { type: 'string' },
            },
          },
        },
      },
    })
    expect(doc.components.schemas.Error).toEqual({ type: 'object', required: ['detail'], properties: { detail: { type: 'string' } } })
  })

  test('every response object schema lists all its keys in required, nullable ones too', () => {
    const bodies = new Set(operations(doc).flatMap(([key, operation]) => (operation.requestBody ? [`${key} body`] : [])))
    const objects = allSchemas(doc).filter(([at, schema]) => schema.type === 'object' && ![...bodies].some((body) => at.startsWith(body)))
    expect(objects.map(([at]) => at)).toEqual(
      expect.arrayContaining(['Token', 'User', 'Me', 'TokenPage', 'TokenWithPlaintext', 'RevokedCount', 'Health', 'Error', 'ValidationError.detail[]']),
    )
    for (const [at, schema] of objects) expect({ at, required: [...(schema.required ?? [])].sort() }).toEqual({ at, required: Object.keys(schema.properties).sort() })
  })

  test('a token: every key present, nullable ones marked nullable', () => {
    const token = doc.components.schemas.Token!
    expect(token.required).toEqual(['id', 'name', 'tokenType', 'tokenPrefix', 'createdAt', 'expiresAt', 'lastUsedAt', 'lastUsedIp', 'revokedAt', 'scopes'])
    for (const key of ['expiresAt', 'lastUsedAt', 'revokedAt']) expect(token.properties[key]).toMatchObject({ type: 'string', format: 'date-time', nullable: true })
    expect(token.properties.tokenType).toEqual({ type: 'string', enum: ['session', 'api'] })
    expect(token.properties.lastUsedIp).toMatchObject({ type: 'string', nullable: true })
    expect(token.properties.scopes).toMatchObject({ type: 'array', items: { type: 'string' } })
  })

  test.each([
    ['POST /api/v1/auth/signup', ['email', 'password'], ['email', 'password', 'name', 'setupCode']],
    ['POST /api/v1/auth/login', ['email', 'password'], ['email', 'password', 'name']],
    ['POST /api/v1/access-tokens', ['name'], ['name', 'expiresInDays', 'scopes']],
    ['POST /api/v1/auth/introspect', ['token'], ['token', 'token_type_hint']],
  ])('%s body requires %p of %p, and no other key', (key, required, keys) => {
    const schema = resolve(Object.fromEntries(operations(doc))[key]!.requestBody.content['application/json'].schema)
    expect(schema.required).toEqual(required)
    expect(Object.keys(schema.properties)).toEqual(keys)
    expect(schema.additionalProperties).toBe(false)
  })

  test('the rotate body is optional, and so is each of its keys; the others are required', () => {
    const bodies = Object.fromEntries(operations(doc).flatMap(([key, operation]) => (operation.requestBody ? [[key, operation.requestBody]] : [])))
    expect(Object.entries(bodies).filter(([, body]) => !body.required).map(([key]) => key)).toEqual(['POST /api/v1/access-tokens/{token_id}/rotate'])
    const schema = resolve(bodies['POST /api/v1/access-tokens/{token_id}/rotate'].content['application/json'].schema)
    expect(schema.required).toBeUndefined()
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties).toEqual({
      graceSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 0, description: expect.any(String) },
      expiresInDays: { type: 'integer', minimum: 1, maximum: 3650, nullable: true, description: expect.any(String) },
    })
  })

  test('scopes is a list of at most 64 scopes, each of the syntax', () => {
    const body = Object.fromEntries(operations(doc))['POST /api/v1/access-tokens']!.requestBody.content['application/json'].schema
    expect(body.properties.scopes).toMatchObject({ type: 'array', maxItems: 64, items: { type: 'string', pattern: '^(?:\\*|[A-Za-z0-9_.:/-]{1,64})$' } })
  })

  test('every answer of a protected operation but its 401 documents Vai-Token-Expires; public ones never', () => {
    for (const [key, operation] of operations(doc)) {
      const protectedOperation = operation.security.length > 0
      for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
        const expected = protectedOperation && status !== '401'
          ? { description: expect.stringContaining('When the token that authenticated the request expires'), schema: { type: 'string', format: 'date-time' } }
          : undefined
        expect({ key, status, header: response.headers?.['Vai-Token-Expires'] }).toEqual({ key, status, header: expected })
      }
    }
  })

  test("verify's 200 documents the identity headers", () => {
    const ok = Object.fromEntries(operations(doc))['GET /api/v1/auth/verify']!.responses[200]
    expect(Object.keys(ok.headers)).toEqual(['X-Vai-User-Id', 'X-Vai-User-Email', 'X-Vai-Token-Id', 'X-Vai-Token-Type', 'X-Vai-Scopes', 'Remote-User', 'Remote-Email', 'Cache-Control', 'Vai-Token-Expires'])
    expect(ok.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/Me' } } })
  })

  test('expiresInDays is a nullable integer', () => {
    const body = Object.fromEntries(operations(doc))['POST /api/v1/access-tokens']!.requestBody.content['application/json'].schema
    expect(body.properties.expiresInDays).toEqual({ type: 'integer', minimum: 1, maximum: 3650, nullable: true })
  })

  test('query and path parameters say what a client sends', () => {
    const parameters = (key: string) =>
      Object.fromEntries((Object.fromEntries(operations(doc))[key]!.parameters as Schema[]).map((p) => [`${p.in} ${p.name}`, p]))
    expect(parameters('GET /api/v1/access-tokens')).toEqual({
      'query tokenType': { name: 'tokenType', in: 'query', required: false, schema: { type: 'string', enum: ['session', 'api'] } },
      'query includeRevoked': expect.objectContaining({ required: false, schema: { type: 'boolean', default: false } }),
      'query limit': { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
      'query cursor': expect.objectContaining({ required: false, schema: { type: 'string' } }),
    })
    expect(parameters('DELETE /api/v1/access-tokens')).toEqual({
      'query exclude_current': expect.objectContaining({ required: false, schema: { type: 'boolean', default: true } }),
    })
    for (const key of ['GET /api/v1/access-tokens/{token_id}', 'DELETE /api/v1/access-tokens/{token_id}']) {
      expect(parameters(key)['path token_id']).toMatchObject({ required: true, schema: { type: 'string', format: 'uuid' } })
    }
    expect(parameters('GET /api/v1/auth/verify')).toEqual({
      'query scope': expect.objectContaining({ required: false, schema: expect.objectContaining({ type: 'string' }) }),
      'query writeScope': expect.objectContaining({ required: false, schema: expect.objectContaining({ type: 'string' }) }),
    })
  })

  test('speaks 3.0 only: no type "null", const, examples, $id or $schema in any schema', () => {
    for (const [at, schema] of allSchemas(doc)) {
      const type = Array.isArray(schema.type) ? schema.type : [schema.type]
      expect({ at, type }).not.toEqual({ at, type: expect.arrayContaining(['null']) })
      expect({ at, keys: Object.keys(schema).filter((k) => ['const', 'examples', '$id', '$schema'].includes(k)) }).toEqual({ at, keys: [] })
    }
  })
})

describe('toOpenAPI30', () => {
  const Named = t.Object({ id: t.String() }, { $id: 'Named' })
  const convert = (schema: Schema) => {
    const document: OpenAPIDocument = {
      openapi: '3.0.3',
      paths: { '/x': { get: { responses: { 200: { description: 'x', content: { 'application/json': { schema } } } } } } },
      components: { schemas: {}, securitySchemes: {} },
    }
    const out = toOpenAPI30(document)
    return { schema: out.paths['/x']!.get!.responses[200].content['application/json'].schema, components: out.components.schemas }
  }

  test.each([
    ['T | null', t.Union([t.String({ format: 'date-time' }), t.Null()]), { type: 'string', format: 'date-time', nullable: true }],
    ['a union of literals', t.Union([t.Literal('a'), t.Literal('b')]), { type: 'string', enum: ['a', 'b'] }],
    ['a literal', t.Literal(3), { type: 'number', enum: [3] }],
    ['examples', t.String({ examples: ['x', 'y'] }), { type: 'string', example: 'x' }],
    ["Elysia's coercing integer", t.Integer({ minimum: 1 }), { type: 'integer', minimum: 1 }],
    ['a nullable named schema', t.Union([Named, t.Null()]), { allOf: [{ $ref: '#/components/schemas/Named' }], nullable: true }],
  ])('rewrites %s', (_name, input, expected) => {
    expect(convert(JSON.parse(JSON.stringify(input))).schema).toEqual(expected)
  })

  test('lists a named schema once, as a component', () => {
    const { schema, components } = convert(JSON.parse(JSON.stringify(t.Object({ a: Named, b: t.Array(Named) }))))
    expect(schema.properties).toEqual({ a: { $ref: '#/components/schemas/Named' }, b: { type: 'array', items: { $ref: '#/components/schemas/Named' } } })
    expect(components).toEqual({ Named: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } })
  })
})

describe('GET /swagger', () => {
  let html: string
  beforeAll(async () => {
    const reply = await app.get('/swagger')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toContain('text/html')
    html = reply.body
  })

  const assetUrls = () => [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)

  test('loads its scripts and styles from its own origin, no CDN', () => {
    expect(html).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    const urls = assetUrls().filter((url) => !url.startsWith('data:'))
    expect(urls).toEqual(['/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js', '/swagger/assets/swagger-init.js'])
  })

  test.each([
    ['/swagger/assets/swagger-ui-bundle.js', 'text/javascript', 'swagger-ui-dist/swagger-ui-bundle.js'],
    ['/swagger/assets/swagger-ui.css', 'text/css', 'swagger-ui-dist/swagger-ui.css'],
  ])('%s is served as %s, the file swagger-ui-dist ships', async (url, type, source) => {
    const response = await app.app.handle(new Request(`http://localhost${url}`))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith(type)
    expect((await response.arrayBuffer()).byteLength).toBe(Bun.file(Bun.resolveSync(source, root)).size)
  })

  test('points Swagger UI at /swagger/json, from a script of its own (the CSP allows no inline one)', async () => {
    expect(html).not.toMatch(/<script>/)
    const init = await app.get('/swagger/assets/swagger-init.js')
    expect(init.headers.get('content-type')).toStartWith('text/javascript')
    expect(init.body).toContain("url: '/swagger/json'")
  })
})
