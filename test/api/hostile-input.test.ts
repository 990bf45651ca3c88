import t from 'tap'
import { request } from 'undici'
import { bills, countRows, mintKey, postBatch, streamBody } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// ROLE=api: no worker, so failed bills stay failed and the tests see exactly what ingestion wrote.
const runtime = await startTestRuntime(t, { ROLE: 'api', MAX_BILLS_PER_BATCH: '5' })
const key = await mintKey(runtime, ['ingest', 'read', 'admin'])

type Bill = ReturnType<typeof bills>[number]
const POISON: Array<[string, string, (b: Bill) => unknown]> = [
  ['TEXT_INVALID', 'memo', (b) => ({ ...b, memo: 'paid\u0000in full' })],
  ['TEXT_INVALID', 'vendor.name', (b) => ({ ...b, vendor: { ...b.vendor, name: 'Acme \ud800' } })],
  ['TEXT_INVALID', 'externalId', (b) => ({ ...b, externalId: `${b.externalId}\udfff` })],
  ['TEXT_INVALID', 'lines[0].description', (b) => ({ ...b, lines: [{ ...b.lines[0]!, description: 'x\u0000' }] })],
  ['TEXT_INVALID', 'attachment.fileName', (b) => ({ ...b, attachment: { ...b.attachment, fileName: '\ud800.pdf' } })],
  ['AMOUNT_OUT_OF_RANGE', 'lines', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '9999999999999999.99' }, { account: '6100 Office Supplies', amount: '9999999999999999.99' }] })],
  ['AMOUNT_INVALID', 'lines', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '-5.00' }] })],
  ['AMOUNT_INVALID', 'lines', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: 0 }] })],
  ['AMOUNT_INVALID', 'lines', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '-0' }] })],
  ['UNKNOWN_FIELD', 'vendorName', (b) => ({ ...b, vendorName: 'Acme' })],
  ['UNKNOWN_FIELD', 'lines[0].amout', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amout: '1.00', amount: '1.00' }] })],
]

t.test('a poison bill is rejected on its own with a stable code; the rest of the batch is accepted', async (t) => {
  for (const [code, field, poison] of POISON) {
    const [good, bad] = bills(2, `P${Math.random().toString(36).slice(2, 8)}`)
    // JSON.stringify writes lone surrogates as \ud800 escapes, as a sender's JSON library would.
    const res = await postBatch(runtime, { bills: [good, poison(bad!)] }, { key })
    t.equal(res.status, 202, `${code} ${field}: the batch is accepted`)
    t.equal(res.body.accepted, 1)
    t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'rejected'])
    t.equal(res.body.items[1].error.code, code)
    t.equal(res.body.items[1].error.details.field, field)
    const single = await postBatch(runtime, poison(bills(1)[0]!), { key }, '/v1/vendor-bills')
    t.equal(single.status, code === 'UNKNOWN_FIELD' ? 400 : 422, `${code} on POST /v1/vendor-bills`)
    t.equal(single.body.error.code, code)
  }
})

t.test('unknown keys in the envelope and in any request body are a 400 naming the key', async (t) => {
  const envelope = await postBatch(runtime, { batchId: 'typo-1', bils: [], bills: bills(1) }, { key })
  t.equal(envelope.status, 400)
  t.equal(envelope.body.error.code, 'UNKNOWN_FIELD')
  t.match(envelope.body.error.message, /"bils"/)
  const nulBatch = await postBatch(runtime, { batchId: 'b\u0000', bills: bills(1) }, { key })
  t.equal(nulBatch.status, 400, 'a batchId PostgreSQL cannot store is refused before anything is written')

  const failed = await postBatch(runtime, { bills: bills(3, 'RETRY') }, { key })
  t.equal(failed.status, 202)
  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED' WHERE external_id LIKE 'RETRY-%'`)
  const retry = (body: unknown) => request(`${runtime.url}/v1/transactions/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  for (const [body, field] of [[{ filter: { vendorName: 'x' } }, 'filter.vendorName'], [{ vendor: 'x' }, 'vendor']] as const) {
    const res = await retry(body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    const answer = (await res.body.json()) as { error: { code: string; message: string } }
    t.equal(answer.error.code, 'UNKNOWN_FIELD')
    t.match(answer.error.message, field)
  }
  const missing = await retry({})
  t.equal(missing.statusCode, 400, 'retrying everything takes an explicit filter')
  await missing.body.dump()
  const none = await retry({ filter: { vendor: 'Nobody At All' } })
  t.equal(none.statusCode, 202)
  t.equal(((await none.body.json()) as { retried: number }).retried, 0, 'a filter that matches nothing retries nothing')
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM transactions WHERE status = 'failed' AND external_id LIKE 'RETRY-%'`), 3, 'nothing was retried')
})

t.test('a batch past MAX_BILLS_PER_BATCH is a 413 TOO_MANY_BILLS and stores nothing', async (t) => {
  const before = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const res = await postBatch(runtime, streamBody('too-many', bills(6, 'MANY')), { key })
  t.equal(res.status, 413)
  t.equal(res.body.error.code, 'TOO_MANY_BILLS')
  t.match(res.body.error.message, /MAX_BILLS_PER_BATCH/)
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), before, 'no bill stored')
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM batches WHERE client_batch_id = 'too-many'`), 0, 'no batch stored')
  const atLimit = await postBatch(runtime, { bills: bills(5, 'LIMIT') }, { key })
  t.equal(atLimit.status, 202, 'exactly the limit is accepted')
})
