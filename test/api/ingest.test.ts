import { createHash } from 'node:crypto'
import t from 'tap'
import { sweepOrphanBlobs } from '../../src/ingest/sweep.ts'
import { silentLogger } from '../helpers/db.ts'
import { hashStream } from '../helpers/streams.ts'
import { bills, blobKeys, countRows, deliverJobs, getJson, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// ROLE=api: no worker takes the deliver-bill jobs, so the tests see exactly what ingestion wrote.
const runtime = await startTestRuntime(t, { ROLE: 'api', MAX_ATTACHMENT_BYTES: '64kb' })
const key = await mintKey(runtime, ['ingest', 'read'])

type Bill = ReturnType<typeof bills>[number]
type Mutation = (bill: Bill) => unknown

const b64 = (text: string) => Buffer.from(text).toString('base64')
const CASES: Array<[string, Mutation]> = [
  ['EXTERNAL_ID_MISSING', (b) => ({ ...b, externalId: undefined })],
  ['BILL_NUMBER_MISSING', (b) => ({ ...b, billNumber: '  ' })],
  ['VENDOR_MISSING', (b) => ({ ...b, vendor: undefined })],
  ['VENDOR_NAME_MISSING', (b) => ({ ...b, vendor: { externalId: 'V-1' } })],
  ['VENDOR_EMAIL_INVALID', (b) => ({ ...b, vendor: { ...b.vendor, email: 'not-an-email' } })],
  ['DATE_INVALID', (b) => ({ ...b, date: '2026-02-30' })],
  ['DATE_INVALID', (b) => ({ ...b, date: '11/01/2026' })],
  ['DUE_DATE_INVALID', (b) => ({ ...b, dueDate: '2026-13-01' })],
  ['DUE_DATE_INVALID', (b) => ({ ...b, date: '2026-11-10', dueDate: '2026-11-01' })],
  ['CURRENCY_INVALID', (b) => ({ ...b, currency: 'XYZ' })],
  ['CURRENCY_INVALID', (b) => ({ ...b, currency: 'usd' })],
  ['LINES_MISSING', (b) => ({ ...b, lines: [] })],
  ['AMOUNT_INVALID', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '10.005' }] })],
  ['AMOUNT_INVALID', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: 'ten' }] })],
  ['LINE_ACCOUNT_MISSING', (b) => ({ ...b, lines: [{ amount: '10.00' }] })],
  ['ATTACHMENT_MISSING', (b) => ({ ...b, attachment: undefined })],
  ['ATTACHMENT_MISSING', (b) => ({ ...b, attachment: { fileName: 'x.pdf', contentType: 'application/pdf' } })],
  ['ATTACHMENT_BASE64_INVALID', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: 'JVBERi0x!!!!' } })],
  ['ATTACHMENT_BASE64_INVALID', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: 'JVBERi0xLjQK' + 'A' } })],
  ['ATTACHMENT_NOT_PDF', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: b64('GIF89a not a pdf at all') } })],
  ['ATTACHMENT_EMPTY', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: '' } })],
  ['ATTACHMENT_FILENAME_INVALID', (b) => ({ ...b, attachment: { ...b.attachment, fileName: '../../etc/passwd.pdf' } })],
  ['ATTACHMENT_FILENAME_INVALID', (b) => ({ ...b, attachment: { ...b.attachment, fileName: 'invoice.docx' } })],
  ['ATTACHMENT_CONTENT_TYPE_INVALID', (b) => ({ ...b, attachment: { ...b.attachment, contentType: 'image/png' } })],
  ['TAX_INVALID', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '100.00', taxAmount: '20.00' }] })],
  ['TAX_INVALID', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '120', taxAmount: '20.00' }] })],
  ['TOTAL_INVALID', (b) => ({ ...b, total: 'lots' })],
  ['TOTAL_MISMATCH', (b) => ({ ...b, total: '999.99' })],
  ['DIMENSION_INVALID', (b) => ({ ...b, department: 'd'.repeat(201) })],
  ['VENDOR_TAX_ID_INVALID', (b) => ({ ...b, vendor: { ...b.vendor, taxId: 'x'.repeat(51) } })],
  ['VENDOR_COUNTRY_INVALID', (b) => ({ ...b, vendor: { ...b.vendor, country: 'UK' } })],
  ['ATTACHMENT_TOO_LARGE', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(70 * 1024, 32)]).toString('base64') } })],
]

