import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { silentLogger } from '../helpers/db.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'
import { compareBill, toCents } from '../../src/reconcile/compare.ts'
import { redeliver, settle } from '../../src/reconcile/actions.ts'
import { reconcile, type ReconcileDeps } from '../../src/reconcile/run.ts'

// 450 bills already in Zoho in the same month, not billbridge's: three pages of Zoho's list with the eight below.
const strangers = Array.from({ length: 450 }, (_, i) => ({ vendorName: 'Acme Supplies', billNumber: `OLD-${i}`, date: `2026-11-${String(1 + (i % 8)).padStart(2, '0')}`, total: 10 + i }))
const { sandbox, env } = await startSandbox(t, { seed: { vendors: [{ name: 'Euro Parts GmbH', currency: 'EUR' }], bills: strangers } })
const runtime = await startTestRuntime(t, { ...env, ZOHO_UNIQUE_FIELD: 'cf_netsuite_id', RECONCILE_CRON: '0 0 1 1 *' })
const key = await mintKey(runtime, ['ingest'])
const sent = bills(8, 'REC')
const posted = await postBatch(runtime, { batchId: 'rec', bills: sent }, { key })
if (posted.status !== 202) throw new Error(`the batch answered ${posted.status}`)
await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n === 8, 'eight bills delivered')
const delivered = (await runtime.pool.query<{ id: string; external_id: string; zoho_bill_id: string; zoho_vendor_id: string; amount: string; date: string }>(
  `SELECT id, external_id, zoho_bill_id, zoho_vendor_id, amount::text AS amount, bill->>'date' AS date FROM transactions ORDER BY external_id`)).rows
const byExternal = (n: number) => delivered.find((d) => d.external_id === `REC-${n}`)!

const deps = (extra: Partial<ReconcileDeps> = {}): ReconcileDeps => ({
  pool: runtime.pool, books: runtime.delivery!.books(), organizationId: sandbox.organizationId, uniqueField: 'cf_netsuite_id',
  dailyLimit: 1000, maxDailyShare: 0.05, logger: silentLogger, yieldMs: 0, ...extra,
})
const openDifferences = async () => (await runtime.pool.query(
  `SELECT external_id, transaction_id, zoho_bill_id, kind, billbridge_value, zoho_value FROM reconciliation_differences WHERE resolved_at IS NULL ORDER BY kind, external_id`)).rows
const listCalls = () => sandbox.counters().requestsByEndpoint['GET /bills'] ?? 0
const nextDay = () => runtime.pool.query(`UPDATE reconciliation_budget SET day = day - 1`)

t.test('money is compared to the cent as decimals', async (t) => {
  t.equal(toCents('100.10'), 10010n)
  t.equal(toCents(100.1), 10010n)
  t.equal(toCents('0.005'), 1n, 'half a cent rounds away from zero')
  t.equal(toCents(0.1 + 0.2), 30n, 'a float sum is read from its decimal text')
  t.equal(toCents('-12.345'), -1235n)
  const bill = { id: 't', external_id: 'x', zoho_bill_id: 'z', status: 'cancelled', amount: '10.00', currency: 'USD', date: '2026-11-01', zoho_vendor_id: 'v', zoho_vendor_name: null }
  t.same(compareBill(bill, { bill_id: 'z', status: 'void', total: 10 }), [], 'a bill billbridge cancelled, void in Zoho, is no difference')
  t.same(compareBill({ ...bill, status: 'delivered' }, { bill_id: 'z', status: 'void', total: 10 }).map((d) => d.kind), ['voided_in_zoho'])
})

t.test('a first run over agreeing books finds nothing, listing 200 a page with an explicit sort', async (t) => {
  const before = listCalls()
  const result = await reconcile(deps())
  t.equal(result.state, 'done')
  t.equal(listCalls() - before, 3, '458 bills: three pages')
  t.equal(result.requests, 3, 'every bill was listed: no read by id')
  t.same(await openDifferences(), [])
})

