// The admin commands, run from the compiled binary, beside a running server.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { SCHEMA_VERSION } from '../../src/store/sqlite-database'
import { binaryInEmptyDir, killServers, runIn, startServer, type Server } from '../support/binary'

let dir: string
let vai: string
let server: Server
let url: string
const db = () => join(dir, 'vai.db')

beforeAll(async () => {
  ;({ dir, vai } = binaryInEmptyDir())
  server = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', db()])
  url = server.url
}, 60_000)

afterAll(async () => {
  server.proc.kill('SIGTERM')
  await server.proc.exited
  killServers()
  rmSync(dir, { recursive: true, force: true })
})

const vaiCli = (args: string[], stdin?: string) => runIn(dir, vai, [...args, '--db', db()], { stdin })

async function login(email: string, password: string): Promise<{ status: number; plaintext?: string }> {
  const response = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  const body = (await response.json()) as { plaintext?: string }
  return { status: response.status, plaintext: body.plaintext }
}

describe('vai user', () => {
  test('add reads the password from stdin, works while the server runs', async () => {
    const added = vaiCli(['user', 'add', '--email', ' Ada@Example.com ', '--name', 'Ada'], 'correct horse battery\n')
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/^created user ada@example\.com \([0-9a-f-]{36}\)\n$/)
    expect((await login('ada@example.com', 'correct horse battery')).status).toBe(200)
  })

  test.each([
    [['user', 'add', '--email', 'ada@example.com'], 'correct horse battery\n', 'vai: ada@example.com is already registered\n'],
    [['user', 'add', '--email', 'bob@example.com'], 'short\n', 'vai: the password must be 8 to 256 characters\n'],
    [['user', 'passwd', '--email', 'nobody@example.com'], 'whatever123\n', 'vai: no user with email nobody@example.com\n'],
  ])('%j fails with one line and exit 1', (args, stdin, stderr) => {
    expect(vaiCli(args, stdin)).toEqual({ code: 1, stdout: '', stderr })
  })

  test.each([
    [['user', 'add'], 'vai: --email is required\n'],
    [['user', 'add', '--email', 'not-an-email'], "vai: 'not-an-email' is not a valid email address\n"],
    [['user', 'list', '--bogus'], "vai: Unknown option '--bogus'\n"],
    [['user'], 'vai: user needs one of: add, list, passwd, delete\n'],
  ])('%j is a usage error: exit 2', (args, stderr) => {
    expect(vaiCli(args)).toEqual({ code: 2, stdout: '', stderr })
  })

  test('list prints a table and --json', async () => {
    await login('ada@example.com', 'correct horse battery')
    const table = vaiCli(['user', 'list'])
    expect(table.code).toBe(0)
    const [header, row, end] = table.stdout.split('\n')
    expect(header).toMatch(/^EMAIL\s+NAME\s+CREATED\s+ACTIVE TOKENS\s+ID$/)
    expect(row).toMatch(/^ada@example\.com\s+Ada\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+2\s+[0-9a-f-]{36}$/)
    expect(end).toBe('')
    const json = JSON.parse(vaiCli(['user', 'list', '--json']).stdout)
    expect(json).toEqual([{ id: expect.any(String), email: 'ada@example.com', name: 'Ada', createdAt: expect.stringMatching(/Z$/), activeTokens: 2 }])
  })

  test('hardening 11: passwd replaces the password and signs the user out of every session, saying so', async () => {
    const { plaintext } = await login('ada@example.com', 'correct horse battery')
    // Used once, so the server has it at hand when another process revokes it.
    expect((await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${plaintext}` } })).status).toBe(200)
    expect(vaiCli(['user', 'passwd', '--email', 'ada@example.com'], 'another long one\n')).toEqual({
      code: 0,
      stdout: 'password changed for ada@example.com; revoked 3 sessions (API tokens stay valid)\n',
      stderr: '',
    })
    expect((await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${plaintext}` } })).status).toBe(401)
    expect((await login('ada@example.com', 'correct horse battery')).status).toBe(401)
    expect((await login('ada@example.com', 'another long one')).status).toBe(200)
  })

  test('delete asks first, and removes the user with their tokens', async () => {
    vaiCli(['user', 'add', '--email', 'eve@example.com'], 'eve password 1\n')
    const { plaintext } = await login('eve@example.com', 'eve password 1')
    const refused = vaiCli(['user', 'delete', '--email', 'eve@example.com'], 'n\n')
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'Delete eve@example.com and all their tokens? [y/N] vai: not deleted\n' })
    const deleted = vaiCli(['user', 'delete', '--email', 'eve@example.com', '--yes'])
    expect(deleted).toEqual({ code: 0, stdout: 'deleted user eve@example.com and 1 token\n', stderr: '' })
    const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${plaintext}` } })
    expect(me.status).toBe(401)
  })
})

describe('vai tokens', () => {
  test('list shows every token, revoke-all says how many it revoked and the server refuses them', async () => {
    const { plaintext } = await login('ada@example.com', 'another long one')
    const listed = JSON.parse(vaiCli(['tokens', 'list', '--email', 'ada@example.com', '--json']).stdout) as { tokenType: string; revokedAt: string | null; scopes: string[] }[]
    // One session per successful login above; passwd revoked the three before it.
    expect(listed.length).toBe(5)
    expect(listed.every((token) => token.tokenType === 'session')).toBe(true)
    expect(listed.filter((token) => token.revokedAt === null).length).toBe(2)
    expect(listed.map((token) => token.scopes)).toEqual([['*'], ['*'], ['*'], ['*'], ['*']])
    const table = vaiCli(['tokens', 'list', '--email', 'ada@example.com']).stdout.split('\n')
    expect(table[0]).toMatch(/^PREFIX\s+TYPE\s+NAME\s+CREATED\s+EXPIRES\s+LAST USED\s+LAST IP\s+SCOPES\s+STATUS\s+ID$/)
    expect(table[1]).toMatch(/^vai_\w{8}\s+session\s+Bun\s+.*\s+-\s+\*\s+active\s+[0-9a-f-]{36}$/)

    // A scoped API token shows its scopes, and after a use over the network, its address.
    const created = await fetch(`${url}/api/v1/access-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${plaintext}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'deployer', scopes: ['deploy:staging', 'tokens:read'] }),
    })
    const deployer = ((await created.json()) as { plaintext: string }).plaintext
    expect((await fetch(`${url}/api/v1/auth/verify?scope=deploy:staging`, { headers: { authorization: `Bearer ${deployer}` } })).status).toBe(200)
    const scoped = vaiCli(['tokens', 'list', '--email', 'ada@example.com']).stdout.split('\n')[1]!
    // The server flushes lastUsedAt once a minute: the address may not be written yet.
    expect(scoped).toMatch(/^vai_\w{8}\s+api\s+deployer\s+.*\s+(-|127\.0\.0\.1)\s+deploy:staging tokens:read\s+active\s+[0-9a-f-]{36}$/)

    // Used once, so the server has it at hand when another process revokes it.
    expect((await fetch(`${url}/api/v1/auth/me`, { headers: { 'x-api-key': plaintext! } })).status).toBe(200)
    // hardening 11: what it did, in words, not a bare number.
    expect(vaiCli(['tokens', 'revoke-all', '--email', 'ada@example.com'])).toEqual({ code: 0, stdout: 'revoked 3 tokens of ada@example.com\n', stderr: '' })
    expect((await fetch(`${url}/api/v1/auth/me`, { headers: { 'x-api-key': plaintext! } })).status).toBe(401)
    expect(vaiCli(['tokens', 'revoke-all', '--email', 'ada@example.com']).stdout).toBe('revoked 0 tokens of ada@example.com\n')
  })

  test('hardening 11: purge deletes what was revoked longer ago than the retention, and says so', () => {
    expect(vaiCli(['tokens', 'purge']).stdout).toBe('purged 0 tokens revoked or expired more than 90 days ago\n')
    expect(vaiCli(['tokens', 'purge', '--retention-days', '0'])).toEqual({ code: 0, stdout: 'purged 6 tokens revoked or expired more than 0 days ago\n', stderr: '' })
    expect(vaiCli(['tokens', 'purge', '--retention-days', '1']).stdout).toBe('purged 0 tokens revoked or expired more than 1 day ago\n')
    expect(vaiCli(['tokens', 'purge', '--retention-days', 'soon']).code).toBe(2)
  })
})

