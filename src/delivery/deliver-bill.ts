import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { BlobStore } from '../blob/types.ts'
import type { Logger } from '../logger.ts'
import { DEAD_LETTER_QUEUE } from '../queue/boss.ts'
import { PAUSE_AFTER_MS } from './organization-worker.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import type { Alerter } from './alerts.ts'
import type { Mapper, ZohoVendor } from './mapping.ts'
import { billPayload, priceBill, type PayloadBill, type PricedBill } from './bill-payload.ts'
import { settleTotal } from './settle-total.ts'
import { finishAttempt, type AttemptOutcome } from './attempts.ts'
import { planRetry, type DeliverJobData, type PacingSettings } from './pacing.ts'

export interface DeliveryDeps {
  pool: pg.Pool
  boss: PgBoss
  blobs: BlobStore
  books: BooksClient
  mapper: Mapper
  alerts: Alerter
  logger: Logger
  uniqueField?: string
  maxAttachmentBytes: number
  pacing: PacingSettings
  organizationId: string
  /** the organization's own deliver-bill queue, where its retries go */
  queue: string
  /** told when the organization cannot be served until a time (429, daily quota, budget): its workers stop fetching till then */
  onPause?: (until: Date) => void
  /** the base currency of the organization's NetSuite subsidiaries, when configured (zohoExchangeRate) */
  netsuiteBaseCurrency?: string
  /** TAX_ROUNDING_TOLERANCE: the most a bill's adjustment absorbs of Zoho's tax rounding */
  taxRoundingTolerance: number
}

export interface DeliverJob {
  id: string
  data: DeliverJobData
  retryCount: number
  signal: AbortSignal
}

interface BillRow extends PayloadBill {
  id: string
  sha256: string
  status: string
  attempts: number
  zoho_bill_id: string | null
  zoho_attachment: boolean
  /** the newest version, the one Zoho holds (null: none yet), and whether NetSuite cancelled the bill */
  version: number
  zoho_version: number | null
  cancel_requested: boolean
  blob_key: string
  file_name: string
  size_bytes: string
}

interface ZohoBill {
  bill_id: string
  bill_number?: string
  vendor_id?: string
  status?: string
  date?: string
  total?: number | string
  adjustment?: number | string
  has_attachment?: boolean
  documents?: unknown[]
  due_date?: string
  reference_number?: string
  balance?: number | string
}

const LOCK_NAMESPACE = 'billbridge:deliver:'

/**
 * Delivers one bill: permit → token → vendor/accounts → create (or, on any later attempt, find and adopt)
 * → mark delivered. A per-bill advisory lock keeps two workers from delivering the same bill at once.
 */
export async function deliverBill(deps: DeliveryDeps, job: DeliverJob): Promise<void> {
  const { transactionId } = job.data
  const lock = await deps.pool.connect()
  let locked = false
  try {
    locked = (await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [LOCK_NAMESPACE + transactionId])).rows[0]!.ok
    // Another handler holds this bill right now (this job was re-dispatched after an expiry while the first
    // attempt still runs). Completing this job would leave the bill to an attempt whose own job has ended,
    // so it goes back to pg-boss for a later try; that try finds the bill delivered and ends, or carries on.
    if (!locked) throw new Error('another attempt at this bill is still running')
    // A bill delivered, or failed, by an attempt at an older version is taken again when a newer version or a
    // cancel came while that attempt was running.
    const { rows } = await deps.pool.query<BillRow>(
      `UPDATE transactions SET status = 'processing', attempts = attempts + 1, attempted_version = version, updated_at = now()
        WHERE id = $1 AND (status IN ('queued', 'processing')
              OR (status = 'delivered' AND (cancel_requested OR version > coalesce(zoho_version, version)))
              OR (status = 'failed' AND version > coalesce(attempted_version, version))) RETURNING *`, [transactionId])
    const row = rows[0]
    if (!row) return
    await attempt(deps, job, row, lock)
  } finally {
    if (locked) await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LOCK_NAMESPACE + transactionId]).catch(() => (locked = false))
    lock.release(!locked)
  }
}

