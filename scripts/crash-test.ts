#!/usr/bin/env bun
// Crash safety: hammer dist/vai with concurrent creates and revokes, kill -9 it at a
// random moment, check the file with PRAGMA integrity_check (SQLite), restart it on the
// same database and check that nothing it acknowledged was lost:
//   - every token whose 201 arrived exists and authenticates, unless its revoke got a 204;
//   - every revoke that got a 204 holds (the token is refused and shows revokedAt).
// A revoke sent but not answered before the kill may have landed or not: either is fine.
//
//   bun scripts/crash-test.ts [rounds] [postgres://…]   (default 10 rounds on a new SQLite
//   file; with a URL, on that empty PostgreSQL database; the CI runs a short version)
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { binaryInEmptyDir, startServer, type Server } from '../test/support/binary'

export interface CrashOptions {
  rounds: number
  /** Concurrent clients while hammering. */
  clients?: number
  /** The kill comes after a random time in this range of milliseconds. */
  killAfterMs?: [number, number]
  vai?: string
  /** An empty PostgreSQL database's URL; by default a new SQLite file. */
  db?: string
  log?: (line: string) => void
}

export interface CrashReport {
  rounds: number
  /** 201s received, over all rounds. */
  created: number
  /** 204s received for revokes, over all rounds. */
  revoked: number
  /** Revokes sent that the kill cut off (either outcome accepted). */
  uncertain: number
  /** Tokens checked after the restarts (each round checks every token so far). */
  checks: number
  /** Everything that went wrong; empty when vai kept its word. */
  problems: string[]
}

interface Issued {
  id: string
  plaintext: string
  revoke: 'none' | 'sent' | 'acknowledged'
}

const PASSWORD = 'crash test password'