describe('vai audit', () => {
  type Shown = { id: string; type: string; at: string; userId: string; tokenId: string | null; tokenPrefix: string | null; ip: string | null; userAgent: string | null; detail: Record<string, unknown> }
  const audit = (...args: string[]) => JSON.parse(vaiCli(['audit', ...args, '--json']).stdout) as Shown[]

  test('one user’s events, newest first, as the API shows them with the user’s id', () => {
    const [created] = audit('--email', 'ada@example.com', '--type', 'user.created')
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'user.created', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), tokenId: null, tokenPrefix: null,
      ip: null, userAgent: null, detail: {}, userId: created!.userId,
    })
    const all = audit('--email', 'ada@example.com', '--limit', '1000')
    expect(all.every((event) => event.userId === created!.userId)).toBe(true)
    expect(all.map((event) => event.at)).toEqual(all.map((event) => event.at).sort().reverse())
    // revoke-all from the shell: no address, no agent; the count it said.
    expect(audit('--email', 'ada@example.com', '--type', 'tokens.revoked_all').map((event) => [event.ip, event.detail])).toEqual([
      [null, { count: 0, exceptCurrent: false }],
      [null, { count: 3, exceptCurrent: false }],
    ])
    // Logins over HTTP name their address.
    expect(audit('--email', 'ada@example.com', '--type', 'login.succeeded').every((event) => event.ip === '127.0.0.1')).toBe(true)
    expect(audit('--email', 'ada@example.com', '--limit', '2')).toHaveLength(2)
  })

  test('everyone’s: a deleted user’s events stay, named by the address their deletion kept', () => {
    const deleted = audit('--type', 'user.deleted')
    expect(deleted.map((event) => event.detail)).toEqual([{ email: 'eve@example.com', tokens: 1 }]) // the session of her one login
    const table = vaiCli(['audit', '--type', 'user.deleted']).stdout.split('\n')
    expect(table[0]).toMatch(/^AT\s+TYPE\s+USER\s+TOKEN\s+IP\s+DETAIL$/)
    expect(table[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+user\.deleted\s+eve@example\.com \(deleted\)\s+-\s+-\s+email=eve@example\.com tokens=1$/)
  })

  test.each([
    [['audit', '--type', 'token.exploded'], 2, /^vai: unknown --type 'token\.exploded': expected one of login\.succeeded, /],
    [['audit', '--limit', '0'], 2, /^vai: invalid --limit '0': expected a whole number from 1 to 10000\n$/],
    [['audit', '--email', 'nobody@example.com'], 1, /^vai: no user with email nobody@example\.com\n$/],
  ])('%j: one line, exit %i', (args, code, stderr) => {
    const result = vaiCli(args)
    expect([result.code, result.stdout]).toEqual([code, ''])
    expect(result.stderr).toMatch(stderr)
  })
})

