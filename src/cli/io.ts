// Terminal input and output for the admin commands.

/** Thrown for a failure the user can act on: one line on stderr, exit 1. */
export class CommandError extends Error {}

/**
 * Reads a secret without echoing it: from the terminal when there is one, else
 * the first line of stdin (so scripts can pipe it). Never from argv, where any
 * user of the machine could read it in the process list.
 */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const text = await Bun.stdin.text()
    return text.split(/\r?\n/)[0] ?? ''
  }
  // Listening, not iterating: ending an iteration would close stdin for the next question.
  return new Promise((resolve, reject) => {
    let secret = ''
    const finish = () => {
      process.stdin.off('data', onData)
      process.stdin.setRawMode(false)
      process.stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(), resolve(secret)
        if (char === '\u0003') return finish(), reject(new CommandError('interrupted'))
        secret = char === '\u007f' || char === '\b' ? [...secret].slice(0, -1).join('') : secret + char
      }
    }
    // Echo off before the prompt shows: whatever is typed after it is never echoed.
    process.stdin.setRawMode(true)
    process.stderr.write(prompt)
    process.stdin.resume()
    process.stdin.on('data', onData)
  })
}

/** Asks a yes/no question on stderr and reads the answer from stdin. */
export async function confirm(question: string): Promise<boolean> {
  process.stderr.write(`${question} [y/N] `)
  for await (const line of console) return /^y(es)?$/i.test(line.trim())
  return false
}

/** Prints rows as aligned columns under a header. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  console.log([line(header), ...rows.map(line)].join('\n'))
}
