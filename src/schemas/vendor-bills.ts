import { BILL_REJECTION_CODES } from './error-codes.ts'
import { exampleBatchAnswer, exampleBill } from './examples.ts'

// The rules here are the ones src/ingest/validate-bill.ts enforces; test/contract checks the two agree.
const NOT_BLANK = '\\S'
const text = (maxLength: number, description: string, required = false) =>
  ({ type: 'string', maxLength, ...(required ? { minLength: 1, pattern: NOT_BLANK } : {}), description: `${description}; no NUL character or lone UTF-16 surrogate${required ? '; not blank' : ''}` })
const amount = {
  anyOf: [{ type: 'string', pattern: '^-?\\d{1,16}(\\.\\d{1,2})?$' }, { type: 'number', multipleOf: 0.01, maximum: 9999999999999999.99, minimum: -9999999999999999.99 }],
  description: 'decimal with at most 2 decimals, as a string or a JSON number written without an exponent; a line may be negative (a discount) but the bill\'s total must be positive and at most 9999999999999999.99',
}

const RATIO = '^\\d{1,12}(\\.\\d{1,10})?$'
const dimension = (what: string) => text(200, `NetSuite ${what} as shown, e.g. "Sales : EMEA"; mapped to an option of the Zoho reporting tag ZOHO_TAGS names for it`)
const dimensions = (where: string) => ({
  department: dimension(`department${where}`),
  class: dimension(`class${where}`),
  location: dimension(`location${where}`),
})
const ratio = { anyOf: [{ type: 'string', pattern: RATIO }, { type: 'number', exclusiveMinimum: 0 }] }
const PDF_CONTENT_TYPE = '^[aA][pP][pP][lL][iI][cC][aA][tT][iI][oO][nN]/[pP][dD][fF]$'

