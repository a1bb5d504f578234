import { describe, expect, test } from 'bun:test'
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS } from '../../src/auth/login-limiter'

const MINUTE = 60_000
const WINDOW = 5 * MINUTE
const T0 = 1_800_000_000_000

describe('login limiter', () => {
  test('the defaults are 5 per account and 20 per client in 5 minutes', () => {
    expect(DEFAULT_LOGIN_LIMITS).toEqual({ perAccount: 5, perClient: 20, windowMs: WINDOW })
  })

  test('4 failures for an account leave it open, the 5th blocks it until the first leaves the window', () => {
    const limiter = createLoginLimiter()
    for (let i = 0; i < 4; i++) limiter.recordFailure('ada@example.com', 'client', T0 + i * 1000)
    expect(limiter.blockedFor('ada@example.com', 'client', T0 + 4000)).toBe(0)
    limiter.recordFailure('ada@example.com', 'client', T0 + 4000)
    expect(limiter.blockedFor('ada@example.com', 'client', T0 + 10_000)).toBe(WINDOW - 10_000)
    expect(limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW - 1)).toBe(1)
    expect(limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW)).toBe(0)
  })

  test('a blocked account does not block another account from the same client', () => {
    const limiter = createLoginLimiter()
    for (let i = 0; i < 5; i++) limiter.recordFailure('ada@example.com', 'client', T0)
    expect(limiter.blockedFor('ada@example.com', 'other client', T0)).toBe(WINDOW)
    expect(limiter.blockedFor('bob@example.com', 'client', T0)).toBe(0)
  })

  test('20 failures from one client block it for every account', () => {
    const limiter = createLoginLimiter()
    for (let i = 0; i < 19; i++) limiter.recordFailure(`user${i}@example.com`, '203.0.113.9', T0 + i)
    expect(limiter.blockedFor('new@example.com', '203.0.113.9', T0 + 100)).toBe(0)
    limiter.recordFailure('user19@example.com', '203.0.113.9', T0 + 19)
    expect(limiter.blockedFor('new@example.com', '203.0.113.9', T0 + 100)).toBe(WINDOW - 100)
    expect(limiter.blockedFor('new@example.com', '198.51.100.1', T0 + 100)).toBe(0)
  })

  test('the longer of the two waits wins', () => {
    const limiter = createLoginLimiter({ perAccount: 2, perClient: 3, windowMs: WINDOW })
    limiter.recordFailure('a', 'c', T0)
    limiter.recordFailure('b', 'c', T0 + MINUTE)
    limiter.recordFailure('a', 'c', T0 + 2 * MINUTE)
    // account a: blocked until T0 + WINDOW; client c: blocked until T0 + WINDOW (its 3rd-newest is T0).
    expect(limiter.blockedFor('a', 'c', T0 + 3 * MINUTE)).toBe(2 * MINUTE)
    limiter.recordFailure('b', 'd', T0 + 3 * MINUTE)
    // account b: 2 failures, the older at T0 + 1 min → free at T0 + 6 min.
    expect(limiter.blockedFor('b', 'c', T0 + 3 * MINUTE)).toBe(3 * MINUTE)
  })

  test('a success clears the account count but not the client count', () => {
    const limiter = createLoginLimiter({ perAccount: 5, perClient: 6, windowMs: WINDOW })
    for (let i = 0; i < 5; i++) limiter.recordFailure('ada@example.com', 'client', T0)
    expect(limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBeGreaterThan(0)
    limiter.recordSuccess('ada@example.com')
    expect(limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBe(0)
    limiter.recordFailure('ada@example.com', 'client', T0)
    expect(limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBe(0)
    expect(limiter.blockedFor('bob@example.com', 'client', T0)).toBe(WINDOW)
  })

  test('failures older than the window are forgotten', () => {
    const limiter = createLoginLimiter()
    for (let i = 0; i < 5; i++) limiter.recordFailure('ada@example.com', 'client', T0)
    limiter.recordFailure('ada@example.com', 'client', T0 + WINDOW + 1)
    expect(limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW + 1)).toBe(0)
  })
})
