import { Readable } from 'node:stream'
import t from 'tap'
import { bills, blobKeys, countRows, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// ROLE=api: no worker, so the tests see exactly what ingestion wrote.
const runtime = await startTestRuntime(t, { ROLE: 'api' })
const key = await mintKey(runtime, ['ingest', 'read'])

type Bill = ReturnType<typeof bills>[number]
const LONG = 'x'.repeat(70_000)
// A string past the 64 KiB the scanner keeps, in each kind of field: the bill's own code, as for any too-long value.
const CASES: Array<[string, string, (b: Bill) => unknown]> = [
  ['MEMO_INVALID', 'memo', (b) => ({ ...b, memo: LONG })],
  ['EXTERNAL_ID_MISSING', 'externalId', (b) => ({ ...b, externalId: LONG })],
  ['VENDOR_NAME_MISSING', 'vendor.name', (b) => ({ ...b, vendor: { ...b.vendor, name: LONG } })],
  ['LINE_DESCRIPTION_INVALID', 'lines[0].description', (b) => ({ ...b, lines: [{ ...b.lines[0]!, description: LONG }] })],
  ['AMOUNT_INVALID', 'lines[0].amount', (b) => ({ ...b, lines: [{ ...b.lines[0]!, amount: `1${'0'.repeat(70_000)}` }] })],
  ['DATE_INVALID', 'date', (b) => ({ ...b, date: LONG })],
  ['ATTACHMENT_FILENAME_INVALID', 'attachment.fileName', (b) => ({ ...b, attachment: { ...b.attachment, fileName: `${LONG}.pdf` } })],
  ['UNKNOWN_FIELD', `k${'x'.repeat(63)}`, (b) => ({ ...b, [`k${LONG}`]: 'v' })],
]

t.test('a string far over its limit rejects its bill alone, with the field\'s code', async (t) => {
  for (const [code, field, mutate] of CASES) {
    const batch = bills(3)
    const res = await postBatch(runtime, { batchId: `long-${Math.random()}`, bills: [batch[0], mutate(batch[1]!), batch[2]] }, { key })
    t.equal(res.status, 202, `${field}: 202 (${res.body.error?.message ?? ''})`)
    t.same(res.body.items?.map((i: { status: string }) => i.status), ['queued', 'rejected', 'queued'], `${field}: the neighbours are queued`)
    t.equal(res.body.items?.[1].error.code, code, `${field}: ${code}`)
    t.equal(res.body.items?.[1].error.details?.field, field, `${field}: the field is named`)
  }
  const single = await postBatch(runtime, { ...bills(1)[0], memo: LONG }, { key }, '/v1/vendor-bills')
  t.equal(single.status, 422, 'one bill alone: 422')
  t.equal(single.body.error.code, 'MEMO_INVALID')
  t.match(single.body.error.message, /memo is 70000 bytes long: it must be at most 2000 characters/)
})

t.test('a 5 MB memo among good bills: 202, that bill rejected, the others queued, its PDF not kept', async (t) => {
  const [a, b, c] = bills(3, 'HUGEMEMO')
  const blobsBefore = (await blobKeys(runtime)).length
  // Sent in pieces, as a client streams it: the memo is never one chunk.
  async function* body() {
    yield Buffer.from(`{"batchId": "huge-memo", "bills": [${JSON.stringify(a)}, ${JSON.stringify(b).slice(0, -1)}, "memo": "`)
    for (let i = 0; i < 80; i++) yield Buffer.alloc(64 * 1024, 'memo text ')
    yield Buffer.from(`"}, ${JSON.stringify(c)}]}`)
  }
  const res = await postBatch(runtime, Readable.from(body()), { key })
  t.equal(res.status, 202)
  t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'rejected', 'queued'])
  t.equal(res.body.items[1].error.code, 'MEMO_INVALID')
  t.equal(res.body.items[1].externalId, b!.externalId)
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM transactions WHERE external_id LIKE 'HUGEMEMO-%'`), 2)
  t.equal((await blobKeys(runtime)).length, blobsBefore + 2, 'one PDF per queued bill')
  const again = await postBatch(runtime, Readable.from(body()), { key })
  t.same(again.body, res.body, 'sent again, the same batch: the first answer (the memo is fingerprinted by its hash)')
})

t.test('envelope damage still fails the whole batch', async (t) => {
  const before = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const broken = await postBatch(runtime, `{"bills": [${JSON.stringify(bills(1)[0])}, {"memo": "${LONG}`, { key })
  t.equal(broken.status, 400)
  t.equal(broken.body.error.code, 'MALFORMED_JSON')
  const longKey = await postBatch(runtime, `{"bills": [], "${LONG}": 1}`, { key })
  t.equal(longKey.status, 400, 'a long key outside the bills')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), before)
})

t.test('a bill at the contract\'s limits (500 lines, 2,000-character descriptions) is accepted, not a failed batch', async (t) => {
  const [a, big, c] = bills(3, 'WIDE')
  const lines = Array.from({ length: 500 }, (_, i) => ({ account: `6100 ${'a'.repeat(195)}`, amount: '1.00', description: `${i} ${'d'.repeat(1990)}` }))
  const res = await postBatch(runtime, { bills: [a, { ...big, lines }, c] }, { key })
  t.equal(res.status, 202, `202 (${res.body.error?.message ?? ''})`)
  t.same(res.body.items?.map((i: { status: string }) => i.status), ['queued', 'queued', 'queued'])
  const stored = await runtime.pool.query(`SELECT amount FROM transactions WHERE external_id = $1`, [big!.externalId])
  t.equal(stored.rows[0]?.amount, '500.00')
})
