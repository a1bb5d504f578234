// Real reverse proxies for the forward-auth tests: Debian's nginx and Caddy, each run in a
// folder of its own on a loopback port, from the configurations the README gives
// (contrib/), with only the addresses swapped for the test's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dir, '../..')

export const NGINX_CONFIG = join(root, 'contrib/nginx/vai-forward-auth.conf')
export const CADDY_CONFIG = join(root, 'contrib/caddy/Caddyfile')

export const nginxBinary = Bun.which('nginx') ?? Bun.which('nginx', { PATH: '/usr/sbin:/usr/local/sbin' })
export const caddyBinary = Bun.which('caddy')

export interface Addresses {
  /** host:port of vai. */
  vai: string
  /** host:port of the protected app. */
  app: string
  /** The loopback port the proxy listens on. */
  port: number
}

export interface Proxy {
  name: string
  url: string
  stop(): Promise<void>
  /** What the proxy wrote on stderr, for a failing test's message. */
  errors(): string
}

/** The shipped file with the test's addresses in place of the examples. */
function swapped(path: string, { vai, app }: Addresses): string {
  const text = readFileSync(path, 'utf8')
  if (!text.includes('127.0.0.1:3000') || !text.includes('127.0.0.1:8080')) throw new Error(`${path} no longer names 127.0.0.1:3000 and 127.0.0.1:8080`)
  return text.replaceAll('127.0.0.1:3000', vai).replaceAll('127.0.0.1:8080', app)
}

export async function startNginx(dir: string, addresses: Addresses): Promise<Proxy> {
  const home = join(dir, 'nginx')
  mkdirSync(join(home, 'tmp'), { recursive: true })
  const site = swapped(NGINX_CONFIG, addresses).replace('listen 80;', `listen 127.0.0.1:${addresses.port};`)
  writeFileSync(join(home, 'site.conf'), site)
  // The main file a distribution ships, reduced to what a foreground test instance needs.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${home}/tmp;`).join('\n')
  writeFileSync(join(home, 'nginx.conf'), `daemon off;
worker_processes 1;
pid ${home}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
${temp}
  include ${home}/site.conf;
}
`)
  return run('nginx', [nginxBinary!, '-p', home, '-c', join(home, 'nginx.conf')], addresses.port, {})
}

export async function startCaddy(dir: string, addresses: Addresses): Promise<Proxy> {
  const home = join(dir, 'caddy')
  mkdirSync(home, { recursive: true })
  // Plain HTTP on the test's port, no admin endpoint, no certificates to fetch.
  const site = swapped(CADDY_CONFIG, addresses).replace('app.example.com {', `{\n\tadmin off\n\tauto_https off\n}\n\nhttp://:${addresses.port} {`)
  const file = join(home, 'Caddyfile')
  writeFileSync(file, site)
  const env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') }
  return run('caddy', [caddyBinary!, 'run', '--config', file, '--adapter', 'caddyfile'], addresses.port, env)
}

async function run(name: string, cmd: string[], port: number, env: Record<string, string>): Promise<Proxy> {
  const proc = Bun.spawn(cmd, { env: { PATH: process.env.PATH ?? '', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  let errors = ''
  void (async () => {
    for await (const chunk of proc.stderr) errors += new TextDecoder().decode(chunk)
  })()
  void (async () => {
    for await (const _ of proc.stdout);
  })()
  const url = `http://127.0.0.1:${port}`
  for (const started = Date.now(); ; await Bun.sleep(50)) {
    if (proc.exitCode !== null) throw new Error(`${name} exited ${proc.exitCode}: ${errors}`)
    try {
      await fetch(`${url}/`, { headers: { accept: 'application/json' } })
      break
    } catch {
      if (Date.now() - started > 10_000) throw new Error(`${name} did not listen on ${url}: ${errors}`)
    }
  }
  return {
    name,
    url,
    errors: () => errors,
    async stop() {
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}
