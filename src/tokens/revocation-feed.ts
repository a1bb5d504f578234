// The revocation feed as this process serves it: the streams that follow it, and the one
// poll of the store that feeds them all.
//
// Polling, not PostgreSQL's LISTEN/NOTIFY: Bun.SQL has no LISTEN, a notification sent
// while a connection is being re-established is lost (the poll cannot lose one: each
// follower reads from its own last seq), and SQLite, where several processes share one
// file, has no notifications at all. One cheap read of the newest seq per interval per
// process, only while a stream is open; a follower reads entries only when there are new
// ones. The interval keeps an entry within a second of the revoking request's answer on
// every instance.
import type { RevocationRecord, Store } from '../store/store'

export const FEED_POLL_MS = 250
/** A follower that was given nothing for this long is told the feed is still there. */
export const FEED_HEARTBEAT_MS = 10_000
/** What a stream may leave unsent (a client that does not read) before it is dropped. */
export const FEED_UNREAD_LIMIT_BYTES = 1 << 20
/** Entries read at once, for a follower catching up from far behind. */
const FEED_PAGE = 1000

/** What a follower is told: entries, that there are none yet (a heartbeat), or that the feed ended. */
export interface FeedListener {
  deliver(entries: RevocationRecord[]): void
  idle(): void
  /** Nothing more will be delivered: a follower told this must not believe nothing more happened. */
  ended(error: unknown): void
}

export interface RevocationFeed {
  /**
   * Hands every entry after `after` to `deliver`, in seq order, each once: first what the
   * store has, then each new one within a poll; `idle` when nothing was delivered for a
   * heartbeat. When the store fails, `ended` is called with the error and nothing more is
   * delivered. Returns the function that stops following.
   */
  follow(after: number, listener: FeedListener): () => void
  /** Ends every follower (a graceful stop) and the poll. */
  close(): void
  /** How much a follower may leave unsent before its stream drops it. */
  readonly unreadLimitBytes: number
}

interface Follower {
  cursor: number
  listener: FeedListener
  /** When it was last given something, entries or a heartbeat. */
  toldAt: number
}

export function createRevocationFeed(
  store: Store,
  { pollMs = FEED_POLL_MS, heartbeatMs = FEED_HEARTBEAT_MS, unreadLimitBytes = FEED_UNREAD_LIMIT_BYTES, now = Date.now } = {},
): RevocationFeed {
  const followers = new Set<Follower>()
  let timer: ReturnType<typeof setInterval> | undefined
  let polling: Promise<void> | undefined
  let again = false

  const end = (follower: Follower, error: unknown) => {
    followers.delete(follower)
    follower.listener.ended(error)
  }

  async function catchUp(head: number) {
    for (const follower of followers) {
      while (follower.cursor < head && followers.has(follower)) {
        const entries = await store.listRevocations(follower.cursor, FEED_PAGE)
        // Nothing between the cursor and the head any more: purged meanwhile.
        if (entries.length === 0) follower.cursor = head
        else {
          follower.cursor = entries.at(-1)!.seq
          if (followers.has(follower)) {
            follower.toldAt = now()
            follower.listener.deliver(entries)
          }
        }
      }
      if (followers.has(follower) && now() - follower.toldAt >= heartbeatMs) {
        follower.toldAt = now()
        follower.listener.idle()
      }
    }
  }

  // One poll at a time; a poll asked for while one runs runs once more after it.
  function poll() {
    if (polling) {
      again = true
      return
    }
    polling = (async () => {
      try {
        do {
          again = false
          await catchUp(await store.lastRevocationSeq())
        } while (again)
      } catch (error) {
        for (const follower of followers) end(follower, error)
      } finally {
        polling = undefined
        if (followers.size === 0 && timer !== undefined) {
          clearInterval(timer)
          timer = undefined
        }
      }
    })()
  }

  return {
    unreadLimitBytes,
    follow(after, listener) {
      const follower: Follower = { cursor: after, listener, toldAt: now() }
      followers.add(follower)
      timer ??= setInterval(poll, pollMs)
      poll()
      return () => {
        followers.delete(follower)
      }
    },
    close() {
      for (const follower of followers) end(follower, new Error('the server is stopping'))
      clearInterval(timer)
      timer = undefined
    },
  }
}
