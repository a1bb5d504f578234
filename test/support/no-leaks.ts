// Preloaded for every `bun test` run (bunfig.toml): once all tests are done, nothing
// that any vai process of the run wrote (servers' access logs and errors, every admin
// command's output) may hold a token's plaintext. Any string shaped like a vai token
// whose checksum holds counts, whichever test issued it.
import { afterAll, expect } from 'bun:test'
import { isWellFormedToken } from '../../src/auth/token-format'
import { everythingWritten } from './binary'

const TOKEN_SHAPED = /vai_[0-9A-Za-z]{38,134}/g

afterAll(() => {
  const outputs = everythingWritten()
  const leaks = outputs.flatMap((text) => [...text.matchAll(TOKEN_SHAPED)].map((m) => m[0]).filter(isWellFormedToken))
  if (outputs.length > 0) {
    const bytes = outputs.reduce((sum, text) => sum + text.length, 0)
    console.log(`no-leaks: ${outputs.length} vai processes wrote ${bytes} characters; token plaintexts found: ${leaks.length}`)
  }
  expect(leaks).toEqual([])
})
