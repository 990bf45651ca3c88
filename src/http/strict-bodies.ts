import type { RouteOptions } from 'fastify'

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
