import { Readable } from 'node:stream'
import t from 'tap'
import { bills, mintKey, postBatch, streamBody } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

const runtime = await startTestRuntime(t, { ROLE: 'api', MAX_BODY_BYTES: '256kb', MAX_ATTACHMENT_BYTES: '32kb', API_RATE_PER_MINUTE: '5' })

t.test('401 without a key or with an unknown or revoked one; 403 without the scope', async (t) => {
  const body = { bills: bills(1) }
  const none = await postBatch(runtime, body)
  t.equal(none.status, 401)
  t.equal(none.body.error.code, 'UNAUTHENTICATED')
  t.match(none.body.error.message, /Authorization: Bearer/)
  t.equal((await postBatch(runtime, body, { key: 'bb_not-a-real-key' })).status, 401)
  t.equal((await postBatch(runtime, body, { headers: { authorization: 'Basic abc' } })).status, 401)
  const readOnly = await mintKey(runtime, ['read'], 'reader')
  const forbidden = await postBatch(runtime, body, { key: readOnly })
  t.equal(forbidden.status, 403)
  t.equal(forbidden.body.error.code, 'FORBIDDEN')
  t.match(forbidden.body.error.message, /"ingest" scope/)
  const revoked = await mintKey(runtime, ['ingest'], 'revoked')
  const { createApiKeyRepository } = await import('../../src/auth/api-keys.ts')
  t.ok(await createApiKeyRepository(runtime.db).revoke('revoked'))
  t.equal((await postBatch(runtime, body, { key: revoked })).status, 401, 'a revoked key is refused')
  const { rows } = await runtime.pool.query('SELECT key_hash FROM api_keys')
  t.notOk(rows.some((r) => Buffer.from(r.key_hash).toString('utf8').includes('bb_')), 'no key stored in clear')
})

t.test('415 for a body that is not JSON', async (t) => {
  const key = await mintKey(runtime, ['ingest'])
  const res = await postBatch(runtime, 'a,b,c', { key, contentType: 'text/csv' })
  t.equal(res.status, 415)
  t.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE')
})

t.test('413 over MAX_BODY_BYTES, by Content-Length and while streaming', async (t) => {
  const key = await mintKey(runtime, ['ingest'])
  const big = { bills: bills(20, 'BIG', 20 * 1024) }
  const declared = await postBatch(runtime, JSON.stringify(big), { key })
  t.equal(declared.status, 413)
  t.equal(declared.body.error.code, 'BODY_TOO_LARGE')
  t.match(declared.body.error.message, /MAX_BODY_BYTES/)
  const streamed = await postBatch(runtime, streamBody(undefined, big.bills), { key })
  t.equal(streamed.status, 413, 'chunked body without Content-Length')
  t.equal(streamed.body.error.code, 'BODY_TOO_LARGE')
  const { rows } = await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE external_id LIKE 'BIG-%'`)
  t.equal(rows[0].n, 0, 'nothing stored')
})

t.test('413 for one bill whose PDF is over the attachment limit', async (t) => {
  const key = await mintKey(runtime, ['ingest'])
  const [bill] = bills(1, 'HUGE', 40 * 1024)
  const res = await postBatch(runtime, bill, { key }, '/v1/vendor-bills')
  t.equal(res.status, 413)
  t.equal(res.body.error.code, 'ATTACHMENT_TOO_LARGE')
  t.match(res.body.error.message, /MAX_ATTACHMENT_BYTES/)
})

t.test('429 with Retry-After once a key passes its rate', async (t) => {
  const key = await mintKey(runtime, ['ingest'], 'busy')
  const statuses: number[] = []
  let last
  for (let i = 0; i < 7; i++) {
    last = await postBatch(runtime, Readable.from([JSON.stringify({ bills: bills(1) })]), { key })
    statuses.push(last.status)
  }
  t.same(statuses.slice(0, 5), [202, 202, 202, 202, 202])
  t.equal(statuses[5], 429)
  t.equal(last!.body.error.code, 'RATE_LIMITED')
  t.ok(Number(last!.headers['retry-after']) > 0, 'Retry-After is set')
  const other = await mintKey(runtime, ['ingest'], 'calm')
  t.equal((await postBatch(runtime, { bills: bills(1) }, { key: other })).status, 202, 'the limit is per key')
})
