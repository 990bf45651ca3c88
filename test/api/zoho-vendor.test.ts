// The Zoho vendor each bill went to, as the API (checked against the served document), the bill page and
// the CSV exports show it.
import t from 'tap'
import { request } from 'undici'
import { bills, mintKey, sendBills } from '../helpers/api.ts'
import { adminSession } from '../helpers/admin.ts'
import { startContractProxy } from '../helpers/contract.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

const ACME = 'Acme Supplies'

t.test('a delivered bill carries its Zoho vendor id and name in every answer, on its page and in the CSV', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { vendors: [{ name: ACME, email: 'ap@acme-east.test' }] } })
  const runtime = await startTestRuntime(t, env)
  const proxy = await startContractProxy(runtime.url)
  t.teardown(() => proxy.close())
  const via: TestRuntime = Object.assign(Object.create(runtime), { url: proxy.url })
  const east = [...sandbox.state.contacts.values()].find((c) => c.email === 'ap@acme-east.test')!
  const [good, ambiguous] = bills(2, 'ZV')
  const ids = await sendBills(runtime, [
    { ...good!, vendor: { externalId: 'V-EAST', name: ACME, email: 'ap@acme-east.test' } },
    { ...ambiguous!, vendor: { externalId: 'V-NOMAIL', name: ACME } },
  ])
  await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status IN ('delivered', 'failed')`, [ids])).rows[0].n === 2, 'both bills settled')
  const [deliveredId, failedId] = ids as [string, string]
  const read = await mintKey(runtime, ['read'])
  const get = async (path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) => {
    const res = await request(`${via.url}${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${read}`, ...(init.body ? { 'content-type': 'application/json' } : {}) }, body: init.body })
    return { status: res.statusCode, body: (await res.body.json()) as any }
  }
  const expected = { id: east.contact_id, name: ACME }

  const one = await get(`/v1/transactions/${deliveredId}`)
  t.equal(one.status, 200)
  t.same(one.body.zohoVendor, expected, 'GET /v1/transactions/{id}')
  t.same(one.body.vendor, { externalId: 'V-EAST', name: ACME, email: 'ap@acme-east.test' }, 'the NetSuite vendor as sent')
  t.equal((await get(`/v1/transactions/${failedId}`)).body.zohoVendor, null, 'an ambiguous vendor was never resolved')
  const listed = await get(`/v1/transactions?externalId=${encodeURIComponent(good!.externalId)}`)
  t.same(listed.body.items[0].zohoVendor, expected, 'GET /v1/transactions?externalId=')
  const looked = await get('/v1/transactions/lookup', { method: 'POST', body: JSON.stringify({ externalIds: [good!.externalId, ambiguous!.externalId] }) })
  const byId = new Map(looked.body.items.map((i: { externalId: string }) => [i.externalId, i]))
  t.match(byId.get(good!.externalId), { zohoVendor: expected }, 'POST /v1/transactions/lookup')
  t.match(byId.get(ambiguous!.externalId), { zohoVendor: null })
  t.same(proxy.mismatches, [], 'every answer agrees with the served document')

  const admin = await mintKey(runtime, ['admin'])
  const session = await adminSession(runtime, admin)
  const page = await request(`${runtime.url}/admin/transactions/${deliveredId}`, { headers: { cookie: session.cookie } })
  const html = await page.body.text()
  t.match(html, new RegExp(`<th>Zoho vendor</th><td>${ACME} <code>${east.contact_id}</code>`), 'the bill page names the Zoho vendor and its id')

  const csv = async (path: string) => (await (await request(`${runtime.url}${path}`, { headers: { cookie: session.cookie } })).body.text()).trim().split('\r\n').map((l) => l.split(','))
  const search = await csv(`/admin/search.csv?q=${encodeURIComponent(good!.billNumber)}&by=billNumber`)
  const header = search[0]!
  const row = search.find((cells) => cells.includes(deliveredId))!
  t.same([row[header.indexOf('zoho_vendor_id')], row[header.indexOf('zoho_vendor_name')]], [east.contact_id, ACME], 'the search export has the Zoho vendor')
  const failed = await csv('/admin/failed.csv?errorCode=VENDOR_AMBIGUOUS')
  // Counted from the end (the error message holds commas): the Zoho vendor, then the organization's two columns.
  const vendorColumns = (row: string[]) => row.slice(-4, -2)
  t.same(vendorColumns(failed[0]!), ['zoho_vendor_id', 'zoho_vendor_name'], 'the failed export has the columns')
  t.same(vendorColumns(failed[1]!), ['', ''], 'empty for a bill whose vendor was never resolved')
})
