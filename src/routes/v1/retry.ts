import type { FastifyInstance, FastifySchemaValidationError } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { retryTransactions } from '../../delivery/retry.ts'
import { AppError } from '../../errors.ts'
import { resolveTransactions, type FailedFilter } from '../../repositories/failed.ts'
import { AUTHENTICATED, bearerSecurity, errorReplies, reply } from '../../schemas/common.ts'
import { organizationFilterSchema } from '../../schemas/transactions.ts'

const filterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date', description: 'created on or after this day (UTC)' },
    to: { type: 'string', format: 'date', description: 'created on or before this day (UTC)' },
    vendor: { type: 'string', maxLength: 200 },
    errorCode: { $ref: 'DeliveryErrorCode#' },
    batch: { type: 'string', maxLength: 200 },
    organization: organizationFilterSchema,
  },
} as const

const resultSchema = {
  type: 'object',
  required: ['retried', 'skipped', 'ids'],
  properties: {
    retried: { type: 'integer', description: 'bills put back in the queue' },
    skipped: { type: 'integer', description: 'bills that were no longer failed when the action reached them' },
    ids: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'the transactions acted on' },
  },
} as const
// retry/{id} takes no options: a body, if any, is an empty object, so {"force": true} is refused rather than ignored.
// By media type, so that a request without a body (no Content-Type) is not validated at all.
const noOptions = { content: { 'application/json': { schema: { type: 'object', properties: {}, description: 'no body, or {}: this action takes no options', examples: [{}] } } } } as const
const noteBody = {
  type: 'object',
  required: ['note'],
  properties: { note: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S', description: 'how the bill was settled; not blank (NOTE_REQUIRED), at most 2,000 characters (NOTE_TOO_LONG)' } },
  examples: [{ note: 'entered by hand in Zoho as bill 4600001234' }],
} as const
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const
const oneId = { retried: 1, skipped: 0, ids: ['5f0c6a1e-8d3b-4a51-9a4e-2f3c1b7d9e10'] }

/** Operator actions on failed bills; the dashboard's buttons call the same functions. */
export async function retryRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const admin = app.requireScope('admin')

  app.post<{ Params: { id: string } }>('/v1/transactions/:id/retry', {
    onRequest: admin,
    schema: {
      operationId: 'retryTransaction',
      summary: 'Put one failed bill back in the queue',
      description: 'A failed bill gets a new delivery job with fresh attempts. 404 for an unknown id, 409 when the bill is not failed. Scope `admin`.',
      tags: ['admin'],
      security: bearerSecurity,
      params: idParams,
      body: noOptions,
      response: { 202: reply('The bill is queued again', resultSchema, oneId), ...errorReplies(...AUTHENTICATED, 404, 409, 413, 414, 415) },
    },
  }, async (request, reply) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    if (found.status !== 'failed') throw new AppError('NOT_FAILED', `transaction ${found.id} is ${found.status}; only failed bills are retried`, 409)
    const result = await retryTransactions(deps.pool, deps.boss, [found.id], { actor: request.apiKey!.name, address: request.ip })
    return reply.code(202).send({ retried: result.retried.length, skipped: result.skipped.length, ids: result.retried })
  })

  app.post<{ Body: { filter: FailedFilter } }>('/v1/transactions/retry', {
    onRequest: admin,
    schema: {
      operationId: 'retryFailedTransactions',
      summary: 'Retry every failed bill matching a filter',
      description: 'The dashboard\'s failed-list filters. `filter` is required and every key is checked: `{"filter": {}}` retries every failed bill (up to 10,000), an unknown key is a 400 and a filter that matches nothing retries nothing. Scope `admin`.',
      tags: ['admin'],
      security: bearerSecurity,
      // filter is required: retrying every failed bill takes an explicit {"filter": {}}.
      body: { type: 'object', required: ['filter'], properties: { filter: filterSchema }, examples: [{ filter: { errorCode: 'ACCOUNT_UNMAPPED', from: '2026-11-01' } }] },
      response: { 202: reply('The matching failed bills are queued again', resultSchema, oneId), ...errorReplies(...AUTHENTICATED, 413, 415) },
    },
  }, async (request, reply) => {
    const filter = request.body.filter ?? {}
    const ids = await deps.failed.ids(filter)
    const result = await retryTransactions(deps.pool, deps.boss, ids, { actor: request.apiKey!.name, address: request.ip, filter: { ...filter }, bulk: true })
    return reply.code(202).send({ retried: result.retried.length, skipped: result.skipped.length, ids: result.retried })
  })

  app.post<{ Params: { id: string }; Body: { note: string } }>('/v1/transactions/:id/resolve', {
    onRequest: admin,
    schema: {
      operationId: 'resolveTransaction',
      summary: 'Mark a failed bill as resolved by hand, saying how',
      description: 'For a bill an operator settled in Zoho by hand: it leaves the failed list, and the note is kept in the audit trail. 404 for an unknown id, 409 when the bill is not failed. Scope `admin`.',
      tags: ['admin'],
      security: bearerSecurity,
      params: idParams,
      body: noteBody,
      response: { 200: reply('The bill is resolved', resultSchema, { retried: 0, skipped: 0, ids: ['5f0c6a1e-8d3b-4a51-9a4e-2f3c1b7d9e10'] }), ...errorReplies(...AUTHENTICATED, 404, 409, 413, 414, 415) },
    },
    // The note's own codes (NOTE_REQUIRED, NOTE_TOO_LONG) rather than the schema's generic one.
    attachValidation: true,
  }, async (request) => {
    if (request.validationError) throw noteError(request.validationError, request.body)
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    const resolved = await resolveTransactions(deps.db, [found.id], { actor: request.apiKey!.name, address: request.ip, note: request.body.note })
    if (resolved.length === 0) throw new AppError('NOT_FAILED', `transaction ${found.id} is ${found.status}; only failed bills are resolved`, 409)
    return { retried: 0, skipped: 0, ids: resolved }
  })
}

/** A resolve body that breaks the schema: a missing or blank note and an over-long one have codes of their own. */
function noteError(error: Error & { validation?: FastifySchemaValidationError[] }, body: unknown): Error {
  const problems = error.validation ?? []
  if (problems.some((p) => p.keyword === 'additionalProperties')) return error
  const missing = body === undefined || body === null || problems.some((p) => p.keyword === 'required' && (p.params as { missingProperty?: string }).missingProperty === 'note')
  if (missing || problems.some((p) => p.instancePath === '/note' && (p.keyword === 'minLength' || p.keyword === 'pattern'))) {
    return new AppError('NOTE_REQUIRED', 'say how the bill was settled: a note is required to mark it resolved', 400)
  }
  if (problems.some((p) => p.instancePath === '/note' && p.keyword === 'maxLength')) return new AppError('NOTE_TOO_LONG', 'the note is longer than 2,000 characters', 400)
  return error
}
