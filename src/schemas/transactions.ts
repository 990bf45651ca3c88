export const attemptSchema = {
  $id: 'Attempt',
  type: 'object',
  properties: {
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    outcome: { type: 'string' },
    httpStatus: { type: ['integer', 'null'] },
    zohoCode: { type: ['integer', 'null'] },
    errorCode: { type: ['string', 'null'] },
    message: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
  },
} as const

export const transactionSchema = {
  $id: 'Transaction',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    batchId: { type: ['string', 'null'] },
    externalId: { type: 'string' },
    billNumber: { type: 'string' },
    vendor: { type: 'object', additionalProperties: true },
    amount: { type: 'string' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['received', 'queued', 'processing', 'delivered', 'failed', 'resolved'] },
    attempts: { type: 'integer' },
    zohoBillId: { type: ['string', 'null'] },
    lastError: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    attachment: { type: 'object', properties: { fileName: { type: 'string' }, sizeBytes: { type: 'integer' }, sha256: { type: 'string' } } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    deliveredAt: { type: ['string', 'null'], format: 'date-time' },
    attemptLog: { type: 'array', items: { $ref: 'Attempt#' } },
  },
} as const
