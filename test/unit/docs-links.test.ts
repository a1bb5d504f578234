// Every relative link in the README and docs/ leads to something inside the clone: a file
// or folder of the repository (never `../` out of it), and a `#heading` that the target
// page has. A moved test or a renamed section breaks a link here, not in a reader's hands.
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'

const ROOT = join(import.meta.dir, '../..')
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)]

// Code shows links as text: fenced blocks and inline code spans are not links.
const withoutCodeBlocks = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
const withoutCode = (markdown: string) => withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, '')

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
function linksOf(markdown: string): string[] {
  const text = withoutCode(markdown)
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!)
  const references = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]!)
  return [...inline, ...references]
}

// GitHub's anchors: the heading's text, lower-cased, punctuation dropped, spaces as hyphens;
// a repeated heading gets -1, -2, ….
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const [, heading] of withoutCodeBlocks(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '')
    const slug = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')

// Each link once per page, however often the page repeats it.
const LINKS = PAGES.flatMap((page) =>
  [...new Set(linksOf(readFileSync(join(ROOT, page), 'utf8')))]
    .filter((target) => !isExternal(target))
    .map((target) => [page, target] as const),
)

describe('links in the README and docs/', () => {
  test('there are relative links to check', () => {
    expect(LINKS.length).toBeGreaterThan(10)
  })

  test('the README links the API reference and the architecture, in the repository', () => {
    const fromReadme = LINKS.filter(([page]) => page === 'README.md').map(([, target]) => target)
    expect(fromReadme).toContain('docs/api.md')
    expect(fromReadme).toContain('docs/architecture.md')
  })

  test.each(LINKS)('%s → %s resolves inside the clone', (page, target) => {
    const [path, fragment] = target.split('#', 2) as [string, string | undefined]
    const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path))
    const inside = relative(ROOT, file)
    expect(inside.startsWith('..') || isAbsolute(inside)).toBe(false)
    expect(existsSync(file)).toBe(true)
    if (fragment !== undefined && file.endsWith('.md')) {
      expect(anchorsOf(readFileSync(file, 'utf8'))).toContain(decodeURIComponent(fragment))
    }
  })
})
