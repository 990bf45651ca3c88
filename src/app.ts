import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { BlobStore } from './blob/types.ts'
import type { Config } from './config.ts'
import type { Db } from './db/pool.ts'
import { isAppError } from './errors.ts'
import type { Logger } from './logger.ts'
import { healthRoutes } from './routes/health.ts'

export interface Lifecycle {
  draining: boolean
}

export interface AppDeps {
  config: Config
  logger: Logger
  pool: pg.Pool
  db: Db
  blobs: BlobStore
  boss: PgBoss
  lifecycle: Lifecycle
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // While draining, answered keep-alive connections close so the server can stop without waiting on them.
    if (deps.lifecycle.draining) reply.header('connection', 'close')
  })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` } })
  })

  await app.register(healthRoutes, deps)
  return app
}

function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isAppError(err)) {
    if (err.statusCode >= 500) request.log.error({ err }, 'request failed')
    return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } })
  }
  if (err.validation) {
    return reply.code(400).send({ error: { code: 'INVALID_REQUEST', message: err.message, details: err.validation } })
  }
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
  if (status >= 500) {
    request.log.error({ err }, 'request failed')
    return reply.code(status).send({ error: { code: 'INTERNAL_ERROR', message: 'Internal Server Error' } })
  }
  return reply.code(status).send({ error: { code: err.code ?? 'BAD_REQUEST', message: err.message } })
}
