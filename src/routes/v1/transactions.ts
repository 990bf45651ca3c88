import type { FastifyInstance } from 'fastify'
import type { RouteDeps as AppDeps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { bearerSecurity, errorResponses } from '../../schemas/common.ts'

export async function readRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const read = app.requireScope('read')

  app.get<{ Params: { id: string } }>('/v1/transactions/:id', {
    onRequest: read,
    schema: { summary: 'One transaction with its delivery attempts', tags: ['read'], security: bearerSecurity, params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 200: { $ref: 'Transaction#' }, ...errorResponses } },
  }, async (request) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    return found
  })

  app.get<{ Querystring: { externalId: string } }>('/v1/transactions', {
    onRequest: read,
    schema: {
      summary: 'Transactions by NetSuite external id',
      tags: ['read'],
      security: bearerSecurity,
      querystring: { type: 'object', required: ['externalId'], properties: { externalId: { type: 'string', minLength: 1, maxLength: 128 } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: { $ref: 'Transaction#' } } } }, ...errorResponses },
    },
  }, async (request) => ({ items: await deps.transactions.findByExternalId(request.query.externalId) }))

  app.get<{ Params: { id: string } }>('/v1/batches/:id', {
    onRequest: read,
    schema: {
      summary: "A batch with each item's current status",
      tags: ['read'],
      security: bearerSecurity,
      params: { type: 'object', properties: { id: { type: 'string' } } },
      response: { 200: { allOf: [{ $ref: 'BatchAnswer#' }, { type: 'object', properties: { id: { type: 'string' }, createdAt: { type: 'string' } } }] }, ...errorResponses },
    },
  }, async (request) => {
    const batch = await deps.transactions.findBatch(request.params.id)
    if (!batch) throw new AppError('BATCH_NOT_FOUND', `no batch with id ${request.params.id}`, 404)
    return batch
  })
}
