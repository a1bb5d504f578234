// Single requests from the bench to a server, outside the load: building them,
// sending one and capturing the answer (which the baseline then replays byte for
// byte), and checking that a floor answers as vai does.
import type { Request } from './wrk'

export interface Captured {
  status: number
  headers: Record<string, string>
  body: string
}

export async function send(baseUrl: string, request: Request): Promise<Captured> {
  const response = await fetch(baseUrl + request.path, { method: request.method, headers: request.headers, body: request.body })
  const headers: Record<string, string> = {}
  // Bun.serve adds these itself; every other header vai sends the baseline sends too.
  for (const [name, value] of response.headers) if (!['date', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value
  return { status: response.status, headers, body: await response.text() }
}

export async function sendJson<T>(baseUrl: string, request: Request, expected: number): Promise<{ json: T; response: Captured }> {
  const response = await send(baseUrl, request)
  if (response.status !== expected) throw new Error(`${request.method} ${request.path}: ${response.status} ${response.body}`)
  return { json: JSON.parse(response.body) as T, response }
}

/**
 * Checks that a floor answers as vai does: the same status, the same header names
 * and values (but the request id), the same JSON keys all the way down, the same
 * value types where neither is null, and a body within a few bytes of vai's.
 * Returns what it checked, for the log; throws when something differs.
 */
export function sameShape(label: string, vai: Captured, floor: Captured): string {
  const problems: string[] = []
  if (floor.status !== vai.status) problems.push(`status ${floor.status}, vai's ${vai.status}`)
  const names = (c: Captured) => Object.keys(c.headers).sort().join(', ')
  if (names(floor) !== names(vai)) problems.push(`headers [${names(floor)}], vai's [${names(vai)}]`)
  for (const [name, value] of Object.entries(vai.headers)) {
    if (name !== 'x-request-id' && name in floor.headers && floor.headers[name] !== value) problems.push(`${name}: '${floor.headers[name]}', vai's '${value}'`)
  }
  const compare = (path: string, a: unknown, b: unknown) => {
    if (a === null || b === null) return
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return problems.push(`${path}: not the same array`)
      a.forEach((item, i) => compare(`${path}[${i}]`, item, b[i]))
    } else if (typeof a === 'object' && typeof b === 'object') {
      const keysA = Object.keys(a as object).join(',')
      const keysB = Object.keys(b as object).join(',')
      if (keysA !== keysB) return problems.push(`${path}: keys ${keysA}, vai's ${keysB}`)
      for (const key of Object.keys(a as object)) compare(`${path}.${key}`, (a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    } else if (typeof a !== typeof b) problems.push(`${path}: ${typeof a}, vai's ${typeof b}`)
  }
  try {
    compare('body', JSON.parse(floor.body), JSON.parse(vai.body))
  } catch (error) {
    problems.push(`body is not JSON: ${(error as Error).message}`)
  }
  const bytes = Buffer.byteLength(floor.body)
  const vaiBytes = Buffer.byteLength(vai.body)
  if (Math.abs(bytes - vaiBytes) > 4) problems.push(`${bytes} bytes, vai's ${vaiBytes}`)
  if (problems.length > 0) throw new Error(`${label} does not answer as vai does: ${problems.join('; ')}\nfloor: ${floor.body.slice(0, 400)}\nvai:   ${vai.body.slice(0, 400)}`)
  return `status ${floor.status}, the same ${Object.keys(vai.headers).length} headers, the same JSON keys, ${bytes} bytes (vai ${vaiBytes})`
}

export const jsonPost = (path: string, body: unknown, headers: Record<string, string> = {}): Request => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})
