import { createHash, randomUUID } from 'node:crypto'
import { PassThrough } from 'node:stream'
import type { BlobStore } from '../blob/types.ts'
import { AppError, isAppError } from '../errors.ts'
import { createBase64Decoder } from './base64-decoder.ts'
import { BatchFingerprint } from './fingerprint.ts'
import { scanBatch } from './json-scan.ts'
import { isStorableText } from './storable-text.ts'
import { isCancel, validateBill, validateCancel, type BillRejection, type ValidCancel } from './validate-bill.ts'
import type { AcceptedBill, AcceptedCancel, RejectedBill, StoredPdf } from './commit-batch.ts'

export interface ReceiveLimits {
  maxBodyBytes: number
  maxAttachmentBytes: number
  /** bills held per request are bounded by this, so memory is too */
  maxBills: number
  /** the Zoho organization a bill of this subsidiary goes to, or null when none takes it (SUBSIDIARY_UNKNOWN) */
  route: (subsidiary: string | undefined) => string | null
}

export interface ReceivedBatch {
  batchId?: string
  /** SHA-256 of the batch's canonical content (src/ingest/fingerprint.ts): a resend under the same batchId must match it */
  fingerprint: string
  accepted: AcceptedBill[]
  /** bills sent with cancelled: true */
  cancels: AcceptedCancel[]
  rejected: RejectedBill[]
}

const PDF_SIGNATURE = Buffer.from('%PDF-')
// Accepted bills are held until the batch commits: their fields (PDFs aside) may total this much per request,
// which keeps the worst legal batch (MAX_BILLS_PER_BATCH bills at the per-bill cap) within a bounded heap.
const MAX_KEPT_BYTES = 16 * 1024 * 1024
// One bill at the contract's limits (500 lines with 200-character accounts and 2,000-character descriptions,
// every character written as a \uXXXX escape) is about 7 MB of source: any valid bill fits, so the cap never
// fails a batch over a bill the contract allows. MAX_KEPT_BYTES still bounds the heap per request.
const MAX_BILL_BYTES = 8 * 1024 * 1024
const PARALLEL_SETTLES = 8

/**
 * Reads a batch (or one bill) from the request stream: each PDF is decoded as it arrives and streamed
 * into the blob store while it is hashed; each bill is validated when its object closes. A rejected
 * bill's PDF is deleted at once. On any error, every PDF written so far is deleted before rethrowing.
 */
