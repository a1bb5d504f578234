// Who sent a request. The TCP peer, unless the peer is a proxy vai was told to trust
// (`--trusted-proxies`): then the client that proxy says it forwarded for, and the
// scheme and host that client addressed. A peer that is not trusted cannot move the
// address the login limit counts, nor make vai believe it came over HTTPS.

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IPV4 = `(?:${OCTET}\\.){3}${OCTET}`
const GROUP = '[0-9a-fA-F]{1,4}'

/**
 * Every way to write an IPv6 address: eight groups, or fewer around one `::`; the last
 * two groups may be written as an IPv4 address (`::ffff:192.0.2.1`).
 */
function ipv6Pattern(): string {
  const forms = [`(?:${GROUP}:){7}${GROUP}`, `(?:${GROUP}:){6}${IPV4}`]
  for (let left = 0; left <= 7; left++) {
    const before = left === 0 ? '' : `(?:${GROUP}:){${left - 1}}${GROUP}`
    // `::` stands for at least one group: at most 7 - left written after it.
    if (left <= 6) forms.push(`${before}::(?:(?:${GROUP}:){0,${6 - left}}${GROUP})?`)
    else forms.push(`${before}::`)
    if (left <= 5) forms.push(`${before}::(?:${GROUP}:){0,${5 - left}}${IPV4}`)
  }
  return `(?:${forms.join('|')})`
}
const IPV6 = ipv6Pattern()

/** A CIDR block as `--trusted-proxies` takes it, or one address (a block of one). */
export const CIDR_PATTERN = `^(?:${IPV4}(?:/(?:3[0-2]|[12]?\\d))?|${IPV6}(?:/(?:12[0-8]|1[01]\\d|[1-9]?\\d))?)$`

const IPV4_ONLY = new RegExp(`^${IPV4}$`)
const IPV6_ONLY = new RegExp(`^${IPV6}$`)

/** An address as 4 bytes (IPv4, also when written IPv4-mapped) or 16 (IPv6); null if it is none. */
function addressBytes(text: string): Uint8Array | null {
  if (IPV4_ONLY.test(text)) return Uint8Array.from(text.split('.').map(Number))
  if (!IPV6_ONLY.test(text)) return null
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined]
  const groups = (part: string) => (part === '' ? [] : part.split(':')).flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)]
    const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number]
    return [(a << 8) | b, (c << 8) | d]
  })
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8
    bytes[2 * i + 1] = group & 0xff
  })
  // ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket: the same client as a.b.c.d.
  const mapped = bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  return mapped ? bytes.slice(12) : bytes
}

