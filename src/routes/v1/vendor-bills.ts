import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { organizationFor } from '../../zoho/organizations.ts'
import type { Readable } from 'node:stream'
import type { RouteDeps as AppDeps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { commitBatch } from '../../ingest/commit-batch.ts'
import { receiveBatch } from '../../ingest/receive-batch.ts'
import { bearerSecurity, errorReplies, reply } from '../../schemas/common.ts'
import { exampleBatchAnswer } from '../../schemas/examples.ts'
import { BATCH_REJECTED_MESSAGE, publishedAnswer } from '../../schemas/vendor-bills.ts'

const DOC_ONLY = () => () => true

/** POST /v1/vendor-bills/batches and POST /v1/vendor-bills: bodies are read as streams, never buffered. */
export async function vendorBillRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['application/json'], (_request, payload, done) => done(null, payload))

  const uploads = uploadSlots(deps.config.maxUploadsPerKey)

  app.post('/v1/vendor-bills/batches', {
    onRequest: [app.requireScope('ingest'), checkLength(deps), uploads],
    // The body schema documents the contract; the stream itself is checked bill by bill as it arrives.
    validatorCompiler: DOC_ONLY,
    schema: {
      operationId: 'sendVendorBillBatch',
      summary: 'Send a batch of vendor bills with their PDFs',
      description: 'Read as a stream: each PDF is decoded and stored as it arrives, each bill validated when its object closes, then the batch is committed in one transaction with a delivery job per new bill. '
        + 'One bad bill is rejected alone (its item says why, also for a field far over its length limit); the rest are accepted. '
        + 'A batchId is remembered with the API key that first sent it and a SHA-256 of the batch\'s content (each bill\'s fields, whatever their order or the JSON\'s whitespace, and each attachment\'s contentBase64, in bill order). '
        + 'The same batch sent again by the same key answers as the first time and adds nothing. '
        + 'Batch ids are global, so that GET /v1/batches/{id} names one batch: a batchId already used with other bills or PDFs, or first used by another API key, is 409 BATCH_ID_REUSED with when it was first used (never that key or its bills), and nothing is stored. '
        + 'An empty or blank batchId is 400 BATCH_ID_INVALID; without a batchId, billbridge gives the batch an id. '
        + 'Batches stored before billbridge kept these fingerprints answer any resend under their id with their first answer. Scope `ingest`.',
      tags: ['ingest'],
      security: bearerSecurity,
      body: { $ref: 'VendorBillBatch#' },
      response: {
        202: reply('Stored: every accepted bill is queued for delivery (items say which were rejected and why)', { $ref: 'BatchAnswer#' }, exampleBatchAnswer),
        422: reply('Every bill was rejected: nothing was stored', { $ref: 'BatchRejected#' }, { error: { code: 'BATCH_REJECTED', message: BATCH_REJECTED_MESSAGE }, batchId: '', accepted: 0, rejected: 1, items: [exampleBatchAnswer.items[1]] }),
        ...errorReplies(400, 401, 403, 413, 415, 429, 503),
        409: reply('The batchId was first used with another body or by another API key: nothing was stored', { $ref: 'Error#' }, {
          error: { code: 'BATCH_ID_REUSED', message: 'batchId "ns-2026-11-01-run-7" was first used at 2026-11-01T09:30:00.000Z with other bills or PDFs; only the same batch sent again gets its first answer, so nothing was stored: send new bills under a new batchId', details: { firstUsedAt: '2026-11-01T09:30:00.000Z' } },
        }),
      },
    },
  }, async (request, reply) => ingest(deps, request, reply, 'batch'))

  app.post('/v1/vendor-bills', {
    onRequest: [app.requireScope('ingest'), checkLength(deps), uploads],
    validatorCompiler: DOC_ONLY,
    schema: {
      operationId: 'sendVendorBill',
      summary: 'Send one vendor bill with its PDF',
      description: 'The same as a batch of one. A rejected bill is the answer\'s error: 422 with its rejection code (413 ATTACHMENT_TOO_LARGE, 400 UNKNOWN_FIELD). Scope `ingest`.',
      tags: ['ingest'],
      security: bearerSecurity,
      body: { $ref: 'VendorBill#' },
      response: {
        202: reply('Stored and queued for delivery (or a duplicate of a known bill)', { $ref: 'BatchItem#' }, exampleBatchAnswer.items[0]),
        ...errorReplies(400, 401, 403, 413, 415, 422, 429, 503),
      },
    },
  }, async (request, reply) => ingest(deps, request, reply, 'single'))
}

/** At most max ingest requests in flight per API key; one more is a 429 until one of them ends. */
function uploadSlots(max: number) {
  const inFlight = new Map<string, number>()
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.apiKey!.id
    const count = inFlight.get(key) ?? 0
    if (count >= max) {
      throw new AppError('TOO_MANY_UPLOADS', `this API key already has ${max} uploads in progress (MAX_UPLOADS_PER_KEY); send the next batch when one has been answered`, 429, { retryAfterSeconds: 5 })
    }
    inFlight.set(key, count + 1)
    // 'close' fires once whether the answer was sent or the client went away.
    reply.raw.once('close', () => {
      const left = (inFlight.get(key) ?? 1) - 1
      if (left > 0) inFlight.set(key, left)
      else inFlight.delete(key)
    })
  }
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
  const limits = {
    maxBodyBytes: deps.config.maxBodyBytes, maxAttachmentBytes: deps.config.maxAttachmentBytes, maxBills: deps.config.maxBillsPerBatch,
    route: (subsidiary: string | undefined) => organizationFor(deps.organizations, subsidiary)?.organizationId ?? null,
  }
  const received = await receiveBatch(request.body as Readable, mode, deps.blobs, limits)
  let result
  try {
    const origin = { ...(received.batchId !== undefined ? { clientBatchId: received.batchId } : {}), fingerprint: received.fingerprint, apiKeyId: request.apiKey!.id }
    result = await commitBatch(deps.pool, deps.boss, origin, received.accepted, received.rejected, received.cancels)
  } catch (err) {
    // Nothing was committed: the PDFs just written point nowhere (the orphan sweep is the backstop).
    await Promise.allSettled(received.accepted.map((a) => deps.blobs.delete(a.pdf.key)))
    throw err
  }
  if (result.unusedBlobs.length > 0) {
    Promise.allSettled(result.unusedBlobs.map((key) => deps.blobs.delete(key))).catch(() => undefined)
  }
  request.log.info({ batchId: result.answer.batchId, accepted: result.answer.accepted, rejected: result.answer.rejected, replayed: result.replayed }, 'batch received')
  if (mode === 'batch') return reply.code(result.statusCode).send(publishedAnswer(result.answer, result.statusCode))
  const item = result.answer.items[0]!
  if (item.status === 'rejected') {
    // One bill alone: an oversized PDF is the request being too large.
    const code = item.error!.code
    const status = code === 'ATTACHMENT_TOO_LARGE' ? 413 : code === 'UNKNOWN_FIELD' ? 400 : 422
    throw new AppError(code, item.error!.message, status, { field: item.error!.field, limitBytes: status === 413 ? deps.config.maxAttachmentBytes : undefined })
  }
  return reply.code(202).send(item)
}