export async function receiveBatch(body: AsyncIterable<Uint8Array>, mode: 'batch' | 'single', blobs: BlobStore, limits: ReceiveLimits): Promise<ReceivedBatch> {
  const accepted: AcceptedBill[] = []
  const cancels: AcceptedCancel[] = []
  const rejected: RejectedBill[] = []
  const uploads = new Map<number, PdfUpload>()
  const settling: Array<Promise<void>> = []
  const fingerprint = new BatchFingerprint()
  try {
    const result = await scanBatch(limitBody(body, limits.maxBodyBytes), {
      billStart(index: number) {
        if (index >= limits.maxBills) {
          throw new AppError('TOO_MANY_BILLS', `the batch has more than ${limits.maxBills} bills (MAX_BILLS_PER_BATCH); nothing was stored: send at most ${limits.maxBills} bills per batch`, 413, { limit: limits.maxBills })
        }
      },
      attachmentStart(index: number) {
        const upload = new PdfUpload(blobs, limits.maxAttachmentBytes)
        uploads.set(index, upload)
        return upload
      },
      async billEnd(index: number, bill: Record<string, unknown>) {
        const upload = uploads.get(index)
        uploads.delete(index)
        // Bills close in order, so the fingerprint is fed in bill order.
        fingerprint.addBill(bill, upload?.contentSha256() ?? null)
        const settled = settleBill(bill, upload, limits.route).then((outcome) => {
          if ('error' in outcome) {
            // The answer is stored as jsonb: an id PostgreSQL cannot hold is left out rather than poisoning the batch.
            const externalId = typeof bill.externalId === 'string' && isStorableText(bill.externalId) ? bill.externalId : undefined
            const billNumber = searchable(bill.billNumber)
            const vendorName = searchable((bill.vendor as { name?: unknown } | null | undefined)?.name)
            rejected.push({ index, ...(externalId ? { externalId } : {}), ...(billNumber ? { billNumber } : {}), ...(vendorName ? { vendorName } : {}), error: outcome.error })
          } else if ('cancel' in outcome) cancels.push({ index, cancel: outcome.cancel })
          else accepted.push({ index, bill: outcome.bill, pdf: outcome.pdf, organizationId: outcome.organizationId })
        })
        // Parsing goes on while the last few PDFs are flushed to storage (fsync is the slow part).
        settled.catch(() => undefined)
        settling.push(settled)
        if (settling.length >= PARALLEL_SETTLES) await settling.shift()
      },
    }, { mode, strictEnvelope: true, maxKeptBytes: MAX_KEPT_BYTES, maxBillBytes: MAX_BILL_BYTES, markLongStrings: true })
    await Promise.all(settling)
    accepted.sort((a, b) => a.index - b.index)
    cancels.sort((a, b) => a.index - b.index)
    rejected.sort((a, b) => a.index - b.index)
    return { ...(result.batchId !== undefined ? { batchId: result.batchId } : {}), fingerprint: fingerprint.digest(), accepted, cancels, rejected }
  } catch (err) {
    await Promise.allSettled(settling)
    await Promise.allSettled([...uploads.values()].map((u) => u.discard()))
    await Promise.allSettled(accepted.map((a) => blobs.delete(a.pdf.key)))
    throw err
  }
}

/** A rejected bill's text field as the dashboard's search keeps it: trimmed, its first 200 characters, if storable. */
function searchable(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim().slice(0, 200)
  return text && isStorableText(text) ? text : undefined
}

async function settleBill(bill: Record<string, unknown>, upload: PdfUpload | undefined, route: ReceiveLimits['route']): Promise<{ bill: AcceptedBill['bill']; pdf: StoredPdf; organizationId: string } | { cancel: ValidCancel } | { error: BillRejection }> {
  if (isCancel(bill)) {
    // A cancel needs no PDF: one sent along is not kept.
    if (upload) await upload.discard()
    const cancel = validateCancel(bill)
    return cancel.ok ? { cancel: cancel.cancel } : { error: cancel.error }
  }
  const check = validateBill(bill)
  if (!upload) {
    if (!check.ok) return { error: check.error }
    return { error: { code: 'ATTACHMENT_MISSING', field: 'attachment.contentBase64', message: 'attachment.contentBase64 is required: the PDF, base64-encoded' } }
  }
  const stored = await upload.result()
  if ('error' in stored) return stored
  if (!check.ok) {
    await upload.discard()
    return { error: check.error }
  }
  const organizationId = route(check.bill.subsidiary)
  if (organizationId === null) {
    await upload.discard()
    const named = check.bill.subsidiary === undefined ? 'a bill with no subsidiary' : `subsidiary "${check.bill.subsidiary}"`
    return { error: { code: 'SUBSIDIARY_UNKNOWN', field: 'subsidiary', message: `no Zoho organization is configured for ${named}: add it to the subsidiaries of an entry of ZOHO_ORGANIZATIONS (or add an entry with "*"), then send the bill again. Nothing was stored for it` } }
  }
  return { bill: check.bill, pdf: stored, organizationId }
}

/** One PDF on its way into the blob store: decodes base64 text, checks the signature, stops at the size limit. */
class PdfUpload {
  private readonly blobs: BlobStore
  private readonly maxBytes: number
  private readonly key = blobKey()
  private readonly decoder = createBase64Decoder()
  private readonly stream = new PassThrough({ highWaterMark: 1024 * 1024 })
  private readonly put: Promise<StoredPdf | { error: BillRejection }>
  /** the contentBase64 text as sent, rejected or not, for the batch's fingerprint */
  private readonly content = createHash('sha256')
  private rejection: BillRejection | null = null
  private head = Buffer.alloc(0)
  private bytes = 0

