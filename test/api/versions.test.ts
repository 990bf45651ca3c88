import t from 'tap'
import { bills, blobKeys, countRows, deliverJobs, getJson, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// ROLE=api: no worker takes the jobs, so the tests see exactly what ingestion wrote.
const runtime = await startTestRuntime(t, { ROLE: 'api' })
const key = await mintKey(runtime, ['ingest', 'read'])

t.test('lastModified and cancelled are checked; a cancel needs only its externalId, and no PDF is kept for it', async (t) => {
  const [good, other] = bills(2, 'LMOD')
  const res = await postBatch(runtime, {
    bills: [
      { ...good!, lastModified: '2026-11-30T14:05:00-08:00' },
      { ...other!, lastModified: '2026-11-30T14:05:00+0000' },
      { ...other!, lastModified: '2026-02-30T14:05:00Z' },
      { ...other!, cancelled: 'yes' },
      { externalId: good!.externalId, cancelled: true, lastModified: 'yesterday' },
      { cancelled: true },
    ],
  }, { key })
  t.equal(res.status, 202)
  t.same(res.body.items.map((i: { status: string; error?: { code: string } }) => i.error?.code ?? i.status),
    ['queued', 'LAST_MODIFIED_INVALID', 'LAST_MODIFIED_INVALID', 'CANCELLED_INVALID', 'LAST_MODIFIED_INVALID', 'EXTERNAL_ID_MISSING'])
  const id = res.body.items[0].transactionId
  const before = (await blobKeys(runtime)).length
  const jobs = await deliverJobs(runtime)
  const cancel = await postBatch(runtime, { bills: [{ externalId: good!.externalId, lastModified: '2026-11-30T15:00:00-08:00', cancelled: true, attachment: good!.attachment }] }, { key })
  t.same(cancel.body.items.map((i: { status: string; transactionId: string }) => [i.status, i.transactionId]), [['cancelled', id]])
  t.equal(cancel.body.accepted, 1)
  t.equal((await blobKeys(runtime)).length, before, 'the PDF sent with a cancel is not kept')
  t.equal(await deliverJobs(runtime), jobs, 'a bill never attempted is cancelled at once: no job')
  const read = await getJson(runtime, `/v1/transactions/${id}`, key)
  t.equal(read.body.status, 'cancelled')
  t.same(read.body.versions.map((v: { number: number; cancelled: boolean; lastModified: string }) => [v.number, v.cancelled, v.lastModified]),
    [[1, false, '2026-11-30T22:05:00.000Z'], [2, true, '2026-11-30T23:00:00.000Z']])
  const lookup = await postBatch(runtime, { externalIds: [good!.externalId] }, { key }, '/v1/transactions/lookup')
  t.equal(lookup.body.items[0].status, 'cancelled', 'the lookup answers cancelled')
  const resent = await postBatch(runtime, { bills: [{ ...good!, lastModified: '2026-12-01T10:00:00-08:00', memo: 'after the cancel' }] }, { key })
  t.equal(resent.body.items[0].status, 'duplicate', 'a cancelled bill stays cancelled')
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM status_counts WHERE status = 'cancelled' AND n = 1`), 1, 'the status rollup counts it')
})

t.test('versions before delivery: updated, stale, duplicate; without lastModified a failed bill is requeued as before', async (t) => {
  const [bill] = bills(1, 'QVER')
  const first = await postBatch(runtime, { bills: [{ ...bill!, lastModified: '2026-11-30T14:05:00-08:00' }] }, { key })
  const id = first.body.items[0].transactionId
  const newer = { ...bill!, lastModified: '2026-11-30T14:06:00-08:00', memo: 'corrected' }
  const second = await postBatch(runtime, { bills: [newer] }, { key })
  t.same(second.body.items.map((i: { status: string; transactionId: string }) => [i.status, i.transactionId]), [['updated', id]])
  const { rows } = await runtime.pool.query('SELECT status, version, bill->>\'memo\' AS memo FROM transactions WHERE id = $1', [id])
  t.same(rows[0], { status: 'queued', version: 2, memo: 'corrected' }, 'the queued bill takes the new content')
  t.equal((await postBatch(runtime, { bills: [newer] }, { key })).body.items[0].status, 'duplicate')
  const stale = await postBatch(runtime, { bills: [{ ...bill!, lastModified: '2026-11-30T22:05:30Z', memo: 'older' }] }, { key })
  t.equal(stale.body.items[0].status, 'stale')
  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED' WHERE id = $1`, [id])
  const requeued = await postBatch(runtime, { bills: [{ ...bill!, memo: 'no lastModified' }] }, { key })
  t.equal(requeued.body.items[0].status, 'requeued')
  t.equal(await countRows(runtime, 'SELECT count(*) AS n FROM bill_versions WHERE transaction_id = $1', [id]), 3)
})