async function attempt(deps: DeliveryDeps, job: DeliverJob, row: BillRow, lock: pg.PoolClient): Promise<void> {
  const started = new Date()
  // Any earlier attempt may have reached Zoho even if its answer was lost: look before creating.
  const mayExist = row.attempts > 1 || job.retryCount > 0 || (job.data.failures ?? 0) > 0 || row.zoho_bill_id !== null
  // The vendor, once resolved, is recorded with the attempt's outcome, in the statement that records it.
  const resolved: { vendor?: ZohoVendor } = {}
  try {
    if (row.cancel_requested) {
      const outcome = await cancelInZoho(deps, row, mayExist, job.signal, lock, resolved)
      await finishAttempt(deps.pool, row.id, started, { outcome: 'cancelled', status: 'cancelled', httpStatus: 200, zohoVendor: resolved.vendor ?? null })
      await markVersion(deps.pool, row, outcome)
      deps.logger.info({ transactionId: row.id, outcome }, 'bill cancelled')
      return
    }
    const update = row.zoho_bill_id !== null && row.zoho_version !== null && row.version > row.zoho_version
    const outcome = update ? await updateInZoho(deps, row, job.signal, lock, resolved) : await sendToZoho(deps, row, mayExist, job.signal, lock, resolved)
    await finishAttempt(deps.pool, row.id, started, { outcome, status: 'delivered', httpStatus: 200, zohoVendor: resolved.vendor ?? null })
    await markVersion(deps.pool, row, outcome === 'updated' ? 'updated' : 'created')
    deps.logger.info({ transactionId: row.id, outcome, version: row.version, zohoVendorId: resolved.vendor?.id }, 'bill delivered')
  } catch (err) {
    await handleFailure(deps, job, row, started, err, resolved.vendor ?? null)
  }
}

/** `lock` is the connection that holds this bill's lock; the vendor and chart locks are taken on it too. */
async function sendToZoho(deps: DeliveryDeps, row: BillRow, mayExist: boolean, signal: AbortSignal, lock: pg.PoolClient, resolved: { vendor?: ZohoVendor }): Promise<AttemptOutcome> {
  if (Number(row.size_bytes) > deps.maxAttachmentBytes) {
    throw new ZohoError('permanent', 'ATTACHMENT_TOO_LARGE_FOR_ZOHO', `the PDF is ${row.size_bytes} bytes, over the ${deps.maxAttachmentBytes} bytes Zoho accepts (ZOHO_MAX_ATTACHMENT_BYTES)`)
  }
  const taxed = row.bill.lines.some((l) => l.taxCode !== undefined)
  // The bill is in Zoho; an earlier attempt may have sent its PDF without hearing the answer. A taxed bill
  // is first checked to the cent, as that attempt may have ended before it could correct the total.
  if (row.zoho_bill_id && !taxed) {
    if (!row.zoho_attachment) await ensureAttached(deps, row, row.zoho_bill_id, 'unknown', signal)
    return 'adopted'
  }
  const vendor = await deps.mapper.resolveVendor(row.vendor, row.bill.currency, signal, lock)
  resolved.vendor = vendor
  if (vendor.currencyCode && vendor.currencyCode !== row.bill.currency) {
    throw new ZohoError('permanent', 'CURRENCY_MISMATCH', `the bill is in ${row.bill.currency} but its Zoho vendor (contact ${vendor.id}) deals in ${vendor.currencyCode}, and Zoho books a bill in its vendor's currency. billbridge maps "${row.vendor.name}" to one Zoho vendor for all its bills: if the currency is wrong, correct it in NetSuite and send the bill again; if "${row.vendor.name}" really bills in ${row.bill.currency} too, enter this bill in Zoho Books by hand under a ${row.bill.currency} vendor and mark it resolved. Remap it (\`npm run cli -- map vendor "${row.vendor.name}" <contact_id>\`, then retry) only if all its bills are in ${row.bill.currency}: its ${vendor.currencyCode} bills would fail`)
  }
  const accounts = await deps.mapper.resolveAccounts(row.bill.lines.map((l) => l.account), signal, lock)
  const priced = await priceBill(deps, row, signal)
  const payload = billPayload(row, vendor.id, accounts, deps.uniqueField, priced)
  await recordSent(deps.pool, row, payload)
  const settle = async (billId: string, answer: ZohoBill | undefined) => {
    if (priced.plan) await settleTotal(deps, row.id, billId, answer, (adjustment) => billPayload(row, vendor.id, accounts, deps.uniqueField, priced, adjustment), priced.plan, signal)
  }
  if (row.zoho_bill_id) {
    await settle(row.zoho_bill_id, undefined)
    if (!row.zoho_attachment) await ensureAttached(deps, row, row.zoho_bill_id, 'unknown', signal)
    return 'adopted'
  }

  if (deps.uniqueField) {
    // The upsert documents a JSON body only: the PDF follows in its own request when Zoho shows none.
    const res = await deps.books.call<{ bill?: ZohoBill }>({
      method: 'PUT', path: '/bills', endpoint: 'PUT /bills', json: payload,
      headers: { 'X-Unique-Identifier-Key': deps.uniqueField, 'X-Unique-Identifier-Value': row.external_id, 'X-Upsert': 'true' },
    }, signal)
    const billId = requireBillId(res.bill)
    await saveBillId(deps.pool, row, billId, false)
    await settle(billId, res.bill)
    await ensureAttached(deps, row, billId, documentsEvidence(res.bill), signal)
    return mayExist ? 'adopted' : 'delivered'
  }
  if (mayExist) {
    const twin = (await billsWithNumber(deps, row, vendor.id, signal)).find((b) => isTwin(row, b, priced.plan?.tolerance))
    if (twin) {
      await saveBillId(deps.pool, row, twin.bill_id, false)
      await settle(twin.bill_id, undefined)
      await ensureAttached(deps, row, twin.bill_id, twin.has_attachment === true, signal)
      return 'adopted'
    }
  }
  let created: { bill?: ZohoBill }
  try {
    created = await deps.books.call<{ bill?: ZohoBill }>({ method: 'POST', path: '/bills', endpoint: 'POST /bills', json: payload, attachment: attachmentOf(deps, row) }, signal)
  } catch (err) {
    const twin = await explainRefusal(deps, row, vendor.id, err, signal, priced.plan?.tolerance)
    await saveBillId(deps.pool, row, twin.bill_id, false)
    await settle(twin.bill_id, undefined)
    await ensureAttached(deps, row, twin.bill_id, twin.has_attachment === true, signal)
    return 'adopted'
  }
  const billId = requireBillId(created.bill)
  await saveBillId(deps.pool, row, billId, false)
  await settle(billId, created.bill)
  await ensureAttached(deps, row, billId, documentsEvidence(created.bill), signal)
  return 'delivered'
}

