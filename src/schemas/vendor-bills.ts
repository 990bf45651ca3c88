const amount = { anyOf: [{ type: 'string', pattern: '^-?\\d{1,16}(\\.\\d{1,2})?$' }, { type: 'number' }], description: 'decimal with at most 2 decimals' }

const RATIO = '^\\d{1,12}(\\.\\d{1,10})?$'
const ratio = { anyOf: [{ type: 'string', pattern: RATIO }, { type: 'number', exclusiveMinimum: 0 }] }

export const billSchema = {
  $id: 'VendorBill',
  type: 'object',
  required: ['externalId', 'billNumber', 'vendor', 'date', 'currency', 'lines', 'attachment'],
  properties: {
    externalId: { type: 'string', maxLength: 128, description: 'NetSuite internal id, unique per source' },
    billNumber: { type: 'string', maxLength: 100, description: 'tranid' },
    vendor: {
      type: 'object',
      required: ['name'],
      properties: { externalId: { type: 'string' }, name: { type: 'string', maxLength: 200 }, email: { type: 'string', format: 'email' } },
    },
    date: { type: 'string', format: 'date' },
    dueDate: { type: 'string', format: 'date' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217' },
    referenceNumber: { type: 'string', maxLength: 100 },
    memo: { type: 'string', maxLength: 2000 },
    exchangeRate: { ...ratio, description: "NetSuite's exchange rate from the bill's currency to the organization's base currency; sent to Zoho as exchange_rate" },
    subsidiary: { type: 'string', maxLength: 200, description: 'NetSuite subsidiary; stored and shown to operators, not sent to Zoho' },
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: {
        type: 'object',
        required: ['account', 'amount'],
        properties: {
          account: { type: 'string', description: 'e.g. "6100 Office Supplies"' },
          amount,
          description: { type: 'string' },
          quantity: { ...ratio, description: 'item lines: quantity; with rate, amount must be quantity × rate to the cent' },
          rate: { anyOf: [{ type: 'string', pattern: RATIO }, { type: 'number', minimum: 0 }], description: 'item lines: unit price' },
        },
      },
    },
    attachment: {
      type: 'object',
      required: ['fileName', 'contentBase64'],
      properties: {
        fileName: { type: 'string', pattern: '\\.pdf$' },
        contentType: { type: 'string', enum: ['application/pdf'] },
        contentBase64: { type: 'string', contentEncoding: 'base64', description: 'the PDF, base64; streamed, never held whole' },
      },
    },
  },
} as const

export const batchRequestSchema = {
  $id: 'VendorBillBatch',
  type: 'object',
  required: ['bills'],
  properties: {
    batchId: { type: 'string', maxLength: 200, description: 'client key: the same batchId again returns the first answer' },
    bills: { type: 'array', items: { $ref: 'VendorBill#' } },
  },
} as const

export const itemSchema = {
  $id: 'BatchItem',
  type: 'object',
  required: ['index', 'status'],
  properties: {
    index: { type: 'integer' },
    externalId: { type: 'string' },
    transactionId: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['queued', 'duplicate', 'requeued', 'rejected', 'processing', 'delivered', 'failed', 'resolved'] },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } },
  },
} as const

export const batchAnswerSchema = {
  $id: 'BatchAnswer',
  type: 'object',
  required: ['batchId', 'accepted', 'rejected', 'items'],
  properties: {
    batchId: { type: 'string' },
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    items: { type: 'array', items: { $ref: 'BatchItem#' } },
  },
} as const
