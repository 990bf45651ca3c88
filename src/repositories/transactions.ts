import type { Db } from '../db/pool.ts'
import type { BatchAnswer, BatchItem } from '../ingest/commit-batch.ts'
import { defaultOrganization, type OrganizationConfig } from '../zoho/organizations.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}

const COLUMNS = ['id', 'batch_id', 'external_id', 'bill_number', 'vendor', 'amount', 'currency', 'status', 'attempts', 'zoho_bill_id',
  'zoho_vendor_id', 'zoho_vendor_name', 'last_error_code', 'last_error_message', 'file_name', 'size_bytes', 'sha256', 'created_at', 'updated_at', 'delivered_at', 'organization_id'] as const

type Row = {
  id: string; batch_id: string | null; external_id: string; bill_number: string; vendor: unknown; amount: string; currency: string
  status: string; attempts: number; zoho_bill_id: string | null; zoho_vendor_id: string | null; zoho_vendor_name: string | null; last_error_code: string | null; last_error_message: string | null
  file_name: string; size_bytes: string; sha256: string; created_at: Date; updated_at: Date; delivered_at: Date | null; organization_id: string | null
}

/** The Zoho vendor a bill went to, as the API, the dashboard and the CSV exports show it. */
export function zohoVendorOf(row: { zoho_vendor_id: string | null; zoho_vendor_name: string | null }): { id: string; name: string | null } | null {
  return row.zoho_vendor_id ? { id: row.zoho_vendor_id, name: row.zoho_vendor_name } : null
}

/** A bill's Zoho organization as the API, the dashboard and the CSV exports name it. */
export interface OrganizationRef {
  id: string
  /** the entry's name, else its label; null when the organization is no longer configured */
  name: string | null
}

/**
 * The organization of a bill by its organization_id: named from the configuration. A bill stored before
 * bills had an organization (NULL) belongs to the default one, as the service assigns such bills at start.
 */
export function organizationRef(organizations: readonly OrganizationConfig[], organizationId: string | null): OrganizationRef {
  const id = organizationId ?? (organizations.length ? defaultOrganization(organizations).organizationId : '')
  const found = organizations.find((o) => o.organizationId === id)
  return { id, name: found ? found.name ?? found.label : null }
}

function toView(row: Row, organizations: readonly OrganizationConfig[]) {
  return {
    id: row.id,
    batchId: row.batch_id,
    externalId: row.external_id,
    billNumber: row.bill_number,
    vendor: row.vendor as { externalId?: string; name: string; email?: string; taxId?: string; country?: string },
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    attempts: row.attempts,
    zohoBillId: row.zoho_bill_id,
    zohoVendor: zohoVendorOf(row),
    lastError: row.last_error_code ? { code: row.last_error_code, message: row.last_error_message ?? '' } : null,
    attachment: { fileName: row.file_name, sizeBytes: Number(row.size_bytes), sha256: row.sha256 },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    organization: organizationRef(organizations, row.organization_id),
  }
}

export type TransactionView = ReturnType<typeof toView>

/** Every leaf of a version's content by its path (bill.lines[0].amount), the PDF by its SHA-256. */
function leaves(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out))
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out)
  else if (value !== undefined && value !== null) out.set(path, String(value))
  return out
}

/** The fields that differ between two versions' content: path, the first's value, the second's ('' when absent). */
export function versionDiff(a: { content: Record<string, unknown> | null; pdfSha256: string | null }, b: { content: Record<string, unknown> | null; pdfSha256: string | null }): Array<{ field: string; held: string; newest: string }> {
  const x = leaves({ ...a.content, pdf_sha256: a.pdfSha256 }, '', new Map())
  const y = leaves({ ...b.content, pdf_sha256: b.pdfSha256 }, '', new Map())
  const fields = [...new Set([...x.keys(), ...y.keys()])].sort()
  return fields.filter((f) => x.get(f) !== y.get(f)).map((field) => ({ field, held: x.get(field) ?? '', newest: y.get(field) ?? '' }))
}

