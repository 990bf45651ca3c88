import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import { errorReplies, type Status } from '../schemas/common.ts'

type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: { properties?: object; required?: unknown } }> }; responses?: Record<string, { headers?: Record<string, unknown> }> }
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Record<string, unknown> }

// The rate limit counts a request once it is authenticated and its body validated: answers refused before that lack its headers.
const COUNTED = /^(2\d\d|404|409|422)$/
const RATE_LIMITED_WHERE = 'sent on every answer of a request that reached the rate limit: success, 404, 409, 422 and 429 RATE_LIMITED; refusals made before it (400 for the schema, 401, 403, 413 by Content-Length, 414, 415, 429 AUTH_THROTTLED or TOO_MANY_UPLOADS, 503 during authentication) do not carry it'

const HEADERS = {
  RequestId: { description: 'the request id: the X-Request-Id sent when it is 1-128 of A-Z a-z 0-9 . _ : -, else one made up; logs carry it', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
  RateLimitLimit: { description: `requests allowed per minute for this API key (API_RATE_PER_MINUTE), across every /v1 route; ${RATE_LIMITED_WHERE}`, required: true, schema: { type: 'integer' } },
  RateLimitRemaining: { description: `requests left in the current minute; ${RATE_LIMITED_WHERE}`, required: true, schema: { type: 'integer' } },
  RateLimitReset: { description: `seconds until the minute ends; ${RATE_LIMITED_WHERE}`, required: true, schema: { type: 'integer' } },
  RetryAfter: { description: 'seconds to wait before trying again', required: true, schema: { type: 'integer', minimum: 0 } },
  WwwAuthenticate: { description: 'Bearer realm="billbridge"', required: true, schema: { type: 'string', pattern: '^Bearer ' } },
}

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` })

/** The HTTP layer's own answers: 500 anywhere; for a body, 408 when it stalls, 413 over the limit, 415 when not JSON. */
function everyOperationAnswers(operation: Operation) {
  const statuses: Status[] = operation.requestBody ? [408, 413, 415, 500] : [500]
  const replies: Record<string, unknown> = errorReplies(...statuses.filter((status) => !operation.responses?.[status]))
  return JSON.parse(JSON.stringify(replies).replaceAll('"Error#"', '"#/components/schemas/Error"')) as Record<string, { headers?: Record<string, unknown> }>
}

/**
 * Adds what every route answers with, so a route added later is documented the same way without repeating it:
 * X-Request-Id on every answer, the rate-limit headers on /v1 answers that always carry them, Retry-After on 429,
 * WWW-Authenticate on 401, and the HTTP layer's 408/413/415/500.
 */
export function finishDocument({ openapiObject }: { openapiObject: Partial<Document> }): Document {
  const doc = openapiObject as Document
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      operation.responses = { ...operation.responses, ...everyOperationAnswers(operation) }
      // A body that can name nothing (no properties, closed) is there only to be refused when it holds something.
      const body = operation.requestBody?.content?.['application/json']?.schema
      if (body && !body.required && Object.keys(body.properties ?? { any: true }).length === 0) operation.requestBody!.required = false
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Record<string, unknown> = { ...response.headers, 'X-Request-Id': ref('RequestId') }
        if (path.startsWith('/v1/') && COUNTED.test(status)) {
          Object.assign(headers, { 'X-RateLimit-Limit': ref('RateLimitLimit'), 'X-RateLimit-Remaining': ref('RateLimitRemaining'), 'X-RateLimit-Reset': ref('RateLimitReset') })
        }
        if (status === '429') headers['Retry-After'] = ref('RetryAfter')
        if (status === '401') headers['WWW-Authenticate'] = ref('WwwAuthenticate')
        response.headers = headers
      }
    }
  }
  doc.components = { ...doc.components, headers: HEADERS }
  return doc
}

export function openapiOptions(maxBills: number): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'billbridge',
        version: '1.0.0',
        description: `NetSuite vendor bills with PDFs in, Zoho Books bills out, each exactly once. The contract in prose, with examples and the table of error codes: docs/api.md in the repository. Every error is {"error": {"code", "message", "details"?}}. This instance takes at most ${maxBills} bills per batch.`,
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      servers: [{ url: '/', description: 'this billbridge instance' }],
      tags: [
        { name: 'ingest', description: 'NetSuite sends bills (scope ingest)' },
        { name: 'read', description: 'status of bills and batches (scope read)' },
        { name: 'admin', description: 'operator actions on failed bills (scope admin)' },
        { name: 'health', description: 'probes for load balancers and orchestrators; no key' },
      ],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'HTTP bearer authentication with a billbridge API key (not an OAuth token): Authorization: Bearer <api key>; mint one with npm run cli -- keys create' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: finishDocument as unknown as FastifyDynamicSwaggerOptions['transformObject'],
  }
}
