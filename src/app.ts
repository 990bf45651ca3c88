import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { AppDeps, RouteDeps } from './deps.ts'
import { toServiceUnavailable } from './db/errors.ts'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { createApiKeyRepository } from './auth/api-keys.ts'
import { createAuthFailureLimiter } from './auth/auth-failures.ts'
import authPlugin from './plugins/auth.ts'
import { createTransactionRepository } from './repositories/transactions.ts'
import { healthRoutes } from './routes/health.ts'
import { createFailedRepository } from './repositories/failed.ts'
import { dashboardRoutes } from './routes/admin/index.ts'
import { backlogRoutes } from './routes/v1/backlog.ts'
import { retryRoutes } from './routes/v1/retry.ts'
import { transactionLookupRoutes } from './routes/v1/transaction-lookup.ts'
import { readRoutes } from './routes/v1/transactions.ts'
import { vendorBillRoutes } from './routes/v1/vendor-bills.ts'
import { errorHandler } from './http/error-handler.ts'
import { openapiOptions } from './http/openapi.ts'
import { closeBodySchema, refuseCoercedBodies, refuseEncodedBodies } from './http/strict-bodies.ts'
import { allowedMethods } from './http/allowed-methods.ts'
import { answerStalledBodies } from './http/idle-requests.ts'
import { defaultOrganization } from './zoho/organizations.ts'
import { createZohoStacks, type ZohoStack } from './zoho/stack.ts'
import { errorSchema } from './schemas/common.ts'
import { attemptSchema, transactionSchema } from './schemas/transactions.ts'
import { batchAnswerSchema, batchRejectedSchema, batchRequestSchemaFor, billSchema, itemSchema } from './schemas/vendor-bills.ts'
import { deliveryErrorCodeSchema } from './schemas/delivery-codes.ts'

export type { AppDeps, Lifecycle, RouteDeps } from './deps.ts'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // false: Fastify would otherwise take the header as sent; genReqId accepts it only when it is safe.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Room for the longest id the API hands out (a 200-character batchId), so every accepted id reads back.
    routerOptions: { maxParamLength: 256 },
    // Errors the router raises before any hook (a parameter too long, a bad URL) get the same envelope.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id)
      return errorHandler(error as FastifyError, request, reply)
    },
    trustProxy: deps.config.trustProxy,
    // A connection that sends and receives nothing this long is closed; a stalled body is answered 408 first (http/idle-requests.ts).
    connectionTimeout: deps.config.requestIdleTimeoutMs,
    // Unknown keys are refused (400 UNKNOWN_FIELD), never stripped; allErrors so that one is named even beside a missing field (bodies here are ≤ 1 MB).
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  })
  // JSON only: a text/plain body is a 415, never a string that fails the schema.
  app.removeContentTypeParser('text/plain')
  app.addHook('onRoute', closeBodySchema)
  app.addHook('onRequest', refuseEncodedBodies)
  app.addHook('preValidation', refuseCoercedBodies)
  const methods = allowedMethods(app)
  answerStalledBodies(app, deps.config.requestIdleTimeoutMs)

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
    const path = request.url.split('?')[0]!
    const allow = methods(path)
    if (allow.length > 0 && !allow.includes(request.method)) {
      return reply.code(405).header('allow', allow.join(', ')).send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; it takes ${allow.join(', ')}` } })
    }
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${path}` } })
  })

  for (const schema of [errorSchema, billSchema, batchRequestSchemaFor(deps.config.maxBillsPerBatch), itemSchema, batchAnswerSchema, batchRejectedSchema, deliveryErrorCodeSchema, attemptSchema, transactionSchema]) app.addSchema(schema)
  await app.register(fastifySwagger, openapiOptions(deps.config.maxBillsPerBatch))
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  // One budget per API key across every /v1 route (per client IP before a key is known); after auth, so the key is.
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preHandler',
    max: deps.config.apiRatePerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.apiKey?.id ?? request.ip,
    allowList: (request) => !request.url.startsWith('/v1/'),
  })

  let stacks: Map<string, ZohoStack> | undefined
  const zoho = (organizationId?: string) => {
    if (!deps.zohoReachable) return null
    stacks ??= createZohoStacks({ pool: deps.pool, organizations: deps.organizations, encryptionKey: deps.config.tokenEncryptionKey, logger: deps.logger })
    return stacks.get(organizationId ?? defaultOrganization(deps.organizations).organizationId) ?? null
  }
  app.addHook('onClose', async () => {
    for (const stack of stacks?.values() ?? []) await stack.dispatcher.close()
  })
  const routeDeps: RouteDeps = {
    ...deps,
    keys: createApiKeyRepository(deps.db),
    transactions: createTransactionRepository(deps.db, deps.organizations),
    failed: createFailedRepository(deps.db),
    authFailures: createAuthFailureLimiter(deps.config.authFailuresPerMinute),
    zoho,
  }
  await app.register(authPlugin, { keys: routeDeps.keys, failures: routeDeps.authFailures })
  await app.register(healthRoutes, routeDeps)
  await app.register(vendorBillRoutes, routeDeps)
  await app.register(readRoutes, routeDeps)
  await app.register(retryRoutes, routeDeps)
  await app.register(transactionLookupRoutes, routeDeps)
  await app.register(backlogRoutes, routeDeps)
  await app.register(dashboardRoutes, routeDeps)
  return app
}
