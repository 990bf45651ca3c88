import { organizationRefSchema, zohoVendorSchema } from './transactions.ts'

export const lookupRequestSchema = {
  type: 'object',
  required: ['externalIds'],
  additionalProperties: false,
  properties: {
    externalIds: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 128 }, description: 'NetSuite internal ids, at most 100' },
  },
} as const

export const lookupAnswerSchema = {
  type: 'object',
  required: ['items', 'missing'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['externalId', 'transactionId', 'status', 'updatedAt', 'organization'],
        properties: {
          externalId: { type: 'string' },
          transactionId: { type: 'string', format: 'uuid' },
          status: { type: 'string', enum: ['received', 'queued', 'processing', 'delivered', 'failed', 'resolved', 'cancelled'] },
          zohoBillId: { type: ['string', 'null'] },
          zohoVendor: zohoVendorSchema,
          lastErrorCode: { anyOf: [{ $ref: 'DeliveryErrorCode#' }, { type: 'null' }], description: 'why the last delivery failed (see the delivery codes in docs/api.md), or null' },
          lastErrorMessage: { type: ['string', 'null'] },
          deliveredAt: { type: ['string', 'null'], format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
          organization: organizationRefSchema,
        },
      },
    },
    missing: { type: 'array', items: { type: 'string' }, description: 'asked ids billbridge has no bill for' },
  },
} as const
