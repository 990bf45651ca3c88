import { gzipSync } from 'node:zlib'
import t from 'tap'
import { request } from 'undici'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { startContractProxy } from '../helpers/contract.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'

// ROLE=api, small limits so every documented refusal can be provoked cheaply.
const runtime = await startTestRuntime(t, { ROLE: 'api', MAX_BODY_BYTES: '256kb', MAX_ATTACHMENT_BYTES: '32kb', MAX_BILLS_PER_BATCH: '5', API_RATE_PER_MINUTE: '40' })
const proxy = await startContractProxy(runtime.url)
t.teardown(() => proxy.close())
const via: TestRuntime = Object.assign(Object.create(runtime), { url: proxy.url })
const all = await mintKey(runtime, ['ingest', 'read', 'admin'])
const readOnly = await mintKey(runtime, ['read'])

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, options: { key?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const res = await request(`${proxy.url}${path}`, {
    method,
    headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: options.body } : {}),
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

t.test('every operation, its answers and its refusals agree with the served document', async (t) => {
  t.equal((await call('GET', '/health/live')).status, 200)
  t.equal((await call('GET', '/health/ready')).status, 200)

  const longBatchId = `B${'x'.repeat(199)}`
  const [good, bad, notPdf] = bills(3, 'CONTRACT')
  const sent = await postBatch(via, { batchId: longBatchId, bills: [good, { ...bad!, memo: 'x'.repeat(2001) }] }, { key: all })
  t.equal(sent.status, 202)
  const id = sent.body.items[0].transactionId
  t.equal((await postBatch(via, { bills: [{ ...bad!, vendorName: 'x' }] }, { key: all })).status, 422, 'every bill rejected')
  t.equal((await postBatch(via, { bills: bills(6) }, { key: all })).status, 413, 'too many bills')
  t.equal((await postBatch(via, { bills: bills(1), extra: true }, { key: all })).status, 400, 'unknown envelope key')
  t.equal((await postBatch(via, '{"bills": [', { key: all })).status, 400, 'malformed JSON')
  t.equal((await postBatch(via, { bills: bills(1) }, {})).status, 401)
  t.equal((await postBatch(via, { bills: bills(1) }, { key: readOnly })).status, 403)
  t.equal((await postBatch(via, 'a,b', { key: all, contentType: 'text/csv' })).status, 415)
  t.equal((await call('POST', '/v1/vendor-bills/batches', { key: all, body: gzipSync(JSON.stringify({ bills: bills(1) })), headers: { 'content-encoding': 'gzip' } })).status, 415)
  t.equal((await postBatch(via, JSON.stringify({ bills: bills(40, 'BIG', 8 * 1024) }), { key: all })).status, 413, 'body too large')

  t.equal((await postBatch(via, bills(1)[0], { key: all }, '/v1/vendor-bills')).status, 202)
  t.equal((await postBatch(via, { ...notPdf!, attachment: { ...notPdf!.attachment, contentBase64: Buffer.from('GIF89a').toString('base64') } }, { key: all }, '/v1/vendor-bills')).status, 422)
  t.equal((await postBatch(via, { ...bills(1)[0]!, colour: 'red' }, { key: all }, '/v1/vendor-bills')).status, 400)
  t.equal((await postBatch(via, bills(1, 'HUGE', 40 * 1024)[0], { key: all }, '/v1/vendor-bills')).status, 413)

  t.equal((await call('GET', `/v1/transactions/${id}`, { key: all })).status, 200)
  t.equal((await call('GET', '/v1/transactions/00000000-0000-4000-8000-000000000000', { key: all })).status, 404)
  t.equal((await call('GET', '/v1/transactions/not-a-uuid', { key: all })).status, 404)
  const tooLong = await call('GET', `/v1/transactions/${'x'.repeat(300)}`, { key: all })
  t.equal(tooLong.status, 414)
  t.equal(tooLong.body.error.code, 'URI_TOO_LONG')
  t.equal((await call('GET', '/v1/transactions?externalId=CONTRACT-1', { key: all })).status, 200)
  t.equal((await call('GET', '/v1/backlog', { key: all })).status, 200)
  t.equal((await call('GET', '/v1/transactions', { key: all })).status, 400, 'externalId is required')
  const batch = await call('GET', `/v1/batches/${longBatchId}`, { key: all })
  t.equal(batch.status, 200, 'a 200-character batchId reads back')
  t.equal(batch.body.batchId, longBatchId)
  t.equal((await call('GET', '/v1/batches/nope', { key: all })).status, 404)
  const lookup = await call('POST', '/v1/transactions/lookup', { key: all, body: JSON.stringify({ externalIds: [good!.externalId, 'NS-NEVER'] }) })
  t.equal(lookup.status, 200)
  t.same(lookup.body.missing, ['NS-NEVER'])
  t.equal((await call('POST', '/v1/transactions/lookup', { key: all, body: JSON.stringify({ externalIds: ['x'], since: 'now' }) })).status, 400, 'unknown key')
  t.equal((await call('POST', '/v1/transactions/lookup', { key: all, body: JSON.stringify({ externalIds: [] }) })).status, 400, 'no ids')

  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED' WHERE id = $1`, [id])
  t.equal((await call('POST', `/v1/transactions/${id}/retry`, { key: all })).status, 202)
  t.equal((await call('POST', `/v1/transactions/${id}/retry`, { key: all })).status, 409)
  t.equal((await call('POST', '/v1/transactions/00000000-0000-4000-8000-000000000000/retry', { key: all })).status, 404)
  await runtime.pool.query(`UPDATE transactions SET status = 'failed' WHERE id = $1`, [id])
  const note = JSON.stringify({ note: 'entered by hand in Zoho' })
  t.equal((await call('POST', `/v1/transactions/${id}/resolve`, { key: all, body: note })).status, 200)
  t.equal((await call('POST', `/v1/transactions/${id}/resolve`, { key: all, body: note })).status, 409)
  t.equal((await call('POST', '/v1/transactions/nope/resolve', { key: all, body: note })).status, 404)
  t.equal((await call('POST', `/v1/transactions/${id}/resolve`, { key: all, body: '{}' })).status, 400, 'a note is required')
  t.equal((await call('POST', '/v1/transactions/retry', { key: all, body: JSON.stringify({ filter: { vendor: 'Nobody' } }) })).status, 202)
  t.equal((await call('POST', '/v1/transactions/retry', { key: all, body: JSON.stringify({ filter: { vendorName: 'x' } }) })).status, 400)
  t.equal((await call('POST', '/v1/transactions/retry', { key: all, body: '{"filter": ' })).status, 400, 'malformed JSON')
  t.equal((await call('POST', '/v1/transactions/retry', { key: all, body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415)
  t.equal((await call('POST', '/v1/transactions/retry', { key: all, body: JSON.stringify({ filter: { vendor: 'x'.repeat(2_000_000) } }) })).status, 413)

  const noKey = await call('GET', `/v1/transactions/${id}`)
  t.equal(noKey.status, 401)
  t.equal(noKey.headers['www-authenticate'], 'Bearer realm="billbridge"')
  const odd = await call('GET', '/health/live', { headers: { 'x-request-id': `<b>${'a'.repeat(6000)}</b>` } })
  t.not(odd.headers['x-request-id'], `<b>${'a'.repeat(6000)}</b>`, 'an unsafe X-Request-Id is replaced')
  t.equal((await call('GET', '/health/live', { headers: { 'x-request-id': 'ns-run-7.bill:42' } })).headers['x-request-id'], 'ns-run-7.bill:42', 'a safe one is kept')

  // The rate limit is per key across every /v1 route: reads spend the same budget as ingest.
  const busy = await mintKey(runtime, ['ingest', 'read'])
  let limited
  for (let i = 0; i < 45 && !limited; i++) {
    const res = await call('GET', '/v1/transactions?externalId=none', { key: busy })
    if (res.status === 429) limited = res
  }
  t.ok(limited, 'a key past API_RATE_PER_MINUTE on read routes gets 429')
  t.equal(limited!.body.error.code, 'RATE_LIMITED')
  t.equal((await postBatch(via, { bills: bills(1) }, { key: busy })).status, 429, 'and ingest is limited for the same key')

  t.same(proxy.mismatches, [], 'no answer differs from the document')
  t.same([...proxy.operations].filter((op) => !proxy.seen.has(op)), [], 'every documented operation was exercised')
})

t.test('the service keeps the document\'s word: the codes, statuses and shapes it publishes', async (t) => {
  const key = await mintKey(runtime, ['ingest', 'read', 'admin'])
  const [good, lower, alone] = bills(3, 'WORD')

  // A batch with one bill the strict bill schema refuses: the document lets it through, the service takes the rest.
  const partial = await postBatch(via, { batchId: 'word-partial', bills: [good, { ...lower!, currency: 'usd' }] }, { key })
  t.equal(partial.status, 202)
  t.same([partial.body.accepted, partial.body.rejected], [1, 1])
  t.same(partial.body.items[1].error, { code: 'CURRENCY_INVALID', message: partial.body.items[1].error?.message, details: { field: 'currency' } }, 'the field at fault is in error.details.field, as for one bill')
  t.equal((await call('GET', '/v1/batches/word-partial', { key })).body.items[1].error.details?.field, 'currency', 'and so when the batch is read back')
  const single = await postBatch(via, { ...alone!, currency: 'usd' }, { key }, '/v1/vendor-bills')
  t.same([single.status, single.body.error.details?.field], [422, 'currency'])

  const none = await postBatch(via, { bills: [{ ...alone!, currency: 'usd' }] }, { key })
  t.equal(none.status, 422)
  t.equal(none.body.error?.code, 'BATCH_REJECTED', 'the 422 batch answer carries the error envelope too')
  t.equal(none.body.items[0].error.details?.field, 'currency')

  const id = partial.body.items[0].transactionId
  await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'CURRENCY_MISMATCH' WHERE id = $1`, [id])
  const resolve = (body: string | undefined, headers: Record<string, string> = {}) => call('POST', `/v1/transactions/${id}/resolve`, { key, ...(body === undefined ? {} : { body }), headers })
  t.equal((await resolve(JSON.stringify({ note: 'x'.repeat(2001) }))).body?.error?.code, 'NOTE_TOO_LONG')
  t.equal((await resolve('{}')).body?.error?.code, 'NOTE_REQUIRED', 'a missing note')
  t.equal((await resolve(JSON.stringify({ note: '   ' }))).body?.error?.code, 'NOTE_REQUIRED', 'a blank note')
  t.equal((await resolve(undefined)).body?.error?.code, 'NOTE_REQUIRED', 'no body at all')
  t.equal((await resolve(JSON.stringify({ note: 5 }))).body?.error?.code, 'INVALID_REQUEST', 'a note that is not text is not converted to one')
  t.equal((await resolve(JSON.stringify({ note: 'ok', by: 'me' }))).body?.error?.code, 'UNKNOWN_FIELD')
  t.equal((await resolve('note', { 'content-type': 'text/plain' })).status, 415)
  t.equal((await resolve(JSON.stringify({ note: 'x'.repeat(1_500_000) }))).status, 413)

  const retry = (body?: string, headers: Record<string, string> = {}) => call('POST', `/v1/transactions/${id}/retry`, { key, ...(body === undefined ? {} : { body }), headers })
  const forced = await retry(JSON.stringify({ force: true }))
  t.same([forced.status, forced.body?.error?.code, forced.body?.error?.details?.field], [400, 'UNKNOWN_FIELD', 'force'], 'an option retry does not take is refused, not ignored')
  t.equal((await retry('x', { 'content-type': 'text/plain' })).status, 415)
  t.equal((await retry('[]')).status, 400, 'a body that is not an object')
  t.equal((await retry('{}')).status, 202, 'an empty object is the same as no body')

  const lookup = (body: unknown) => call('POST', '/v1/transactions/lookup', { key, body: JSON.stringify(body) })
  const scalar = await lookup({ externalIds: good!.externalId })
  t.same([scalar.status, scalar.body?.error?.code], [400, 'INVALID_REQUEST'], 'externalIds as a string is refused, not made a list')
  t.equal((await lookup({ externalIds: [48213] })).status, 400, 'a number is not an id')
  t.equal((await call('POST', '/v1/transactions/retry', { key, body: JSON.stringify({ filter: { errorCode: 'NO_SUCH_CODE' } }) })).status, 400, 'the errorCode filter takes the published delivery codes')
  t.equal((await call('POST', '/v1/transactions/retry', { key, body: JSON.stringify({ filter: { errorCode: 'CURRENCY_MISMATCH' } }) })).status, 202)

  const remove = await call('DELETE', `/v1/transactions/${id}`, { key })
  t.same([remove.status, remove.body?.error?.code, remove.headers.allow], [405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'])
  t.equal((await call('DELETE', '/v1/vendor-bills/batches', { key })).headers.allow, 'POST')
  t.equal((await call('DELETE', '/v1/no-such-thing', { key })).status, 404, 'an unknown path is still a 404')

  t.same(proxy.mismatches, [], 'no answer differs from the document')
})
