import type { FastifyInstance } from 'fastify'
import type { RouteDeps as AppDeps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { AUTHENTICATED, bearerSecurity, errorReplies, reply } from '../../schemas/common.ts'
import { exampleBatchAnswer, exampleTransaction } from '../../schemas/examples.ts'
import { organizationFilterSchema } from '../../schemas/transactions.ts'
import { publishedAnswer } from '../../schemas/vendor-bills.ts'

// Any id the API hands out fits: transaction ids are UUIDs, batch ids are the client's (≤ 200) or a UUID.
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const

export async function readRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const read = app.requireScope('read')

  app.get<{ Params: { id: string } }>('/v1/transactions/:id', {
    onRequest: read,
    schema: {
      operationId: 'getTransaction',
      summary: 'One transaction with its delivery attempts',
      description: 'The bill as billbridge holds it: status (queued, processing, delivered, failed, resolved), attempts, the Zoho organization it goes to (`organization`: id and name), the Zoho bill id once delivered and the Zoho vendor (`zohoVendor`: contact id and name) it was booked to, the last error. Scope `read`.',
      tags: ['read'],
      security: bearerSecurity,
      params: idParams,
      response: { 200: reply('The transaction', { $ref: 'Transaction#' }, exampleTransaction), ...errorReplies(...AUTHENTICATED, 404, 414) },
    },
  }, async (request) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    return found
  })

  app.get<{ Querystring: { externalId: string; organization?: string } }>('/v1/transactions', {
    onRequest: read,
    schema: {
      operationId: 'findTransactionsByExternalId',
      summary: 'Transactions by NetSuite external id',
      description: 'Every transaction with that NetSuite internal id (at most one per source), with its attempts; with `organization`, only those of that Zoho organization. An unknown id is an empty list. Scope `read`.',
      tags: ['read'],
      security: bearerSecurity,
      querystring: { type: 'object', required: ['externalId'], properties: { externalId: { type: 'string', minLength: 1, maxLength: 128 }, organization: organizationFilterSchema } },
      response: {
        200: reply('The matching transactions', { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'Transaction#' } } } }, { items: [exampleTransaction] }),
        ...errorReplies(...AUTHENTICATED),
      },
    },
  }, async (request) => ({ items: await deps.transactions.findByExternalId(request.query.externalId, request.query.organization) }))

  app.get<{ Params: { id: string } }>('/v1/batches/:id', {
    onRequest: read,
    schema: {
      operationId: 'getBatch',
      summary: "A batch with each item's current status",
      description: 'By the client batchId (up to 200 characters) or the batch id billbridge gave. Items carry their current status, so a queued bill later shows delivered or failed. Scope `read`.',
      tags: ['read'],
      security: bearerSecurity,
      params: idParams,
      response: {
        200: reply('The batch', { allOf: [{ $ref: 'BatchAnswer#' }, { type: 'object', required: ['id', 'createdAt'], properties: { id: { type: 'string', format: 'uuid' }, createdAt: { type: 'string', format: 'date-time' } } }] },
          { ...exampleBatchAnswer, id: '0b7e2c44-1f3a-4d5e-8a9b-6c7d8e9f0a1b', createdAt: '2026-11-01T09:30:00.000Z' }),
        ...errorReplies(...AUTHENTICATED, 404, 414),
      },
    },
  }, async (request) => {
    const batch = await deps.transactions.findBatch(request.params.id)
    if (!batch) throw new AppError('BATCH_NOT_FOUND', `no batch with id ${request.params.id}`, 404)
    return publishedAnswer(batch)
  })
}
