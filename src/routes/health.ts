import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../deps.ts'
import { reply as jsonReply } from '../schemas/common.ts'

const PROBE_TIMEOUT_MS = 2_000

const readiness = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ready', 'draining', 'unavailable'] },
    failing: { type: 'array', items: { type: 'string', enum: ['database', 'blobStore'] }, description: 'the parts that failed their probe (named, never described)' },
  },
} as const

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/health/live', {
    logLevel: 'warn',
    schema: {
      operationId: 'getLiveness',
      summary: 'The process runs',
      description: 'Always 200 while the process runs: for a liveness probe (restart when it fails).',
      tags: ['health'],
      security: [],
      response: { 200: jsonReply('Alive', { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } }, { status: 'ok' }) },
    },
  }, async () => ({ status: 'ok' }))

  app.get('/health/ready', {
    logLevel: 'warn',
    schema: {
      operationId: 'getReadiness',
      summary: 'The database and the PDF store answer',
      description: '200 when the database and the blob store pass their probes (2 s each); 503 naming the failing parts, or while draining after SIGTERM. For a readiness probe (route traffic away when it fails).',
      tags: ['health'],
      security: [],
      response: {
        200: jsonReply('Ready', readiness, { status: 'ready' }),
        503: jsonReply('Not ready: a part is failing, or the process is draining', readiness, { status: 'unavailable', failing: ['database'] }),
      },
    },
  }, async (_request, reply) => {
    if (deps.lifecycle.draining) return reply.code(503).send({ status: 'draining', failing: [] })
    const checks = await Promise.all([
      probe('database', () => deps.pool.query('SELECT 1')),
      probe('blobStore', () => deps.blobs.check()),
    ])
    const failing = checks.filter((check) => check.error !== undefined)
    if (failing.length > 0) {
      // Why a part fails (a path, a host) goes to the log; the unauthenticated answer names the part only.
      app.log.warn({ failing: Object.fromEntries(failing.map((check) => [check.name, check.error])) }, 'not ready')
      return reply.code(503).send({ status: 'unavailable', failing: failing.map((check) => check.name) })
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
