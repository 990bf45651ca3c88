import t from 'tap'
import { bills, blobKeys, countRows, getJson, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'

// ROLE=api: no worker, so the tests see exactly what ingestion wrote.
const runtime = await startTestRuntime(t, { ROLE: 'api' })
const keyA = await mintKey(runtime, ['ingest', 'read'], 'sender-a')
const keyB = await mintKey(runtime, ['ingest', 'read'], 'sender-b')

const stored = (prefix: string) => countRows(runtime, 'SELECT count(*) AS n FROM transactions WHERE external_id LIKE $1', [`${prefix}-%`])
const batchRows = (id: string) => countRows(runtime, 'SELECT count(*) AS n FROM batches WHERE client_batch_id = $1', [id])
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/

t.test('an empty or blank batchId is 400 BATCH_ID_INVALID wherever it sits, and nothing is stored', async (t) => {
  const blobsBefore = (await blobKeys(runtime)).length
  const batchesBefore = await countRows(runtime, 'SELECT count(*) AS n FROM batches')
  const [e1, e2, e3] = bills(3, 'EMPTYID')
  const bodies: Array<[string, string]> = [
    ['empty, first', JSON.stringify({ batchId: '', bills: [e1] })],
    ['empty again, with another bill', JSON.stringify({ batchId: '', bills: [e2] })],
    // The body streams: here the PDFs are in the store before batchId arrives.
    ['blank, after the bills', `{"bills": ${JSON.stringify([e2, e3])}, "batchId": " \\t "}`],
  ]
  for (const [label, body] of bodies) {
    const res = await postBatch(runtime, body, { key: keyA })
    t.equal(res.status, 400, `${label}: 400`)
    t.equal(res.body.error.code, 'BATCH_ID_INVALID', `${label}: BATCH_ID_INVALID`)
    t.match(res.body.error.message, /batchId/)
  }
  t.equal(await stored('EMPTYID'), 0, 'no bill stored')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM batches'), batchesBefore, 'no batch stored')
  t.equal((await blobKeys(runtime)).length, blobsBefore, 'the PDFs written before batchId arrived were removed')
  const lookup = await postJson('/v1/transactions/lookup', { externalIds: [e1!.externalId, e2!.externalId] }, keyA)
  t.same(lookup.missing, [e1!.externalId, e2!.externalId], 'the lookup lists both bills as missing: the sender knows to send them again')
})

t.test('a batchId invalid in any other way is a 400 with a stable code, nothing stored', async (t) => {
  const [bill] = bills(1, 'BADID')
  const cases: Array<[string, string]> = [
    [JSON.stringify({ batchId: 'b'.repeat(201), bills: [bill] }), 'INVALID_ENVELOPE'],
    [`{"bills": ${JSON.stringify([bill])}, "batchId": "${'b'.repeat(70_000)}"}`, 'INVALID_ENVELOPE'],
    [JSON.stringify({ batchId: 42, bills: [bill] }), 'INVALID_ENVELOPE'],
    [JSON.stringify({ batchId: null, bills: [bill] }), 'INVALID_ENVELOPE'],
    [JSON.stringify({ batchId: ['x'], bills: [bill] }), 'INVALID_ENVELOPE'],
    [JSON.stringify({ batchId: 'a\u0000b', bills: [bill] }), 'INVALID_ENVELOPE'],
    [`{"batchId": "one", "bills": ${JSON.stringify([bill])}, "batchId": "two"}`, 'INVALID_ENVELOPE'],
  ]
  for (const [body, code] of cases) {
    const res = await postBatch(runtime, body, { key: keyA })
    t.equal(res.status, 400, `${body.slice(0, 40)}: 400`)
    t.equal(res.body.error.code, code, `${body.slice(0, 40)}: ${code}`)
    t.match(res.body.error.message, /batchId/, 'the message names batchId')
  }
  t.equal(await stored('BADID'), 0)
})

t.test('a batchId answers only the batch first sent under it, by the key that sent it', async (t) => {
  const [e3, e4] = bills(2, 'REUSE')
  const first = await postBatch(runtime, { batchId: 'X1', bills: [e3] }, { key: keyA })
  t.equal(first.status, 202)
  const firstUsedAt = (await runtime.pool.query(`SELECT created_at FROM batches WHERE client_batch_id = 'X1'`)).rows[0].created_at.toISOString()

  // Same content, other whitespace and key order: the first answer.
  const reordered = `{ "bills" : [ ${JSON.stringify(Object.fromEntries(Object.entries(e3!).reverse()), null, 2)} ],\n "batchId":"X1" }`
  const again = await postBatch(runtime, reordered, { key: keyA })
  t.equal(again.status, 202, 'the same batch, written differently, is a replay')
  t.same(again.body, first.body, 'with the first answer')

  const rows = await countRows(runtime, 'SELECT count(*) AS n FROM transactions')
  const blobs = (await blobKeys(runtime)).length
  const changes: Array<[string, unknown[], string]> = [
    ['another bill', [e4], keyA],
    ['a changed field', [{ ...e3, memo: 'changed' }], keyA],
    ['a changed PDF', [{ ...e3, attachment: { ...e3!.attachment, contentBase64: e4!.attachment.contentBase64 } }], keyA],
    ['one more bill', [e3, e4], keyA],
    ['another key, another bill', [e4], keyB],
    ['another key, the same bill', [e3], keyB],
  ]
  for (const [label, sent, key] of changes) {
    const res = await postBatch(runtime, { batchId: 'X1', bills: sent }, { key })
    t.equal(res.status, 409, `${label}: 409`)
    t.equal(res.body.error.code, 'BATCH_ID_REUSED', `${label}: BATCH_ID_REUSED`)
    t.equal(res.body.error.details.firstUsedAt, firstUsedAt, `${label}: details say when the id was first used`)
    t.ok(res.body.error.message.includes(firstUsedAt), `${label}: so does the message (${res.body.error.message})`)
    t.equal(res.body.items, undefined, `${label}: no items`)
    if (key === keyB) {
      t.match(res.body.error.message, /another API key/, `${label}: the message says another key used it`)
      const text = JSON.stringify(res.body)
      t.notOk(text.includes('sender-a') || text.includes(first.body.items[0].transactionId) || text.includes(e3!.externalId), `${label}: nothing of the other key's batch shows`)
    }
  }
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM transactions'), rows, 'nothing stored')
  t.equal((await blobKeys(runtime)).length, blobs, 'no PDF kept')
  t.equal(await stored('REUSE'), 1)
  const batch = await getJson(runtime, '/v1/batches/X1', keyB)
  t.same(batch.body.items.map((i: { externalId: string }) => i.externalId), [e3!.externalId], 'the batch is still the first one')

  const fresh = await postBatch(runtime, { batchId: 'X2', bills: [e4] }, { key: keyB })
  t.equal(fresh.status, 202, 'under a new batchId the bill is accepted')
  t.equal(fresh.body.items[0].status, 'queued')
})

t.test('a batch stored before fingerprints answers any resend with its first answer', async (t) => {
  const [old, other] = bills(2, 'LEGACY')
  const first = await postBatch(runtime, { batchId: 'L1', bills: [old] }, { key: keyA })
  // What a row written before migration 0021 looks like.
  await runtime.pool.query(`UPDATE batches SET fingerprint = NULL, api_key_id = NULL WHERE client_batch_id = 'L1'`)
  for (const [body, key] of [[[old], keyA], [[other], keyA], [[other], keyB]] as const) {
    const res = await postBatch(runtime, { batchId: 'L1', bills: body }, { key })
    t.equal(res.status, 202)
    t.same(res.body, first.body, 'the first answer')
  }
  t.equal(await stored('LEGACY'), 1, 'as before: the other bill is not stored')
})

t.test('two requests with the same new batchId at once end with one batch', async (t) => {
  for (let round = 0; round < 3; round++) {
    const id = `RACE-SAME-${round}`
    const sent = bills(3, id)
    const blobsBefore = (await blobKeys(runtime)).length
    const [a, b] = await Promise.all([postBatch(runtime, { batchId: id, bills: sent }, { key: keyA }), postBatch(runtime, { batchId: id, bills: sent }, { key: keyA })])
    t.same([a.status, b.status], [202, 202], `round ${round}, same body: both 202`)
    t.same(a.body, b.body, 'the same answer')
    t.same(a.body.items.map((i: { status: string }) => i.status), ['queued', 'queued', 'queued'])
    t.equal(await batchRows(id), 1, 'one batch')
    t.equal(await stored(id), 3, 'each bill once')
    await waitFor(async () => (await blobKeys(runtime)).length === blobsBefore + 3, 'the second copy of the PDFs to be removed')
  }
  for (let round = 0; round < 3; round++) {
    const id = `RACE-DIFF-${round}`
    const [one, two] = [bills(2, `${id}-A`), bills(2, `${id}-B`)]
    const answers = await Promise.all([postBatch(runtime, { batchId: id, bills: one }, { key: keyA }), postBatch(runtime, { batchId: id, bills: two }, { key: keyA })])
    t.same(answers.map((r) => r.status).sort(), [202, 409], `round ${round}, different bodies: one 202, one 409`)
    const lost = answers.findIndex((r) => r.status === 409)
    t.equal(answers[lost]!.body.error.code, 'BATCH_ID_REUSED')
    t.equal(await batchRows(id), 1, 'one batch')
    t.equal(await stored(`${id}-${lost === 0 ? 'A' : 'B'}`), 0, "the refused body's bills are not stored")
    t.equal(await stored(`${id}-${lost === 0 ? 'B' : 'A'}`), 2, "the accepted body's bills are")
  }
  const [a, b] = await Promise.all([postBatch(runtime, { batchId: 'RACE-KEYS', bills: bills(1, 'RK') }, { key: keyA }), postBatch(runtime, { batchId: 'RACE-KEYS', bills: bills(1, 'RK') }, { key: keyB })])
  t.same([a.status, b.status].sort(), [202, 409], 'two keys, one batchId: one 202, one 409')
})

async function postJson(path: string, body: unknown, key: string) {
  const res = await fetch(`${runtime.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json() as Promise<any>
}
