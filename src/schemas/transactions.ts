export const attemptSchema = {
  $id: 'Attempt',
  type: 'object',
  properties: {
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    outcome: { type: 'string' },
    httpStatus: { type: ['integer', 'null'] },
    zohoCode: { type: ['integer', 'null'] },
    errorCode: { anyOf: [{ $ref: 'DeliveryErrorCode#' }, { type: 'null' }], description: 'why the attempt failed (see the delivery codes in docs/api.md), or null' },
    message: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
  },
} as const

/** The Zoho vendor a bill was booked to; null until its vendor is resolved (and for bills delivered before billbridge recorded it). */
export const zohoVendorSchema = {
  type: ['object', 'null'],
  required: ['id', 'name'],
  properties: {
    id: { type: 'string', description: 'Zoho contact_id of the vendor' },
    name: { type: ['string', 'null'], description: "the vendor's name in Zoho Books (null if Zoho did not give it)" },
  },
  description: 'The Zoho vendor the bill was booked to (or, for a failed bill, resolved to); null before its vendor was resolved, and for bills delivered before billbridge recorded it.',
} as const

/** The Zoho Books organization a bill goes to: fixed when the bill is accepted, by its subsidiary (ZOHO_ORGANIZATIONS). */
export const organizationRefSchema = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'the Zoho Books organization id' },
    name: { type: ['string', 'null'], description: "the organization's name in ZOHO_ORGANIZATIONS (its `name`, else how billbridge labels the entry); null when the organization is no longer configured" },
  },
  description: 'The Zoho Books organization the bill goes to, chosen by its subsidiary when billbridge accepted it; it does not change afterwards.',
} as const

/** Query parameter: only bills of one Zoho organization. */
export const organizationFilterSchema = { type: 'string', pattern: '^[0-9]{1,30}$', description: 'only bills of this Zoho Books organization (its numeric id)' } as const

export const transactionSchema = {
  $id: 'Transaction',
  type: 'object',
  required: ['id', 'batchId', 'externalId', 'billNumber', 'vendor', 'amount', 'currency', 'status', 'attempts', 'zohoBillId', 'zohoVendor',
    'lastError', 'attachment', 'createdAt', 'updatedAt', 'deliveredAt', 'organization'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    batchId: { type: ['string', 'null'] },
    externalId: { type: 'string' },
    billNumber: { type: 'string' },
    vendor: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      description: 'The NetSuite vendor as the bill carried it',
      properties: {
        externalId: { type: 'string', description: 'NetSuite vendor id' },
        name: { type: 'string', description: 'vendor name as in NetSuite' },
        email: { type: 'string', description: "the vendor's email, when sent" },
        taxId: { type: 'string', description: "the vendor's tax registration (VAT number, GSTIN, TRN), when sent" },
        country: { type: 'string', description: "the vendor's country (ISO 3166 alpha-2), when sent" },
      },
    },
    amount: { type: 'string', description: "the bill's total including tax: Σ lines' amount + Σ lines' taxAmount (NetSuite's total); for a bill without tax, the sum of its lines" },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['received', 'queued', 'processing', 'delivered', 'failed', 'resolved', 'cancelled'], description: 'cancelled: NetSuite cancelled the bill (cancelled: true) and it was voided in Zoho, or never sent' },
    attempts: { type: 'integer' },
    zohoBillId: { type: ['string', 'null'] },
    zohoVendor: zohoVendorSchema,
    lastError: { type: ['object', 'null'], required: ['code', 'message'], properties: { code: { $ref: 'DeliveryErrorCode#' }, message: { type: 'string' } }, description: 'why the last delivery failed (see the delivery codes in docs/api.md), or null' },
    attachment: { type: 'object', required: ['fileName', 'sizeBytes', 'sha256'], properties: { fileName: { type: 'string' }, sizeBytes: { type: 'integer' }, sha256: { type: 'string' } } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    deliveredAt: { type: ['string', 'null'], format: 'date-time' },
    organization: organizationRefSchema,
    versions: {
      type: 'array',
      description: 'Every version of the bill NetSuite sent, oldest first (GET /v1/transactions/{id} only): a new version comes with other content and a newer lastModified, or a cancel',
      items: {
        type: 'object',
        required: ['number', 'lastModified', 'hash', 'receivedAt', 'sentAt', 'zohoHolds'],
        properties: {
          number: { type: 'integer', minimum: 1 },
          lastModified: { type: ['string', 'null'], format: 'date-time', description: "NetSuite's lastModified as sent (normalised to UTC), null when none was" },
          hash: { type: ['string', 'null'], description: "SHA-256 of the version's content, PDF included (null for a cancel, and for bills stored before versions were kept)" },
          cancelled: { type: 'boolean', description: 'this version is a cancel' },
          receivedAt: { type: 'string', format: 'date-time' },
          sentAt: { type: ['string', 'null'], format: 'date-time', description: 'when it was last sent to Zoho; null if never' },
          zohoOutcome: { type: ['string', 'null'], enum: ['created', 'updated', 'refused', 'voided', 'void_refused', 'never_sent', null], description: "Zoho's answer to this version" },
          zohoMessage: { type: ['string', 'null'], description: "Zoho's reason when it refused" },
          zohoHolds: { type: 'boolean', description: 'Zoho holds this version (the last one it accepted)' },
        },
      },
    },
    attemptLog: { type: 'array', items: { $ref: 'Attempt#' }, description: 'Every delivery attempt, oldest first (GET /v1/transactions/{id} only)' },
  },
} as const
