// Mappings per organization: two Zoho organizations, the same NetSuite account unmapped in both, mapped on
// the Mappings page to a different Zoho account in each; each bill is booked to its own organization's account.
import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { adminSession } from '../helpers/admin.ts'
import { startOrganizations } from '../helpers/organizations.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'

const UNMAPPED = '7788 Temp Staffing'
const { sandbox, env } = await startOrganizations(t, [
  { organizationId: '60012345678', subsidiaries: ['*'], entry: { name: 'Acme US' } },
  { organizationId: '60087654321', subsidiaries: ['Acme UK'], entry: { name: 'Acme UK' } },
])
const us = sandbox.organization('60012345678')
const uk = sandbox.organization('60087654321')
const runtime = await startTestRuntime(t, env)
const admin = await mintKey(runtime, ['admin'], 'ap-operator')
const session = await adminSession(runtime, admin)

const [usA, usB, ukA, ukB] = bills(4, 'ORG').map((b) => ({ ...b, lines: [{ account: UNMAPPED, amount: '250.00' }] }))
const sent = await postBatch(runtime, { batchId: 'org-batch', bills: [usA, usB, { ...ukA, subsidiary: 'Acme UK' }, { ...ukB, subsidiary: 'Acme UK' }] }, { key: await mintKey(runtime, ['ingest']) })
if (sent.status !== 202) throw new Error(`the batch answered ${sent.status}`)
const ids = sent.body.items.map((i: { transactionId: string }) => i.transactionId) as string[]
const statuses = async () => (await runtime.pool.query(`SELECT status FROM transactions WHERE id = ANY($1::uuid[]) ORDER BY external_id`, [ids])).rows.map((r) => r.status as string)
await waitFor(async () => (await statuses()).every((s) => s === 'failed'), 'the four bills failed ACCOUNT_UNMAPPED')

const get = async (path: string) => {
  const res = await request(`${runtime.url}${path}`, { headers: { cookie: session.cookie, accept: 'text/html' } })
  return { status: res.statusCode, text: await res.body.text() }
}
const post = async (path: string, body: Record<string, string>) => {
  const res = await request(`${runtime.url}${path}`, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() })
  await res.body.dump()
  return { status: res.statusCode, location: String(res.headers.location ?? '') }
}
const accountOf = (org: typeof us, code: string) => [...org.state.accounts.values()].find((a) => a.account_code === code)!.account_id
const key = encodeURIComponent(UNMAPPED.toLowerCase())

t.test('each organization lists the accounts of its own bills; the select offers both', async (t) => {
  const list = await get('/admin/mappings?kind=account')
  t.equal(list.status, 200)
  t.match(list.text, /Mappings of the Zoho organization <b>Acme US<\/b> <code>60012345678<\/code>/, 'the default organization first')
  t.match(list.text, /<select name="organization"><option value="60012345678" selected>Acme US \(60012345678\)<\/option><option value="60087654321">Acme UK \(60087654321\)<\/option><\/select>/)
  t.match(list.text, new RegExp(`${UNMAPPED}</td>\\s*<td><span class="tag unmapped">unmapped</span></td>\\s*<td class="num">2</td><td class="num"><span class="error">2</span>`), 'two bills of this organization, both failed')
  t.match(list.text, /href="\/admin\/mappings\/account\?key=7788\+temp\+staffing&amp;organization=60012345678"/, 'the link keeps the organization')
  const other = await get('/admin/mappings?kind=account&organization=60087654321')
  t.match(other.text, /Mappings of the Zoho organization <b>Acme UK<\/b>/)
  t.match(other.text, new RegExp(`${UNMAPPED}</td>\\s*<td><span class="tag unmapped">unmapped</span></td>\\s*<td class="num">2</td>`))
  const unknown = await request(`${runtime.url}/admin/mappings?kind=account&organization=123`, { headers: { cookie: session.cookie, accept: 'application/json' } })
  t.equal(unknown.statusCode, 400)
  const body = await unknown.body.json() as { error: { code: string; message: string } }
  t.equal(body.error.code, 'FILTER_INVALID')
  t.match(body.error.message, /no Zoho organization 123 is configured here; the organizations are 60012345678 \(Acme US\), 60087654321 \(Acme UK\)/)
})