describe('vai backup, migrate, doctor', () => {
  test('backup writes a checked, private copy', () => {
    const target = join(dir, 'backup.db')
    const result = vaiCli(['backup', target])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`backed up ${db()} to ${target} (${statSync(target).size} bytes, integrity ok)\n`)
    expect(statSync(target).mode & 0o777).toBe(0o600)
    const copy = new Database(target, { readonly: true })
    expect(copy.query('SELECT email FROM users').all()).toEqual([{ email: 'ada@example.com' }])
    copy.close()
    expect(vaiCli(['backup', target])).toEqual({ code: 1, stdout: '', stderr: `vai: backup failed: ${target} exists already; choose a new file\n` })
  })

  test('migrate prints the schema version', () => {
    expect(vaiCli(['migrate'])).toEqual({ code: 0, stdout: `schema version ${SCHEMA_VERSION}\n`, stderr: '' })
  })

  test('doctor says what is right and what is wrong', () => {
    const healthy = vaiCli(['doctor'])
    expect(healthy.code).toBe(0)
    expect(healthy.stdout.split('\n').filter(Boolean).every((line) => line.startsWith('ok'))).toBe(true)
    chmodSync(db(), 0o644)
    try {
      const loose = vaiCli(['doctor'])
      expect(loose.code).toBe(1)
      expect(loose.stdout).toContain(`FAIL  ${db()} has mode 644: others can read password hashes and token digests; run chmod 600 ${db()}`)
    } finally {
      chmodSync(db(), 0o600)
    }
    const missing = runIn(dir, vai, ['doctor', '--db', join(dir, 'nope.db')])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toContain('FAIL')
  })

  test('healthcheck asks /healthz', () => {
    expect(runIn(dir, vai, ['healthcheck', '--url', `${url}/healthz`])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' })
    expect(runIn(dir, vai, ['healthcheck', '--url', `${url}/nope`])).toEqual({ code: 1, stdout: '', stderr: `vai: ${url}/nope answered 404\n` })
    const port = new URL(url).port
    expect(runIn(dir, vai, ['healthcheck'], { env: { PORT: port } }).code).toBe(0)
  })

  test.each(['healthcheck', 'user add', 'user list', 'user passwd', 'user delete', 'tokens list', 'tokens revoke-all', 'tokens purge', 'audit', 'backup', 'migrate', 'doctor'])('%s --help', (command) => {
    const result = runIn(dir, vai, [...command.split(' '), '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toStartWith(`Usage: vai ${command}`)
  })
})

describe('hardening 11: the smaller ones', () => {
  test.each([
    ['user', ['add', 'list', 'passwd', 'delete']],
    ['tokens', ['list', 'revoke-all', 'purge']],
    ['db', ['copy']],
  ])('vai %s --help (and -h) lists the group\'s commands and exits 0', (group, subs) => {
    for (const flag of ['--help', '-h']) {
      const result = runIn(dir, vai, [group, flag])
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
      const lines = result.stdout.split('\n')
      expect(lines[0]).toBe(`Usage: vai ${group} <command> [options]`)
      for (const sub of subs) expect(lines.some((line) => line.startsWith(`  ${group} ${sub}  `))).toBe(true)
      expect(result.stdout).toContain(`Each command takes --help: vai ${group} ${subs[0]} --help`)
    }
  })

  test.each([
    [['user', 'add', '--email', 'new@example.com'], ''],
    [['user', 'add', '--email', 'new@example.com'], '\n'],
    [['user', 'passwd', '--email', 'ada@example.com'], ''],
  ])('%j with %j on stdin: no password given, not a short one', (args, stdin) => {
    expect(vaiCli(args, stdin)).toEqual({ code: 1, stdout: '', stderr: 'vai: no password given: type it at the prompt, or pipe it as the first line of stdin\n' })
  })

  test('serve on a database others may read warns once on stderr: the path, the mode and the chmod to run', async () => {
    const loose = join(dir, 'loose.db')
    expect(runIn(dir, vai, ['migrate', '--db', loose]).code).toBe(0)
    chmodSync(loose, 0o644)
    const started = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', loose])
    await Bun.sleep(200)
    started.proc.kill('SIGTERM')
    await started.drained()
    expect(started.errors()).toBe(`vai: warning: ${loose} has mode 644: others can read password hashes and token digests; run chmod 600 ${loose}\n`)
    const tight = join(dir, 'tight.db')
    const quiet = await startServer(dir, vai, ['serve', '--port', '0', '--host', '127.0.0.1', '--db', tight])
    quiet.proc.kill('SIGTERM')
    await quiet.drained()
    expect(quiet.errors()).toBe('')
  }, 20_000)
})

describe.skipIf(!Bun.which('script'))('vai user add at a terminal', () => {
  // `script` gives the command a pseudo-terminal; we answer each prompt as it appears.
  test('asks twice without echoing, and creates the database if it is the first thing run', async () => {
    const fresh = join(dir, 'fresh.db')
    const proc = Bun.spawn(['script', '-qfec', `${vai} user add --email tty@example.com --db ${fresh}`, '/dev/null'], { cwd: dir, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
    const reader = proc.stdout.getReader()
    let seen = ''
    const waitFor = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`ended before '${text}': ${seen}`)
        seen += new TextDecoder().decode(value)
      }
    }
    await waitFor('New password: ')
    proc.stdin.write('typed secret 1\r')
    await proc.stdin.flush()
    await waitFor('Repeat it: ')
    proc.stdin.write('typed secret 1\r')
    await proc.stdin.flush()
    await waitFor('created user tty@example.com')
    proc.stdin.end()
    expect(await proc.exited).toBe(0)
    expect(seen).not.toContain('typed secret')
    const users = new Database(fresh, { readonly: true })
    expect(users.query('SELECT email FROM users').all()).toEqual([{ email: 'tty@example.com' }])
    users.close()
  }, 20_000)
})