t.test('every validation code, with the bills around a bad one still accepted', async (t) => {
  const blobsBefore = (await blobKeys(runtime)).length
  for (const [code, mutate] of CASES) {
    const batch = bills(3)
    const body = { batchId: `val-${Math.random()}`, bills: [batch[0], mutate(batch[1]!), batch[2]] }
    const res = await postBatch(runtime, body, { key })
    t.equal(res.status, 202, `${code}: 202`)
    t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'rejected', 'queued'], `${code}: neighbours queued`)
    const rejected = res.body.items[1]
    t.equal(rejected.error.code, code, `${code}: the code`)
    t.ok(rejected.error.message.length > 10, `${code}: a message (${rejected.error.message})`)
  }
  const blobsAfter = (await blobKeys(runtime)).length
  t.equal(blobsAfter - blobsBefore, CASES.length * 2, 'a rejected bill stores nothing: one PDF per accepted bill')
})

t.test('a batch whose bills are all rejected is 422 and stores nothing', async (t) => {
  const rowsBefore = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const blobsBefore = (await blobKeys(runtime)).length
  const res = await postBatch(runtime, { bills: bills(2).map((b) => ({ ...b, currency: 'ZZZ' })) }, { key })
  t.equal(res.status, 422)
  t.equal(res.body.accepted, 0)
  t.equal(res.body.rejected, 2)
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), rowsBefore)
  t.equal((await blobKeys(runtime)).length, blobsBefore)
})

t.test('malformed envelopes are 400 with a stable code', async (t) => {
  const bad: Array<[string, string]> = [
    ['{"bills": [', 'MALFORMED_JSON'],
    ['<xml/>', 'MALFORMED_JSON'],
    ['not json', 'INVALID_ENVELOPE'],
    ['{"bills": {}}', 'INVALID_ENVELOPE'],
    ['{"batchId": 7, "bills": []}', 'INVALID_ENVELOPE'],
    ['[1,2]', 'INVALID_ENVELOPE'],
    ['{"bills": [1]}', 'INVALID_ENVELOPE'],
  ]
  for (const [body, code] of bad) {
    const res = await postBatch(runtime, body, { key })
    t.equal(res.status, 400, `${body}: 400`)
    t.equal(res.body.error.code, code, `${body}: ${code}`)
  }
})

t.test('rows, jobs and PDFs: one of each per accepted bill, with the bytes and SHA-256 sent', async (t) => {
  const batch = bills(5, 'STORE')
  const jobsBefore = await deliverJobs(runtime)
  const res = await postBatch(runtime, { batchId: 'store-1', bills: batch }, { key })
  t.equal(res.status, 202)
  t.equal(res.body.accepted, 5)
  t.equal(await deliverJobs(runtime) - jobsBefore, 5, 'one deliver-bill job per row')
  for (const [i, item] of res.body.items.entries()) {
    const { rows } = await runtime.pool.query('SELECT blob_key, sha256, size_bytes, status, amount FROM transactions WHERE id = $1', [item.transactionId])
    const sent = Buffer.from(batch[i]!.attachment.contentBase64, 'base64')
    t.equal(rows[0].status, 'queued')
    t.equal(rows[0].sha256, createHash('sha256').update(sent).digest('hex'), 'the recorded SHA-256 is the one sent')
    t.equal(Number(rows[0].size_bytes), sent.length)
    const stored = await hashStream(await runtime.blobs.get(rows[0].blob_key))
    t.same(stored, { size: sent.length, sha256: rows[0].sha256 }, 'the stored bytes are the ones sent')
    const total = batch[i]!.lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0) / 100
    t.equal(Number(rows[0].amount), total, 'the amount is the sum of the lines')
  }
})

t.test('batchId replay returns the first answer and adds nothing', async (t) => {
  const batch = bills(3, 'REPLAY')
  const first = await postBatch(runtime, { batchId: 'replay-1', bills: batch }, { key })
  const rows = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const jobs = await deliverJobs(runtime)
  const blobs = (await blobKeys(runtime)).length
  const again = await postBatch(runtime, { batchId: 'replay-1', bills: batch }, { key })
  t.equal(again.status, 202)
  t.same(again.body, first.body, 'the same answer')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), rows, 'no new rows')
  t.equal(await deliverJobs(runtime), jobs, 'no new jobs')
  t.equal((await blobKeys(runtime)).length, blobs, 'the resent PDFs were not kept')
})