t.test("the same NetSuite account mapped differently in each organization: each bill booked to its own organization's account", async (t) => {
  const usAccount = accountOf(us, '6100')
  const ukAccount = accountOf(uk, '6200')
  const usPicker = await get(`/admin/mappings/account?key=${key}&organization=60012345678`)
  t.equal(usPicker.status, 200)
  t.match(usPicker.text, /<tr><th>Zoho organization<\/th><td>Acme US <code>60012345678<\/code><\/td><\/tr>/)
  t.match(usPicker.text, /<input type="hidden" name="organization" value="60012345678">/, 'the form names the organization')
  t.match(usPicker.text, new RegExp(`value="${usAccount}"`), "the organization's own chart")
  t.match(usPicker.text, /retry the 2 bills that failed for this/)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(usPicker.text)![1]!

  // From a failed bill of the UK organization, the picker opens on that organization.
  const fromBill = await get(`/admin/mappings/account?key=${key}&bill=${ids[2]}`)
  t.match(fromBill.text, /<td>Acme UK <code>60087654321<\/code><\/td>/, "a bill's link opens its own organization")
  t.match(fromBill.text, new RegExp(`value="${ukAccount}"`))

  const savedUs = await post('/admin/mappings/account', { _csrf: csrf, key: UNMAPPED.toLowerCase(), zohoId: usAccount, organization: '60012345678', retry: '1' })
  t.equal(savedUs.status, 303)
  t.match(savedUs.location, /kind=account&organization=60012345678&notice=mapped-requeued&n=2/, "only this organization's two bills are retried")
  const savedUk = await post('/admin/mappings/account', { _csrf: csrf, key: UNMAPPED.toLowerCase(), zohoId: ukAccount, organization: '60087654321', retry: '1' })
  t.match(savedUk.location, /organization=60087654321&notice=mapped-requeued&n=2/)
  await waitFor(async () => (await statuses()).every((s) => s === 'delivered'), 'the four bills delivered')

  const { rows } = await runtime.pool.query(`SELECT organization_id, zoho_account_id FROM account_map WHERE account = $1 ORDER BY organization_id`, [UNMAPPED.toLowerCase()])
  t.same(rows, [{ organization_id: '60012345678', zoho_account_id: usAccount }, { organization_id: '60087654321', zoho_account_id: ukAccount }])
  const booked = (org: typeof us) => org.bills().map((b) => (b as unknown as { line_items: Array<{ account_id: string }> }).line_items.map((l) => l.account_id)).flat()
  t.same(booked(us), [usAccount, usAccount], "the US organization's bills to its account")
  t.same(booked(uk), [ukAccount, ukAccount], "the UK organization's bills to its own")

  const audit = await runtime.pool.query(`SELECT detail FROM operator_audit WHERE action = 'map_account' ORDER BY id`)
  t.match(audit.rows.map((r) => r.detail), [{ new: usAccount, organizationId: '60012345678' }, { new: ukAccount, organizationId: '60087654321' }], 'the audit names the organization')
  const retries = await runtime.pool.query(`SELECT detail FROM operator_audit WHERE action = 'retry_bulk' ORDER BY id`)
  t.match(retries.rows.map((r) => r.detail.filter), [{ organization: '60012345678' }, { organization: '60087654321' }])
})

t.test("a bill given its organization later moves its counts to that organization's list", async (t) => {
  const id = randomUUID()
  const number = `LATE-${randomBytes(3).toString('hex')}`
  await runtime.pool.query(
    `INSERT INTO transactions (id, external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, last_error_code, blob_key, file_name, sha256, size_bytes)
     VALUES ($1, $2, $3, 'Late Vendor', '{"name":"Late Vendor"}', $4, 10, 'USD', 'failed', 'ACCOUNT_UNMAPPED', $5, $6, $7, 100)`,
    [id, `NS-${number}`, number, { date: '2026-11-02', currency: 'USD', lines: [{ account: '9911 Late Account', amount: '10.00' }] }, `blobs/${id}`, `${number}.pdf`, '0'.repeat(64)])
  const usage = async () => (await runtime.pool.query(`SELECT organization_id, bills::int, failed::int FROM mapping_usage WHERE kind = 'account' AND key = '9911 late account' ORDER BY organization_id`)).rows
  t.same(await usage(), [{ organization_id: '', bills: 1, failed: 1 }], 'counted under no organization first')
  await runtime.pool.query(`UPDATE transactions SET organization_id = '60087654321' WHERE id = $1`, [id])
  t.same(await usage(), [{ organization_id: '', bills: 0, failed: 0 }, { organization_id: '60087654321', bills: 1, failed: 1 }], 'moved to its organization')
  await runtime.pool.query(`UPDATE transactions SET status = 'cancelled' WHERE id = $1`, [id])
  t.same((await usage())[1], { organization_id: '60087654321', bills: 1, failed: 0 }, 'no longer failed, in its own organization')
  const uk = await get('/admin/mappings?kind=account&organization=60087654321')
  t.match(uk.text, /9911 Late Account/)
  const usList = await get('/admin/mappings?kind=account')
  t.notMatch(usList.text, /9911 Late Account/, "not in the other organization's list")
})
