import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'

type Operation = { responses?: Record<string, { headers?: Record<string, unknown> }> }
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Record<string, unknown> }

const HEADERS = {
  RequestId: { description: 'the request id: the X-Request-Id sent when it is 1-128 of A-Z a-z 0-9 . _ : -, else one made up; logs carry it', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
  RateLimitLimit: { description: 'requests allowed per minute for this API key (API_RATE_PER_MINUTE), across every /v1 route', schema: { type: 'integer' } },
  RateLimitRemaining: { description: 'requests left in the current minute', schema: { type: 'integer' } },
  RateLimitReset: { description: 'seconds until the minute ends', schema: { type: 'integer' } },
  RetryAfter: { description: 'seconds to wait before trying again', required: true, schema: { type: 'integer', minimum: 0 } },
  WwwAuthenticate: { description: 'Bearer realm="billbridge"', required: true, schema: { type: 'string', pattern: '^Bearer ' } },
}

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` })

/**
 * Adds what every route answers with, so a route added later is documented the same way without repeating it:
 * X-Request-Id on every answer, the rate-limit headers on /v1 answers, Retry-After on 429, WWW-Authenticate on 401.
 */
export function finishDocument({ openapiObject }: { openapiObject: Partial<Document> }): Document {
  const doc = openapiObject as Document
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Record<string, unknown> = { ...response.headers, 'X-Request-Id': ref('RequestId') }
        if (path.startsWith('/v1/') && status !== '401') {
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
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>; mint one with npm run cli -- keys create' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: finishDocument as unknown as FastifyDynamicSwaggerOptions['transformObject'],
  }
}