function requireBillId(bill: ZohoBill | undefined): string {
  if (!bill?.bill_id) throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', 'Zoho answered success without a bill_id')
  return bill.bill_id
}

function attachmentOf(deps: DeliveryDeps, row: BillRow) {
  return { fileName: row.file_name, open: () => deps.blobs.get(row.blob_key) }
}

/** What an answer says of the bill's files: `documents` when it carries them, else nothing known. */
function documentsEvidence(bill: ZohoBill | undefined): boolean | 'unknown' {
  return Array.isArray(bill?.documents) ? bill.documents.length > 0 : 'unknown'
}

async function billsWithNumber(deps: DeliveryDeps, row: BillRow, vendorId: string, signal: AbortSignal): Promise<ZohoBill[]> {
  const found = await deps.books.call<{ bills?: ZohoBill[] }>({ method: 'GET', path: '/bills', endpoint: 'GET /bills', query: { bill_number: row.bill_number, vendor_id: vendorId } }, signal)
  return (found.bills ?? []).filter((b) => (!b.bill_number || b.bill_number === row.bill_number) && (!b.vendor_id || b.vendor_id === vendorId))
}

/**
 * This bill, already in Zoho: same number and vendor (asked for), same date and total, and not void. A taxed
 * bill's twin may be off by Zoho's tax rounding (`toleranceMilli`, thousandths): an earlier attempt made it and
 * lost the answer before correcting the adjustment, so it is adopted and then settled to NetSuite's total.
 */
function isTwin(row: BillRow, bill: ZohoBill, toleranceMilli = 0): boolean {
  if (bill.status === 'void' || bill.date !== row.bill.date || bill.total === undefined) return false
  return Math.abs(Math.round(Number(bill.total) * 1000) - Math.round(Number(row.amount) * 1000)) <= toleranceMilli
}

