// Reconciliation per organization: two Zoho organizations, each run reading only its own bills, recording and
// closing only its own differences, within its own daily share; the page and the CLI name the organization.
import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { adminSession } from '../helpers/admin.ts'
import { silentLogger } from '../helpers/db.ts'
import { startOrganizations } from '../helpers/organizations.ts'
import { runScript } from '../helpers/process.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'
import { request } from 'undici'
import { reconcile, type ReconcileDeps } from '../../src/reconcile/run.ts'

// The UK organization's daily limit is small: 20 × 0.05 leaves its reconciliation one request a day.
const { sandbox, env } = await startOrganizations(t, [
  { organizationId: '60012345678', subsidiaries: ['*'], entry: { name: 'Acme US' } },
  { organizationId: '60087654321', subsidiaries: ['Acme UK'], entry: { name: 'Acme UK', dailyLimit: 20 } },
])
const us = sandbox.organization('60012345678')
const uk = sandbox.organization('60087654321')
const runtime = await startTestRuntime(t, { ...env, ZOHO_UNIQUE_FIELD: 'cf_netsuite_id', RECONCILE_CRON: '0 0 1 1 *', RECONCILE_MAX_DAILY_SHARE: '0.05' })
const sent = await postBatch(runtime, { batchId: 'rec-orgs', bills: [...bills(3, 'RUS'), ...bills(3, 'RUK').map((b) => ({ ...b, subsidiary: 'Acme UK' }))] }, { key: await mintKey(runtime, ['ingest']) })
if (sent.status !== 202) throw new Error(`the batch answered ${sent.status}`)
await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n === 6, 'six bills delivered')
const delivered = (await runtime.pool.query<{ id: string; external_id: string; zoho_bill_id: string; organization_id: string }>(
  `SELECT id, external_id, zoho_bill_id, organization_id FROM transactions ORDER BY external_id`)).rows
const byExternal = (id: string) => delivered.find((d) => d.external_id === id)!

const organization = (id: string) => runtime.organizations.find((o) => o.organizationId === id)!
const deps = (id: string): ReconcileDeps => ({
  pool: runtime.pool, books: runtime.delivery!.books(id), organizationId: id, uniqueField: 'cf_netsuite_id',
  dailyLimit: organization(id).limits.dailyLimit, maxDailyShare: 0.05, logger: silentLogger, yieldMs: 0,
})
const open = async () => (await runtime.pool.query(`SELECT organization_id, kind, external_id FROM reconciliation_differences WHERE resolved_at IS NULL ORDER BY organization_id, external_id`)).rows
const nextDay = () => runtime.pool.query(`UPDATE reconciliation_budget SET day = day - 1`)

t.test('each run reads its own organization: a difference in one does not appear in the other', async (t) => {
  t.ok(delivered.every((d) => d.organization_id === (d.external_id.startsWith('RUK') ? uk.organizationId : us.organizationId)), 'each bill delivered to its subsidiary\'s organization')
  const first = await reconcile(deps(us.organizationId))
  t.equal(first.state, 'done')
  t.same(await open(), [], 'the US books agree')
  t.equal(first.billsRead, 3, "only the US organization's three bills")

  uk.state.deleteBill(byExternal('RUK-1').zoho_bill_id)
  await nextDay()
  const ukRun = await reconcile(deps(uk.organizationId))
  t.equal(ukRun.state, 'paused', "the UK organization's one request a day lists its bills")
  await nextDay()
  const ukDone = await reconcile(deps(uk.organizationId))
  t.equal(ukDone.state, 'done', 'and the next day it reads the missing one by id')
  t.equal(ukDone.resumed, true)
  t.same(await open(), [{ organization_id: uk.organizationId, kind: 'missing_in_zoho', external_id: 'RUK-1' }], 'the difference is the UK organization\'s')
  t.equal(ukDone.open.missing_in_zoho, 1)

  const usAgain = await reconcile(deps(us.organizationId))
  t.equal(usAgain.state, 'done')
  t.equal(usAgain.closed, 0, "a US run does not close the UK organization's difference")
  t.equal(usAgain.open.missing_in_zoho, 0, 'its counts are its own')
  t.same(await open(), [{ organization_id: uk.organizationId, kind: 'missing_in_zoho', external_id: 'RUK-1' }])
  const runs = (await runtime.pool.query(`SELECT organization_id, count(*)::int AS n FROM reconciliation_runs GROUP BY 1 ORDER BY 1`)).rows
  t.same(runs, [{ organization_id: us.organizationId, n: 2 }, { organization_id: uk.organizationId, n: 1 }], 'runs are per organization (the paused UK run was resumed)')
})

