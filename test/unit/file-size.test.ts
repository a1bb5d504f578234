// Files that say what they hold are small: no source file of src/, client/ or scripts/
// reaches 500 lines (issue 11). Read from the tree on every run, so a file that grows past
// it fails here and gets split where its sections part.
import { expect, test } from 'bun:test'
import { Glob } from 'bun'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '../..')
const LIMIT = 500

test(`no source file has more than ${LIMIT} lines`, async () => {
  const long: string[] = []
  for (const folder of ['src', 'client', 'scripts']) {
    for await (const file of new Glob('**/*.{ts,js,lua,sh,html,css}').scan({ cwd: join(ROOT, folder) })) {
      const text = await Bun.file(join(ROOT, folder, file)).text()
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
      if (lines > LIMIT) long.push(`${folder}/${file}: ${lines} lines`)
    }
  }
  expect(long).toEqual([])
})
