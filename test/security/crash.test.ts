// The short CI version of scripts/crash-test.ts: kill -9 under load, restart, nothing acknowledged
// is lost. On the backend the suite runs on: a SQLite file, or a PostgreSQL database of its own.
import { afterAll, expect, test } from 'bun:test'
import { runCrashTest } from '../../scripts/crash-test'
import { BACKEND, TEST_POSTGRES } from '../support/app'
import { killServers } from '../support/binary'
import { testDatabases } from '../support/postgres'

const databases = testDatabases('crash')
afterAll(async () => {
  killServers()
  if (TEST_POSTGRES) await databases.dropAll()
})

test(`kill -9 under concurrent creates and revokes loses no acknowledged write and leaves the database intact (3 rounds, ${BACKEND})`, async () => {
  const db = TEST_POSTGRES ? await databases.create() : undefined
  const report = await runCrashTest({ rounds: 3, db, log: (line) => console.log(`crash: ${line}`) })
  console.log(
    `crash: ${report.rounds} rounds, ${report.created} creates (201) and ${report.revoked} revokes (204) acknowledged, ` +
      `${report.uncertain} revokes cut off, ${report.checks} token checks after restarts`,
  )
  expect(report.problems).toEqual([])
  expect(report.rounds).toBe(3)
  // The kill must have come while there was work to lose.
  expect(report.created).toBeGreaterThan(20)
  expect(report.revoked).toBeGreaterThan(5)
}, 90_000)
