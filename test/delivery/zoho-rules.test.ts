import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { retryTransactions } from '../../src/delivery/retry.ts'
import { mapVendor } from '../../src/delivery/vendors.ts'
import { bills, sendBills as send } from '../helpers/api.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { spawnService } from '../helpers/process.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startAlertReceiver } from '../helpers/alerts.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

async function row(runtime: TestRuntime, id: string) {
  return (await runtime.pool.query('SELECT status, attempts, last_error_code, last_error_message, zoho_bill_id, zoho_attachment FROM transactions WHERE id = $1', [id])).rows[0]
}

async function settled(runtime: TestRuntime, ids: string[]) {
  return waitFor(async () => {
    const { rows } = await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status IN ('delivered', 'failed')`, [ids])
    return rows[0].n === ids.length
  }, 'the bills to be delivered or failed')
}

function one(prefix: string, overrides: Record<string, unknown> = {}) {
  return { ...bills(1, prefix)[0]!, ...overrides }
}

t.test('rule 1: the first bills of a new vendor, met at once by three worker processes, make one Zoho vendor', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const api = await startTestRuntime(t, { ROLE: 'api' })
  const blobDir = api.config.blob.kind === 'fs' ? api.config.blob.root : ''
  const items = bills(12, 'NEWV').map((b) => ({ ...b, vendor: { externalId: 'V-NEW', name: 'Brand New Vendor Ltd', email: 'ap@new.test' } }))
  const ids = await send(api, items)
  const workers = await Promise.all([1, 2, 3].map(() => spawnService(t, 'src/server.ts', { ...env, ROLE: 'worker', WORKER_CONCURRENCY: '4', DATABASE_URL: api.databaseUrl, BLOB_DIR: blobDir, DATA_DIR: blobDir })))
  await settled(api, ids)
  const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status = 'delivered'`, [ids])
  t.equal(rows[0].n, 12, 'every bill delivered')
  const named = [...sandbox.state.contacts.values()].filter((c) => c.contact_name === 'Brand New Vendor Ltd')
  t.equal(named.length, 1, 'one vendor in Zoho')
  t.equal(sandbox.counters().requestsByEndpoint['POST /contacts'], 1, 'created once')
  t.ok(sandbox.bills().every((b) => b.vendor_id === named[0]!.contact_id), 'every bill on that vendor')
  const map = await api.pool.query(`SELECT vendor_key, zoho_vendor_id, origin FROM vendor_map ORDER BY vendor_key`)
  t.same(map.rows.map((r) => [r.vendor_key, r.origin]), [['id:V-NEW', 'created'], ['name:brand new vendor ltd', 'created']])
  for (const w of workers) w.child.kill('SIGTERM')
  await Promise.all(workers.map((w) => w.exited))
})

t.test('rule 1: several active vendors with the name — the email decides, else VENDOR_AMBIGUOUS until an operator maps one', async (t) => {
  const long = `${'Northwind Industrial Components and Precision Fasteners International '.repeat(2)}GmbH`
  const { sandbox, env } = await startSandbox(t, { seed: { vendors: [
    { name: 'Twin Co', email: 'north@twin.test' }, { name: 'TWIN CO', email: 'south@twin.test' }, { name: 'Twin Co', status: 'inactive' },
    { name: 'Same Name', email: 'x@same.test' }, { name: 'Same Name', email: 'y@same.test' }, { name: long },
  ] } })
  const runtime = await startTestRuntime(t, env)
  const [byEmail, ambiguous, longName] = await send(runtime, [
    one('AMB1', { vendor: { name: 'Twin Co', email: 'SOUTH@twin.test' } }),
    one('AMB2', { vendor: { externalId: 'V-SAME', name: 'Same Name', email: 'z@same.test' } }),
    one('AMB3', { vendor: { name: long } }),
  ])
  await settled(runtime, [byEmail!, ambiguous!, longName!])
  const south = [...sandbox.state.contacts.values()].find((c) => c.email === 'south@twin.test')!
  t.equal(sandbox.bills().find((b) => b.bill_number.startsWith('AMB1'))?.vendor_id, south.contact_id, 'the vendor whose email matches')
  const failed = await row(runtime, ambiguous!)
  t.equal(failed.last_error_code, 'VENDOR_AMBIGUOUS')
  const candidates = [...sandbox.state.contacts.values()].filter((c) => c.contact_name === 'Same Name')
  for (const c of candidates) t.match(failed.last_error_message, c.contact_id, 'the message names each candidate')
  t.match(failed.last_error_message, /npm run cli -- map vendor "Same Name"/)
  t.equal((await row(runtime, longName!)).status, 'delivered', `a ${long.length}-character name resolves`)
  t.equal(sandbox.counters().vendorsCreated, 0, 'no vendor was created for any of them')

  await mapVendor(runtime.pool, sandbox.organizationId, 'Same Name', candidates[1]!.contact_id)
  t.same((await retryTransactions(runtime.pool, runtime.boss, [ambiguous!])).retried, [ambiguous])
  await settled(runtime, [ambiguous!])
  t.equal((await row(runtime, ambiguous!)).status, 'delivered')
  t.equal(sandbox.bills().find((b) => b.bill_number.startsWith('AMB2'))?.vendor_id, candidates[1]!.contact_id, "delivered to the operator's choice")
})