export const billSchema = {
  $id: 'VendorBill',
  type: 'object',
  additionalProperties: false,
  required: ['externalId'],
  description: 'One NetSuite vendor bill with its PDF. Every key not listed here is refused (UNKNOWN_FIELD). A bill needs externalId, billNumber, vendor, date, currency, lines and attachment; a cancel (cancelled: true) needs only externalId (and lastModified when known).',
  properties: {
    lastModified: { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$', description: "NetSuite's last-modified time of the bill, ISO 8601 with seconds and an offset (e.g. 2026-11-30T14:05:00-08:00; +0000 without the colon is refused: LAST_MODIFIED_INVALID). Orders the versions of a bill: sent again with other content and a newer lastModified, the bill is updated (in place in Zoho once delivered); an older or equal one is stale and ignored. Without it, other content for a bill that has not failed is answered duplicate, as before versions were kept" },
    cancelled: { type: 'boolean', description: 'true: NetSuite voided, cancelled or deleted the bill. A cancel needs only externalId (and lastModified when known); any other field of the contract is ignored, a PDF is not kept. A bill in Zoho is voided, one not yet delivered is never sent; an unknown externalId is rejected (BILL_UNKNOWN). false or absent: a bill' },
    externalId: text(128, 'NetSuite internal id; one bill per externalId across billbridge (unique per source, and today every bill has the one source, netsuite)', true),
    billNumber: text(100, 'NetSuite tranid', true),
    vendor: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        externalId: text(128, 'NetSuite vendor id'),
        name: text(200, 'vendor name as in NetSuite', true),
        email: { type: 'string', maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' },
        taxId: text(50, "the vendor's tax registration as in NetSuite: VAT number, GSTIN or TRN; the UK, India and Gulf editions of Zoho need it to book some bills (docs/zoho.md)"),
        country: { type: 'string', pattern: '^[A-Z]{2}$', description: "the vendor's country, ISO 3166 alpha-2 in capitals (e.g. GB, IN, AE); a code ISO does not assign is refused (VENDOR_COUNTRY_INVALID); the UK, India and Gulf editions of Zoho need it to book a taxed bill" },
      },
    },
    date: { type: 'string', format: 'date', description: 'bill date, a real calendar date from 1900-01-01 on' },
    dueDate: { type: 'string', format: 'date', description: 'on or after date' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code in use, e.g. USD' },
    referenceNumber: text(100, 'e.g. the PO number'),
    memo: text(2000, 'free text'),
    exchangeRate: { ...ratio, description: "NetSuite's exchange rate on the bill: units of the base currency of the bill's subsidiary per unit of the bill's currency (in an account without OneWorld, the company's base currency); positive, at most 10 decimals; sent to Zoho as exchange_rate" },
    subsidiary: text(200, 'NetSuite subsidiary (its name, or its full hierarchical name): routes the bill to the Zoho organization configured for it (ZOHO_ORGANIZATIONS), else to the default organization; with none, the bill is rejected with SUBSIDIARY_UNKNOWN. Not sent to Zoho'),
    ...dimensions(' of the bill, for every line that has none'),
    total: { ...amount, description: "NetSuite's total including tax; optional; when given it must equal Σ lines[].amount + Σ lines[].taxAmount to the cent, else the bill alone is rejected (TOTAL_MISMATCH, naming both). Zoho's total for the bill is made to equal it (docs/api.md, Taxes)" },
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['account', 'amount'],
        properties: {
          account: text(200, 'NetSuite account, e.g. "6100 Office Supplies"; mapped to a Zoho account', true),
          amount,
          description: text(2000, 'line memo'),
          quantity: { ...ratio, description: 'item lines: quantity, positive; with rate, amount must be quantity × rate to the cent' },
          rate: { anyOf: [{ type: 'string', pattern: RATIO }, { type: 'number', minimum: 0 }], description: 'item lines: unit price, at most 10 decimals; given with quantity' },
          taxCode: text(200, 'NetSuite tax code name, e.g. "VAT:S-GB"; mapped to a Zoho tax (operator mapping, else the one active Zoho tax of that rate and kind); a taxed line needs taxAmount with it'),
          taxRate: { anyOf: [{ type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,6})?$' }, { type: 'number', minimum: 0, maximum: 100 }], description: 'the tax code\'s rate in percent, 0 to 100, as a decimal string (e.g. "20", "2.5"); at most 6 decimals; only with taxCode' },
          taxAmount: { ...amount, description: "NetSuite's tax for the line, a decimal string in the currency's decimals (at most 2; none for JPY); may be \"0.00\"; required with taxCode and only with it. amount stays net" },
          ...dimensions(' of the line'),
        },
      },
    },
    attachment: {
      type: 'object',
      additionalProperties: false,
      required: ['fileName', 'contentBase64'],
      properties: {
        fileName: { type: 'string', maxLength: 255, pattern: '^[^/\\\\\\u0000-\\u001f\\u007f]{1,251}\\.[pP][dD][fF]$', description: 'ends in .pdf; no folder separators or control characters; any other Unicode is kept' },
        contentType: { type: 'string', pattern: PDF_CONTENT_TYPE, description: 'application/pdf (the default)' },
        contentBase64: { type: 'string', contentEncoding: 'base64', contentMediaType: 'application/pdf', minLength: 1, description: 'the PDF, base64 (line breaks allowed); must start with %PDF-; at most MAX_ATTACHMENT_BYTES decoded; streamed, never held whole' },
      },
    },
  },
  examples: [exampleBill],
} as const

export const batchRequestSchema = {
  $id: 'VendorBillBatch',
  type: 'object',
  additionalProperties: false,
  required: ['bills'],
  properties: {
    batchId: { type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK, description: 'client key, global across API keys: the same batch sent again under it by the same key returns the first answer; other bills or another key under it are 409 BATCH_ID_REUSED; empty or blank is 400 BATCH_ID_INVALID (GET /v1/batches/{id} reads it back)' },
    bills: {
      type: 'array',
      // Published loosely: the service judges each bill alone, so a tool must not refuse a batch holding a bad one.
      items: { anyOf: [{ $ref: 'VendorBill#' }, { type: 'object', description: 'any other object: that bill alone is rejected, its item says why' }], description: 'a bill is accepted when it is a VendorBill; one that is not is rejected alone and the rest are still accepted' },
      description: 'at most MAX_BILLS_PER_BATCH bills (maxItems is this instance\'s setting); one bad bill is rejected alone',
    },
  },
  examples: [{ batchId: exampleBatchAnswer.batchId, bills: [exampleBill] }],
} as const

