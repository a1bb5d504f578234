// What both parts' reports are made of: number formats, the machine and the tree they
// ran on, a target's check; the SVG chart of the SQLite part; and bench/results.md as
// its SQLite part and its PostgreSQL section (a run replaces the part it ran).
import { readFileSync } from 'node:fs'
import { command } from './processes'
import type { FloorName, Scenario, ServerName } from './scenarios'
import { ROOT } from './settings'
import type { ScenarioRun, ServerSummary } from './summary'

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
export const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`)
export const fmtUs = (us: number) => `${us.toFixed(1)} µs`
export const fmtCpu = (us: number) => us.toFixed(1)
export const fmtRatio = (r: number | null) => (r === null ? '—' : r.toFixed(2))
export const fmtMb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
/** A figure per request to `digits` places, without a minus sign on a rounded zero. */
export const fmtPer = (value: number, digits: number) => (Math.abs(value) < 0.5 * 10 ** -digits ? 0 : value).toFixed(digits)

export function machine(tmp: string) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const meminfo = readFileSync('/proc/meminfo', 'utf8')
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0)
  return {
    cpus: command(['nproc']),
    model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    bun: Bun.version,
    kernel: command(['uname', '-sr']),
    wrk: command(['wrk', '--version']).split('\n')[0]!.replace(/\s+Copyright.*/, ''),
    filesystem: command(['df', '--output=fstype', tmp]).split('\n').at(-1)!.trim(),
  }
}

export interface Check {
  measure: string
  target: string
  measured: string
  pass: boolean
  ceiling?: string // what the floor measured for the same figure
}

/** The commit dist/vai was built from, and whether src/ had uncommitted changes, as the report says it. */
export function measuredTree(): string {
  const commit = command(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = command(['git', '-C', ROOT, 'status', '--porcelain', '--', 'src']) !== ''
  return `Measured tree: commit ${commit}${dirty ? ', with uncommitted changes in src/' : ''}.`
}

/**
 * The "Every run" table of a part: per run the scenario, round and server, what wrk
 * read, then the part's own columns, `more` (a title and a cell each, figures).
 */
export function everyRunTable<R extends ScenarioRun<string>>(plan: { key: string; title: string }[], runs: R[], more: [string, (r: R) => string][] = []): string[] {
  const titles = ['scenario', 'round', 'server', 'req/s', 'p50', 'p75', 'p90', 'p99', 'requests', 'non-2xx', 'socket errors', ...more.map(([title]) => title)]
  const align = titles.map((_, i) => (i === 0 || i === 2 ? '---' : '---:'))
  const rows = runs.map((r) => [
    plan.find((s) => s.key === r.scenario)!.title,
    String(r.round),
    r.server,
    fmtInt(r.rps),
    fmtMs(r.p50),
    fmtMs(r.p75),
    fmtMs(r.p90),
    fmtMs(r.p99),
    fmtInt(r.requests),
    fmtInt(r.non2xx),
    String(r.socketErrors),
    ...more.map(([, cell]) => cell(r)),
  ])
  return [`| ${titles.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((cells) => `| ${cells.join(' | ')} |`)]
}

