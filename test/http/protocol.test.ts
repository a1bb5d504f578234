// Rows of the contract that hold for every route: routing, methods, bodies, locations.
import { beforeAll, describe, expect, spyOn, test } from 'bun:test'
import {
  BASE, brokenAppFixture, INVALID_TOKEN, JSON_INVALID, makeApp, NOT_AUTHENTICATED, seedUser, type Seeded, type TestApp,
} from '../support/app'

const SOME_ID = '0193f1c2-7b4a-7c3e-9d2f-1a2b3c4d5e6f'
const MIB = 1024 * 1024

let t: TestApp
let alice: Seeded

beforeAll(async () => {
  t = makeApp()
  alice = await seedUser(t)
})

const allowOf = (headers: Headers) => (headers.get('allow') ?? '').split(',').map((method) => method.trim()).sort()

describe('unknown routes', () => {
  test.each([
    ['GET', '/index.html'], // `/` is the web console
    ['GET', '/nope'],
    ['GET', '/api'],
    ['GET', '/api/v1'],
    ['GET', '/api/v1/nope'],
    ['POST', '/api/v1/access-tokens/x/y'],
    ['GET', `/api/v1/access-tokens/${SOME_ID}/name`],
    ['GET', '/api/v2/access-tokens'],
    ['DELETE', '/api/v1/auth'],
    ['OPTIONS', '/api/v1/nope'],
  ])('%s %s → 404 Not Found, with or without a token', async (method, path) => {
    for (const token of [undefined, alice.plaintext, 'garbage']) {
      const reply = await t.request(method, path, { token })
      expect(reply.status).toBe(404)
      expect(reply.body).toEqual({ detail: 'Not Found' })
      expect(reply.headers.get('content-type')).toStartWith('application/json')
    }
  })
})

