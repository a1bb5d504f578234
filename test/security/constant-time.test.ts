// The constant-time audit (issue 5, item 6): every comparison with a secret in it. What
// each one is and why it is safe is listed in docs/security.md; the one that compares a
// configured secret with what a client sends is measured here.
import { describe, expect, test } from 'bun:test'
import { sameSecret } from '../../src/auth/same-secret'
import { makeApp } from '../support/app'

describe('sameSecret', () => {
  test.each([
    ['equal', 'metrics-token-0123456789', 'metrics-token-0123456789', true],
    ['one character off', 'metrics-token-0123456788', 'metrics-token-0123456789', false],
    ['a prefix', 'metrics-token', 'metrics-token-0123456789', false],
    ['longer', 'metrics-token-0123456789x', 'metrics-token-0123456789', false],
    ['empty', '', 'metrics-token-0123456789', false],
    ['non-ASCII', 'jeton-é-0123456789', 'jeton-é-0123456789', true],
  ])('%s → %p', (_name, given, expected, same) => {
    expect(sameSecret(given, expected)).toBe(same)
  })

  // A guess one character too short, exactly as long, one too long: if the time jumps at
  // the secret's length, a caller can measure how long the secret is (the length check
  // that used to sit before timingSafeEqual did exactly that: +20% at the right length).
  test("takes no longer for a guess of the secret's length than for its neighbours", () => {
    const length = 256 * 1024
    const secret = 's'.repeat(length)
    const guesses = [length - 1, length, length + 1].map((n) => 'g'.repeat(n))
    const times: number[][] = [[], [], []]
    for (let round = 0; round < 200; round++) {
      for (const [i, guess] of guesses.entries()) {
        const started = Bun.nanoseconds()
        sameSecret(guess, secret)
        times[i]!.push(Bun.nanoseconds() - started)
      }
    }
    const [shorter, exact, longer] = times.map((samples) => samples.sort((a, b) => a - b)[samples.length >> 1]!)
    const jump = exact! / ((shorter! + longer!) / 2)
    console.log(`sameSecret: a guess of the secret's length takes ${jump.toFixed(3)}× its neighbours' time`)
    expect(jump).toBeLessThan(1.08)
  })
})

describe('GET /metrics with a token', () => {
  const TOKEN = 'metrics-secret-0123456789'
  const t = makeApp({ metricsToken: TOKEN })

  test.each([
    ['the token', `Bearer ${TOKEN}`, 200],
    ['a wrong token of the same length', `Bearer ${TOKEN.slice(0, -1)}x`, 401],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 10)}`, 401],
    ['the token and more', `Bearer ${TOKEN}x`, 401],
    ['nothing', '', 401],
  ])('%s → %d', async (_name, authorization, status) => {
    const reply = await t.get('/metrics', { headers: authorization ? { authorization } : {} })
    expect(reply.status).toBe(status)
  })
})