t.test('every kind is found, with both values, and closed again once fixed', async (t) => {
  const euro = [...sandbox.state.contacts.values()].find((c) => c.contact_name === 'Euro Parts GmbH')!
  const stranger = sandbox.bills().find((b) => b.bill_number === 'OLD-0')!
  sandbox.state.deleteBill(byExternal(1).zoho_bill_id)
  sandbox.state.voidBill(byExternal(2).zoho_bill_id)
  sandbox.state.editBill(byExternal(3).zoho_bill_id, { total: Number(byExternal(3).amount) + 0.01 })
  sandbox.state.editBill(byExternal(4).zoho_bill_id, { date: '2026-10-30' })
  sandbox.state.editBill(byExternal(5).zoho_bill_id, { vendorName: 'Someone Else Ltd' })
  sandbox.state.editBill(byExternal(6).zoho_bill_id, { vendorId: euro.contact_id })
  sandbox.state.editBill(stranger.bill_id, { custom_fields: [{ api_name: 'cf_netsuite_id', value: 'NS-UNKNOWN-9' }] })
  await nextDay()
  const result = await reconcile(deps())
  t.equal(result.state, 'done')
  t.equal(result.newDifferences, 8)
  t.same(result.open, { missing_in_zoho: 1, voided_in_zoho: 1, total_differs: 1, date_differs: 1, vendor_differs: 2, currency_differs: 1, not_in_billbridge: 1 })
  const rows = await openDifferences()
  const row = (kind: string, external: string) => rows.find((r) => r.kind === kind && r.external_id === external)
  t.match(row('missing_in_zoho', 'REC-1'), { transaction_id: byExternal(1).id, zoho_bill_id: byExternal(1).zoho_bill_id, zoho_value: null })
  t.match(row('voided_in_zoho', 'REC-2'), { billbridge_value: 'delivered', zoho_value: 'void' })
  t.match(row('total_differs', 'REC-3'), { billbridge_value: byExternal(3).amount, zoho_value: (Number(byExternal(3).amount) + 0.01).toFixed(2) })
  t.match(row('date_differs', 'REC-4'), { billbridge_value: byExternal(4).date, zoho_value: '2026-10-30' }, 'a date moved out of the listed range is read by id')
  t.match(row('vendor_differs', 'REC-5'), { zoho_value: /Someone Else Ltd/ })
  t.match(row('vendor_differs', 'REC-6'), { zoho_value: new RegExp(euro.contact_id) })
  t.match(row('currency_differs', 'REC-6'), { billbridge_value: 'USD', zoho_value: 'EUR' })
  t.match(row('not_in_billbridge', 'NS-UNKNOWN-9'), { transaction_id: null, zoho_bill_id: stranger.bill_id, billbridge_value: null })

  const again = await reconcile(deps())
  t.equal(again.newDifferences, 0, 'a second run finds the same differences, none new')
  t.equal((await openDifferences()).length, 8)

  // Fixed in Zoho (and deleted one delivered again): the next run closes each by itself.
  await runtime.delivery!.books().call({ method: 'POST', path: `/bills/${byExternal(2).zoho_bill_id}/status/open`, endpoint: 'test' })
  sandbox.state.editBill(byExternal(3).zoho_bill_id, { total: Number(byExternal(3).amount) })
  sandbox.state.editBill(byExternal(4).zoho_bill_id, { date: byExternal(4).date })
  sandbox.state.editBill(byExternal(5).zoho_bill_id, { vendorId: byExternal(5).zoho_vendor_id })
  sandbox.state.editBill(byExternal(6).zoho_bill_id, { vendorId: byExternal(6).zoho_vendor_id })
  sandbox.state.editBill(stranger.bill_id, { custom_fields: [] })
  const missing = rows.find((r) => r.kind === 'missing_in_zoho')!
  const finding = (await runtime.pool.query(`SELECT id FROM reconciliation_findings WHERE kind = 'missing_in_zoho' AND resolved_at IS NULL`)).rows[0].id
  t.equal(await redeliver(runtime.pool, runtime.boss, finding, { actor: 'test' }), 'done')
  await waitFor(async () => {
    const r = (await runtime.pool.query(`SELECT status, zoho_bill_id FROM transactions WHERE id = $1`, [missing.transaction_id])).rows[0]
    return r.status === 'delivered' && r.zoho_bill_id !== null && r.zoho_bill_id !== missing.zoho_bill_id
  }, 'the deleted bill delivered again as a new Zoho bill')
  await nextDay()
  const fixed = await reconcile(deps())
  t.equal(fixed.state, 'done')
  t.equal(fixed.closed, 7, 'seven closed as gone (the eighth was delivered again)')
  t.same(await openDifferences(), [])
  const resolutions = (await runtime.pool.query(`SELECT kind, resolution FROM reconciliation_differences ORDER BY kind, external_id`)).rows
  t.same(resolutions.filter((r) => r.resolution !== 'gone'), [{ kind: 'missing_in_zoho', resolution: 'redelivered' }])
})