describe('methods', () => {
  const ROUTES: [path: string, methods: string[]][] = [
    ['/api/v1/access-tokens', ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS']],
    [`/api/v1/access-tokens/${SOME_ID}`, ['GET', 'HEAD', 'DELETE', 'OPTIONS']],
    ['/api/v1/auth/signup', ['POST', 'OPTIONS']],
    ['/api/v1/auth/login', ['POST', 'OPTIONS']],
    ['/api/v1/auth/logout', ['POST', 'OPTIONS']],
    ['/api/v1/auth/me', ['GET', 'HEAD', 'OPTIONS']],
    ['/api/v1/auth/introspect', ['POST', 'OPTIONS']],
    ['/healthz', ['GET', 'HEAD', 'OPTIONS']],
  ]

  test.each(ROUTES.flatMap(([path, allowed]) =>
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((method) => !allowed.includes(method)).map((method) => [method, path, allowed] as const),
  ))('%s %s → 405 Method Not Allowed with Allow, with or without a token', async (method, path, allowed) => {
    for (const token of [undefined, alice.plaintext, 'garbage']) {
      const reply = await t.request(method, path, { token })
      expect(reply.status).toBe(405)
      expect(reply.body).toEqual({ detail: 'Method Not Allowed' })
      expect(allowOf(reply.headers)).toEqual([...allowed].sort())
    }
  })

  test.each(ROUTES)('OPTIONS %s → 204 with Allow, no token needed', async (path, allowed) => {
    const reply = await t.request('OPTIONS', path)
    expect(reply.status).toBe(204)
    expect(reply.body).toBe('')
    expect(allowOf(reply.headers)).toEqual([...allowed].sort())
  })

  test.each([
    ['/healthz', false],
    ['/api/v1/auth/me', true],
    ['/api/v1/access-tokens', true],
    [`/api/v1/access-tokens/{id}`, true],
  ])('HEAD %s answers like GET, without a body', async (template, withToken) => {
    const path = template.replace('{id}', alice.token.id)
    const token = withToken ? alice.plaintext : undefined
    const get = await t.get(path, { token })
    const head = await t.request('HEAD', path, { token })
    expect(get.status).toBe(200)
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
  })

  test('HEAD on a protected route without a token → 401 without a body', async () => {
    const head = await t.request('HEAD', '/api/v1/auth/me')
    expect(head.status).toBe(401)
    expect(head.body).toBe('')
    expect(head.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('request bodies', () => {
  const create = (options: Parameters<TestApp['post']>[1]) => t.post('/api/v1/access-tokens', { token: alice.plaintext, ...options })
  const json = { 'content-type': 'application/json' }

  test.each([
    ['unparsable JSON', { rawBody: '{"name":', headers: json }],
    ['JSON with trailing garbage', { rawBody: '{"name":"x"} x', headers: json }],
    ['single quotes', { rawBody: "{'name':'x'}", headers: json }],
    ['a wrong Content-Type', { rawBody: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }],
    ['a form body', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['invalid UTF-8', { rawBody: new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: json }],
    ['absurdly deep nesting', { rawBody: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, headers: json }],
    ['absurdly deep nesting inside a field', { rawBody: `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, headers: json }],
    ['absurdly deep objects', { rawBody: `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`, headers: json }],
    ['deeper than the JSON parser goes', { rawBody: `${'['.repeat(500_000)}${']'.repeat(500_000)}`, headers: json }],
  ])('%s → 422 json_invalid at ["body"]', async (_name, options) => {
    const reply = await create(options)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual(JSON_INVALID)
  })

  test.each([
    ['application/json; charset=utf-8'],
    ['Application/JSON'],
    ['application/merge-patch+json'],
  ])('Content-Type %p is JSON', async (contentType) => {
    const reply = await create({ rawBody: '{"name":"typed"}', headers: { 'content-type': contentType } })
    expect(reply.status).toBe(201)
  })

  // FastAPI parses a body that comes without any Content-Type as JSON; so does vai.
  test('a JSON body without a Content-Type is read as JSON', async () => {
    const reply = await create({ rawBody: '{"name":"untyped"}' })
    expect(reply.status).toBe(201)
    expect(reply.body.token.name).toBe('untyped')
  })

  test('nesting a person might write is not "absurdly deep"', async () => {
    // Parsed, so what is refused is the key, not the JSON.
    const reply = await create({ rawBody: `{"name":"x","extra":${'['.repeat(50)}${']'.repeat(50)}}`, headers: json })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['body', 'extra'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }] })
  })

  test.each([
    ['no body at all', {}],
    ['an empty body', { rawBody: '', headers: json }],
  ])('%s → 422 missing at ["body"]', async (_name, options) => {
    const reply = await create(options)
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] })
  })

  test.each([
    ['an array', ['name']],
    ['a string', 'name'],
    ['a number', 5],
    ['null', null],
  ])('a body that is %s → 422 model_attributes_type at ["body"]', async (_name, body) => {
    const reply = await create({ rawBody: JSON.stringify(body), headers: json })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }],
    })
  })

  const UNICODE = 'Input should be a valid string, unable to parse raw data as a unicode string'
  test.each([
    ['/api/v1/access-tokens', '{"name":"ci \\ud800 key"}', 'name'],
    ['/api/v1/access-tokens', '{"name":"\\udc00"}', 'name'],
    ['/api/v1/auth/signup', '{"email":"ada@example.com","password":"12345678\\ud83d","name":"x"}', 'password'],
    ['/api/v1/auth/signup', '{"email":"ada\\ud800@example.com","password":"12345678"}', 'email'],
    ['/api/v1/auth/signup', '{"email":"ada@example.com","password":"12345678","name":"\\ud800"}', 'name'],
    ['/api/v1/auth/login', '{"email":"ada@example.com","password":"\\udfff"}', 'password'],
    ['/api/v1/auth/login', '{"email":"ada@example.com","password":"12345678","name":"\\ud800"}', 'name'],
  ])('%s: a lone surrogate in %s → 422 string_unicode at the field', async (path, rawBody, field) => {
    const reply = await t.post(path, { rawBody, headers: json, token: alice.plaintext })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['body', field], msg: UNICODE, type: 'string_unicode' }] })
  })

  test('a body over 1 MiB → 413, on a public route', async () => {
    const reply = await t.post('/api/v1/auth/signup', { body: { email: 'ada@example.com', password: 'x'.repeat(MIB) } })
    expect(reply.status).toBe(413)
    expect(reply.body).toEqual({ detail: expect.any(String) })
    expect(reply.headers.get('content-type')).toStartWith('application/json')
  })

  test('a body over 1 MiB → 413, on a protected route', async () => {
    const reply = await create({ body: { name: 'x'.repeat(MIB) } })
    expect(reply.status).toBe(413)
    expect(reply.body).toEqual({ detail: expect.any(String) })
  })

  test('a declared Content-Length over 1 MiB → 413 without reading the body', async () => {
    const reply = await t.handle(
      new Request(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: { ...json, 'content-length': String(MIB + 1) }, body: '{}' }),
    )
    expect(reply.status).toBe(413)
    expect(reply.body).toEqual({ detail: expect.any(String) })
  })

  test('a streamed body that grows past 1 MiB → 413', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent <= MIB; sent += chunk.byteLength) controller.enqueue(chunk)
        controller.close()
      },
    })
    const reply = await t.handle(new Request(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: json, body }))
    expect(reply.status).toBe(413)
    expect(reply.body).toEqual({ detail: expect.any(String) })
  })

  test('a body of exactly 1 MiB is read and validated', async () => {
    const text = JSON.stringify({ name: 'x'.repeat(300) })
    const reply = await create({ rawBody: text.padEnd(MIB, ' '), headers: json })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [{ loc: ['body', 'name'], msg: 'String should have at most 255 characters', type: 'string_too_long' }],
    })
  })

  const EXTRA = (key: string) => ({ loc: ['body', key], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' })
  test.each([
    ['/api/v1/access-tokens', { name: 'extra', colour: 'blue' }, [EXTRA('colour')]],
    ['/api/v1/auth/signup', { email: 'extra@example.com', password: 'long enough', nmae: 'Ada' }, [EXTRA('nmae')]],
    ['/api/v1/auth/login', { email: 'ada@example.com', password: 'long enough', remember: true }, [EXTRA('remember')]],
    ['/api/v1/auth/introspect', { token: 'vai_x', token_type: 'api' }, [EXTRA('token_type')]],
    ['/api/v1/auth/signup', { email: 'nope', password: 'long enough', a: 1, b: 2 }, [
      { loc: ['body', 'email'], msg: 'value is not a valid email address: it must look like name@example.com', type: 'value_error' },
      EXTRA('a'),
      EXTRA('b'),
    ]],
  ])('%s: a key the body does not define → 422 extra_forbidden, listed with every other problem; nothing changes', async (path, body, detail) => {
    const before = await t.store.countRows()
    const reply = await t.post(path, { body, token: alice.plaintext })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail })
    expect(await t.store.countRows()).toEqual(before)
  })
})

describe('validation errors', () => {
  test('every problem is listed, one entry each', async () => {
    const reply = await t.post('/api/v1/auth/signup', { body: { email: 'nope', password: 'short', name: 5 } })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [
        { loc: ['body', 'email'], msg: 'value is not a valid email address: it must look like name@example.com', type: 'value_error' },
        { loc: ['body', 'password'], msg: 'String should have at least 8 characters', type: 'string_too_short' },
        { loc: ['body', 'name'], msg: 'Input should be a valid string', type: 'string_type' },
      ],
    })
  })

  test.each([
    ['query', 'GET', '/api/v1/access-tokens?limit=0', ['query', 'limit']],
    ['query', 'DELETE', '/api/v1/access-tokens?exclude_current=2', ['query', 'exclude_current']],
    ['path', 'GET', '/api/v1/access-tokens/xyz', ['path', 'token_id']],
    ['path', 'DELETE', '/api/v1/access-tokens/xyz', ['path', 'token_id']],
    ['body', 'POST', '/api/v1/access-tokens', ['body', 'name']],
  ])('a %s problem is located at %s %s', async (_where, method, path, loc) => {
    const reply = await t.request(method, path, { token: alice.plaintext, body: method === 'POST' ? {} : undefined })
    expect(reply.status).toBe(422)
    expect(reply.body.detail.map((entry: { loc: unknown }) => entry.loc)).toEqual([loc])
  })

  test('problems in several query parameters are all listed', async () => {
    const reply = await t.get('/api/v1/access-tokens?tokenType=robot&includeRevoked=maybe&limit=1000', { token: alice.plaintext })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      detail: [
        { loc: ['query', 'tokenType'], msg: "Input should be 'session' or 'api'", type: 'enum' },
        { loc: ['query', 'includeRevoked'], msg: 'Input should be a valid boolean, unable to interpret input', type: 'bool_parsing' },
        { loc: ['query', 'limit'], msg: 'Input should be less than or equal to 200', type: 'less_than_equal' },
      ],
    })
  })
})

describe('failures', () => {
  const broken = brokenAppFixture()

  test('a database that fails mid-request → bare 500: no stack, no SQL', async () => {
    const reply = await broken.app.get('/api/v1/auth/me', { token: broken.session.plaintext })
    expect(reply.status).toBe(500)
    expect(reply.body).toEqual({ detail: 'Internal Server Error' })
    expect(broken.consoleError).toHaveBeenCalledTimes(1)
  })

  test('the 401 table does not depend on the database for a malformed token', async () => {
    expect((await broken.app.get('/api/v1/auth/me')).body).toEqual(NOT_AUTHENTICATED)
    expect((await broken.app.get('/api/v1/auth/me', { token: 'garbage' })).body).toEqual(INVALID_TOKEN)
  })
})

describe('hardening 4: bodies parsed before authentication', () => {
  const json = { 'content-type': 'application/json' }
  const KIB = 1024
  const ENTRY_TOO_LARGE = { detail: 'Request body is larger than 65536 bytes (64 KiB)' }

  /** A body that records whether anything read it. */
  function watchedBody(text: string) {
    const watch = { read: false, body: undefined as unknown as ReadableStream<Uint8Array> }
    watch.body = new ReadableStream<Uint8Array>({
      pull(controller) {
        watch.read = true
        controller.enqueue(new TextEncoder().encode(text))
        controller.close()
      },
    }, { highWaterMark: 0 })
    return watch
  }

  const PROTECTED_WITH_BODY: [method: string, path: string][] = [
    ['POST', '/api/v1/access-tokens'],
    ['DELETE', '/api/v1/access-tokens'],
    ['DELETE', `/api/v1/access-tokens/${SOME_ID}`],
    ['POST', '/api/v1/auth/logout'],
  ]

  test.each(PROTECTED_WITH_BODY)('%s %s: a stranger\'s body is never read', async (method, path) => {
    for (const [headers, expected] of [[{}, NOT_AUTHENTICATED], [{ authorization: 'Bearer vai_nope' }, INVALID_TOKEN]] as const) {
      const watch = watchedBody('[[[[')
      const reply = await t.handle(new Request(`${BASE}${path}`, { method, headers: { ...json, ...headers }, body: watch.body }))
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual(expected)
      expect(watch.read).toBe(false)
    }
  })

  test('a stranger\'s megabyte of `[` is not parsed: no JSON.parse runs', async () => {
    const parse = spyOn(JSON, 'parse')
    try {
      const reply = await t.post('/api/v1/access-tokens', { rawBody: '['.repeat(MIB - 1), headers: json })
      expect(reply.status).toBe(401)
      expect(parse.mock.calls.filter(([text]) => String(text).length > KIB)).toEqual([])
    } finally {
      parse.mockRestore()
    }
  })

  test('the caller\'s body is read once the token is accepted', async () => {
    const watch = watchedBody('{"name":"read after"}')
    const reply = await t.handle(new Request(`${BASE}/api/v1/access-tokens`, { method: 'POST', headers: { ...json, authorization: `Bearer ${alice.plaintext}` }, body: watch.body }))
    expect(reply.status).toBe(201)
    expect(reply.body.token.name).toBe('read after')
    expect(watch.read).toBe(true)
  })

  test.each(['/api/v1/auth/signup', '/api/v1/auth/login'])('%s: a body over 64 KiB → 413, declared or streamed', async (path) => {
    const big = JSON.stringify({ email: 'ada@example.com', password: 'x'.repeat(64 * KIB) })
    const sent = await t.post(path, { rawBody: big, headers: json })
    expect(sent.status).toBe(413)
    expect(sent.body).toEqual(ENTRY_TOO_LARGE)
    expect(sent.headers.get('content-type')).toStartWith('application/json')
    const declared = await t.handle(new Request(`${BASE}${path}`, { method: 'POST', headers: { ...json, 'content-length': String(64 * KIB + 1) }, body: '{}' }))
    expect(declared.status).toBe(413)
    expect(declared.body).toEqual(ENTRY_TOO_LARGE)
    const streamed = await t.handle(new Request(`${BASE}${path}`, { method: 'POST', headers: json, body: watchedBody(big).body }))
    expect(streamed.status).toBe(413)
    expect(streamed.body).toEqual(ENTRY_TOO_LARGE)
  })

  test.each(['/api/v1/auth/signup', '/api/v1/auth/login'])('%s: a body of exactly 64 KiB is read and validated', async (path) => {
    const reply = await t.post(path, { rawBody: JSON.stringify({ email: 'ada@example.com', password: 5 }).padEnd(64 * KIB, ' '), headers: json })
    expect(reply.status).toBe(422)
    expect(reply.body.detail.map((entry: { loc: unknown }) => entry.loc)).toEqual([['body', 'password']])
  })

  test.each([
    ['a megabyte of `[`', '['.repeat(MIB - 1)],
    ['201 levels, closed', `${'['.repeat(201)}${']'.repeat(201)}`],
    ['201 levels of objects', `${'{"a":'.repeat(201)}1${'}'.repeat(201)}`],
  ])('nesting deeper than 200 is refused before any parse: %s → 422 json_invalid, no JSON.parse', async (_name, rawBody) => {
    const parse = spyOn(JSON, 'parse')
    try {
      const reply = await t.post('/api/v1/access-tokens', { token: alice.plaintext, rawBody, headers: json })
      expect(reply.status).toBe(422)
      expect(reply.body).toEqual(JSON_INVALID)
      expect(parse.mock.calls.filter(([text]) => String(text).length > 200)).toEqual([])
    } finally {
      parse.mockRestore()
    }
  })

  // Parsed, then judged by the schema: the key it does not define is the one problem named.
  test.each([
    ['200 levels', `{"name":"deep","extra":${'['.repeat(199)}${']'.repeat(199)}}`, 'extra'],
    ['brackets inside strings do not count', JSON.stringify({ name: '['.repeat(250), note: '{\"['.repeat(300) }), 'note'],
    ['an escaped quote does not end a string', JSON.stringify({ name: 'say \\"[[[', extra: '\\\\' }), 'extra'],
  ])('%s → read', async (_name, rawBody, extra) => {
    const reply = await t.post('/api/v1/access-tokens', { token: alice.plaintext, rawBody, headers: json })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({ detail: [{ loc: ['body', extra], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }] })
  })
})
