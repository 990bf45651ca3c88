import type { FastifyInstance } from 'fastify'

/** The methods each path takes, from the routes as registered: a known path with another method is a 405, not a 404. */
export function allowedMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = []
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`)
    routes.push({ pattern, methods: ([] as string[]).concat(route.method) })
  })
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort()
}
