import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { AppError } from '../errors.ts'
import { DELIVER_BILL_QUEUE } from '../queue/boss.ts'
import { toServiceUnavailable } from '../db/errors.ts'
import type { BillRejection, ValidBill } from './validate-bill.ts'

export const SOURCE = 'netsuite'

export interface StoredPdf {
  key: string
  size: number
  sha256: string
}

export interface AcceptedBill {
  index: number
  bill: ValidBill
  pdf: StoredPdf
}

export interface RejectedBill {
  index: number
  externalId?: string
  /** kept on the rejected item so the dashboard's search finds it (not part of the answer) */
  billNumber?: string
  vendorName?: string
  error: BillRejection
}

/** Who sent the batch and what it held: a client batchId is bound to both when first stored. */
export interface BatchOrigin {
  clientBatchId?: string
  /** SHA-256 of the batch's canonical content (src/ingest/fingerprint.ts) */
  fingerprint: string
  apiKeyId: string
}

export type ItemStatus = 'queued' | 'duplicate' | 'requeued' | 'rejected'

export interface BatchItem {
  index: number
  externalId?: string
  transactionId?: string
  status: ItemStatus
  error?: BillRejection
}

export interface BatchAnswer {
  batchId: string
  accepted: number
  rejected: number
  items: BatchItem[]
}

export interface CommitResult {
  statusCode: 202 | 422
  answer: BatchAnswer
  /** blobs no row points at once the transaction has committed (duplicates, replaced PDFs) */
  unusedBlobs: string[]
  replayed: boolean
}

interface ExistingRow {
  id: string
  external_id: string
  status: string
  blob_key: string
}

/**
 * Writes a batch in one SQL transaction: the batch row, a transactions row per new or corrected bill,
 * and a deliver-bill job per such row through the same connection, so a row never exists without its job.
 */