export async function runCrashTest({ rounds, clients = 16, killAfterMs = [150, 700], vai: given, db: url, log = console.log }: CrashOptions): Promise<CrashReport> {
  const dir = mkdtempSync(join(tmpdir(), 'vai-crash-'))
  const vai = given ?? binaryInEmptyDir().vai
  const db = url ?? join(dir, 'crash.db')
  const report: CrashReport = { rounds: 0, created: 0, revoked: 0, uncertain: 0, checks: 0, problems: [] }
  const issued: Issued[] = []
  let session = ''
  let server: Server | undefined
  const start = () => startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db])

  try {
    server = await start()
    const json = { 'content-type': 'application/json' }
    const signup = await fetch(`${server.url}/api/v1/auth/signup`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'crash@example.com', password: PASSWORD }) })
    if (signup.status !== 201) throw new Error(`signup: ${signup.status}`)
    const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'crash@example.com', password: PASSWORD }) })
    session = ((await login.json()) as { plaintext: string }).plaintext

    for (let round = 1; round <= rounds; round++) {
      const url = server.url
      const auth = (token: string) => ({ authorization: `Bearer ${token}` })
      let stop = false
      let createdThisRound = 0
      const worker = async (n: number) => {
        for (let i = 0; !stop; i++) {
          try {
            // Two creates for each revoke: tokens pile up, and revokes hit fresh and old ones.
            const confirmed = issued.filter((token) => token.revoke === 'none')
            if (i % 3 === 2 && confirmed.length > 0) {
              const target = confirmed[Math.floor(Math.random() * confirmed.length)]!
              target.revoke = 'sent'
              const reply = await fetch(`${url}/api/v1/access-tokens/${target.id}`, { method: 'DELETE', headers: auth(session) })
              if (reply.status === 204) {
                target.revoke = 'acknowledged'
                report.revoked++
              }
              else report.problems.push(`round ${round}: revoke answered ${reply.status}`)
            } else {
              const reply = await fetch(`${url}/api/v1/access-tokens`, {
                method: 'POST',
                headers: { ...auth(session), ...json },
                body: JSON.stringify({ name: `r${round} c${n} #${i}` }),
              })
              if (reply.status !== 201) {
                report.problems.push(`round ${round}: create answered ${reply.status}`)
                continue
              }
              const body = (await reply.json()) as { plaintext: string; token: { id: string } }
              issued.push({ id: body.token.id, plaintext: body.plaintext, revoke: 'none' })
              createdThisRound++
            }
          } catch {
            // The kill: connections drop mid-request. Whatever was not answered proves nothing.
            if (stop) return
          }
        }
      }
      const workers = Array.from({ length: clients }, (_, n) => worker(n))
      const delay = killAfterMs[0] + Math.random() * (killAfterMs[1] - killAfterMs[0])
      await Bun.sleep(delay)
      server.proc.kill('SIGKILL')
      await server.proc.exited
      stop = true
      await Promise.all(workers)

      // The file as the crash left it: SQLite recovers the WAL on open. (PostgreSQL's
      // files were never vai's to break: only what vai acknowledged is checked there.)
      let integrity = 'not applicable (PostgreSQL)'
      if (!url) {
        const file = new Database(db)
        integrity = file.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check ?? 'no answer'
        file.close()
        if (integrity !== 'ok') report.problems.push(`round ${round}: integrity_check says ${integrity}`)
      }

      server = await start()
      const checks = await checkAll(server.url, session, issued)
      report.problems.push(...checks.problems.map((problem) => `round ${round}: ${problem}`))
      report.checks += checks.checked
      report.rounds = round
      const uncertain = issued.filter((token) => token.revoke === 'sent').length
      log(
        `round ${round}: killed after ${Math.round(delay)} ms with ${createdThisRound} new tokens; integrity_check ${integrity}; ` +
          `checked ${checks.checked} tokens (${issued.length} created, ${issued.filter((t) => t.revoke === 'acknowledged').length} revoked with a 204, ` +
          `${uncertain} revokes cut off); ${checks.problems.length} problems`,
      )
      // A revoke cut off by the kill settles now: the restart showed which way it went.
      for (const token of issued) if (token.revoke === 'sent') token.revoke = checks.revoked.has(token.id) ? 'acknowledged' : 'none'
      report.uncertain += uncertain
    }
    report.created = issued.length
    return report
  } finally {
    server?.proc.kill('SIGKILL')
    await server?.proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Every issued token against the restarted server, a few at a time. */
async function checkAll(url: string, session: string, issued: Issued[]) {
  const problems: string[] = []
  const revoked = new Set<string>()
  let next = 0
  const check = async () => {
    for (let i = next++; i < issued.length; i = next++) {
      const token = issued[i]!
      const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token.plaintext}` } })
      const record = await fetch(`${url}/api/v1/access-tokens/${token.id}`, { headers: { authorization: `Bearer ${session}` } })
      if (record.status !== 200) {
        problems.push(`token ${token.id} (201 received) is gone: ${record.status}`)
        continue
      }
      const { revokedAt } = (await record.json()) as { revokedAt: string | null }
      if (revokedAt !== null) revoked.add(token.id)
      if (token.revoke === 'acknowledged' && (me.status !== 401 || revokedAt === null)) {
        problems.push(`token ${token.id}: its revoke got a 204 but it ${me.status === 200 ? 'still authenticates' : 'shows no revokedAt'}`)
      }
      if (token.revoke === 'sent' && (me.status === 200) !== (revokedAt === null)) {
        problems.push(`token ${token.id}: /me answers ${me.status} but revokedAt is ${revokedAt}`)
      }
      if (token.revoke === 'none' && (me.status !== 200 || revokedAt !== null)) {
        problems.push(`token ${token.id}: never revoked, yet /me answers ${me.status} and revokedAt is ${revokedAt}`)
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, check))
  return { checked: issued.length, problems, revoked }
}

if (import.meta.main) {
  const rounds = Number(process.argv[2] ?? 10)
  const db = process.argv[3]
  if (!Number.isInteger(rounds) || rounds < 1 || (db !== undefined && !/^postgres(ql)?:\/\//.test(db))) {
    console.error('usage: bun scripts/crash-test.ts [rounds] [postgres://…]')
    process.exit(2)
  }
  const report = await runCrashTest({ rounds, db })
  console.log(
    `crash test: ${report.rounds} rounds, ${report.created} tokens created (201), ${report.revoked} revoked (204), ` +
      `${report.uncertain} revokes cut off by a kill, ${report.checks} token checks after restarts: ` +
      (report.problems.length === 0 ? 'nothing lost' : `${report.problems.length} PROBLEMS`),
  )
  for (const problem of report.problems.slice(0, 50)) console.log(`  ${problem}`)
  process.exit(report.problems.length === 0 ? 0 : 1)
}
