// Claiming a fresh install. Until it has an account, whoever signs up first owns the
// server: on 0.0.0.0 that could be any stranger who finds it first. So the first signup
// needs the one-time setup code `vai serve` prints at start (only someone who can read
// the server's output has it), unless it comes from the server's own machine.
import { sameSecret } from './same-secret'

/** 128 random bits, as 32 hexadecimal digits: safe in a URL, read aloud or pasted. */
export function newSetupCode(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
}

/** Whether `given` is the code kept (in constant time); never when none is kept. */
export function setupCodeMatches(given: string | undefined, kept: string | null): boolean {
  return given !== undefined && kept !== null && sameSecret(given, kept)
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (a dual-stack listener reports 127.0.0.1 as ::ffff:127.0.0.1). */
export function isLoopback(address: string | null): boolean {
  if (address === null) return false
  const v4 = address.toLowerCase().replace(/^::ffff:/, '')
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}