export async function commitBatch(pool: pg.Pool, boss: PgBoss, origin: BatchOrigin, accepted: AcceptedBill[], rejected: RejectedBill[]): Promise<CommitResult> {
  const client = await pool.connect().catch((err: unknown) => {
    throw toServiceUnavailable(err)
  })
  try {
    await client.query('BEGIN')
    const result = await writeBatch(client, boss, origin, accepted, rejected)
    await client.query(result.replayed ? 'ROLLBACK' : 'COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw toServiceUnavailable(err)
  } finally {
    client.release()
  }
}

async function writeBatch(client: pg.PoolClient, boss: PgBoss, origin: BatchOrigin, accepted: AcceptedBill[], rejected: RejectedBill[]): Promise<CommitResult> {
  const { clientBatchId } = origin
  const newPdfs = accepted.map((a) => a.pdf.key)
  if (clientBatchId !== undefined) {
    const replay = await storedAnswer(client, origin)
    if (replay) return { statusCode: 202, answer: replay, unusedBlobs: newPdfs, replayed: true }
  }
  if (accepted.length === 0) {
    const answer = { batchId: clientBatchId ?? '', accepted: 0, rejected: rejected.length, items: rejected.map(rejectedItem) }
    return { statusCode: 422, answer, unusedBlobs: [], replayed: false }
  }

  const inserted = await client.query<{ id: string }>(
    `INSERT INTO batches (source, client_batch_id, bill_count, accepted, rejected, fingerprint, api_key_id) VALUES ($1, $2, $3, 0, 0, $4, $5)
     ON CONFLICT (source, client_batch_id) DO NOTHING RETURNING id`,
    [SOURCE, clientBatchId ?? null, accepted.length + rejected.length, origin.fingerprint, origin.apiKeyId],
  )
  if (inserted.rowCount === 0) {
    // The same batchId committed by a concurrent request while this one streamed (the insert waited for it):
    // answer as it did when the body is the same, else 409 like any later reuse.
    const replay = await storedAnswer(client, origin)
    return { statusCode: 202, answer: replay!, unusedBlobs: newPdfs, replayed: true }
  }
  const batchRowId = inserted.rows[0]!.id
  const batchId = clientBatchId ?? batchRowId

  const existing = await client.query<ExistingRow>(
    `SELECT id, external_id, status, blob_key FROM transactions WHERE source = $1 AND external_id = ANY($2::text[]) FOR UPDATE`,
    [SOURCE, accepted.map((a) => a.bill.externalId)],
  )
  const known = new Map(existing.rows.map((row) => [row.external_id, row]))
  const items: BatchItem[] = rejected.map(rejectedItem)
  const unusedBlobs: string[] = []
  const fresh: AcceptedBill[] = []
  const requeue: Array<{ bill: AcceptedBill; row: ExistingRow }> = []
  const seen = new Map<string, number>()

  for (const bill of accepted) {
    const externalId = bill.bill.externalId
    const row = known.get(externalId)
    if (seen.has(externalId) || (row && row.status !== 'failed')) {
      unusedBlobs.push(bill.pdf.key)
      items.push({ index: bill.index, externalId, status: 'duplicate', ...(row ? { transactionId: row.id } : {}) })
    } else if (row) {
      requeue.push({ bill, row })
      unusedBlobs.push(row.blob_key)
    } else fresh.push(bill)
    seen.set(externalId, bill.index)
  }

  const created = await insertRows(client, batchRowId, fresh)
  for (const bill of fresh) {
    const id = created.get(bill.bill.externalId)
    if (id) items.push({ index: bill.index, externalId: bill.bill.externalId, transactionId: id, status: 'queued' })
    else {
      // A concurrent batch inserted this bill between our read and our insert.
      unusedBlobs.push(bill.pdf.key)
      items.push({ index: bill.index, externalId: bill.bill.externalId, status: 'duplicate' })
    }
  }
  for (const { bill, row } of requeue) {
    await replaceFailed(client, batchRowId, row.id, bill)
    items.push({ index: bill.index, externalId: bill.bill.externalId, transactionId: row.id, status: 'requeued' })
  }
  // Items of duplicates found only at insert time still need their transaction id.
  await fillDuplicateIds(client, items)

  const jobs = items.filter((i) => i.status === 'queued' || i.status === 'requeued').map((i) => ({ data: { transactionId: i.transactionId! } }))
  if (jobs.length > 0) {
    await boss.insert(DELIVER_BILL_QUEUE, jobs, { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } })
  }

  items.sort((a, b) => a.index - b.index)
  const answer: BatchAnswer = { batchId, accepted: accepted.length, rejected: rejected.length, items }
  await client.query('UPDATE batches SET accepted = $2, rejected = $3, response = $4 WHERE id = $1', [batchRowId, accepted.length, rejected.length, JSON.stringify(answer)])
  if (rejected.length > 0) {
    await client.query(
      `INSERT INTO rejected_items (batch_id, item_index, external_id, code, field, message, bill_number, vendor_name, created_at)
       SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]), (SELECT created_at FROM batches WHERE id = $1) AS batch`,
      [batchRowId, rejected.map((r) => r.index), rejected.map((r) => r.externalId ?? null), rejected.map((r) => r.error.code), rejected.map((r) => r.error.field ?? null), rejected.map((r) => r.error.message),
        rejected.map((r) => r.billNumber ?? null), rejected.map((r) => r.vendorName ?? null)])
  }
  return { statusCode: 202, answer, unusedBlobs, replayed: false }
}

/**
 * The first answer for a known batchId sent again with the same body by the same key; null for an unknown id.
 * Batch ids are global (GET /v1/batches/{id} names one batch), so an id first sent by another key, or with
 * other content, is a 409 that never shows that batch's key or transactions.
 */
async function storedAnswer(client: pg.PoolClient, origin: BatchOrigin): Promise<BatchAnswer | null> {
  const { rows } = await client.query<{ response: BatchAnswer | null; fingerprint: string | null; api_key_id: string | null; created_at: Date }>(
    'SELECT response, fingerprint, api_key_id, created_at FROM batches WHERE source = $1 AND client_batch_id = $2', [SOURCE, origin.clientBatchId])
  const row = rows[0]
  if (!row) return null
  // Stored before migration 0021, with no fingerprint or key to compare: the first answer, as it was then.
  if (row.fingerprint === null) return row.response
  const firstUsedAt = row.created_at.toISOString()
  const id = JSON.stringify(origin.clientBatchId)
  if (row.api_key_id !== origin.apiKeyId) {
    throw new AppError('BATCH_ID_REUSED', `batchId ${id} was first used by another API key at ${firstUsedAt}; batch ids are shared by every key, so nothing was stored: send this batch under a batchId of its own`, 409, { firstUsedAt })
  }
  if (row.fingerprint !== origin.fingerprint) {
    throw new AppError('BATCH_ID_REUSED', `batchId ${id} was first used at ${firstUsedAt} with other bills or PDFs; only the same batch sent again gets its first answer, so nothing was stored: send new bills under a new batchId`, 409, { firstUsedAt })
  }
  return row.response
}

