#!/usr/bin/env bun
// The ceiling scripts/bench/main.ts measures vai against: a bare Bun.serve that answers
// every request with one constant response (no routing, auth, validation or
// database), the same status, headers and bytes that vai sent for the scenario.
// Usage: bun scripts/bench/baseline.ts RESPONSE.json   ({ status, headers, body })
export {}

const specPath = process.argv[2]
if (!specPath) {
  console.error('usage: bun scripts/bench/baseline.ts RESPONSE.json')
  process.exit(2)
}
const { status, headers, body } = (await Bun.file(specPath).json()) as { status: number; headers: Record<string, string>; body: string }

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: () => new Response(body, { status, headers }),
})
console.log(`baseline listening on http://127.0.0.1:${server.port}`)
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