t.test("each organization spends its own daily share: one organization's spent share does not stop the other", async (t) => {
  await nextDay()
  uk.state.editBill(byExternal('RUK-2').zoho_bill_id, { total: 1.23 })
  const ukRun = await reconcile(deps(uk.organizationId))
  t.equal(ukRun.state, 'paused')
  t.match(ukRun.note, /share of the Zoho quota for reconciliation is spent \(1 requests: RECONCILE_MAX_DAILY_SHARE of organization 60087654321's daily limit\)/)
  const usRun = await reconcile(deps(us.organizationId))
  t.equal(usRun.state, 'done', 'the US organization still has its share')
  const budget = (await runtime.pool.query(`SELECT organization_id, requests FROM reconciliation_budget ORDER BY organization_id`)).rows
  t.same(budget.map((b) => b.organization_id), [us.organizationId, uk.organizationId], 'a budget row each')
  t.equal(budget.find((b) => b.organization_id === uk.organizationId).requests, 1)
})

t.test('the page names the organization of each run and difference', async (t) => {
  const session = await adminSession(runtime, await mintKey(runtime, ['admin'], 'ap-operator'))
  const res = await request(`${runtime.url}/admin/reconciliation`, { headers: { cookie: session.cookie } })
  const html = await res.body.text()
  t.equal(res.statusCode, 200)
  t.match(html, /<th>Zoho organization<\/th><th>Bill<\/th>/)
  t.match(html, new RegExp(`<tr><td>Acme UK <code>${uk.organizationId}</code></td><td><a href="/admin/transactions/${byExternal('RUK-1').id}">`), 'the difference, with its organization')
  t.match(html, new RegExp(`<tr><td>Acme US <code>${us.organizationId}</code></td><td>\\d{4}-`), 'a US run')
  t.match(html, /Run a reconciliation now \(every organization\)/)
})

t.test('the CLI reconciles each organization in turn, or the one named; an unknown one is one line, exit 2', async (t) => {
  await nextDay()
  const cliEnv = { ...env, ZOHO_UNIQUE_FIELD: 'cf_netsuite_id', DATABASE_URL: runtime.databaseUrl, LOG_LEVEL: 'silent' }
  const usOnly = await runScript('scripts/cli.ts', ['reconcile', '--organization', us.organizationId], cliEnv)
  t.equal(usOnly.code, 0, usOnly.err)
  t.match(usOnly.out, /^Zoho organization 60012345678 \(Acme US\): reconciliation run \d+ complete$/m)
  t.match(usOnly.out, /^60012345678\tmissing_in_zoho\t0$/m)
  t.notMatch(usOnly.out, /60087654321/, 'the other organization is not touched')
  const all = await runScript('scripts/cli.ts', ['reconcile'], cliEnv)
  t.equal(all.code, 1, 'a difference open in one organization', { err: all.err })
  t.match(all.out, /^Zoho organization 60012345678 \(Acme US\): /m)
  t.match(all.out, /^Zoho organization 60087654321 \(Acme UK\): /m)
  t.match(all.out, /^60087654321\tmissing_in_zoho\t1$/m)
  const unknown = await runScript('scripts/cli.ts', ['reconcile', '--organization', '42'], cliEnv)
  t.equal(unknown.code, 2)
  t.equal(unknown.err, 'error: no Zoho organization 42 is configured; the configured ones are 60012345678 (Acme US), 60087654321 (Acme UK)\n')
})
