// Writes caused by (a): how often the hot path makes vai commit to SQLite, read from
// the WAL's commit frames and PRAGMA data_version while (a) runs on one token.
import { Database } from 'bun:sqlite'
import { existsSync, readFileSync } from 'node:fs'
import { startVai, stop } from './processes'
import { getOwnToken } from './scenarios'
import type { Issued } from './seed'
import { SECONDS } from './settings'
import { wrk } from './wrk'

/** Commit frames in a WAL file, and the salt that tells one WAL generation from the next. */
function walCommits(path: string): { commits: number; salt: string } {
  if (!existsSync(path)) return { commits: 0, salt: '' }
  const wal = readFileSync(path)
  if (wal.length < 32) return { commits: 0, salt: '' }
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  let commits = 0
  // Frames of the current generation carry its salts; a frame with a non-zero
  // "database size" field is the last frame of a committed transaction.
  for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break
    if (wal.readUInt32BE(offset + 4) !== 0) commits++
  }
  return { commits, salt: `${salt1}.${salt2}` }
}

function commitsSince(before: { commits: number; salt: string }, after: { commits: number; salt: string }) {
  return before.salt === after.salt ? after.commits - before.commits : after.commits
}

export interface WritesResult {
  requests: number
  seconds: number
  commitsDuringLoad: number
  dataVersionChangesDuringLoad: number
  commitsAtShutdown: number
  rowsChanged: number
  changedIsHotToken: boolean
  lastUsedAtLag: number // ms between the end of the load and the written lastUsedAt
}

/**
 * Runs (a) against its own server on a copy of the seeded database, holding a
 * second connection open so the server's close leaves the WAL to be read, and
 * counts: commits while the load runs (WAL commit frames, and PRAGMA data_version
 * polled every 10 ms), commits on graceful shutdown, and rows whose last_used_at
 * changed.
 */
export async function countWrites(copy: string, hot: Issued): Promise<WritesResult> {
  const server = await startVai(copy)
  const reader = new Database(copy, { readonly: true })
  const lastUsed = () =>
    new Map((reader.query('SELECT id, last_used_at FROM tokens').all() as { id: string; last_used_at: number | null }[]).map((r) => [r.id, r.last_used_at]))
  const rowsBefore = lastUsed()
  const dataVersion = () => (reader.query('PRAGMA data_version').get() as { data_version: number }).data_version
  const walBefore = walCommits(`${copy}-wal`)
  let version = dataVersion()
  let versionChanges = 0
  let polling = true
  const poller = (async () => {
    while (polling) {
      await Bun.sleep(10)
      const now = dataVersion()
      if (now !== version) versionChanges++
      version = now
    }
  })()
  const load = await wrk(server.url, getOwnToken(hot, 'authorization'), SECONDS)
  const loadEnded = Date.now()
  polling = false
  await poller
  const walAfterLoad = walCommits(`${copy}-wal`)
  await stop(server, 'vai (writes test)')
  const walAfterStop = walCommits(`${copy}-wal`)
  const rowsAfter = lastUsed()
  reader.close()
  const changed = [...rowsAfter].filter(([id, at]) => rowsBefore.get(id) !== at)
  const hotAt = rowsAfter.get(hot.token.id) ?? 0
  if (load.non2xx > 0) throw new Error(`writes test: ${load.non2xx} non-2xx answers`)
  return {
    requests: load.requests,
    seconds: SECONDS,
    commitsDuringLoad: commitsSince(walBefore, walAfterLoad),
    dataVersionChangesDuringLoad: versionChanges,
    commitsAtShutdown: commitsSince(walAfterLoad, walAfterStop),
    rowsChanged: changed.length,
    changedIsHotToken: changed.length === 1 && changed[0]![0] === hot.token.id,
    lastUsedAtLag: loadEnded - hotAt,
  }
}
