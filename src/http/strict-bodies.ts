import type { FastifyRequest, RouteOptions } from 'fastify'
import { AppError } from '../errors.ts'

type Schema = Record<string, unknown>

/**
 * Every object in a route's body schema refuses keys it does not name, unless it says otherwise:
 * a misspelt filter must be a 400, never a wider action than asked for. Runs for every route, so new ones inherit it.
 */
export function closeBodySchema(route: RouteOptions): void {
  const body = (route.schema as { body?: Schema } | undefined)?.body
  if (body?.content) for (const media of Object.values(body.content as Record<string, { schema?: Schema }>)) close(media.schema ?? {})
  else if (body) close(body)
}

function close(schema: Schema): void {
  if (typeof schema !== 'object' || schema === null || '$ref' in schema) return
  if (schema.type === 'object' && schema.additionalProperties === undefined) schema.additionalProperties = false
  for (const child of Object.values((schema.properties as Record<string, Schema> | undefined) ?? {})) close(child)
  if (schema.items && typeof schema.items === 'object') close(schema.items as Schema)
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) for (const child of (schema[key] as Schema[] | undefined) ?? []) close(child)
}

/** Compressed bytes are never parsed as JSON: a body with a Content-Encoding is a 415 until one is supported. */
export async function refuseEncodedBodies(request: FastifyRequest): Promise<void> {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase()
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0
  if (hasBody && encoding && encoding !== 'identity') {
    throw new AppError('UNSUPPORTED_CONTENT_ENCODING', `bodies with Content-Encoding "${encoding.slice(0, 40)}" are not accepted: send the JSON uncompressed`, 415)
  }
}

/**
 * A JSON body is taken as sent: Ajv would turn "x" into ["x"] or 5 into "5" (Fastify's coerceTypes), so a value of
 * the wrong JSON type is refused here, before validation, on the API's routes. The dashboard's forms keep coercion.
 */
export async function refuseCoercedBodies(request: FastifyRequest): Promise<void> {
  const schema = (request.routeOptions.schema as { body?: Schema } | undefined)?.body
  if (!schema || !request.url.startsWith('/v1/') || request.body === undefined || isStream(request.body)) return
  const wrong = mistyped(schema, request.body, '')
  if (wrong) {
    const where = wrong.path ? `"${wrong.path.slice(1).replaceAll('/', '.')}"` : 'the body'
    throw new AppError('INVALID_REQUEST', `${where} must be ${wrong.type.join(' or ')}; values are never converted, nothing was done`, 400,
      [{ instancePath: wrong.path, keyword: 'type', params: { type: wrong.type.join(',') }, message: `must be ${wrong.type.join(',')}` }])
  }
}

function isStream(body: unknown): boolean {
  return typeof (body as { pipe?: unknown } | null)?.pipe === 'function'
}

function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value
}

/** The first value whose JSON type is not one its schema names ($ref and anyOf are left to the validator). */
function mistyped(schema: Schema, value: unknown, path: string): { path: string; type: string[] } | null {
  if (typeof schema !== 'object' || schema === null || schema.type === undefined) return null
  const types = ([] as string[]).concat(schema.type as string | string[])
  const actual = jsonType(value)
  if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) return { path, type: types }
  if (actual === 'object') {
    for (const [key, child] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
      if (key in (value as object)) {
        const found = mistyped(child, (value as Record<string, unknown>)[key], `${path}/${key}`)
        if (found) return found
      }
    }
  }
  if (actual === 'array' && schema.items && typeof schema.items === 'object') {
    for (const [index, item] of (value as unknown[]).entries()) {
      const found = mistyped(schema.items as Schema, item, `${path}/${index}`)
      if (found) return found
    }
  }
  return null
}
