// Login must not tell an unknown email from a known one by its timing: both pay one argon2id verify.
import { expect, test } from 'bun:test'
import { makeApp, seedUser } from '../support/app'

const ROUNDS = Number(process.env.TIMING_ROUNDS ?? 15)

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

test(`login: an unknown email and a wrong password take the same time (median of ${ROUNDS} each, under 10% apart)`, async () => {
  // A limit nobody reaches: every attempt must get as far as the password check.
  const t = makeApp({ loginLimits: { perAccount: 1e6, perClient: 1e6, windowMs: 60_000 } })
  const { email } = await seedUser(t)
  const attempt = async (address: string) => {
    const started = performance.now()
    const reply = await t.post('/api/v1/auth/login', { body: { email: address, password: 'not the password' } })
    const elapsed = performance.now() - started
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual({ detail: 'Invalid email or password' })
    return elapsed
  }
  // Warm-up: the first unknown email also builds the dummy hash.
  await attempt('nobody-warm@example.com')
  await attempt(email)

  const unknown: number[] = []
  const known: number[] = []
  const measure = async (pairs: number) => {
    for (let i = 0; i < pairs; i++) {
      // Interleaved, alternating which goes first, so drift in machine load hits both alike.
      const stranger = `nobody-${unknown.length}@example.com`
      if (i % 2 === 0) {
        unknown.push(await attempt(stranger))
        known.push(await attempt(email))
      } else {
        known.push(await attempt(email))
        unknown.push(await attempt(stranger))
      }
    }
    const knownMedian = median(known)
    const unknownMedian = median(unknown)
    const difference = (unknownMedian - knownMedian) / knownMedian
    console.log(
      `login timing: known email (wrong password) median ${knownMedian.toFixed(1)} ms, unknown email median ${unknownMedian.toFixed(1)} ms, ` +
        `difference ${(difference * 100).toFixed(1)}% over ${known.length} attempts each`,
    )
    return difference
  }
  // On a busy two-core machine one batch's medians can drift apart by chance; a real leak
  // (no dummy hash: ~0 ms against ~130 ms) stays far apart however many samples are added.
  let difference = await measure(ROUNDS)
  for (let batch = 1; batch < 3 && Math.abs(difference) >= 0.1; batch++) difference = await measure(ROUNDS)
  expect(Math.abs(difference)).toBeLessThan(0.1)
}, 60_000)
