import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { organizationRef, zohoVendorOf } from '../../repositories/transactions.ts'
import { AUTHENTICATED, bearerSecurity, errorReplies, reply } from '../../schemas/common.ts'
import { lookupAnswerSchema, lookupRequestSchema } from '../../schemas/transaction-lookup.ts'

// One round trip for up to 100 bills: what the NetSuite sender writes back on each vendor bill.
const LOOKUP_SQL = `
  SELECT external_id, id, status, zoho_bill_id, zoho_vendor_id, zoho_vendor_name, last_error_code, last_error_message, delivered_at, updated_at, organization_id
    FROM transactions
   WHERE source = 'netsuite' AND external_id = ANY($1::text[])`

interface LookupRow {
  external_id: string; id: string; status: string; zoho_bill_id: string | null; zoho_vendor_id: string | null; zoho_vendor_name: string | null; last_error_code: string | null
  last_error_message: string | null; delivered_at: Date | null; updated_at: Date; organization_id: string | null
}

/** POST /v1/transactions/lookup: the state of many NetSuite bills at once, and which ones billbridge has not got. */
export async function transactionLookupRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.post<{ Body: { externalIds: string[] } }>('/v1/transactions/lookup', {
    onRequest: app.requireScope('read'),
    schema: {
      operationId: 'lookupTransactions',
      summary: 'State of up to 100 bills by NetSuite external id',
      description: 'One query for many bills: each known bill\'s status, Zoho organization, Zoho bill id, Zoho vendor and last error, and the ids billbridge has no bill for (`missing`). The NetSuite kit writes the answer back on each vendor bill. Scope `read`.',
      tags: ['read'],
      security: bearerSecurity,
      body: { ...lookupRequestSchema, examples: [{ externalIds: ['NS-48213', 'NS-48299'] }] },
      response: {
        200: reply('The known bills and the missing ids', lookupAnswerSchema, {
          items: [{ externalId: 'NS-48213', transactionId: '5f0c6a1e-8d3b-4a51-9a4e-2f3c1b7d9e10', status: 'delivered', zohoBillId: '460000000012345', zohoVendor: { id: '460000000000123', name: 'Acme Supplies' }, lastErrorCode: null, lastErrorMessage: null, deliveredAt: '2026-11-01T09:30:02.000Z', updatedAt: '2026-11-01T09:30:02.000Z', organization: { id: '60012345678', name: 'Acme US' } }],
          missing: ['NS-48299'],
        }),
        ...errorReplies(...AUTHENTICATED, 413, 415),
      },
    },
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
        zohoVendor: zohoVendorOf(r),
        lastErrorCode: r.last_error_code,
        lastErrorMessage: r.last_error_message,
        deliveredAt: r.delivered_at?.toISOString() ?? null,
        updatedAt: r.updated_at.toISOString(),
        organization: organizationRef(deps.organizations, r.organization_id),
      })),
      missing: asked.filter((id) => !found.has(id)),
    }
  })
}
