import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import type { RouteDeps as AppDeps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { commitBatch } from '../../ingest/commit-batch.ts'
import { receiveBatch } from '../../ingest/receive-batch.ts'
import { bearerSecurity, errorResponses } from '../../schemas/common.ts'

const DOC_ONLY = () => () => true

/** POST /v1/vendor-bills/batches and POST /v1/vendor-bills: bodies are read as streams, never buffered. */
export async function vendorBillRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['application/json'], (_request, payload, done) => done(null, payload))

  const rateLimit = { max: deps.config.apiRatePerMinute, timeWindow: 60_000, hook: 'preHandler' as const, keyGenerator: (request: FastifyRequest) => request.apiKey?.id ?? request.ip }

  app.post('/v1/vendor-bills/batches', {
    onRequest: [app.requireScope('ingest'), checkLength(deps)],
    config: { rateLimit },
    // The body schema documents the contract; the stream itself is checked bill by bill as it arrives.
    validatorCompiler: DOC_ONLY,
    schema: {
      summary: 'Send a batch of vendor bills with their PDFs',
      tags: ['ingest'],
      security: bearerSecurity,
      body: { $ref: 'VendorBillBatch#' },
      response: { 202: { $ref: 'BatchAnswer#' }, 422: { $ref: 'BatchAnswer#' }, 413: { $ref: 'Error#' }, 415: { $ref: 'Error#' }, ...errorResponses },
    },
  }, async (request, reply) => ingest(deps, request, reply, 'batch'))

  app.post('/v1/vendor-bills', {
    onRequest: [app.requireScope('ingest'), checkLength(deps)],
    config: { rateLimit },
    validatorCompiler: DOC_ONLY,
    schema: {
      summary: 'Send one vendor bill with its PDF',
      tags: ['ingest'],
      security: bearerSecurity,
      body: { $ref: 'VendorBill#' },
      response: { 202: { $ref: 'BatchItem#' }, 413: { $ref: 'Error#' }, 415: { $ref: 'Error#' }, 422: { $ref: 'Error#' }, ...errorResponses },
    },
  }, async (request, reply) => ingest(deps, request, reply, 'single'))
}

function checkLength(deps: AppDeps) {
  return async (request: FastifyRequest) => {
    const length = Number(request.headers['content-length'] ?? 0)
    if (length > deps.config.maxBodyBytes) {
      throw new AppError('BODY_TOO_LARGE', `the request body (${length} bytes) is larger than ${deps.config.maxBodyBytes} bytes (MAX_BODY_BYTES); send fewer bills per batch`, 413, { limitBytes: deps.config.maxBodyBytes })
    }
  }
}

async function ingest(deps: AppDeps, request: FastifyRequest, reply: FastifyReply, mode: 'batch' | 'single') {
  const limits = { maxBodyBytes: deps.config.maxBodyBytes, maxAttachmentBytes: deps.config.maxAttachmentBytes }
  const received = await receiveBatch(request.body as Readable, mode, deps.blobs, limits)
  let result
  try {
    result = await commitBatch(deps.pool, deps.boss, received.batchId, received.accepted, received.rejected)
  } catch (err) {
    // Nothing was committed: the PDFs just written point nowhere (the orphan sweep is the backstop).
    await Promise.allSettled(received.accepted.map((a) => deps.blobs.delete(a.pdf.key)))
    throw err
  }
  if (result.unusedBlobs.length > 0) {
    Promise.allSettled(result.unusedBlobs.map((key) => deps.blobs.delete(key))).catch(() => undefined)
  }
  request.log.info({ batchId: result.answer.batchId, accepted: result.answer.accepted, rejected: result.answer.rejected, replayed: result.replayed }, 'batch received')
  if (mode === 'batch') return reply.code(result.statusCode).send(result.answer)
  const item = result.answer.items[0]!
  if (item.status === 'rejected') {
    // One bill alone: an oversized PDF is the request being too large.
    const status = item.error!.code === 'ATTACHMENT_TOO_LARGE' ? 413 : 422
    throw new AppError(item.error!.code, item.error!.message, status, { field: item.error!.field, limitBytes: status === 413 ? deps.config.maxAttachmentBytes : undefined })
  }
  return reply.code(202).send(item)
}