t.test('rule 2: a chart of 260 accounts is read page by page', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { accounts: 260 } })
  const runtime = await startTestRuntime(t, env)
  const [id] = await send(runtime, [one('CHART', { lines: [{ account: '7250 Operating Expense 250', amount: '40.00' }, { account: '6100 Office Supplies', amount: '2.00' }] })])
  await settled(runtime, [id!])
  t.equal((await row(runtime, id!)).status, 'delivered', 'an account on the second page maps')
  const wanted = [...sandbox.state.accounts.values()].find((a) => a.account_code === '7250')!
  t.equal(sandbox.bills()[0]!.line_items[0]!.account_id, wanted.account_id)
  t.equal(sandbox.counters().requestsByEndpoint['GET /chartofaccounts'], 2, 'two pages, read once')
  const cached = await runtime.pool.query('SELECT count(*)::int AS n FROM zoho_accounts')
  t.equal(cached.rows[0].n, 260, 'the whole chart is cached')
})

t.test("rule 3: last year's bill with the same number is not adopted; a bill holding the number this year fails the new one by name", async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { bills: [
    { vendorName: 'Acme Supplies', billNumber: 'REPEAT-1', date: '2025-06-01', total: 42, attachment: true },
    { vendorName: 'Acme Supplies', billNumber: 'TAKEN-1', date: '2026-02-01', total: 999 },
  ] } })
  const runtime = await startTestRuntime(t, env)
  const lastYear = sandbox.bills().find((b) => b.bill_number === 'REPEAT-1')!
  const taken = sandbox.bills().find((b) => b.bill_number === 'TAKEN-1')!
  // The first attempt meets a 5xx, so the retry looks for the bill before creating it.
  sandbox.setFaults({ errorRate5xx: 1 })
  const acme = { name: 'Acme Supplies', email: 'ap@acme.test' }
  const [repeat, clash] = await send(runtime, [
    one('R', { billNumber: 'REPEAT-1', vendor: acme, date: '2026-06-01', lines: [{ account: '6100 Office Supplies', amount: '42.00' }] }),
    one('T', { billNumber: 'TAKEN-1', vendor: acme, date: '2026-05-01', lines: [{ account: '6100 Office Supplies', amount: '10.00' }] }),
  ])
  await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM attempts WHERE outcome = 'retry'`)).rows[0].n >= 2, 'both bills to meet a 5xx')
  sandbox.setFaults({ errorRate5xx: 0 })
  await settled(runtime, [repeat!, clash!])
  const repeated = await row(runtime, repeat!)
  t.equal(repeated.status, 'delivered')
  t.not(repeated.zoho_bill_id, lastYear.bill_id, "last year's bill is not adopted")
  t.equal(sandbox.bills().filter((b) => b.bill_number === 'REPEAT-1').length, 2, 'a new bill with the same number, this year')
  t.equal(lastYear.attachments.length, 1, "last year's bill did not get this year's PDF")
  const refused = await row(runtime, clash!)
  t.equal(refused.last_error_code, 'BILL_NUMBER_TAKEN')
  t.match(refused.last_error_message, taken.bill_id, 'the message names the bill holding the number')
  t.match(refused.last_error_message, /not made by billbridge/)
})

t.test("rule 4: a bill takes its vendor's currency — new vendors get the bill's, a mismatch fails, the exchange rate is passed", async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { vendors: [{ name: 'Dollar Vendor Inc', currency: 'USD' }] } })
  const runtime = await startTestRuntime(t, env)
  const [euro, mismatch, unknown] = await send(runtime, [
    one('EUR', { currency: 'EUR', exchangeRate: '1.0825', vendor: { externalId: 'V-EU', name: 'Euro Parts GmbH' } }),
    one('MIS', { currency: 'EUR', vendor: { name: 'Dollar Vendor Inc' } }),
    one('CHF', { currency: 'CHF', vendor: { name: 'Swiss Vendor AG' } }),
  ])
  await settled(runtime, [euro!, mismatch!, unknown!])
  const euroVendor = [...sandbox.state.contacts.values()].find((c) => c.contact_name === 'Euro Parts GmbH')!
  t.equal(euroVendor.currency_code, 'EUR', "the created vendor has the bill's currency")
  const euroBill = sandbox.bills().find((b) => b.vendor_id === euroVendor.contact_id)!
  t.same([euroBill.currency_code, euroBill.exchange_rate], ['EUR', 1.0825])
  const failed = await row(runtime, mismatch!)
  t.equal(failed.last_error_code, 'CURRENCY_MISMATCH')
  t.match(failed.last_error_message, /EUR.*USD/)
  t.equal(failed.attempts, 1, 'fails at once')
  t.equal((await row(runtime, unknown!)).last_error_code, 'CURRENCY_NOT_ENABLED')
  t.equal(sandbox.bills().length, 1, 'nothing booked in another currency')
})

t.test('rule 5: a PDF sent whose answer was lost is checked before it is sent again: attached once', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, { ...env, ZOHO_UNIQUE_FIELD: 'cf_netsuite_id' })
  const [id] = await send(runtime, [one('ATT')])
  await settled(runtime, [id!])
  t.equal(sandbox.counters().attachmentsAdded, 1)
  // A second bill whose attachment answer is lost: the retry reads the bill's documents and does not attach again.
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1, loseAnswerEndpoint: 'POST /bills/:id/attachment' })
  const [lost] = await send(runtime, [one('ATT2')])
  await waitFor(async () => sandbox.counters().attachmentsAdded === 2, 'the PDF to reach Zoho')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0, loseAnswerEndpoint: '' })
  await settled(runtime, [lost!])
  const bill = sandbox.bills().find((b) => b.bill_number.startsWith('ATT2'))!
  t.equal(bill.attachments.length, 1, 'one copy of the PDF')
  t.ok((await row(runtime, lost!)).zoho_attachment)
  t.ok((sandbox.counters().requestsByEndpoint['GET /bills/:id'] ?? 0) >= 1, 'the bill was read before a second attach')
})

t.test('rule 6: with no ZOHO_API_URL the api_domain of the token is used; a wrong data centre refreshes once, then fails with the fix', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  t.notOk('ZOHO_API_URL' in env)
  const runtime = await startTestRuntime(t, env)
  const [ok] = await send(runtime, [one('DC')])
  await settled(runtime, [ok!])
  t.equal((await row(runtime, ok!)).status, 'delivered', 'delivered through the api_domain')
  const api = await runtime.pool.query('SELECT api_domain FROM oauth_tokens')
  t.equal(api.rows[0].api_domain, sandbox.url)

  // Tokens from this accounts server are unknown to another data centre's Books: every request is a 401.
  const other = await startSandbox(t)
  const before = sandbox.counters().tokensIssued
  const db = await createTestDatabase(t)
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-dc-'))
  t.teardown(() => fs.rm(dataDir, { recursive: true, force: true }))
  const wrong = await spawnService(t, 'src/server.ts', { ...env, ZOHO_API_URL: other.sandbox.apiUrl, DATABASE_URL: db.url, DATA_DIR: dataDir })
  const key = (await createApiKeyRepository(db.db).create('dc', ['ingest'])).key
  const res = await request(`${wrong.url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ bills: bills(5, 'WRONGDC') }) })
  const ids = ((await res.body.json()) as { items: Array<{ transactionId: string }> }).items.map((i) => i.transactionId)
  const rows = (await waitFor(async () => {
    const { rows } = await db.pool.query('SELECT status, last_error_code, last_error_message FROM transactions WHERE id = ANY($1::uuid[])', [ids])
    return rows.length === 5 && rows.every((r) => r.status === 'failed') ? rows : null
  }, 'every bill to fail'))!
  t.ok(rows.every((r) => r.last_error_code === 'ZOHO_UNAUTHORIZED'), 'every bill fails as unauthorized')
  t.match(rows[0].last_error_message, /data centre/)
  t.equal(sandbox.counters().tokensIssued - before, 2, 'one token, and one refresh for the 401 — not one per bill')
  t.ok(wrong.logs.some((l) => String(l.msg).includes(`differs from the api_domain ${sandbox.url}`)), 'a warning at start names both')
  wrong.child.kill('SIGTERM')
  await wrong.exited
})