/** A bill's versions, oldest first, with the one Zoho holds marked; content and payload for the bill page. */
export async function listVersions(db: Db, id: string) {
  const held = await db.selectFrom('transactions').select(['zoho_version', 'zoho_bill_id']).where('id', '=', id).executeTakeFirst()
  const rows = await db.selectFrom('bill_versions').selectAll().where('transaction_id', '=', id).orderBy('version').execute()
  return rows.map((v) => ({
    number: v.version,
    lastModified: v.last_modified?.toISOString() ?? null,
    hash: v.content_hash,
    cancelled: v.cancelled,
    receivedAt: new Date(v.received_at).toISOString(),
    sentAt: v.sent_at?.toISOString() ?? null,
    zohoOutcome: v.zoho_outcome,
    zohoMessage: v.zoho_message,
    zohoHolds: held?.zoho_bill_id != null && held.zoho_version === v.version,
    content: v.content as Record<string, unknown> | null,
    pdfSha256: v.sha256,
    sentPayload: v.sent_payload as Record<string, unknown> | null,
  }))
}

export function createTransactionRepository(db: Db, organizations: readonly OrganizationConfig[]) {
  return {
    async findById(id: string) {
      if (!isUuid(id)) return null
      const row = await db.selectFrom('transactions').select(COLUMNS).where('id', '=', id).executeTakeFirst()
      if (!row) return null
      const attempts = await db.selectFrom('attempts').selectAll().where('transaction_id', '=', id).orderBy('started_at').orderBy('id').execute()
      const versions = await listVersions(db, id)
      return {
        ...toView(row as Row, organizations),
        versions: versions.map(({ content: _content, sentPayload: _payload, pdfSha256: _pdf, ...v }) => v),
        attemptLog: attempts.map((a) => ({
          startedAt: a.started_at.toISOString(),
          finishedAt: a.finished_at.toISOString(),
          outcome: a.outcome,
          httpStatus: a.http_status,
          zohoCode: a.zoho_code,
          errorCode: a.error_code,
          message: a.message,
          durationMs: a.duration_ms,
        })),
      }
    },

    /** Every source's bill with that NetSuite id; only the organization's when one is named. */
    async findByExternalId(externalId: string, organizationId?: string): Promise<TransactionView[]> {
      let q = db.selectFrom('transactions').select(COLUMNS).where('external_id', '=', externalId)
      if (organizationId) q = q.where('organization_id', '=', organizationId)
      const rows = await q.execute()
      return rows.map((row) => toView(row as Row, organizations))
    },

    /** The batch's stored answer with each item's current status; looked up by client batchId or row id. */
    async findBatch(id: string): Promise<(BatchAnswer & { createdAt: string; id: string }) | null> {
      let query = db.selectFrom('batches').select(['id', 'client_batch_id', 'response', 'created_at', 'accepted', 'rejected'])
      query = isUuid(id) ? query.where((eb) => eb.or([eb('client_batch_id', '=', id), eb('id', '=', id)])) : query.where('client_batch_id', '=', id)
      const batch = await query.orderBy('created_at').executeTakeFirst()
      if (!batch) return null
      const stored = batch.response as BatchAnswer | null
      const items: BatchItem[] = stored?.items ?? []
      const ids = items.map((i) => i.transactionId).filter((v): v is string => Boolean(v))
      const current = ids.length ? await db.selectFrom('transactions').select(['id', 'status']).where('id', 'in', ids).execute() : []
      const status = new Map(current.map((r) => [r.id, r.status]))
      return {
        id: batch.id,
        batchId: stored?.batchId ?? batch.client_batch_id ?? batch.id,
        createdAt: batch.created_at.toISOString(),
        accepted: batch.accepted,
        rejected: batch.rejected,
        items: items.map((item) => (item.transactionId && item.status !== 'rejected' ? { ...item, status: (status.get(item.transactionId) ?? item.status) as BatchItem['status'] } : item)),
      }
    },
  }
}

export type TransactionRepository = ReturnType<typeof createTransactionRepository>