/**
 * Zoho refused the create. If the bill is there already (an earlier attempt made it), it is adopted; if
 * another live bill of the vendor holds the number, the bill fails naming it; otherwise Zoho's own refusal
 * stands. Zoho documents no code for a repeated number, so the lookup decides, whatever the code.
 */
async function explainRefusal(deps: DeliveryDeps, row: BillRow, vendorId: string, err: unknown, signal: AbortSignal, toleranceMilli?: number): Promise<ZohoBill> {
  if (!(err instanceof ZohoError) || err.kind !== 'permanent' || err.httpStatus === null || err.httpStatus >= 500) throw err
  const same = await billsWithNumber(deps, row, vendorId, signal)
  const twin = same.find((b) => isTwin(row, b, toleranceMilli))
  if (twin) return twin
  const holder = same.find((b) => b.status !== 'void')
  if (!holder) throw err
  const { rows } = await deps.pool.query<{ external_id: string }>('SELECT external_id FROM transactions WHERE zoho_bill_id = $1 LIMIT 1', [holder.bill_id])
  const whose = rows[0] ? `delivered by billbridge for NetSuite bill ${rows[0].external_id}` : 'not made by billbridge'
  throw new ZohoError('permanent', 'BILL_NUMBER_TAKEN',
    `Zoho Books already has bill ${holder.bill_id} numbered "${row.bill_number}" for this vendor (dated ${holder.date ?? 'unknown'}, total ${holder.total ?? 'unknown'}, ${whose}), and refuses a repeated number within a financial year (Zoho: ${err.message}): correct the bill number in NetSuite and resend, or void the other bill in Zoho, then retry`,
    err.httpStatus, err.zohoCode)
}

/**
 * Records the PDF as attached only on Zoho's word: `true` (the answer showed it), `false` (it showed
 * none: attach), or 'unknown' (read the bill's documents first, so a lost answer never means a second copy).
 */
async function ensureAttached(deps: DeliveryDeps, row: BillRow, billId: string, evidence: boolean | 'unknown', signal: AbortSignal): Promise<void> {
  let attached = evidence
  if (attached === 'unknown') {
    const res = await deps.books.call<{ bill?: ZohoBill }>({ method: 'GET', path: `/bills/${encodeURIComponent(billId)}`, endpoint: 'GET /bills/:id' }, signal)
    attached = (res.bill?.documents ?? []).some((d) => (d as { file_name?: string }).file_name === row.file_name)
  }
  if (!attached) {
    await deps.books.call({ method: 'POST', path: `/bills/${encodeURIComponent(billId)}/attachment`, endpoint: 'POST /bills/:id/attachment', attachment: attachmentOf(deps, row) }, signal)
  }
  await saveBillId(deps.pool, row, billId, true)
}

/**
 * Saved the moment it is known, so a crash right after never leads to a second bill. Zoho holds the
 * version being delivered from then on (an update saves it only once Zoho has accepted it).
 */
async function saveBillId(pool: pg.Pool, row: BillRow, billId: string, attached: boolean): Promise<void> {
  // The version this attempt delivers: a newer one may have arrived since, and Zoho does not hold it yet.
  await pool.query(
    `UPDATE transactions SET zoho_bill_id = $2, zoho_attachment = $3, updated_at = now(),
            zoho_version = CASE WHEN zoho_version IS NULL OR zoho_bill_id IS DISTINCT FROM $2 THEN $4::int ELSE zoho_version END
      WHERE id = $1`, [row.id, billId, attached, row.version])
}

/** What is sent to Zoho for this version, and when: kept with the version. */
async function recordSent(pool: pg.Pool, row: BillRow, payload: unknown): Promise<void> {
  await pool.query('UPDATE bill_versions SET sent_payload = $3, sent_at = now() WHERE transaction_id = $1 AND version = $2', [row.id, row.version, JSON.stringify(payload)])
}

/** Zoho's answer to this version: created, updated, refused, voided, void_refused or never_sent. */
async function markVersion(pool: pg.Pool, row: BillRow, outcome: string, message: string | null = null): Promise<void> {
  await pool.query('UPDATE bill_versions SET zoho_outcome = $3, zoho_message = $4 WHERE transaction_id = $1 AND version = $2', [row.id, row.version, outcome, message])
}

