import type { AnyElysia } from 'elysia'

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The methods a path answers to, empty for an unknown path: what tells a 405 (and an
 * OPTIONS answer) from a 404. Read from the app's routes on first use, once every route
 * is registered.
 */
export function allowedMethods(app: AnyElysia): (path: string) => string[] {
  let table: { pattern: RegExp; methods: string[] }[] | undefined
  return (path) => {
    table ??= methodTable(app)
    return table.find(({ pattern }) => pattern.test(path))?.methods ?? []
  }
}

function methodTable(app: AnyElysia) {
  const byPath = new Map<string, Set<string>>()
  for (const route of app.routes) {
    const methods = byPath.get(route.path) ?? new Set()
    methods.add(route.method)
    if (route.method === 'GET') methods.add('HEAD')
    methods.add('OPTIONS')
    byPath.set(route.path, methods)
  }
  return [...byPath].map(([routePath, methods]) => ({
    pattern: new RegExp(`^${escapeRegExp(routePath).replace(/:[^/]+/g, '[^/]+')}/?$`),
    methods: [...methods],
  }))
}
