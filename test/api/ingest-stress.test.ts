import fs from 'node:fs/promises'
import { Readable } from 'node:stream'
import t from 'tap'
import { samplePdf } from '../../scripts/lib/sample-bills.ts'
import { bills, blobKeys, countRows, mintKey, postBatch } from '../helpers/api.ts'
import { startOwnPostgres } from '../helpers/embedded.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

const MB = 1024 * 1024

/** A batch of count bills with PDFs of pdfBytes each, generated as it is sent. */
function largeBatch(prefix: string, count: number, pdfBytes: number): Readable {
  const pdf = samplePdf('large', pdfBytes).toString('base64')
  const [template] = bills(1, prefix)
  async function* chunks() {
    yield Buffer.from(`{"batchId":"${prefix}","bills":[`)
    for (let i = 0; i < count; i++) {
      const { attachment, ...rest } = { ...template!, externalId: `${prefix}-${i}`, billNumber: `${prefix}-INV-${i}` }
      const head = JSON.stringify({ ...rest, attachment: { fileName: attachment.fileName, contentType: 'application/pdf' } })
      yield Buffer.from(`${i ? ',' : ''}${head.slice(0, -2)},"contentBase64":"`)
      for (let offset = 0; offset < pdf.length; offset += 256 * 1024) yield Buffer.from(pdf.slice(offset, offset + 256 * 1024))
      yield Buffer.from('"}}')
    }
    yield Buffer.from(']}')
  }
  return Readable.from(chunks())
}

t.test('a 200 MB batch streams in with RSS growth under 256 MB', async (t) => {
  const runtime = await startTestRuntime(t, { ROLE: 'api', MAX_ATTACHMENT_BYTES: '25mb' })
  const key = await mintKey(runtime, ['ingest'])
  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  // 40 bills × 3.75 MB of PDF ≈ 150 MB of PDF, 200 MB of base64 on the wire.
  const res = await postBatch(runtime, largeBatch('MEM', 40, Math.round(3.75 * MB)), { key })
  clearInterval(sampler)
  t.equal(res.status, 202)
  t.equal(res.body.accepted, 40)
  const growth = (peak - baseline) / MB
  t.ok(growth < 256, `RSS grew ${growth.toFixed(0)} MB while 200 MB streamed in (bound 256 MB)`)
})

t.test('database down: 503 with nothing stored, then accepted again when it returns', async (t) => {
  const own = await startOwnPostgres(t)
  const runtime = await startTestRuntime(t, { ROLE: 'api', DATABASE_URL: own.url })
  const key = await mintKey(runtime, ['ingest'])
  const blobsBefore = (await blobKeys(runtime)).length
  await own.stop()
  const res = await postBatch(runtime, { bills: bills(3, 'DBDOWN') }, { key })
  t.equal(res.status, 503)
  t.ok(['DATABASE_UNAVAILABLE'].includes(res.body.error.code), res.body.error.code)
  t.match(res.body.error.message, /nothing was stored/)
  await own.start()
  t.equal((await blobKeys(runtime)).length, blobsBefore, 'no PDF left behind')
  let status = 0
  for (let i = 0; i < 50 && status !== 202; i++) {
    status = (await postBatch(runtime, { batchId: 'after', bills: bills(1, 'DBUP') }, { key })).status
    if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(status, 202, 'accepted once the database is back')
})

t.test('blob store down: 503 with nothing stored', async (t) => {
  const runtime = await startTestRuntime(t, { ROLE: 'api' })
  const key = await mintKey(runtime, ['ingest'])
  const root = runtime.config.blob.kind === 'fs' ? runtime.config.blob.root : ''
  await fs.rm(root, { recursive: true, force: true })
  await fs.writeFile(root, 'the disk is gone')
  const res = await postBatch(runtime, { bills: bills(2, 'BLOBDOWN') }, { key })
  t.equal(res.status, 503)
  t.equal(res.body.error.code, 'BLOB_STORE_UNAVAILABLE')
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM transactions WHERE external_id LIKE 'BLOBDOWN-%'`), 0)
})