t.test("accepting Zoho's version settles the difference for good; marking reviewed too", async (t) => {
  sandbox.state.editBill(byExternal(7).zoho_bill_id, { total: 1.23 })
  await nextDay()
  await reconcile(deps())
  const id = (await runtime.pool.query(`SELECT id FROM reconciliation_findings WHERE kind = 'total_differs' AND resolved_at IS NULL`)).rows[0].id
  t.equal(await settle(runtime.pool, id, 'accepted', { actor: 'ops' }), 'done')
  t.equal(await settle(runtime.pool, id, 'reviewed', { actor: 'ops' }), 'not-open', 'once settled it is not open')
  await nextDay()
  const after = await reconcile(deps())
  t.equal(after.newDifferences, 0, 'the same Zoho value is not reopened')
  t.same(await openDifferences(), [])
  sandbox.state.editBill(byExternal(7).zoho_bill_id, { total: 2.34 })
  await nextDay()
  t.equal((await reconcile(deps())).newDifferences, 1, 'a new Zoho value is a new difference')
  const audit = (await runtime.pool.query(`SELECT action, actor, subject FROM operator_audit WHERE action LIKE 'reconcile_%' ORDER BY id`)).rows
  t.same(audit, [{ action: 'reconcile_redeliver', actor: 'test', subject: byExternal(1).id }, { action: 'reconcile_accept', actor: 'ops', subject: byExternal(7).id }])
  sandbox.state.editBill(byExternal(7).zoho_bill_id, { total: Number(byExternal(7).amount) })
  await nextDay()
  await reconcile(deps())
})

t.test('the daily share caps a run; the next run resumes where it stopped and says so', async (t) => {
  await nextDay()
  // dailyLimit 40 × 0.05 = 2 requests a day: the three pages take two days.
  const first = await reconcile(deps({ dailyLimit: 40 }))
  t.equal(first.state, 'paused')
  t.match(first.note, /share of the Zoho quota for reconciliation is spent \(2 requests/)
  t.equal(first.requests, 2)
  const sameDay = await reconcile(deps({ dailyLimit: 40 }))
  t.equal(sameDay.state, 'paused', 'the same day spends nothing more')
  t.equal(sameDay.requests, 0)
  await nextDay()
  const before = listCalls()
  const second = await reconcile(deps({ dailyLimit: 40 }))
  t.equal(second.state, 'done')
  t.equal(second.resumed, true)
  t.equal(listCalls() - before, 1, 'only the page left is read')
  const runs = (await runtime.pool.query(`SELECT state, requests, next_page FROM reconciliation_runs ORDER BY id DESC LIMIT 1`)).rows[0]
  t.match(runs, { state: 'done', requests: 3, next_page: 4 })
})

t.test('deliveries come first: with bills waiting, a run stops without a request', async (t) => {
  await nextDay()
  await runtime.pool.query(`UPDATE transactions SET status = 'queued' WHERE id = $1`, [byExternal(8).id])
  t.teardown(() => runtime.pool.query(`UPDATE transactions SET status = 'delivered' WHERE id = $1`, [byExternal(8).id]))
  const before = listCalls()
  const result = await reconcile(deps())
  t.equal(result.state, 'paused')
  t.match(result.note, /waiting for delivery/)
  t.equal(listCalls(), before)
  await runtime.pool.query(`UPDATE transactions SET status = 'delivered' WHERE id = $1`, [byExternal(8).id])
  t.equal((await reconcile(deps())).state, 'done')
})

t.test('only one run at a time', async (t) => {
  await nextDay()
  const [a, b] = await Promise.all([reconcile(deps()), reconcile(deps())])
  t.same([a.state, b.state].sort(), ['busy', 'done'])
})

t.test('the view is granted to the reporting role; the metric counts open differences by kind', async (t) => {
  const client = await runtime.pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SET ROLE billbridge_reporting')
    const { rows } = await client.query('SELECT count(*)::int AS n FROM reconciliation_differences')
    t.ok(rows[0].n > 0)
    await client.query('ROLLBACK')
  } finally {
    client.release()
  }
  sandbox.state.voidBill(byExternal(8).zoho_bill_id)
  await nextDay()
  await reconcile(deps())
  const metrics = await runtime.metrics.registry.metrics()
  t.match(metrics, `billbridge_reconciliation_differences{organization="${sandbox.organizationId}",kind="voided_in_zoho"} 1\n`)
  t.match(metrics, `billbridge_reconciliation_differences{organization="${sandbox.organizationId}",kind="missing_in_zoho"} 0\n`)
})
