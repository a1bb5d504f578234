// Revoke-all of many tokens on one user (hardening 10): how long DELETE /api/v1/access-tokens
// takes, and how long it holds everyone else up, measured by a client that keeps asking
// GET /auth/me meanwhile (the longest wait it sees is the longest time the server could not
// answer). Each binary gets a copy of one seeded SQLite file; run two (before and after a
// change) in one go so that the machine's noise hits both alike.
//
//   bun scripts/bench/revoke-all.ts --vai OLD/dist/vai --vai dist/vai [--tokens 400000]
import { Database } from 'bun:sqlite'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { vai: { type: 'string', multiple: true }, tokens: { type: 'string' } } })
const binaries = values.vai ?? ['dist/vai']
const TOKENS = Number(values.tokens ?? 400_000)
const EMAIL = 'many@example.com'
const PASSWORD = 'revoke-all-password'

const dir = mkdtempSync(join(tmpdir(), 'vai-revoke-all-'))
const seeded = join(dir, 'seeded.db')

/** The schema as the first binary migrates it, then one user and TOKENS active API tokens, written directly. */
async function seed() {
  const migrated = Bun.spawnSync([binaries[0]!, 'migrate', '--db', seeded], { stdout: 'pipe', stderr: 'pipe' })
  if (migrated.exitCode !== 0) throw new Error(`migrate: ${migrated.stderr}`)
  const db = new Database(seeded)
  const now = Date.now() - TOKENS
  db.query('INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, NULL, ?, ?)')
    .run(Bun.randomUUIDv7('hex', now), EMAIL, await Bun.password.hash(PASSWORD, 'argon2id'), now)
  const userId = (db.query('SELECT id FROM users').get() as { id: string }).id
  const insert = db.query(`INSERT INTO tokens (id, user_id, name, token_type, token_prefix, digest, created_at, expires_at)
                           VALUES (?, ?, 'bulk', 'api', 'vai_bulk0000', ?, ?, NULL)`)
  db.transaction(() => {
    for (let i = 0; i < TOKENS; i++) insert.run(Bun.randomUUIDv7('hex', now + i), userId, crypto.getRandomValues(new Uint8Array(32)), now + i)
  })()
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
}

async function measure(vai: string) {
  const db = join(dir, `${binaries.indexOf(vai)}.db`)
  copyFileSync(seeded, db)
  const proc = Bun.spawn([vai, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db], { stdout: 'pipe', stderr: 'inherit', env: { PATH: process.env.PATH ?? '' } })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`vai did not start: ${text}`)
    text += new TextDecoder().decode(value)
  }
  void (async () => { while (!(await reader.read()).done); })()
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!
  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) })
  const { plaintext } = (await login.json()) as { plaintext: string }
  const auth = { authorization: `Bearer ${plaintext}` }

  let revoking = true
  const waits: number[] = []
  const victim = (async () => {
    while (revoking) {
      const t0 = performance.now()
      await (await fetch(`${url}/api/v1/auth/me`, { headers: auth })).arrayBuffer()
      waits.push(performance.now() - t0)
    }
  })()
  await Bun.sleep(50)
  const t0 = performance.now()
  const response = await fetch(`${url}/api/v1/access-tokens`, { method: 'DELETE', headers: auth })
  const totalMs = performance.now() - t0
  const body = await response.text()
  revoking = false
  await victim
  proc.kill('SIGTERM')
  await proc.exited
  waits.sort((a, b) => a - b)
  const round = (ms: number) => Math.round(ms * 10) / 10
  return { binary: vai, status: response.status, body, totalMs: round(totalMs), longestWaitMs: round(waits.at(-1)!), answeredMeanwhile: waits.length }
}

await seed()
const rows = []
for (const vai of binaries) {
  const row = await measure(vai)
  console.log(JSON.stringify(row))
  rows.push(row)
}
console.log([
  `| binary | revoke-all of ${TOKENS} tokens | status, body | longest wait of a concurrent GET /auth/me | /auth/me answered meanwhile |`,
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.binary} | ${r.totalMs} ms | ${r.status} ${r.body} | ${r.longestWaitMs} ms | ${r.answeredMeanwhile} |`),
].join('\n'))
rmSync(dir, { recursive: true, force: true })
