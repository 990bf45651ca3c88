import { randomBytes } from 'node:crypto'
import t from 'tap'
import { sandboxOrganizationsEnv, startZohoSandbox } from '../../src/sandbox/server.ts'
import { startAlertReceiver } from '../helpers/alerts.ts'
import { bills, sendBills } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'

// Two organizations delivering for real; a bill of the second fails, and the alert names that organization.
const US = '72000000001'
const UK = '72000000002'
const sandbox = await startZohoSandbox({ organizations: [{ organizationId: US, name: 'Acme US' }, { organizationId: UK, dataCentre: 'eu', name: 'Acme UK' }] })
t.teardown(() => sandbox.close())
const receiver = await startAlertReceiver(t)
const entries = JSON.parse(sandboxOrganizationsEnv(sandbox, { [US]: ['*'], [UK]: ['Acme UK Ltd'] }).ZOHO_ORGANIZATIONS) as Array<Record<string, unknown>>
const runtime = await startTestRuntime(t, {
  ZOHO_ORGANIZATIONS: JSON.stringify(entries.map((e) => ({ ...e, name: e.organizationId === US ? 'Acme US' : 'Acme UK' }))),
  TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ZOHO_TIMEOUT_MS: '2000', DELIVERY_RETRY_DELAY_SECONDS: '1', WORKER_CONCURRENCY: '2',
  ALERT_WEBHOOK_URL: receiver.url, DASHBOARD_URL: 'https://billbridge.example.com',
})

t.test('a bill that fails in one organization: the alert names that organization, by name and id, and links to its failed bills', async (t) => {
  const [ok, unmapped] = bills(2, 'ALERTORG')
  const [okId, failedId] = await sendBills(runtime, [{ ...ok!, subsidiary: 'Acme UK Ltd' }, { ...unmapped!, subsidiary: 'Acme UK Ltd', lines: [{ account: '7777 Consulting Fees', amount: '250.00' }] }])
  const status = async (id: string) => (await runtime.pool.query<{ status: string }>('SELECT status FROM transactions WHERE id = $1', [id])).rows[0]?.status
  await waitFor(async () => (await status(okId!)) === 'delivered' && (await status(failedId!)) === 'failed', 'one delivered, one failed')
  t.equal(sandbox.organization(UK).bills().length, 1, 'the UK organization holds its delivered bill')
  const alert = await waitFor(async () => receiver.alerts.find((a) => a.codes?.some((c: { code: string }) => c.code === 'ACCOUNT_UNMAPPED')), 'the alert')
  t.equal(alert.text, `billbridge: 1 bill failed delivery to Zoho Books in Acme UK (Zoho organization ${UK})`)
  t.match(alert.codes[0], { code: 'ACCOUNT_UNMAPPED', count: 1, organizationId: UK, organizationName: 'Acme UK', link: `https://billbridge.example.com/admin/failed?errorCode=ACCOUNT_UNMAPPED&organization=${UK}` })
  t.match(alert.failures[0], { transactionId: failedId, organizationId: UK, organizationName: 'Acme UK' })
  t.same(alert.organizations, [{ organizationId: UK, organizationName: 'Acme UK', count: 1 }])
})