/** The address as one text per address: dotted IPv4, or IPv6 in RFC 5952's shortest lower-case form. */
function canonical(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.')
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!)
  // The longest run of two or more zero groups (the first, on a tie) becomes `::`.
  let best = { at: -1, length: 1 }
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > best.length) best = { at: i, length: j - i }
    i = j === i ? i + 1 : j
  }
  const hex = (part: number[]) => part.map((group) => group.toString(16)).join(':')
  if (best.at === -1) return hex(groups)
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.length))}`
}

/**
 * An address as a header or the runtime writes it, tidied: `[::1]:8080` or `192.0.2.1:8080`
 * lose their port, a zone (`%eth0`) is dropped. Null when it is not an address at all.
 */
export function parseAddress(text: string): { bytes: Uint8Array; text: string } | null {
  let address = text.trim()
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed) address = bracketed[1]!
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'))
  address = address.replace(/%.*$/, '')
  const bytes = addressBytes(address)
  return bytes === null ? null : { bytes, text: canonical(bytes) }
}

/** Whether an address lies in one of `cidrs` (each checked by CIDR_PATTERN before it gets here). */
export type AddressTest = (address: Uint8Array) => boolean

export function addressIn(cidrs: readonly string[]): AddressTest {
  const blocks = cidrs.map((cidr) => {
    const [address, prefix] = cidr.split('/') as [string, string | undefined]
    const bytes = addressBytes(address)
    if (bytes === null) throw new Error(`not a CIDR block: ${cidr}`)
    // A prefix written on an IPv4-mapped block counts from the IPv4 part.
    const bits = prefix === undefined ? bytes.length * 8 : Math.max(0, Number(prefix) - (address.includes(':') && bytes.length === 4 ? 96 : 0))
    return { bytes, bits }
  })
  return (address) => blocks.some(({ bytes, bits }) => bytes.length === address.length && samePrefix(bytes, address, bits))
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false
  const rest = bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (a[whole]! & mask) === (b[whole]! & mask)
}

/** Who a request comes from, and what it addressed: the same answer for every step of one request. */
export interface Client {
  /** The client's address, canonical (`192.0.2.1`, `2001:db8::1`), or `unknown` when the runtime cannot say. */
  address: string
  /** Whether the client's own request to vai (or to the proxy in front) was HTTPS. */
  https: boolean
  /** The host (and port, if any) the client addressed, lower-case. */
  host: string
}

/** What a request says about its origin, as it arrived. */
export interface Arrival {
  /** The TCP peer's address as the runtime gives it; null when it gives none. */
  peer: string | null
  /** Whether the connection to vai itself is TLS. */
  https: boolean
  /** The Host header (or the URL's host). */
  host: string
  forwardedFor: string | null
  forwardedProto: string | null
  forwardedHost: string | null
}

const entries = (header: string | null) => (header === null ? [] : header.split(',').map((entry) => entry.trim()))

/**
 * The client behind the proxies vai trusts. From a peer that is not trusted, nothing
 * forwarded is believed. From a trusted one, X-Forwarded-For is walked from the right
 * (each proxy appends the address it received from): the client is the first entry that
 * is not itself a trusted proxy, or the left-most when all are. An entry that is no address
 * ends the walk at the last address known. X-Forwarded-Proto and -Host are read from the
 * proxy that received the client's connection: as many entries from the right as it stands
 * hops from vai, or the single entry a proxy that overwrites leaves.
 */
export function clientOfArrival(arrival: Arrival, trusted: AddressTest): Client {
  // Nothing forwarded: whoever the peer is, it is the client (the common case, kept cheap).
  if (arrival.forwardedFor === null && arrival.forwardedProto === null && arrival.forwardedHost === null && arrival.peer !== null && IPV4_ONLY.test(arrival.peer)) {
    return { address: arrival.peer, https: arrival.https, host: arrival.host.toLowerCase() }
  }
  const peer = arrival.peer === null ? null : parseAddress(arrival.peer)
  if (peer === null || !trusted(peer.bytes)) return { address: peer?.text ?? 'unknown', https: arrival.https, host: arrival.host.toLowerCase() }
  const hops = entries(arrival.forwardedFor)
  let address = peer
  // How many X-Forwarded-For entries lie right of the client's; -1: the client is the peer.
  let behind = -1
  for (let i = hops.length - 1; i >= 0 && trusted(address.bytes); i--) {
    const hop = parseAddress(hops[i]!)
    if (hop === null) break
    address = hop
    behind++
  }
  const writtenByClientsProxy = (header: string | null) => {
    const values = entries(header).filter((value) => value !== '')
    return values.length === 0 ? undefined : values[Math.max(0, values.length - 1 - Math.max(0, behind))]
  }
  const proto = writtenByClientsProxy(arrival.forwardedProto)
  const host = writtenByClientsProxy(arrival.forwardedHost)
  return {
    address: address.text,
    https: proto === undefined ? arrival.https : proto.toLowerCase() === 'https',
    host: (host ?? arrival.host).toLowerCase(),
  }
}

/**
 * What the per-client limits count an address as: itself for IPv4, its /64 for IPv6,
 * which one subscriber is usually given whole (so a new address per attempt buys nothing).
 */
export function limitedAs(address: string): string {
  const parsed = parseAddress(address)
  if (parsed === null || parsed.bytes.length === 4) return address
  return `${canonical(Uint8Array.from([...parsed.bytes.subarray(0, 8), ...new Uint8Array(8)]))}/64`
}