t.test("rule 7: Zoho's daily quota (45) pauses the organization until tomorrow with one alert; its concurrency limit (1070) narrows the slots", async (t) => {
  const { url: alertUrl, alerts } = await startAlertReceiver(t)
  const { sandbox, env } = await startSandbox(t, { dailyLimit: 4 })
  const runtime = await startTestRuntime(t, { ...env, ALERT_WEBHOOK_URL: alertUrl })
  const ids = await send(runtime, bills(6, 'DAILY'))
  await waitFor(async () => (sandbox.counters().responses429ByCode[45] ?? 0) >= 1, 'the daily quota to run out')
  await waitFor(async () => alerts.length >= 1, 'the alert')
  const { rows } = await runtime.pool.query(`SELECT blocked_until, day_count, daily_limit FROM rate_limits`)
  const tomorrow = new Date()
  tomorrow.setUTCHours(24, 0, 0, 0)
  t.equal(rows[0].blocked_until.getTime(), tomorrow.getTime(), 'paused until the next UTC midnight')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(sandbox.counters().responses429ByCode[45], 1, 'no request after the pause began')
  t.equal(alerts.length, 1, 'one alert')
  t.equal(alerts[0].failures[0].code, 'ZOHO_DAILY_LIMIT')
  t.match(alerts[0].failures[0].message, /bills wait until/)
  const waiting = await runtime.pool.query(`SELECT count(*)::int AS n, max(attempts)::int AS spent FROM transactions WHERE id = ANY($1::uuid[]) AND status = 'queued'`, [ids])
  t.ok(waiting.rows[0].n >= 1, `${waiting.rows[0].n} bills wait for tomorrow`)
  t.equal(waiting.rows[0].spent, 0, 'without spending an attempt')

  const busy = await startSandbox(t, { concurrency: 1, ratePerMinute: 600 })
  busy.sandbox.setFaults({ latencyMs: 400 })
  const narrow = await startTestRuntime(t, { ...busy.env, ZOHO_RATE_PER_MINUTE: '600', ZOHO_MAX_CONCURRENCY: '3', WORKER_CONCURRENCY: '3' })
  const more = await send(narrow, bills(8, 'CONC'))
  await settled(narrow, more)
  const all = await narrow.pool.query(`SELECT count(*)::int AS n, max(attempts)::int AS spent FROM transactions WHERE status = 'delivered'`)
  t.same([all.rows[0].n, all.rows[0].spent], [8, 1], 'all delivered, no attempt spent on 1070')
  t.ok((busy.sandbox.counters().responses429ByCode[1070] ?? 0) >= 1, 'Zoho refused concurrent requests')
  const cap = await narrow.pool.query(`SELECT concurrency_cap FROM rate_limits`)
  t.ok(cap.rows[0].concurrency_cap < 3, `the organization's slots narrowed to ${cap.rows[0].concurrency_cap}`)
})