/** vai's bars, with the issue's targets and, as thin blue marks on the same bar, the floors' ratios. */
export function svgChart(summaries: ServerSummary<Scenario, ServerName>[], targets: Map<string, number>, floors: Map<string, { server: FloorName; ratio: number }[]>): string {
  const bars = summaries.filter((s) => s.ratio !== null)
  const width = 760
  const height = 356
  const left = 60
  const top = 40
  const bottom = 86
  const plotHeight = height - top - bottom
  const max = Math.max(1.1, ...bars.map((b) => b.ratio!)) * 1.05
  const y = (value: number) => top + plotHeight * (1 - value / max)
  const slot = (width - left - 20) / bars.length
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">vai throughput as a fraction of a bare Bun.serve (same run, same bytes)</text>`,
  ]
  for (let tick = 0; tick <= max; tick += 0.25) {
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${tick.toFixed(2)}</text>`)
  }
  out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#888" stroke-dasharray="2 3"/>`)
  bars.forEach((bar, i) => {
    const x = left + i * slot + slot * 0.18
    const w = slot * 0.64
    const target = bar.server === 'vai' ? targets.get(bar.scenario.key) : undefined
    const color = target === undefined ? '#7a8ca3' : bar.ratio! >= target ? '#2e8b57' : '#c0392b'
    out.push(`<rect x="${x.toFixed(1)}" y="${y(bar.ratio!).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(0) - y(bar.ratio!)).toFixed(1)}" fill="${color}"/>`)
    // Labels stack upwards from the bar's top: its value, then each floor's, none over another.
    // A floor just above the bar takes the value's place: the value goes inside the bar if it
    // is tall enough, else above the floors' labels.
    const marks = (bar.server === 'vai' ? (floors.get(bar.scenario.key) ?? []) : []).toSorted((m, n) => m.ratio - n.ratio)
    const valueLabel = (at: number, fill = '#111') =>
      out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${at.toFixed(1)}" text-anchor="middle" font-weight="600" fill="${fill}">${bar.ratio!.toFixed(2)}</text>`)
    let room = y(bar.ratio!) - 5 // the lowest baseline the next label may take
    const valueFirst = marks.every((m) => y(bar.ratio!) - y(m.ratio) >= 18)
    const valueInside = !valueFirst && y(0) - y(bar.ratio!) >= 18
    if (valueFirst) {
      valueLabel(room)
      room -= 13
    } else if (valueInside) valueLabel(y(bar.ratio!) + 14, '#fff')
    for (const mark of marks) {
      const my = y(mark.ratio)
      const labelY = Math.min(my - 3, room)
      const dash = mark.server === 'floor-cached' ? ' stroke-dasharray="3 2"' : ''
      out.push(`<line x1="${x.toFixed(1)}" x2="${(x + w).toFixed(1)}" y1="${my.toFixed(1)}" y2="${my.toFixed(1)}" stroke="#1f5fa8" stroke-width="2"${dash}/>`)
      out.push(`<text x="${(x + 2).toFixed(1)}" y="${labelY.toFixed(1)}" font-size="9" fill="#1f5fa8">${mark.server === 'floor' ? 'floor' : 'cached'} ${mark.ratio.toFixed(2)}</text>`)
      room = labelY - 11
    }
    if (!valueFirst && !valueInside) valueLabel(room - 2)
    if (target !== undefined) {
      out.push(`<line x1="${(x - 6).toFixed(1)}" x2="${(x + w + 6).toFixed(1)}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#111" stroke-width="2" stroke-dasharray="5 3"/>`)
      out.push(`<text x="${(x + w + 7).toFixed(1)}" y="${(y(target) + 4).toFixed(1)}" font-size="10">${target.toFixed(2)}</text>`)
    }
    const lx = (x + w / 2).toFixed(1)
    out.push(`<text x="${lx}" y="${y(0) + 16}" text-anchor="middle" font-weight="600">${esc(bar.scenario.title.slice(0, 3))}</text>`)
    out.push(`<text x="${lx}" y="${y(0) + 31}" text-anchor="middle" font-size="11">${esc(bar.scenario.chart)}</text>`)
    if (bar.server === 'vai-1M') out.push(`<text x="${lx}" y="${y(0) + 45}" text-anchor="middle" font-size="11">1M tokens</text>`)
  })
  out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`)
  out.push(
    `<text x="${width - 20}" y="${height - 20}" text-anchor="end" font-size="10" fill="#555">bars: vai req/s ÷ baseline req/s; dashed black: the issue's target (green: met, red: missed, grey: none)</text>`,
    `<text x="${width - 20}" y="${height - 7}" text-anchor="end" font-size="10" fill="#1f5fa8">blue marks: the floor, a handler with no framework doing the same work (solid), and with a data_version-checked cache (dotted)</text>`,
  )
  out.push('</svg>')
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------- bench/results.md

const PG_START = '<!-- bench:postgres:start (scripts/bench/main.ts replaces this section on a PostgreSQL run) -->'
const PG_END = '<!-- bench:postgres:end -->'

/** bench/results.md as its SQLite part and its PostgreSQL section. */
export function splitResults(text: string): { sqlite: string; postgres?: string } {
  const start = text.indexOf(PG_START)
  const end = text.indexOf(PG_END)
  if (start === -1 || end === -1 || end < start) return { sqlite: text }
  return {
    sqlite: (text.slice(0, start).trimEnd() + '\n' + text.slice(end + PG_END.length).replace(/^\s+/, '')).trimEnd() + '\n',
    postgres: text.slice(start + PG_START.length, end).trim(),
  }
}

/** bench/results.md from its SQLite part and, if there is one, its PostgreSQL section. */
export function joinResults(sqliteMd: string, postgresMd: string | undefined): string {
  return postgresMd === undefined ? sqliteMd : `${sqliteMd.trimEnd()}\n\n${PG_START}\n${postgresMd.trimEnd()}\n${PG_END}\n`
}
