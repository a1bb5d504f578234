// What may import what in src/. The rules and the store never see HTTP: the Elysia
// plugins, routes and the app live at the edge (src/http/, app.ts, main.ts, cli/), and
// nothing else imports from there. Read from the source on every run, so an import that
// breaks a layer fails here.
import { describe, expect, test } from 'bun:test'
import { Glob } from 'bun'
import { dirname, join, relative } from 'node:path'

const SRC = join(import.meta.dir, '../../src')

/** Modules that speak HTTP, or drive the program: they may import anything. */
const EDGE = /^(?:http\/|cli\/|app\.ts$|main\.ts$)/
/** Modules that describe schemas with Elysia's `t` (its TypeBox); everything else outside the edge imports no Elysia at all. */
const SCHEMA_MODULES = /^(?:schemas\.ts$|config\.ts$|validation\/)/

interface Module {
  /** Modules of src/ it needs at run time (an import used only as a type is not one). */
  runtime: string[]
  /** Modules of src/ it names at all, `import type` included. */
  named: string[]
  /** Packages it loads at run time. */
  packages: string[]
  /** What it takes from 'elysia' at run time: names, or a whole-module clause (`* as elysia`). */
  fromElysia: string[]
}

const runtimeOnly = new Bun.Transpiler({ loader: 'ts', trimUnusedImports: true })
const ANY_IMPORT = /^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm
const ELYSIA_IMPORT = /import\s*([^;]*?)\s*from\s*"elysia"/g

const importedNames = (clause: string) =>
  clause.startsWith('{') ? clause.slice(1, -1).split(',').map((name) => name.trim().split(/\s+as\s+/)[0]!).filter(Boolean) : [clause]

function inSrc(specifier: string, from: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined
  const resolved = relative(SRC, Bun.resolveSync(specifier, dirname(join(SRC, from))))
  return resolved.startsWith('..') ? undefined : resolved
}

function readModule(file: string, source: string): Module {
  const compiled = runtimeOnly.transformSync(source)
  const local = (specifiers: string[]) => [...new Set(specifiers.flatMap((specifier) => inSrc(specifier, file) ?? []))]
  const loaded = runtimeOnly.scanImports(compiled).map((entry) => entry.path)
  return {
    runtime: local(loaded),
    named: local([...source.matchAll(ANY_IMPORT)].map((match) => (match[1] ?? match[2])!)),
    packages: loaded.filter((specifier) => !specifier.startsWith('.')),
    fromElysia: [...compiled.matchAll(ELYSIA_IMPORT)].flatMap((match) => importedNames(match[1]!)),
  }
}

const files = [...new Glob('**/*.ts').scanSync(SRC)].filter((file) => !file.endsWith('.d.ts')).sort()
const modules = new Map(await Promise.all(files.map(async (file) => [file, readModule(file, await Bun.file(join(SRC, file)).text())] as const)))

/** The import cycles among `graph`'s modules, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const done = new Set<string>()
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node)
    if (at !== -1) return void found.push([...path.slice(at), node])
    if (done.has(node)) return
    for (const next of graph.get(node) ?? []) visit(next, [...path, node])
    done.add(node)
  }
  for (const node of graph.keys()) visit(node, [])
  return found
}

describe('layers of src/', () => {
  test('the import graph was read', () => {
    expect(modules.get('app.ts')!.runtime).toContain('http/error-renderer.ts')
    expect(modules.get('http/caller.ts')!.fromElysia).toContain('Elysia')
  })

  test('no import cycle', () => {
    expect(cycles(new Map([...modules].map(([file, module]) => [file, module.runtime])))).toEqual([])
  })

  test('nothing outside the edge imports from it, not even a type', () => {
    const crossings = [...modules]
      .filter(([file]) => !EDGE.test(file))
      .flatMap(([file, module]) => module.named.filter((imported) => EDGE.test(imported)).map((imported) => `${file} → ${imported}`))
    expect(crossings).toEqual([])
  })

  test("outside the edge, Elysia is only the schemas' `t`", () => {
    const uses = [...modules]
      .filter(([file]) => !EDGE.test(file))
      .flatMap(([file, module]) => [
        ...module.fromElysia.filter((name) => !(name === 't' && SCHEMA_MODULES.test(file))).map((name) => `${file}: ${name} from elysia`),
        ...module.packages.filter((name) => name.startsWith('@elysiajs/')).map((name) => `${file}: ${name}`),
      ])
    expect(uses).toEqual([])
  })
})

describe('cycles', () => {
  test.each([
    ['none', { a: ['b'], b: ['c'], c: [] }, []],
    ['a module importing itself', { a: ['a'] }, [['a', 'a']]],
    ['two modules', { a: ['b'], b: ['a'] }, [['a', 'b', 'a']]],
    ['a longer one, entered from outside', { x: ['a'], a: ['b'], b: ['c'], c: ['a'] }, [['a', 'b', 'c', 'a']]],
  ])('%s', (_name, graph, expected) => {
    expect(cycles(new Map(Object.entries(graph)))).toEqual(expected)
  })
})
