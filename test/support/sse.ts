// Reads a server-sent event stream as EventSource would (eventsource-parser), keeping
// what it has said so far for a test to wait on.
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface EventLog {
  events: EventSourceMessage[]
  comments: string[]
  /** The last `retry:` the stream sent. */
  retry: number | undefined
  ended: boolean
  /** Settles once the stream has ended (or failed). */
  reading: Promise<void>
}

export function readEvents(response: Response, onEvent: (event: EventSourceMessage) => void = () => {}): EventLog {
  const log: EventLog = { events: [], comments: [], retry: undefined, ended: false, reading: Promise.resolve() }
  const parser = createParser({
    onEvent: (event) => {
      log.events.push(event)
      onEvent(event)
    },
    onComment: (comment) => log.comments.push(comment),
    onRetry: (ms) => (log.retry = ms),
  })
  log.reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }))
  })()
    .catch(() => {})
    .finally(() => (log.ended = true))
  return log
}

/** Waits, polling every 5 ms, until `condition` holds; throws after `ms`. */
export async function until(condition: () => boolean, ms = 2000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await Bun.sleep(5)
  }
}
