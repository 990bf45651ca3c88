import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { retryTransactions } from '../../delivery/retry.ts'
import { AppError } from '../../errors.ts'
import { resolveTransactions, type FailedFilter } from '../../repositories/failed.ts'
import { bearerSecurity, errorResponses } from '../../schemas/common.ts'

const filterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    vendor: { type: 'string', maxLength: 200 },
    errorCode: { type: 'string', maxLength: 100 },
    batch: { type: 'string', maxLength: 200 },
  },
} as const

const resultSchema = { type: 'object', properties: { retried: { type: 'integer' }, skipped: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } } } }

/** Operator actions on failed bills; the dashboard's buttons call the same functions. */
export async function retryRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const admin = app.requireScope('admin')

  app.post<{ Params: { id: string } }>('/v1/transactions/:id/retry', {
    onRequest: admin,
    schema: { summary: 'Put one failed bill back in the queue', tags: ['admin'], security: bearerSecurity, response: { 202: resultSchema, 409: { $ref: 'Error#' }, ...errorResponses } },
  }, async (request, reply) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    if (found.status !== 'failed') throw new AppError('NOT_FAILED', `transaction ${found.id} is ${found.status}; only failed bills are retried`, 409)
    const result = await retryTransactions(deps.pool, deps.boss, [found.id], { actor: request.apiKey!.name, address: request.ip })
    return reply.code(202).send({ retried: result.retried.length, skipped: result.skipped.length, ids: result.retried })
  })

  app.post<{ Body: { filter?: FailedFilter } }>('/v1/transactions/retry', {
    onRequest: admin,
    schema: {
      summary: 'Retry every failed bill matching a filter (the failed list\'s filters)',
      tags: ['admin'],
      security: bearerSecurity,
      body: { type: 'object', properties: { filter: filterSchema } },
      response: { 202: resultSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const filter = request.body?.filter ?? {}
    const ids = await deps.failed.ids(filter)
    const result = await retryTransactions(deps.pool, deps.boss, ids, { actor: request.apiKey!.name, address: request.ip, filter: { ...filter }, bulk: true })
    return reply.code(202).send({ retried: result.retried.length, skipped: result.skipped.length, ids: result.retried })
  })

  app.post<{ Params: { id: string }; Body: { note: string } }>('/v1/transactions/:id/resolve', {
    onRequest: admin,
    schema: {
      summary: 'Mark a failed bill as resolved by hand, saying how', tags: ['admin'], security: bearerSecurity,
      body: { type: 'object', additionalProperties: false, required: ['note'], properties: { note: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: { 200: resultSchema, ...errorResponses },
    },
  }, async (request) => {
    const resolved = await resolveTransactions(deps.db, [request.params.id].filter((id) => /^[0-9a-f-]{36}$/i.test(id)), { actor: request.apiKey!.name, address: request.ip, note: request.body.note })
    if (resolved.length === 0) throw new AppError('NOT_FAILED', `transaction ${request.params.id} is not a failed bill`, 409)
    return { retried: 0, skipped: 0, ids: resolved }
  })
}
