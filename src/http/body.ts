import { Elysia, type Context } from 'elysia'
import { httpError, MAX_BODY_BYTES, MAX_ENTRY_BODY_BYTES, type ErrorName } from '../errors'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** How much a route reads of a body, and what it answers past that. */
interface BodyLimit {
  bytes: number
  tooLarge: ErrorName
}
const PROTECTED_LIMIT: BodyLimit = { bytes: MAX_BODY_BYTES, tooLarge: 'tooLarge' }
const ENTRY_LIMIT: BodyLimit = { bytes: MAX_ENTRY_BODY_BYTES, tooLarge: 'entryTooLarge' }

async function readCapped(request: Request, { bytes: limit, tooLarge }: BodyLimit): Promise<Uint8Array> {
  // Refuse on the declared length without reading; count a chunked body as it comes.
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > limit) throw httpError(tooLarge)
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of request.body) {
      size += chunk.byteLength
      if (size > limit) throw httpError(tooLarge)
      chunks.push(chunk)
    }
  } catch (error) {
    // The client hung up before its body was complete (Bun says AbortError): its fault,
    // not a bug, and nobody is left to answer.
    if ((error as Error).name === 'AbortError') throw httpError('bodyAborted')
    throw error
  }
  return Buffer.concat(chunks)
}

/**
 * Reads no body at all: every body stays unread until the route's own step reads it —
 * a protected route's once its caller is authenticated (the `auth` macro), login's and
 * signup's under their smaller limit (`entryBody`). So a stranger's megabyte is never
 * parsed, and Elysia's default parsers, which have no limit, never run.
 */
export const jsonBody = new Elysia({ name: 'json-body' }).onParse({ as: 'global' }, () => UNREAD)

/** The body of a request no step has read yet. */
const UNREAD: unknown = Object.freeze({ unread: true })

/**
 * Reads the body a request still holds, as strict JSON: what the route's schema then
 * validates (a transform's returned object is merged into the context). A body that is
 * not JSON is not an error yet (the schema step explains it), so it becomes a value no
 * schema accepts. The hooks name the context's keys they use: Elysia works out from a
 * hook's parameters what to prepare for a request, and a hook that takes the whole
 * context makes every request pay for everything (query, cookies, headers).
 */
async function readBody(request: Request, body: unknown, limit: BodyLimit, optional = false): Promise<{ body: unknown } | undefined> {
  if (body !== UNREAD) return
  const decoded = await decode(request, request.headers.get('content-type') ?? '', limit, optional)
  // Elysia reshapes a body while checking it; the explanation of a refusal needs it as sent.
  sentBodies.set(request, decoded)
  return { body: decoded }
}

/** A protected route's body, read once its caller is accepted (the `auth` macro's last step). */
export const readProtectedBody = ({ request, body }: Pick<Context, 'request' | 'body'>) => readBody(request, body, PROTECTED_LIMIT)

/** The same for a route whose body is optional as a whole: an empty one (whatever its Content-Type) is `{}`. */
export const readOptionalBody = ({ request, body }: Pick<Context, 'request' | 'body'>) => readBody(request, body, PROTECTED_LIMIT, true)

/** Login's and signup's body: no credential guards them, so 64 KiB, which any real one fits in many times over. */
export const entryBody = new Elysia({ name: 'entry-body' }).onTransform(
  { as: 'scoped' },
  // Merged into the context, though a transform's type says it returns nothing.
  ({ request, body }) => readBody(request, body, ENTRY_LIMIT) as Promise<unknown> as Promise<void>,
)

const sentBodies = new WeakMap<Request, unknown>()

/** The body as the client sent it, once decoded: what validation errors describe. */
export const sentBody = (request: Request): unknown => sentBodies.get(request)

async function decode(request: Request, contentType: string, limit: BodyLimit, optional: boolean): Promise<unknown> {
  const bytes = await readCapped(request, limit)
  if (bytes.byteLength === 0) return optional ? {} : new UndecodableBody('missing')
  // Like FastAPI, a body sent with no Content-Type at all is read as JSON.
  if (contentType !== '' && !JSON_TYPE.test(contentType)) return new UndecodableBody('json_invalid', FORM_TYPE.test(contentType) ? formFields(bytes) : undefined)
  // JSON.parse copes with nesting 100 000 deep, but takes tens of milliseconds over a
  // megabyte of `[` and validating such a value overflows the stack; pydantic's JSON
  // parser stops at the same depth. Counted on the bytes, before any parse starts.
  if (nestedDeeperThan(bytes, MAX_DEPTH)) return new UndecodableBody('json_invalid')
  try {
    return JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return new UndecodableBody('json_invalid')
  }
}

const MAX_DEPTH = 200

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const OPEN_BRACE = 0x7b
const CLOSE_BRACKET = 0x5d
const CLOSE_BRACE = 0x7d

/**
 * True when arrays or objects open more than `levels` deep, brackets inside strings not
 * counted: one pass that stops at the first bracket too deep. Bytes, not characters:
 * no byte of a multi-byte UTF-8 character is a quote, backslash or bracket.
 */
function nestedDeeperThan(bytes: Uint8Array, levels: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
    } else if (byte === QUOTE) inString = true
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > levels) return true
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--
  }
  return false
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i

const formFields = (bytes: Uint8Array): URLSearchParams | undefined => {
  try {
    return new URLSearchParams(strictUtf8.decode(bytes))
  } catch {
    return undefined
  }
}

export class UndecodableBody {
  constructor(
    readonly reason: 'missing' | 'json_invalid',
    /** A form's fields: only introspection (RFC 7662) takes a form; to every other route it is not JSON. */
    readonly form?: URLSearchParams,
  ) {}
}