/** Resolves the vendor, accounts and taxes as a create does, and builds Zoho's payload for the bill. */
async function preparePayload(deps: DeliveryDeps, row: BillRow, signal: AbortSignal, lock: pg.PoolClient, resolved: { vendor?: ZohoVendor }) {
  const vendor = await deps.mapper.resolveVendor(row.vendor, row.bill.currency, signal, lock)
  resolved.vendor = vendor
  if (vendor.currencyCode && vendor.currencyCode !== row.bill.currency) {
    throw new ZohoError('permanent', 'CURRENCY_MISMATCH', `the bill is in ${row.bill.currency} but its Zoho vendor (contact ${vendor.id}) deals in ${vendor.currencyCode}, and Zoho books a bill in its vendor's currency: correct the currency in NetSuite and send the bill again`)
  }
  const accounts = await deps.mapper.resolveAccounts(row.bill.lines.map((l) => l.account), signal, lock)
  const priced = await priceBill(deps, row, signal)
  return { vendor, accounts, priced, payload: billPayload(row, vendor.id, accounts, deps.uniqueField, priced) }
}

async function readZohoBill(deps: DeliveryDeps, billId: string, signal: AbortSignal): Promise<ZohoBill | undefined> {
  const res = await deps.books.call<{ bill?: ZohoBill }>({ method: 'GET', path: `/bills/${encodeURIComponent(billId)}`, endpoint: 'GET /bills/:id' }, signal)
  return res.bill
}

/** Zoho's bill already shows this version's number, dates, reference and total (an earlier PUT landed unheard). */
function holdsVersion(row: BillRow, payload: Record<string, unknown>, bill: ZohoBill | undefined): boolean {
  if (!bill || bill.status === 'void' || bill.total === undefined) return false
  return bill.date === payload.date && bill.bill_number === payload.bill_number && (bill.due_date ?? '') === (payload.due_date ?? bill.due_date ?? '')
    && (bill.reference_number ?? '') === (payload.reference_number ?? '') && Math.round(Number(bill.total) * 100) === Math.round(Number(row.amount) * 100)
}

/**
 * A newer version of a delivered bill: the same Zoho bill is updated in place with the whole bill (Zoho
 * clears what an update omits), under the same lock, permit and retry rules as a create. An attempt after
 * one that sent this version reads the bill first, so a lost answer never means a second update. The PDF,
 * when it changed, is replaced: Zoho's endpoint removes a bill's file without naming it, so every file is
 * removed, then the new one attached, and the bill read back decides (its documents).
 */
async function updateInZoho(deps: DeliveryDeps, row: BillRow, signal: AbortSignal, lock: pg.PoolClient, resolved: { vendor?: ZohoVendor }): Promise<AttemptOutcome> {
  if (Number(row.size_bytes) > deps.maxAttachmentBytes) {
    throw new ZohoError('permanent', 'ATTACHMENT_TOO_LARGE_FOR_ZOHO', `the PDF is ${row.size_bytes} bytes, over the ${deps.maxAttachmentBytes} bytes Zoho accepts (ZOHO_MAX_ATTACHMENT_BYTES)`)
  }
  const billId = row.zoho_bill_id!
  const { vendor, accounts, priced, payload } = await preparePayload(deps, row, signal, lock, resolved)
  const { rows } = await deps.pool.query<{ sent: boolean }>('SELECT sent_at IS NOT NULL AS sent FROM bill_versions WHERE transaction_id = $1 AND version = $2', [row.id, row.version])
  let answer: ZohoBill | undefined
  if (rows[0]?.sent) {
    const current = await readZohoBill(deps, billId, signal)
    if (holdsVersion(row, payload as Record<string, unknown>, current)) answer = current
  }
  if (!answer) {
    await recordSent(deps.pool, row, payload)
    try {
      const res = await deps.books.call<{ bill?: ZohoBill }>({ method: 'PUT', path: `/bills/${encodeURIComponent(billId)}`, endpoint: 'PUT /bills/:id', json: payload }, signal)
      answer = res.bill
    } catch (err) {
      throw await explainUpdateRefusal(deps, row, billId, err, signal)
    }
  }
  if (priced.plan) await settleTotal(deps, row.id, billId, answer, (adjustment) => billPayload(row, vendor.id, accounts, deps.uniqueField, priced, adjustment), priced.plan, signal)
  // The PDF Zoho holds is the held version's: replaced when this version's differs (or was never attached).
  const held = await deps.pool.query<{ sha256: string | null; file_name: string | null }>(
    `SELECT sha256, content->>'file_name' AS file_name FROM bill_versions WHERE transaction_id = $1 AND version = $2`, [row.id, row.zoho_version])
  const samePdf = held.rows[0]?.sha256 === row.sha256 && held.rows[0]?.file_name === row.file_name
  if (!row.zoho_attachment || !samePdf) {
    const bill = await readZohoBill(deps, billId, signal)
    for (let i = 0; i < (bill?.documents ?? []).length; i++) {
      await deps.books.call({ method: 'DELETE', path: `/bills/${encodeURIComponent(billId)}/attachment`, endpoint: 'DELETE /bills/:id/attachment' }, signal)
    }
    await deps.books.call({ method: 'POST', path: `/bills/${encodeURIComponent(billId)}/attachment`, endpoint: 'POST /bills/:id/attachment', attachment: attachmentOf(deps, row) }, signal)
  }
  await deps.pool.query('UPDATE transactions SET zoho_attachment = true, zoho_version = $2, updated_at = now() WHERE id = $1', [row.id, row.version])
  return 'updated'
}

