import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { pgErrorSummary, toContentRejected, toServiceUnavailable } from '../db/errors.ts'
import { AppError, isAppError } from '../errors.ts'

// Fastify's and its plugins' own errors, answered with the project's codes: a client never sees FST_….
const FASTIFY_CODES: Record<string, [code: string, status: number, message?: string]> = {
  FST_CSRF_INVALID_TOKEN: ['CSRF_INVALID', 403, 'the form is stale or came from another session: reload the page and try again'],
  FST_CSRF_MISSING_SECRET: ['CSRF_INVALID', 403, 'the form is stale or came from another session: reload the page and try again'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['BODY_TOO_LARGE', 413, 'the request body is larger than this endpoint accepts (1 MB)'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 415],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['INVALID_REQUEST', 400, 'the Content-Length header does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['MALFORMED_JSON', 400, 'the body is empty but the content type says JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['MALFORMED_JSON', 400],
  FST_ERR_BAD_URL: ['INVALID_REQUEST', 400, 'the URL is not valid'],
  FST_ERR_MAX_PARAM_LENGTH: ['URI_TOO_LONG', 414, 'a path parameter is longer than 256 characters; no id the API gives out is that long'],
}

const BY_STATUS: Record<number, string> = { 400: 'INVALID_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 408: 'REQUEST_TIMEOUT', 413: 'BODY_TOO_LARGE', 414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED' }

/** Every error answer is {"error": {"code", "message", "details"?}} with a stable project code. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let err = toAppError(toContentRejected(toServiceUnavailable(error)) as FastifyError, request)
  if (err.statusCode >= 500) {
    const pg = pgErrorSummary(error)
    request.log.error(pg ? { pg } : { err: error }, 'request failed')
    // The log has the store's path or bucket; an unauthenticated caller gets the component's name only.
    if (err.code === 'BLOB_STORE_UNAVAILABLE') err = new AppError(err.code, 'the PDF store is unavailable: nothing was stored; send the batch again later', err.statusCode)
  }
  if (err.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="billbridge"')
  const retryAfter = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
  return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } })
}

function toAppError(err: FastifyError, request: FastifyRequest): AppError {
  if (isAppError(err)) return err
  if (err.validation) {
    const unknown = err.validation.find((v) => v.keyword === 'additionalProperties')
    if (unknown) {
      const path = unknown.instancePath.replace(/^\//, '').replaceAll('/', '.')
      const field = `${path}${path ? '.' : ''}${(unknown.params as { additionalProperty: string }).additionalProperty}`
      return new AppError('UNKNOWN_FIELD', `"${field}" is not a field of this request; nothing was done (see docs/api.md)`, 400, { field })
    }
    return new AppError('INVALID_REQUEST', err.message, 400, err.validation)
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  if (status >= 500) return new AppError('INTERNAL_ERROR', 'Internal Server Error', status)
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', `send the request body as application/json (got ${String(request.headers['content-type'] ?? 'no content type').slice(0, 100)})`, 415)
  if (status === 429) return new AppError('RATE_LIMITED', err.message, 429)
  const known = err.code ? FASTIFY_CODES[err.code] : undefined
  if (known) return new AppError(known[0], known[2] ?? err.message, known[1])
  if (err instanceof SyntaxError) return new AppError('MALFORMED_JSON', `the body is not valid JSON: ${err.message}`, 400)
  return new AppError(BY_STATUS[status] ?? 'INVALID_REQUEST', err.message, status)
}
