import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { bearerSecurity, errorResponses } from '../../schemas/common.ts'
import { lookupAnswerSchema, lookupRequestSchema } from '../../schemas/transaction-lookup.ts'

// One round trip for up to 100 bills: what the NetSuite sender writes back on each vendor bill.
const LOOKUP_SQL = `
  SELECT external_id, id, status, zoho_bill_id, last_error_code, last_error_message, delivered_at, updated_at
    FROM transactions
   WHERE source = 'netsuite' AND external_id = ANY($1::text[])`

interface LookupRow {
  external_id: string; id: string; status: string; zoho_bill_id: string | null; last_error_code: string | null
  last_error_message: string | null; delivered_at: Date | null; updated_at: Date
}

/** POST /v1/transactions/lookup: the state of many NetSuite bills at once, and which ones billbridge has not got. */
export async function transactionLookupRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.post<{ Body: { externalIds: string[] } }>('/v1/transactions/lookup', {
    onRequest: app.requireScope('read'),
    schema: { summary: 'State of up to 100 bills by NetSuite external id', tags: ['read'], security: bearerSecurity, body: lookupRequestSchema, response: { 200: lookupAnswerSchema, ...errorResponses } },
  }, async (request) => {
    const asked = [...new Set(request.body.externalIds)]
    const { rows } = await deps.pool.query<LookupRow>(LOOKUP_SQL, [asked])
    const found = new Set(rows.map((r) => r.external_id))
    return {
      items: rows.map((r) => ({
        externalId: r.external_id,
        transactionId: r.id,
        status: r.status,
        zohoBillId: r.zoho_bill_id,
        lastErrorCode: r.last_error_code,
        lastErrorMessage: r.last_error_message,
        deliveredAt: r.delivered_at?.toISOString() ?? null,
        updatedAt: r.updated_at.toISOString(),
      })),
      missing: asked.filter((id) => !found.has(id)),
    }
  })
}
