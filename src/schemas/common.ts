export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable machine-readable code, e.g. ATTACHMENT_NOT_PDF' },
        message: { type: 'string', description: 'what is wrong and what to do, for a NetSuite administrator' },
        details: {},
      },
    },
  },
} as const

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const

export const bearerSecurity = [{ apiKey: [] }]