  constructor(blobs: BlobStore, maxBytes: number) {
    this.blobs = blobs
    this.maxBytes = maxBytes
    // A rejected PDF destroys the stream with its reason; the store's pipeline reports it, not an 'error' event.
    this.stream.on('error', () => undefined)
    this.put = blobs.put(this.key, this.stream, { contentType: 'application/pdf' }).then(
      (r): StoredPdf => ({ key: this.key, size: r.size, sha256: r.sha256 }),
      (err: unknown) => {
        if (this.rejection) return { error: this.rejection }
        throw isAppError(err) ? err : new AppError('BLOB_STORE_UNAVAILABLE', 'the PDF store is unavailable: nothing was stored; send the batch again later', 503)
      },
    )
    // put() is awaited in result(); until then its rejection must not count as unhandled.
    this.put.catch(() => undefined)
  }

  async write(text: string): Promise<void> {
    this.content.update(text)
    if (this.rejection) return
    try {
      await this.push(this.decoder.push(text))
    } catch (err) {
      this.reject(err)
    }
  }

  async end(): Promise<void> {
    if (this.rejection) return
    try {
      await this.push(this.decoder.end())
      if (this.bytes === 0) throw new AppError('ATTACHMENT_EMPTY', 'attachment.contentBase64 is empty: the PDF has no bytes', 422)
      if (this.head.length < PDF_SIGNATURE.length) this.notPdf()
      this.stream.end()
    } catch (err) {
      this.reject(err)
    }
  }

  /** Called once, after end(). */
  contentSha256(): string {
    return this.content.digest('hex')
  }

  async result(): Promise<StoredPdf | { error: BillRejection }> {
    const outcome = await this.put
    if ('error' in outcome) await this.blobs.delete(this.key).catch(() => undefined)
    return outcome
  }

  async discard(): Promise<void> {
    if (!this.stream.destroyed) this.stream.destroy(new Error('discarded'))
    await this.put.catch(() => undefined)
    await this.blobs.delete(this.key).catch(() => undefined)
  }

  private async push(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return
    this.bytes += chunk.length
    if (this.bytes > this.maxBytes) {
      throw new AppError('ATTACHMENT_TOO_LARGE', `the PDF is larger than the ${formatBytes(this.maxBytes)} allowed per attachment (MAX_ATTACHMENT_BYTES)`, 422)
    }
    if (this.head.length < PDF_SIGNATURE.length) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, PDF_SIGNATURE.length - this.head.length)])
      if (!PDF_SIGNATURE.subarray(0, this.head.length).equals(this.head)) this.notPdf()
    }
    if (!this.stream.write(chunk)) {
      // A store that fails mid-stream destroys the stream: 'close' then ends the wait that 'drain' never would.
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done)
          this.stream.off('close', done)
          resolve()
        }
        this.stream.once('drain', done)
        this.stream.once('close', done)
      })
    }
  }

  private notPdf(): never {
    throw new AppError('ATTACHMENT_NOT_PDF', 'attachment is not a PDF (no %PDF- header)', 422)
  }

  private reject(err: unknown): void {
    if (!isAppError(err)) throw err
    this.rejection = { code: err.code, message: err.message, field: 'attachment.contentBase64' }
    this.stream.destroy(err)
  }
}

function blobKey(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  return `bills/${day}/${randomUUID()}.pdf`
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : `${n} bytes`
}

/** Stops reading once the body passes MAX_BODY_BYTES; Content-Length is checked before this. */
async function* limitBody(body: AsyncIterable<Uint8Array>, max: number): AsyncIterable<Uint8Array> {
  let seen = 0
  for await (const chunk of body) {
    seen += chunk.length
    if (seen > max) throw new AppError('BODY_TOO_LARGE', `the request body is larger than ${formatBytes(max)} (MAX_BODY_BYTES); send fewer bills per batch`, 413, { limitBytes: max })
    yield chunk
  }
}