/** Zoho refused the update: the bill read back says why (paid, void, locked period), with Zoho's own words. */
async function explainUpdateRefusal(deps: DeliveryDeps, row: BillRow, billId: string, err: unknown, signal: AbortSignal): Promise<unknown> {
  if (!(err instanceof ZohoError) || err.kind !== 'permanent' || err.httpStatus === null || err.httpStatus >= 500) return err
  const bill = await readZohoBill(deps, billId, signal).catch(() => undefined)
  const state = bill ? ` The bill in Zoho is ${bill.status ?? 'in an unknown state'}, total ${bill.total ?? 'unknown'}, balance ${bill.balance ?? 'unknown'}, dated ${bill.date ?? 'unknown'}.` : ''
  const message = `Zoho Books refused to update bill ${billId} to version ${row.version} of NetSuite bill ${row.external_id} (Zoho: ${err.message}).${state} Zoho keeps version ${row.zoho_version}, the last it accepted`
  await markVersion(deps.pool, row, 'refused', err.message)
  return new ZohoError('permanent', 'UPDATE_REFUSED', message, err.httpStatus, err.zohoCode)
}

/**
 * NetSuite cancelled the bill: a bill in Zoho is voided (POST /bills/{id}/status/void); one that never
 * reached Zoho is never sent. After a lost answer the bill is looked for first, as before a create.
 */
async function cancelInZoho(deps: DeliveryDeps, row: BillRow, mayExist: boolean, signal: AbortSignal, lock: pg.PoolClient, resolved: { vendor?: ZohoVendor }): Promise<string> {
  let billId = row.zoho_bill_id
  if (!billId && mayExist && !deps.uniqueField) {
    const vendor = await deps.mapper.resolveVendor(row.vendor, row.bill.currency, signal, lock)
    resolved.vendor = vendor
    // A taxed bill's lost create may have been rounded the other way by Zoho: within the tolerance it is this bill.
    const tolerance = row.bill.lines.some((l) => l.taxCode !== undefined) ? Math.round(deps.taxRoundingTolerance * 1000) : 0
    const twin = (await billsWithNumber(deps, row, vendor.id, signal)).find((b) => isTwin(row, b, tolerance))
    if (twin) {
      billId = twin.bill_id
      await saveBillId(deps.pool, row, billId, twin.has_attachment === true)
    }
  }
  if (!billId) return 'never_sent'
  try {
    await deps.books.call({ method: 'POST', path: `/bills/${encodeURIComponent(billId)}/status/void`, endpoint: 'POST /bills/:id/status/void' }, signal)
  } catch (err) {
    if (!(err instanceof ZohoError) || err.kind !== 'permanent' || err.httpStatus === null || err.httpStatus >= 500) throw err
    // Zoho documents no code for its refusals: the bill read back decides (void already: an earlier void landed unheard).
    const bill = await readZohoBill(deps, billId, signal)
    if (bill?.status === 'void') return 'voided'
    await markVersion(deps.pool, row, 'void_refused', err.message)
    throw new ZohoError('permanent', 'VOID_REFUSED',
      `Zoho Books refused to void bill ${billId}, which NetSuite cancelled (NetSuite bill ${row.external_id}) (Zoho: ${err.message}). The bill in Zoho is ${bill?.status ?? 'in an unknown state'}, balance ${bill?.balance ?? 'unknown'} of total ${bill?.total ?? 'unknown'}`,
      err.httpStatus, err.zohoCode)
  }
  return 'voided'
}

