import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { AppDeps, RouteDeps } from './deps.ts'
import { toServiceUnavailable } from './db/errors.ts'
import { isAppError } from './errors.ts'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { createApiKeyRepository } from './auth/api-keys.ts'
import authPlugin from './plugins/auth.ts'
import { createTransactionRepository } from './repositories/transactions.ts'
import { healthRoutes } from './routes/health.ts'
import { createFailedRepository } from './repositories/failed.ts'
import { dashboardRoutes } from './routes/admin/index.ts'
import { retryRoutes } from './routes/v1/retry.ts'
import { transactionLookupRoutes } from './routes/v1/transaction-lookup.ts'
import { readRoutes } from './routes/v1/transactions.ts'
import { vendorBillRoutes } from './routes/v1/vendor-bills.ts'
import { createZohoStack, type ZohoStack } from './zoho/stack.ts'
import { errorSchema } from './schemas/common.ts'
import { attemptSchema, transactionSchema } from './schemas/transactions.ts'
import { batchAnswerSchema, batchRequestSchema, billSchema, itemSchema } from './schemas/vendor-bills.ts'

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
    // A body or query key the schema does not name is refused (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    return503OnClosing: true,
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // While draining, answered keep-alive connections close so the server can stop without waiting on them;
    // an answer sent before the body was read (401, 413, 429 …) closes too, or the unread rest would poison the socket.
    if (deps.lifecycle.draining || !request.raw.complete) reply.header('connection', 'close')
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    deps.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) })
    deps.metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000)
  })
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const code = (error as { code?: string }).code
    if (code === 'DATABASE_UNAVAILABLE' || (toServiceUnavailable(error) as { code?: string }).code === 'DATABASE_UNAVAILABLE') deps.metrics.storageError('database')
    if (code === 'BLOB_STORE_UNAVAILABLE') deps.metrics.storageError('blob')
    return errorHandler(error, request, reply)
  })
  app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType)
    return deps.metrics.registry.metrics()
  })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` } })
  })

  for (const schema of [errorSchema, billSchema, batchRequestSchema, itemSchema, batchAnswerSchema, attemptSchema, transactionSchema]) app.addSchema(schema)
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'billbridge', version: '1.0.0', description: 'NetSuite vendor bills with PDFs in, Zoho Books bills out. Contract: DESIGN.md §3.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  await app.register(fastifyRateLimit, { global: false })

  let stack: ZohoStack | undefined
  const zoho = () => {
    if (!deps.zohoTarget) return null
    stack ??= createZohoStack({ pool: deps.pool, limits: deps.config.zoho, target: deps.zohoTarget, encryptionKey: deps.config.tokenEncryptionKey, logger: deps.logger })
    return stack
  }
  app.addHook('onClose', async () => stack?.dispatcher.close())
  const routeDeps: RouteDeps = { ...deps, keys: createApiKeyRepository(deps.db), transactions: createTransactionRepository(deps.db), failed: createFailedRepository(deps.db), zoho }
  await app.register(authPlugin, { keys: routeDeps.keys })
  await app.register(healthRoutes, routeDeps)
  await app.register(vendorBillRoutes, routeDeps)
  await app.register(readRoutes, routeDeps)
  await app.register(retryRoutes, routeDeps)
  await app.register(transactionLookupRoutes, routeDeps)
  await app.register(dashboardRoutes, routeDeps)
  return app
}

function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const err = toServiceUnavailable(error) as FastifyError
  if (isAppError(err)) {
    if (err.statusCode >= 500) request.log.error({ err }, 'request failed')
    return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } })
  }
  if (err.statusCode === 415) {
    return reply.code(415).send({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `send the request body as application/json (got ${request.headers['content-type'] ?? 'no content type'})` } })
  }
  if (err.statusCode === 429) {
    return reply.code(429).send({ error: { code: 'RATE_LIMITED', message: err.message } })
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
