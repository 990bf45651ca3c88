import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { CookieJar, csrfFrom, getPage, logIn, postForm } from '../helpers/admin.ts'
import { runScript } from '../helpers/process.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

const { sandbox, env } = await startSandbox(t)
const runtime = await startTestRuntime(t, { ...env, RECONCILE_CRON: '0 0 1 1 *' })
const ingest = await mintKey(runtime, ['ingest'])
const admin = await mintKey(runtime, ['admin'], 'ap-operator')
const posted = await postBatch(runtime, { batchId: 'rec-ui', bills: bills(4, 'RUI') }, { key: ingest })
if (posted.status !== 202) throw new Error(`the batch answered ${posted.status}`)
await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n === 4, 'four bills delivered')
const rows = (await runtime.pool.query<{ id: string; external_id: string; zoho_bill_id: string; amount: string }>(
  `SELECT id, external_id, zoho_bill_id, amount::text AS amount FROM transactions ORDER BY external_id`)).rows
const cliEnv = { ...env, DATABASE_URL: runtime.databaseUrl, LOG_LEVEL: 'silent' }
const cli = () => runScript('scripts/cli.ts', ['reconcile'], cliEnv)
const nextDay = () => runtime.pool.query(`UPDATE reconciliation_budget SET day = day - 1`)

t.test('the CLI prints counts per kind: exit 0 when the books agree, 1 while a difference is open', async (t) => {
  const agree = await cli()
  t.equal(agree.code, 0, agree.err)
  t.match(agree.out, /reconciliation run \d+ complete/)
  t.match(agree.out, /missing_in_zoho\t0\n/)
  t.match(agree.out, /no open differences/)
  sandbox.state.deleteBill(rows[0]!.zoho_bill_id)
  sandbox.state.voidBill(rows[1]!.zoho_bill_id)
  sandbox.state.editBill(rows[2]!.zoho_bill_id, { total: Number(rows[2]!.amount) + 5 })
  await nextDay()
  const differ = await cli()
  t.equal(differ.code, 1, differ.err)
  t.match(differ.out, /missing_in_zoho\t1\n/)
  t.match(differ.out, /voided_in_zoho\t1\n/)
  t.match(differ.out, /total_differs\t1\n/)
  t.match(differ.out, /3 open difference\(s\)/)
})

t.test('the dashboard lists differences by kind; its actions are audited; its button queues a run', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const overview = await getPage(runtime, jar, '/admin')
  t.match(overview.html, /<a href="\/admin\/reconciliation">Reconciliation<\/a>/, 'linked from the nav')
  const pageView = await getPage(runtime, jar, '/admin/reconciliation')
  t.equal(pageView.status, 200)
  t.match(pageView.html, /Missing in Zoho/)
  t.match(pageView.html, /Voided in Zoho/)
  t.match(pageView.html, /Total differs/)
  t.notMatch(pageView.html, /<script|onclick=/i, 'no script on the page')
  const idOf = async (kind: string) => (await runtime.pool.query(`SELECT id FROM reconciliation_findings WHERE kind = $1 AND resolved_at IS NULL`, [kind])).rows[0].id as string
  const csrf = csrfFrom(pageView.html)

  const missing = await idOf('missing_in_zoho')
  const noToken = await postForm(runtime, jar, `/admin/reconciliation/${missing}/redeliver`, {})
  t.equal(noToken.status, 403, 'an action without the CSRF token is refused')
  const again = await postForm(runtime, jar, `/admin/reconciliation/${missing}/redeliver`, { _csrf: csrf })
  t.equal(again.status, 303)
  t.match(again.headers.location, /notice=difference-redelivered/)
  await waitFor(async () => {
    const r = (await runtime.pool.query(`SELECT status, zoho_bill_id FROM transactions WHERE id = $1`, [rows[0]!.id])).rows[0]
    return r.status === 'delivered' && r.zoho_bill_id !== rows[0]!.zoho_bill_id
  }, 'delivered again as a new Zoho bill')

  const accepted = await postForm(runtime, jar, `/admin/reconciliation/${await idOf('total_differs')}/accept`, { _csrf: csrf })
  t.match(accepted.headers.location, /notice=difference-settled/)
  const reviewed = await postForm(runtime, jar, `/admin/reconciliation/${await idOf('voided_in_zoho')}/review`, { _csrf: csrf })
  t.match(reviewed.headers.location, /notice=difference-settled/)
  const stale = await postForm(runtime, jar, `/admin/reconciliation/${missing}/review`, { _csrf: csrf })
  t.match(stale.headers.location, /notice=difference-not-open/)

  const run = await postForm(runtime, jar, '/admin/reconciliation/run', { _csrf: csrf })
  t.match(run.headers.location, /notice=reconcile-queued/)
  await nextDay()
  await waitFor(async () => (await runtime.pool.query(`SELECT 1 FROM reconciliation_runs WHERE trigger = 'dashboard' AND state = 'done'`)).rowCount === 1, 'the queued run done by a worker')
  const after = await getPage(runtime, jar, '/admin/reconciliation')
  t.match(after.html, /None: the books agree/)
  const audit = (await runtime.pool.query(`SELECT action, actor, subject FROM operator_audit WHERE action LIKE 'reconcile_%' ORDER BY id`)).rows
  t.same(audit.map((a) => a.action), ['reconcile_redeliver', 'reconcile_accept', 'reconcile_review', 'reconcile_run'])
  t.ok(audit.every((a) => a.actor === 'ap-operator'))
  t.equal(audit[0].subject, rows[0]!.id)
  const ok = await cli()
  t.equal(ok.code, 0, 'nothing open: exit 0')
})
