import { describe, expect, test } from 'bun:test'
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS, type LoginLimits } from '../../src/auth/login-limiter'
import { createSqliteStore } from '../../src/store/sqlite'
import { openDatabase } from '../../src/store/sqlite-database'

const MINUTE = 60_000
const WINDOW = 5 * MINUTE
const T0 = 1_800_000_000_000

const limiterOn = (limits?: LoginLimits) => createLoginLimiter(createSqliteStore(openDatabase(':memory:')), limits)

describe('login limiter', async () => {
  test('the defaults are 5 per account and 20 per client in 5 minutes', async () => {
    expect(DEFAULT_LOGIN_LIMITS).toEqual({ perAccount: 5, perClient: 20, windowMs: WINDOW })
  })

  test('4 failures for an account leave it open, the 5th blocks it until the first leaves the window', async () => {
    const limiter = limiterOn()
    for (let i = 0; i < 4; i++) await limiter.recordFailure('ada@example.com', 'client', T0 + i * 1000)
    expect(await limiter.blockedFor('ada@example.com', 'client', T0 + 4000)).toBe(0)
    await limiter.recordFailure('ada@example.com', 'client', T0 + 4000)
    expect(await limiter.blockedFor('ada@example.com', 'client', T0 + 10_000)).toBe(WINDOW - 10_000)
    expect(await limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW - 1)).toBe(1)
    expect(await limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW)).toBe(0)
  })

  test('a blocked account does not block another account from the same client', async () => {
    const limiter = limiterOn()
    for (let i = 0; i < 5; i++) await limiter.recordFailure('ada@example.com', 'client', T0)
    expect(await limiter.blockedFor('ada@example.com', 'other client', T0)).toBe(WINDOW)
    expect(await limiter.blockedFor('bob@example.com', 'client', T0)).toBe(0)
  })

  test('20 failures from one client block it for every account', async () => {
    const limiter = limiterOn()
    for (let i = 0; i < 19; i++) await limiter.recordFailure(`user${i}@example.com`, '203.0.113.9', T0 + i)
    expect(await limiter.blockedFor('new@example.com', '203.0.113.9', T0 + 100)).toBe(0)
    await limiter.recordFailure('user19@example.com', '203.0.113.9', T0 + 19)
    expect(await limiter.blockedFor('new@example.com', '203.0.113.9', T0 + 100)).toBe(WINDOW - 100)
    expect(await limiter.blockedFor('new@example.com', '198.51.100.1', T0 + 100)).toBe(0)
  })

  test('the longer of the two waits wins', async () => {
    const limiter = limiterOn({ perAccount: 2, perClient: 3, windowMs: WINDOW })
    await limiter.recordFailure('a', 'c', T0)
    await limiter.recordFailure('b', 'c', T0 + MINUTE)
    await limiter.recordFailure('a', 'c', T0 + 2 * MINUTE)
    // account a: blocked until T0 + WINDOW; client c: blocked until T0 + WINDOW (its 3rd-newest is T0).
    expect(await limiter.blockedFor('a', 'c', T0 + 3 * MINUTE)).toBe(2 * MINUTE)
    await limiter.recordFailure('b', 'd', T0 + 3 * MINUTE)
    // account b: 2 failures, the older at T0 + 1 min → free at T0 + 6 min.
    expect(await limiter.blockedFor('b', 'c', T0 + 3 * MINUTE)).toBe(3 * MINUTE)
  })

  test('a success clears the account count but not the client count', async () => {
    const limiter = limiterOn({ perAccount: 5, perClient: 6, windowMs: WINDOW })
    for (let i = 0; i < 5; i++) await limiter.recordFailure('ada@example.com', 'client', T0)
    expect(await limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBeGreaterThan(0)
    await limiter.recordSuccess('ada@example.com')
    expect(await limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBe(0)
    await limiter.recordFailure('ada@example.com', 'client', T0)
    expect(await limiter.blockedFor('ada@example.com', 'elsewhere', T0)).toBe(0)
    expect(await limiter.blockedFor('bob@example.com', 'client', T0)).toBe(WINDOW)
  })

  test('failures older than the window are forgotten', async () => {
    const limiter = limiterOn()
    for (let i = 0; i < 5; i++) await limiter.recordFailure('ada@example.com', 'client', T0)
    await limiter.recordFailure('ada@example.com', 'client', T0 + WINDOW + 1)
    expect(await limiter.blockedFor('ada@example.com', 'client', T0 + WINDOW + 1)).toBe(0)
  })
})