t.test('a known bill is a duplicate; a failed one is replaced and requeued', async (t) => {
  const batch = bills(2, 'DUP')
  const first = await postBatch(runtime, { bills: batch }, { key })
  const jobs = await deliverJobs(runtime)
  const again = await postBatch(runtime, { bills: batch }, { key })
  t.same(again.body.items.map((i: { status: string }) => i.status), ['duplicate', 'duplicate'])
  t.equal(again.body.items[0].transactionId, first.body.items[0].transactionId, 'the duplicate names the existing transaction')
  t.equal(await deliverJobs(runtime), jobs, 'no new job for duplicates')

  const failedId = first.body.items[1].transactionId
  const oldKey = (await runtime.pool.query('SELECT blob_key FROM transactions WHERE id = $1', [failedId])).rows[0].blob_key
  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED', attempts = 3 WHERE id = $1`, [failedId])
  const corrected = { ...batch[1]!, memo: 'corrected', lines: [{ account: '6200 Travel', amount: '42.00' }] }
  const third = await postBatch(runtime, { bills: [batch[0], corrected] }, { key })
  t.same(third.body.items.map((i: { status: string }) => i.status), ['duplicate', 'requeued'])
  t.equal(third.body.items[1].transactionId, failedId, 'requeued in place')
  t.equal(await deliverJobs(runtime), jobs + 1, 'one new job for the requeued bill')
  const { rows } = await runtime.pool.query('SELECT status, amount, attempts, last_error_code, blob_key FROM transactions WHERE id = $1', [failedId])
  t.equal(rows[0].status, 'queued')
  t.equal(rows[0].amount, '42.00', 'the new content replaced the old')
  t.equal(rows[0].last_error_code, null)
  t.not(rows[0].blob_key, oldKey, 'a new PDF')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await runtime.blobs.head(oldKey), null, 'the replaced PDF is deleted')
})

t.test('the same externalId twice in one batch is queued once', async (t) => {
  const [bill] = bills(1, 'TWICE')
  const res = await postBatch(runtime, { bills: [bill, bill] }, { key })
  t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'duplicate'])
  t.equal(res.body.items[1].transactionId, res.body.items[0].transactionId)
})

t.test('a commit that fails leaves no rows, no jobs and, after the sweep, no blobs', async (t) => {
  await runtime.pool.query(`CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.external_id LIKE 'DOOMED-%' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$`)
  await runtime.pool.query('CREATE TRIGGER refuse_doomed BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_doomed()')
  t.teardown(() => runtime.pool.query('DROP TRIGGER refuse_doomed ON transactions; DROP FUNCTION refuse_doomed()'))
  const rows = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const batchesBefore = await countRows(runtime, 'SELECT count(*) AS n FROM batches')
  const jobs = await deliverJobs(runtime)
  const blobsBefore = new Set(await blobKeys(runtime))
  const res = await postBatch(runtime, { batchId: 'doomed-1', bills: bills(3, 'DOOMED') }, { key })
  t.equal(res.status, 500)
  t.equal(res.body.error.code, 'INTERNAL_ERROR')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), rows, 'no rows')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM batches'), batchesBefore, 'no batch row')
  t.equal(await deliverJobs(runtime), jobs, 'no jobs')
  await sweepOrphanBlobs(runtime.pool, runtime.blobs, silentLogger, 0)
  const left = (await blobKeys(runtime)).filter((k) => !blobsBefore.has(k))
  t.same(left, [], 'no blobs after the sweep')
  t.ok((await blobKeys(runtime)).length > 0, 'the sweep kept the PDFs that rows point at')
})

t.test('the sweep deletes PDFs no row points at', async (t) => {
  await runtime.blobs.put('bills/2020/01/01/orphan.pdf', (async function* () { yield Buffer.from('%PDF-1.4 orphan') })())
  const result = await sweepOrphanBlobs(runtime.pool, runtime.blobs, silentLogger, 0)
  t.ok(result.deleted >= 1)
  t.equal(await runtime.blobs.head('bills/2020/01/01/orphan.pdf'), null)
})

