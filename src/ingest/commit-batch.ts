import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { AppError } from '../errors.ts'
import { insertDeliveryJobs } from '../queue/boss.ts'
import { toServiceUnavailable } from '../db/errors.ts'
import type { BillRejection, ValidBill, ValidCancel } from './validate-bill.ts'
import { canonicalJson } from './fingerprint.ts'
import { createHash } from 'node:crypto'

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
  /** the Zoho organization its subsidiary routes to; fixed when the bill is first stored */
  organizationId: string
}

export interface AcceptedCancel {
  index: number
  cancel: ValidCancel
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

export type ItemStatus = 'queued' | 'duplicate' | 'requeued' | 'rejected' | 'updated' | 'stale' | 'cancelled'

export interface BatchItem {
  index: number
  externalId?: string
  transactionId?: string
  status: ItemStatus
  /** why a bill was answered duplicate, stale or cancelled, when it is not the plain case */
  message?: string
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
  sha256: string
  content_hash: string | null
  last_modified: Date | null
  version: number
  zoho_bill_id: string | null
  cancel_requested: boolean
  organization_id: string | null
  /** an earlier attempt may have reached Zoho without its answer being heard */
  answer_lost: boolean
}

/**
 * The SHA-256 of one bill's content: its fields as validated (keys sorted, by the batch fingerprint's
 * canonical JSON), lastModified left out, then its PDF's SHA-256. Any changed field or PDF changes it.
 */
export function contentHash(bill: ValidBill, pdfSha256: string): string {
  const { lastModified: _lastModified, ...content } = bill
  return createHash('sha256').update(canonicalJson(content)).update('\n').update(pdfSha256).digest('hex')
}

interface VersionRow {
  transaction_id: string
  version: number
  content_hash: string | null
  last_modified: string | null
  cancelled: boolean
  content: unknown
  blob_key: string | null
  sha256: string | null
  zoho_outcome: string | null
}

/**
 * Writes a batch in one SQL transaction: the batch row, a transactions row per new or corrected bill,
 * and a deliver-bill job per such row through the same connection, so a row never exists without its job.
 */
export async function commitBatch(pool: pg.Pool, boss: PgBoss, origin: BatchOrigin, accepted: AcceptedBill[], rejected: RejectedBill[], cancels: AcceptedCancel[] = []): Promise<CommitResult> {
  const client = await pool.connect().catch((err: unknown) => {
    throw toServiceUnavailable(err)
  })
  try {
    await client.query('BEGIN')
    const result = await writeBatch(client, boss, origin, accepted, rejected, cancels)
    await client.query(result.replayed ? 'ROLLBACK' : 'COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw toServiceUnavailable(err)
  } finally {
    client.release()
  }
}

async function writeBatch(client: pg.PoolClient, boss: PgBoss, origin: BatchOrigin, accepted: AcceptedBill[], rejectedIn: RejectedBill[], cancels: AcceptedCancel[]): Promise<CommitResult> {
  const rejected = [...rejectedIn]
  const { clientBatchId } = origin
  const newPdfs = accepted.map((a) => a.pdf.key)
  if (clientBatchId !== undefined) {
    const replay = await storedAnswer(client, origin)
    if (replay) return { statusCode: 202, answer: replay, unusedBlobs: newPdfs, replayed: true }
  }
  if (accepted.length === 0 && cancels.length === 0) {
    const answer = { batchId: clientBatchId ?? '', accepted: 0, rejected: rejected.length, items: rejected.map(rejectedItem) }
    return { statusCode: 422, answer, unusedBlobs: [], replayed: false }
  }

  const inserted = await client.query<{ id: string }>(
    `INSERT INTO batches (source, client_batch_id, bill_count, accepted, rejected, fingerprint, api_key_id) VALUES ($1, $2, $3, 0, 0, $4, $5)
     ON CONFLICT (source, client_batch_id) DO NOTHING RETURNING id`,
    [SOURCE, clientBatchId ?? null, accepted.length + cancels.length + rejected.length, origin.fingerprint, origin.apiKeyId],
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
    `SELECT t.id, t.external_id, t.status, t.blob_key, t.sha256, t.content_hash, t.last_modified, t.version, t.zoho_bill_id, t.cancel_requested, t.organization_id,
            EXISTS (SELECT 1 FROM attempts a WHERE a.transaction_id = t.id AND a.outcome = 'retry') AS answer_lost
       FROM transactions t WHERE t.source = $1 AND t.external_id = ANY($2::text[]) FOR UPDATE OF t`,
    [SOURCE, [...accepted.map((a) => a.bill.externalId), ...cancels.map((c) => c.cancel.externalId)]],
  )
  const known = new Map(existing.rows.map((row) => [row.external_id, row]))
  const items: BatchItem[] = []
  const unusedBlobs: string[] = []
  const fresh: AcceptedBill[] = []
  const requeue: Array<{ bill: AcceptedBill; row: ExistingRow; status: 'requeued' | 'updated'; hash: string }> = []
  const seen = new Map<string, number>()
  const jobs: Array<{ organizationId: string; data: { transactionId: string } }> = []
  const versions: VersionRow[] = []

  for (const bill of accepted) {
    const externalId = bill.bill.externalId
    const row = known.get(externalId)
    const hash = contentHash(bill.bill, bill.pdf.sha256)
    const again = seen.has(externalId)
    seen.set(externalId, bill.index)
    const decision = again ? { status: 'duplicate' as const } : row ? versionOf(row, bill.bill, hash) : null
    if (!decision) fresh.push(bill)
    else if (decision.status === 'requeued' || decision.status === 'updated') {
      requeue.push({ bill, row: row!, status: decision.status, hash })
      unusedBlobs.push(row!.blob_key)
    } else {
      unusedBlobs.push(bill.pdf.key)
      items.push({ index: bill.index, externalId, status: decision.status, ...(row ? { transactionId: row.id } : {}), ...(decision.message ? { message: decision.message } : {}) })
    }
  }

  const created = await insertRows(client, batchRowId, fresh)
  for (const bill of fresh) {
    const id = created.get(bill.bill.externalId)
    if (id) {
      items.push({ index: bill.index, externalId: bill.bill.externalId, transactionId: id, status: 'queued' })
      jobs.push({ organizationId: bill.organizationId, data: { transactionId: id } })
      versions.push(versionRow(id, 1, bill, contentHash(bill.bill, bill.pdf.sha256), 'never_sent'))
    } else {
      // A concurrent batch inserted this bill between our read and our insert.
      unusedBlobs.push(bill.pdf.key)
      items.push({ index: bill.index, externalId: bill.bill.externalId, status: 'duplicate' })
    }
  }
  for (const { bill, row, status, hash } of requeue) {
    const next = await replaceContent(client, batchRowId, row.id, bill, hash)
    // A queued bill's job delivers the new content; any other one gets a job (a running attempt finishes
    // first: the job then finds the bill delivered with an older version in Zoho, and updates it).
    // A bill keeps the organization it was first accepted for.
    if (next.jobNeeded) jobs.push({ organizationId: row.organization_id ?? bill.organizationId, data: { transactionId: row.id } })
    versions.push(versionRow(row.id, next.version, bill, hash, null))
    items.push({ index: bill.index, externalId: bill.bill.externalId, transactionId: row.id, status })
  }
  for (const { index, cancel } of cancels) {
    const row = known.get(cancel.externalId)
    const again = seen.has(cancel.externalId)
    seen.set(cancel.externalId, index)
    if (!row) {
      rejected.push({ index, externalId: cancel.externalId, error: { code: 'BILL_UNKNOWN', field: 'externalId', message: `billbridge has no bill with externalId "${cancel.externalId}" to cancel: nothing was stored for it. A bill never sent needs no cancel; if it was sent under another externalId, cancel that one` } })
      continue
    }
    const base = { index, externalId: cancel.externalId, transactionId: row.id }
    if (again || row.status === 'cancelled' || row.cancel_requested) {
      items.push({ ...base, status: 'duplicate', message: again ? 'this bill appears earlier in the batch' : 'the bill is already cancelled' })
    } else if (cancel.lastModified && row.last_modified && Date.parse(cancel.lastModified) < row.last_modified.getTime()) {
      items.push({ ...base, status: 'stale', message: staleMessage(cancel.lastModified, row.last_modified) })
    } else {
      const next = await cancelRow(client, batchRowId, row, cancel)
      if (next.jobNeeded && row.organization_id) jobs.push({ organizationId: row.organization_id, data: { transactionId: row.id } })
      versions.push({ transaction_id: row.id, version: next.version, content_hash: null, last_modified: cancel.lastModified ?? null, cancelled: true, content: null, blob_key: null, sha256: null, zoho_outcome: next.jobNeeded ? null : 'never_sent' })
      items.push({ ...base, status: 'cancelled' })
    }
  }
  await recordVersions(client, batchRowId, versions)
  items.push(...rejected.slice(rejectedIn.length).map(rejectedItem), ...rejectedIn.map(rejectedItem))
  // Items of duplicates found only at insert time still need their transaction id.
  await fillDuplicateIds(client, items)

  await insertDeliveryJobs(boss, client, jobs)

  items.sort((a, b) => a.index - b.index)
  const acceptedCount = accepted.length + cancels.length - (rejected.length - rejectedIn.length)
  const answer: BatchAnswer = { batchId, accepted: acceptedCount, rejected: rejected.length, items }
  await client.query('UPDATE batches SET accepted = $2, rejected = $3, response = $4 WHERE id = $1', [batchRowId, acceptedCount, rejected.length, JSON.stringify(answer)])
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
 * What a bill sent again under a known externalId is: the same content is a duplicate; new content with a
 * newer lastModified is a new version (updated); an older or equal lastModified is stale. Without
 * lastModified, a failed bill's new content is requeued and any other bill's is a duplicate, as before
 * versions were kept. A cancelled bill stays cancelled.
 */
function versionOf(row: ExistingRow, bill: ValidBill, hash: string): { status: ItemStatus; message?: string } {
  if (row.content_hash === hash) return { status: 'duplicate' }
  if (row.status === 'cancelled' || row.cancel_requested) return { status: 'duplicate', message: 'the bill was cancelled: a cancelled bill is not sent again' }
  if (!bill.lastModified) {
    if (row.status === 'failed') return { status: 'requeued' }
    return { status: 'duplicate', ...(row.content_hash !== null ? { message: 'the content differs from the version billbridge holds, but without lastModified it is not taken as a new version: send lastModified to update the bill' } : {}) }
  }
  if (row.last_modified && Date.parse(bill.lastModified) <= row.last_modified.getTime()) return { status: 'stale', message: staleMessage(bill.lastModified, row.last_modified) }
  if (row.status === 'resolved' && row.zoho_bill_id === null) return { status: 'duplicate', message: 'the bill was resolved by hand and billbridge knows no Zoho bill to update: enter the change in Zoho Books' }
  return { status: 'updated' }
}

function staleMessage(sent: string, held: Date): string {
  return `lastModified ${sent} is not newer than the version billbridge holds (lastModified ${held.toISOString()}): this version was ignored`
}

function versionRow(id: string, version: number, bill: AcceptedBill, hash: string, outcome: string | null): VersionRow {
  const { blob_key: blobKey, sha256, content_hash: _hash, last_modified: _lastModified, ...content } = rowValues(bill.bill, bill.pdf)
  return { transaction_id: id, version, content_hash: hash, last_modified: bill.bill.lastModified ?? null, cancelled: false, content, blob_key: blobKey, sha256, zoho_outcome: outcome }
}

async function recordVersions(client: pg.PoolClient, batchRowId: string, versions: VersionRow[]): Promise<void> {
  if (versions.length === 0) return
  await client.query(
    `INSERT INTO bill_versions (transaction_id, version, batch_id, content_hash, last_modified, cancelled, content, blob_key, sha256, zoho_outcome)
     SELECT r.transaction_id, r.version, $1, r.content_hash, r.last_modified, r.cancelled, r.content, r.blob_key, r.sha256, r.zoho_outcome
       FROM jsonb_to_recordset($2::jsonb) AS r(transaction_id uuid, version int, content_hash text, last_modified timestamptz, cancelled boolean,
            content jsonb, blob_key text, sha256 text, zoho_outcome text)`,
    [batchRowId, JSON.stringify(versions)])
}

/** The bill takes a new version's content; its PDF counts as attached in Zoho only if it is the same file. */
async function replaceContent(client: pg.PoolClient, batchRowId: string, id: string, accepted: AcceptedBill, hash: string): Promise<{ version: number; jobNeeded: boolean }> {
  const v = rowValues(accepted.bill, accepted.pdf)
  const { rows } = await client.query<{ version: number; job_needed: boolean }>(
    `UPDATE transactions t SET batch_id = $2,
            status = CASE WHEN t.status IN ('failed', 'delivered', 'resolved') THEN 'queued' ELSE t.status END,
            attempts = CASE WHEN t.status IN ('failed', 'delivered', 'resolved') THEN 0 ELSE t.attempts END,
            last_error_code = NULL, last_error_message = NULL,
            bill_number = $3, vendor_external_id = $4, vendor_name = $5, vendor = $6, bill = $7, amount = $8, currency = $9,
            blob_key = $10, file_name = $11, sha256 = $12, size_bytes = $13,
            zoho_attachment = t.zoho_attachment AND t.sha256 = $12 AND t.file_name = $11,
            content_hash = $14, last_modified = coalesce($15::timestamptz, t.last_modified), version = t.version + 1, updated_at = now()
       FROM (SELECT status FROM transactions WHERE id = $1) old
      WHERE t.id = $1
      RETURNING t.version, old.status <> 'queued' AS job_needed`,
    [id, batchRowId, v.bill_number, v.vendor_external_id, v.vendor_name, JSON.stringify(v.vendor), JSON.stringify(v.bill), v.amount, v.currency, v.blob_key, v.file_name, v.sha256, v.size_bytes,
      hash, accepted.bill.lastModified ?? null],
  )
  return { version: rows[0]!.version, jobNeeded: rows[0]!.job_needed }
}

/**
 * A cancel: a bill that never reached Zoho (and never may have: no attempt whose answer was lost) is
 * cancelled at once and its job, finding it so, stops. Any other goes to a job, which voids it in Zoho
 * (or, if a lost answer leaves it unknown, looks for it first).
 */
async function cancelRow(client: pg.PoolClient, batchRowId: string, row: ExistingRow, cancel: ValidCancel): Promise<{ version: number; jobNeeded: boolean }> {
  const now = row.zoho_bill_id === null && row.status !== 'processing' && !row.answer_lost
  const { rows } = await client.query<{ version: number }>(
    `UPDATE transactions SET batch_id = $2, cancel_requested = true, version = version + 1,
            last_modified = coalesce($3::timestamptz, last_modified), updated_at = now(),
            status = CASE WHEN $4 THEN 'cancelled' WHEN status = 'processing' THEN status ELSE 'queued' END,
            attempts = CASE WHEN $4 OR status = 'processing' THEN attempts ELSE 0 END,
            last_error_code = CASE WHEN $4 THEN NULL ELSE last_error_code END, last_error_message = CASE WHEN $4 THEN NULL ELSE last_error_message END
      WHERE id = $1 RETURNING version`,
    [row.id, batchRowId, cancel.lastModified ?? null, now])
  return { version: rows[0]!.version, jobNeeded: !now }
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
  const { externalId, billNumber, vendor, amount, currency, attachment, lastModified, ...rest } = bill
  return {
    last_modified: lastModified ?? null,
    content_hash: contentHash(bill, pdf.sha256),
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
  const rows = bills.map((b) => ({ ...rowValues(b.bill, b.pdf), organization_id: b.organizationId }))
  const { rows: inserted } = await client.query<{ id: string; external_id: string }>(
    `INSERT INTO transactions (batch_id, source, status, external_id, bill_number, vendor_external_id, vendor_name, vendor, bill,
                               amount, currency, blob_key, file_name, sha256, size_bytes, last_modified, content_hash, organization_id)
     SELECT $1, $2, 'queued', r.external_id, r.bill_number, r.vendor_external_id, r.vendor_name, r.vendor, r.bill,
            r.amount, r.currency, r.blob_key, r.file_name, r.sha256, r.size_bytes, r.last_modified, r.content_hash, r.organization_id
       FROM jsonb_to_recordset($3::jsonb) AS r(external_id text, bill_number text, vendor_external_id text, vendor_name text,
            vendor jsonb, bill jsonb, amount numeric, currency text, blob_key text, file_name text, sha256 text, size_bytes bigint,
            last_modified timestamptz, content_hash text, organization_id text)
     ON CONFLICT (source, external_id) DO NOTHING
     RETURNING id, external_id`,
    [batchRowId, SOURCE, JSON.stringify(rows)],
  )
  return new Map(inserted.map((row) => [row.external_id, row.id]))
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
