import { ERROR_CODES, REQUEST_ERROR_CODES } from './error-codes.ts'

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  description: 'Every error answer, from every route: a stable code, a message for a NetSuite administrator, sometimes details.',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: ERROR_CODES, description: 'stable machine-readable code; see docs/api.md for the table' },
        message: { type: 'string', description: 'what is wrong and what to do' },
        details: { description: 'structured context: details.field names the field at fault (as in a batch item\'s error), or a byte offset, a limit, the validation problems' },
      },
    },
  },
} as const

export type Status = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 414 | 415 | 422 | 429 | 500 | 503

const WHY: Record<Status, string> = {
  400: 'Bad request: a field or parameter breaks the schema, or a body holds an unknown key',
  401: 'No API key, or an unknown or revoked one (with WWW-Authenticate)',
  403: 'The key lacks the scope this operation needs',
  404: 'No such transaction or batch',
  408: 'The body stopped arriving for REQUEST_IDLE_TIMEOUT_MS: nothing of it was kept, and the connection is closed after this answer',
  409: 'The bill is not in a state this action applies to',
  413: 'The body (or, for one bill, its PDF) is over the configured limit',
  414: 'A path parameter is longer than 256 characters',
  415: 'The body is not application/json, or is compressed',
  422: 'The request is well-formed but its content is refused',
  429: 'Over the rate limit, the upload limit or the failed-authentication limit (with Retry-After)',
  500: 'A fault of the service: the log has it under the X-Request-Id',
  503: 'The database or the PDF store is down: nothing was stored, send again later',
}

// One example per status, with a code that status really answers with.
const EXAMPLE_CODE: Record<Status, keyof typeof REQUEST_ERROR_CODES> = {
  400: 'UNKNOWN_FIELD', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'TRANSACTION_NOT_FOUND', 408: 'REQUEST_TIMEOUT', 409: 'NOT_FAILED', 413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'CONTENT_UNSTORABLE', 429: 'RATE_LIMITED', 500: 'INTERNAL_ERROR', 503: 'DATABASE_UNAVAILABLE',
}

/** Error responses for the given statuses, each with its description and an example body. */
export function errorReplies(...statuses: Status[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: WHY[status],
    content: { 'application/json': { schema: { $ref: 'Error#' }, example: { error: { code: EXAMPLE_CODE[status], message: REQUEST_ERROR_CODES[EXAMPLE_CODE[status]][1] } } } },
  }]))
}

/** A JSON success response with its description and example. */
export function reply(description: string, schema: object, example: unknown) {
  return { description, content: { 'application/json': { schema, example } } }
}

/** The statuses every authenticated /v1 operation can answer. */
export const AUTHENTICATED: Status[] = [400, 401, 403, 429, 503]

export const bearerSecurity = [{ bearerAuth: [] }]
