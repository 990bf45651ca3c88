import type { FastifyRequest, RouteOptions } from 'fastify'
import { AppError } from '../errors.ts'

type Schema = Record<string, unknown>

/**
 * Every object in a route's body schema refuses keys it does not name, unless it says otherwise:
 * a misspelt filter must be a 400, never a wider action than asked for. Runs for every route, so new ones inherit it.
 */
export function closeBodySchema(route: RouteOptions): void {
  const body = (route.schema as { body?: Schema } | undefined)?.body
  if (body) close(body)
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
