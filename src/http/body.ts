import { Elysia } from 'elysia'
import { httpError, MAX_BODY_BYTES } from '../errors'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

async function readCapped(request: Request): Promise<Uint8Array> {
  // Refuse on the declared length without reading; count a chunked body as it comes.
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > MAX_BODY_BYTES) throw httpError('tooLarge')
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) throw httpError('tooLarge')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * Decodes every request body as strict JSON. A body that is not JSON is not an
 * error yet: routing and authentication come first (a stranger gets a 401, not
 * a schema hint), so the problem is carried to the validation step as a value
 * no schema accepts.
 */
export const jsonBody = new Elysia({ name: 'json-body' }).onParse({ as: 'global' }, async ({ request, contentType }) => {
  const body = await decode(request, contentType ?? '')
  // Elysia reshapes a body while checking it; the explanation of a refusal needs it as sent.
  sentBodies.set(request, body)
  return body
})

const sentBodies = new WeakMap<Request, unknown>()

/** The body as the client sent it, once decoded: what validation errors describe. */
export const sentBody = (request: Request): unknown => sentBodies.get(request)

async function decode(request: Request, contentType: string): Promise<unknown> {
  const bytes = await readCapped(request)
  if (bytes.byteLength === 0) return new UndecodableBody('missing')
  // Like FastAPI, a body sent with no Content-Type at all is read as JSON.
  if (contentType !== '' && !JSON_TYPE.test(contentType)) return new UndecodableBody('json_invalid', FORM_TYPE.test(contentType) ? formFields(bytes) : undefined)
  let body: unknown
  try {
    body = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return new UndecodableBody('json_invalid')
  }
  // JSON.parse copes with nesting 100 000 deep, but validating such a value overflows the
  // stack after seconds of work; pydantic's JSON parser stops at the same depth.
  return nestedDeeperThan(body, MAX_DEPTH) ? new UndecodableBody('json_invalid') : body
}

const MAX_DEPTH = 200

/** True when arrays or objects nest more than `levels` deep; looks no deeper than that. */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (levels === 0) return true
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (nestedDeeperThan(child, levels - 1)) return true
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