async function handleFailure(deps: DeliveryDeps, job: DeliverJob, row: BillRow, started: Date, err: unknown, zohoVendor: ZohoVendor | null): Promise<void> {
  const zoho = err instanceof ZohoError ? err : null
  const fields = { zohoVendor, httpStatus: zoho?.httpStatus ?? null, zohoCode: zoho?.zohoCode ?? null, errorCode: zoho?.code ?? 'DELIVERY_ERROR', message: (err as Error).message }
  if (zoho?.kind === 'rate_limited') {
    // Not the bill's fault: back in the queue for when the budget allows, without spending an attempt.
    const retryAt = (err as { retryAt?: Date }).retryAt ?? new Date(Date.now() + 60_000)
    // A long pause (a spent daily quota, a 429 window) is kept by the organization's workers, which stop
    // fetching its queue until it ends or is lifted; its bills stay ready behind it rather than each waiting
    // for a time fixed now, so a pause lifted early (the quota raised) frees them at once.
    const paused = deps.onPause !== undefined && retryAt.getTime() - Date.now() >= PAUSE_AFTER_MS
    const startAfter = new Date((paused ? Date.now() + PAUSE_AFTER_MS : retryAt.getTime()) + Math.random() * 2_000)
    await deps.boss.send(deps.queue, job.data, { startAfter })
    deps.onPause?.(retryAt)
    if (zoho.httpStatus === 429) await finishAttempt(deps.pool, row.id, started, { outcome: 'rate_limited', status: 'queued', refund: true, ...fields })
    else await deps.pool.query(`UPDATE transactions SET status = 'queued', attempts = attempts - 1, updated_at = now() WHERE id = $1`, [row.id])
    return
  }
  if (zoho?.kind === 'permanent') {
    await finishAttempt(deps.pool, row.id, started, { outcome: 'failed', status: 'failed', ...fields })
    deps.logger.warn({ transactionId: row.id, code: zoho.code, zohoCode: zoho.zohoCode }, 'bill failed permanently')
    await deps.alerts.notify({ transactionId: row.id, billNumber: row.bill_number, code: zoho.code, message: zoho.message })
    return
  }
  // A transient failure: this job completes, and in the same transaction as the attempt's record the bill
  // gets its next job at the time the pacing policy gives, or, once its retry window is spent, a dead-letter
  // job (the bill then fails and an alert goes out, as when pg-boss dead-letters a job).
  const client = await deps.pool.connect()
  try {
    await client.query('BEGIN')
    await finishAttempt(client, row.id, started, { outcome: 'retry', status: 'queued', ...fields })
    const plan = await planRetry(client, deps.pacing, job.data, deps.organizationId)
    const db = { executeSql: (text: string, values?: unknown[]) => client.query(text, values) }
    if (plan.retryAt) await deps.boss.send(deps.queue, plan.data, { startAfter: plan.retryAt, db })
    else await deps.boss.send(DEAD_LETTER_QUEUE, plan.data, { db })
    await client.query('COMMIT')
    deps.logger.warn({ transactionId: row.id, code: fields.errorCode, failures: plan.data.failures, retryInSeconds: plan.retryAt ? plan.delaySeconds : null }, 'delivery attempt failed')
  } catch (failure) {
    await client.query('ROLLBACK').catch(() => undefined)
    // Nothing recorded: the job fails and pg-boss retries it with the queue's own delay.
    deps.logger.warn({ transactionId: row.id, err: failure }, 'the retry of a failed delivery attempt could not be scheduled')
    throw err
  } finally {
    client.release()
  }
}