function rejectedItem(r: RejectedBill): BatchItem {
  return { index: r.index, ...(r.externalId ? { externalId: r.externalId } : {}), status: 'rejected', error: r.error }
}

function rowValues(bill: ValidBill, pdf: StoredPdf) {
  const { externalId, billNumber, vendor, amount, currency, attachment, ...rest } = bill
  return {
    external_id: externalId,
    bill_number: billNumber,
    vendor_external_id: vendor.externalId ?? null,
    vendor_name: vendor.name,
    vendor,
    bill: { ...rest, currency },
    amount,
    currency,
    blob_key: pdf.key,
    file_name: attachment.fileName,
    sha256: pdf.sha256,
    size_bytes: pdf.size,
  }
}

/** One statement for every new row; returns external id → transaction id for the rows inserted. */
async function insertRows(client: pg.PoolClient, batchRowId: string, bills: AcceptedBill[]): Promise<Map<string, string>> {
  if (bills.length === 0) return new Map()
  const rows = bills.map((b) => rowValues(b.bill, b.pdf))
  const { rows: inserted } = await client.query<{ id: string; external_id: string }>(
    `INSERT INTO transactions (batch_id, source, status, external_id, bill_number, vendor_external_id, vendor_name, vendor, bill,
                               amount, currency, blob_key, file_name, sha256, size_bytes)
     SELECT $1, $2, 'queued', r.external_id, r.bill_number, r.vendor_external_id, r.vendor_name, r.vendor, r.bill,
            r.amount, r.currency, r.blob_key, r.file_name, r.sha256, r.size_bytes
       FROM jsonb_to_recordset($3::jsonb) AS r(external_id text, bill_number text, vendor_external_id text, vendor_name text,
            vendor jsonb, bill jsonb, amount numeric, currency text, blob_key text, file_name text, sha256 text, size_bytes bigint)
     ON CONFLICT (source, external_id) DO NOTHING
     RETURNING id, external_id`,
    [batchRowId, SOURCE, JSON.stringify(rows)],
  )
  return new Map(inserted.map((row) => [row.external_id, row.id]))
}

async function replaceFailed(client: pg.PoolClient, batchRowId: string, id: string, accepted: AcceptedBill): Promise<void> {
  const v = rowValues(accepted.bill, accepted.pdf)
  await client.query(
    `UPDATE transactions SET batch_id = $2, status = 'queued', attempts = 0, last_error_code = NULL, last_error_message = NULL,
            bill_number = $3, vendor_external_id = $4, vendor_name = $5, vendor = $6, bill = $7, amount = $8, currency = $9,
            blob_key = $10, file_name = $11, sha256 = $12, size_bytes = $13, zoho_attachment = false, updated_at = now()
      WHERE id = $1`,
    [id, batchRowId, v.bill_number, v.vendor_external_id, v.vendor_name, JSON.stringify(v.vendor), JSON.stringify(v.bill), v.amount, v.currency, v.blob_key, v.file_name, v.sha256, v.size_bytes],
  )
}

async function fillDuplicateIds(client: pg.PoolClient, items: BatchItem[]): Promise<void> {
  const missing = items.filter((i) => i.status === 'duplicate' && !i.transactionId && i.externalId)
  if (missing.length === 0) return
  const { rows } = await client.query<{ id: string; external_id: string }>('SELECT id, external_id FROM transactions WHERE source = $1 AND external_id = ANY($2::text[])', [SOURCE, missing.map((i) => i.externalId)])
  const ids = new Map(rows.map((r) => [r.external_id, r.id]))
  for (const item of missing) {
    const id = ids.get(item.externalId!)
    if (id) item.transactionId = id
  }
}
