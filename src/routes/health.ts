import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../deps.ts'

const PROBE_TIMEOUT_MS = 2_000

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/health/live', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

  app.get('/health/ready', { logLevel: 'warn' }, async (_request, reply) => {
    if (deps.lifecycle.draining) return reply.code(503).send({ status: 'draining', failing: [] })
    const checks = await Promise.all([
      probe('database', () => deps.pool.query('SELECT 1')),
      probe('blobStore', () => deps.blobs.check()),
    ])
    const failing = checks.filter((check) => check.error !== undefined)
    if (failing.length > 0) {
      return reply.code(503).send({
        status: 'unavailable',
        failing: failing.map((check) => check.name),
        details: Object.fromEntries(failing.map((check) => [check.name, check.error])),
      })
    }
    return { status: 'ready' }
  })
}

async function probe(name: string, check: () => Promise<unknown>): Promise<{ name: string; error?: string }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS)
  })
  try {
    await Promise.race([check(), timeout])
    return { name }
  } catch (err) {
    return { name, error: (err as Error).message || 'unreachable' }
  } finally {
    clearTimeout(timer)
  }
}
