import { Elysia } from 'elysia'
import { HttpError } from '../errors'

export const MAX_BODY_BYTES = 1024 * 1024

const tooLarge = () => new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`)
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

async function readCapped(request: Request): Promise<Uint8Array> {
  // Refuse on the declared length without reading; count a chunked body as it comes.
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > MAX_BODY_BYTES) throw tooLarge()
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) throw tooLarge()
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
  if (!JSON_TYPE.test(contentType)) return new UndecodableBody('json_invalid')
  try {
    // Absurdly deep nesting makes JSON.parse throw RangeError: caught like any bad JSON.
    return JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return new UndecodableBody('json_invalid')
  }
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

export class UndecodableBody {
  constructor(readonly reason: 'missing' | 'json_invalid') {}
}