/** The batch schema as this instance enforces it: maxItems is MAX_BILLS_PER_BATCH. */
export function batchRequestSchemaFor(maxBills: number) {
  return { ...batchRequestSchema, properties: { ...batchRequestSchema.properties, bills: { ...batchRequestSchema.properties.bills, maxItems: maxBills } } }
}

export const itemSchema = {
  $id: 'BatchItem',
  type: 'object',
  required: ['index', 'status'],
  properties: {
    index: { type: 'integer', minimum: 0, description: "the bill's position in the batch" },
    externalId: { type: 'string' },
    transactionId: { type: 'string', format: 'uuid' },
    status: {
      type: 'string',
      enum: ['queued', 'duplicate', 'requeued', 'rejected', 'updated', 'stale', 'cancelled', 'processing', 'delivered', 'failed', 'resolved'],
      description: 'at ingest: queued (new); duplicate (same content as the version held, or new content without lastModified for a bill that has not failed, or a bill already cancelled); requeued (a failed bill replaced, sent without lastModified); updated (new content with a newer lastModified: a bill not yet in Zoho is delivered with it, one in Zoho is updated in place); stale (lastModified not newer than the version held: ignored, message says so); cancelled (cancelled: true for a known bill: voided in Zoho, or never sent); rejected. Read back later: its current status',
    },
    message: { type: 'string', description: 'why a duplicate, stale or cancelled answer, when it is not the plain case' },
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: Object.keys(BILL_REJECTION_CODES) },
        message: { type: 'string' },
        details: { type: 'object', properties: { field: { type: 'string', description: 'the field at fault, e.g. lines[0].amount (the same place as in the error of POST /v1/vendor-bills)' } } },
      },
    },
  },
} as const

export const batchAnswerSchema = {
  $id: 'BatchAnswer',
  type: 'object',
  required: ['batchId', 'accepted', 'rejected', 'items'],
  properties: {
    batchId: { type: 'string', description: 'the client batchId, or the id billbridge gave the batch' },
    accepted: { type: 'integer', description: 'bills that passed validation (queued, requeued, updated, stale, cancelled or duplicate)' },
    rejected: { type: 'integer' },
    items: { type: 'array', items: { $ref: 'BatchItem#' }, description: 'one per bill, by index' },
  },
  examples: [exampleBatchAnswer],
} as const

/** The 422 answer of a batch: the batch answer, plus the error envelope every error answer carries. */
export const batchRejectedSchema = {
  $id: 'BatchRejected',
  description: 'Every bill of the batch was rejected and nothing was stored: error.code is BATCH_REJECTED and items say why each bill was',
  allOf: [
    { $ref: 'BatchAnswer#' },
    {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          additionalProperties: false,
          properties: { code: { type: 'string', const: 'BATCH_REJECTED' }, message: { type: 'string' } },
        },
        accepted: { type: 'integer', const: 0 },
      },
    },
  ],
} as const

export const BATCH_REJECTED_MESSAGE = 'every bill of the batch was rejected and nothing was stored; items say why each one was'

type Answer = { items: Array<{ error?: { code: string; message: string; field?: string } }> }

/** The answer as published: a rejected item's field sits in error.details.field, where a single bill's error has it. */
export function publishedAnswer<T extends Answer>(answer: T, status = 202): T & { error?: { code: 'BATCH_REJECTED'; message: string } } {
  const items = answer.items.map((item) => {
    if (!item.error) return item
    const { field, ...error } = item.error
    return { ...item, error: field === undefined ? error : { ...error, details: { field } } }
  })
  return { ...answer, items, ...(status === 422 ? { error: { code: 'BATCH_REJECTED' as const, message: BATCH_REJECTED_MESSAGE } } : {}) }
}