t.test('reads: transaction by id and by externalId, batch by id', async (t) => {
  const batch = bills(2, 'READ')
  const res = await postBatch(runtime, { batchId: 'read-1', bills: [batch[0], { ...batch[1], currency: 'NOPE' }] }, { key })
  const id = res.body.items[0].transactionId
  const one = await getJson(runtime, `/v1/transactions/${id}`, key)
  t.equal(one.status, 200)
  t.equal(one.body.externalId, batch[0]!.externalId)
  t.equal(one.body.status, 'queued')
  t.same(one.body.attemptLog, [])
  t.equal(one.body.attachment.fileName, batch[0]!.attachment.fileName)
  const byExternal = await getJson(runtime, `/v1/transactions?externalId=${encodeURIComponent(batch[0]!.externalId)}`, key)
  t.equal(byExternal.body.items.length, 1)
  t.equal(byExternal.body.items[0].id, id)
  const theBatch = await getJson(runtime, '/v1/batches/read-1', key)
  t.equal(theBatch.status, 200)
  t.same(theBatch.body.items.map((i: { status: string }) => i.status), ['queued', 'rejected'])
  t.equal((await getJson(runtime, '/v1/transactions/00000000-0000-0000-0000-000000000000', key)).status, 404)
  t.equal((await getJson(runtime, '/v1/transactions/not-a-uuid', key)).body.error.code, 'TRANSACTION_NOT_FOUND')
  t.equal((await getJson(runtime, '/v1/batches/nope', key)).status, 404)
  t.equal((await getJson(runtime, '/v1/transactions', key)).status, 400, 'externalId is required')
})

t.test('a taxed, tagged bill is stored whole and its amount is the gross total', async (t) => {
  const [bill] = bills(1, 'TAXED')
  const taxed = {
    ...bill!, vendor: { ...bill!.vendor, taxId: 'GB123456789', country: 'GB' }, department: 'Sales : EMEA', total: '121.00',
    lines: [
      { account: '6100 Office Supplies', amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00', class: 'Retail' },
      { account: '6100 Office Supplies', amount: '1.00', taxCode: 'VAT:E-GB', taxRate: '0', taxAmount: '0.00' },
    ],
  }
  const res = await postBatch(runtime, { bills: [taxed] }, { key })
  t.equal(res.status, 202)
  const id = res.body.items[0].transactionId
  const one = await getJson(runtime, `/v1/transactions/${id}`, key)
  t.equal(one.body.amount, '121.00', 'Σ amount + Σ taxAmount')
  t.same(one.body.vendor, { ...bill!.vendor, taxId: 'GB123456789', country: 'GB' })
  const { rows } = await runtime.pool.query('SELECT bill FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].bill.total, '121.00')
  t.equal(rows[0].bill.department, 'Sales : EMEA')
  t.same(rows[0].bill.lines[0], { account: '6100 Office Supplies', amount: '100.00', taxCode: 'VAT:S-GB', taxAmount: '20.00', taxRate: '20', class: 'Retail' })
})

t.test('one bill on POST /v1/vendor-bills', async (t) => {
  const [bill] = bills(1, 'SINGLE')
  const ok = await postBatch(runtime, bill, { key }, '/v1/vendor-bills')
  t.equal(ok.status, 202)
  t.equal(ok.body.status, 'queued')
  t.ok(ok.body.transactionId)
  const bad = await postBatch(runtime, { ...bill, externalId: 'SINGLE-X', currency: 'ABC' }, { key }, '/v1/vendor-bills')
  t.equal(bad.status, 422)
  t.equal(bad.body.error.code, 'CURRENCY_INVALID')
})

t.test('OpenAPI document and page', async (t) => {
  const doc = await getJson(runtime, '/docs/json')
  t.equal(doc.status, 200)
  t.ok(doc.body.paths['/v1/vendor-bills/batches'].post, 'the batch route is documented')
  t.ok(doc.body.paths['/v1/transactions/{id}'].get)
  const page = await fetch(`${runtime.url}/docs`)
  t.equal(page.status, 200)
})
