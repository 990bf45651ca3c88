// POST /v1/transactions/lookup over HTTP: the bulk read the NetSuite sender writes back from.
import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

const runtime = await startTestRuntime(t, { ROLE: 'api' })
const lookup = (body: unknown, key?: string) => postBatch(runtime, body, { key }, '/v1/transactions/lookup')

t.test('the state of many bills in one request, and the ids billbridge does not have', async (t) => {
  const ingest = await mintKey(runtime, ['ingest'])
  const read = await mintKey(runtime, ['read'])
  const sent = bills(3, 'LK')
  const answer = await postBatch(runtime, { bills: sent }, { key: ingest })
  t.equal(answer.status, 202)
  const ids = sent.map((b) => b.externalId)
  await runtime.pool.query(`UPDATE transactions SET status = 'delivered', zoho_bill_id = 'Z-9', delivered_at = now() WHERE external_id = $1`, [ids[0]])
  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED', last_error_message = 'no Zoho account' WHERE external_id = $1`, [ids[1]])

  const res = await lookup({ externalIds: [...ids, 'NOT-THERE', ids[0]] }, read)
  t.equal(res.status, 200)
  const byId = new Map(res.body.items.map((i: { externalId: string }) => [i.externalId, i]))
  t.equal(byId.size, 3, 'each known bill once, even when asked twice')
  t.match(byId.get(ids[0]), { status: 'delivered', zohoBillId: 'Z-9', lastErrorCode: null, deliveredAt: /^\d{4}-\d\d-\d\dT/, updatedAt: /^\d{4}-/ })
  t.match(byId.get(ids[1]), { status: 'failed', zohoBillId: null, lastErrorCode: 'ACCOUNT_UNMAPPED', lastErrorMessage: 'no Zoho account', deliveredAt: null })
  t.match(byId.get(ids[2]), { status: 'queued', transactionId: answer.body.items[2].transactionId })
  t.same(res.body.missing, ['NOT-THERE'])
})

t.test('at most 100 ids, read scope', async (t) => {
  const read = await mintKey(runtime, ['read'])
  const ingestOnly = await mintKey(runtime, ['ingest'])
  const hundred = Array.from({ length: 100 }, (_, i) => `X-${i}`)
  const full = await lookup({ externalIds: hundred }, read)
  t.equal(full.status, 200)
  t.equal(full.body.missing.length, 100)
  t.equal((await lookup({ externalIds: [...hundred, 'X-100'] }, read)).status, 400, '101 ids are refused')
  t.equal((await lookup({ externalIds: [] }, read)).status, 400)
  t.equal((await lookup({ externalIds: ['1'] }, ingestOnly)).status, 403)
  t.equal((await lookup({ externalIds: ['1'] })).status, 401)
})
