import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { formatAlert } from '../../src/delivery/alerts.ts'
import { escape } from '../../src/routes/admin/html.ts'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { adminSession } from '../helpers/admin.ts'
import { CHROMIUM, openPage } from '../helpers/browser.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

// What an AP clerk meets with only the dashboard: each test reads the HTML a browser would get.
const UNMAPPED = '7790 Contract Labour'
const { sandbox, env } = await startSandbox(t, { seed: {
  accounts: 260,
  vendors: [{ name: 'Same Name', email: 'x@same.test' }, { name: 'Same Name', email: 'y@same.test' }, { name: 'Dollar Vendor Inc', currency: 'USD' }],
} })
const runtime = await startTestRuntime(t, env)
const admin = await mintKey(runtime, ['admin'], 'ap-clerk')

const [good, unA1, unA2, unB, amb, mis, rej] = bills(7, 'CLK')
const unmapped = (b: typeof good, vendor: string) => ({ ...b!, vendor: { externalId: `V-${vendor}`, name: vendor }, lines: [{ account: UNMAPPED, amount: '120.00' }] })
const sent = await postBatch(runtime, {
  batchId: 'clerk-batch',
  bills: [
    good,
    unmapped(unA1, 'Alpha Temps'), unmapped(unA2, 'Alpha Temps'), unmapped(unB, 'Bravo Staffing'),
    { ...amb!, vendor: { externalId: 'V-SAME', name: 'Same Name', email: 'z@same.test' } },
    { ...mis!, currency: 'EUR', vendor: { name: 'Dollar Vendor Inc' } },
    { ...rej!, billNumber: 'REJ-FINDME-1', vendor: { name: 'Rejecto Findable Ltd' }, date: 'not-a-date' },
  ],
}, { key: await mintKey(runtime, ['ingest']) })
if (sent.status !== 202) throw new Error(`the batch answered ${sent.status}`)
const [goodId, a1, a2, b1, ambId, misId] = sent.body.items.filter((i: { transactionId?: string }) => i.transactionId).map((i: { transactionId: string }) => i.transactionId) as string[]

const row = async (id: string) => (await runtime.pool.query('SELECT status, attempts, last_error_code, last_error_message, bill_number FROM transactions WHERE id = $1', [id])).rows[0]
const settledAs = async (ids: string[], status: string, attempts?: number) => waitFor(async () => {
  for (const id of ids) {
    const r = await row(id)
    if (r.status !== status || (attempts !== undefined && r.attempts < attempts)) return false
  }
  return true
}, `${ids.length} bills ${status}`)
await settledAs([goodId!], 'delivered')
await settledAs([a1!, a2!, b1!, ambId!, misId!], 'failed')
const session = await adminSession(runtime, admin)

const get = async (url: string) => {
  const res = await request(`${runtime.url}${url}`, { headers: { cookie: session.cookie } })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}
const post = async (url: string, form: Record<string, string | string[]>) => {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries({ _csrf: await session.csrf(), ...form })) for (const one of [v].flat()) body.append(k, one)
  const res = await request(`${runtime.url}${url}`, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
  await res.body.dump()
  return { status: res.statusCode, location: String(res.headers.location ?? '') }
}
/** The overview's "by reason" table as code → bills. */
const reasons = async () => Object.fromEntries([...(await get('/admin')).text.matchAll(/<tr><td>([A-Z_]+)<\/td><td class="num">(\d+)<\/td>/g)].map((m) => [m[1]!, Number(m[2])]))

t.test('the Failed page links its CSV export, with the filter it shows', async (t) => {
  const page = await get('/admin/failed?errorCode=ACCOUNT_UNMAPPED&vendor=Alpha+Temps')
  const href = /href="(\/admin\/failed\.csv[^"]*)"/.exec(page.text)?.[1]
  t.ok(href, 'an Export CSV link')
  t.same(Object.fromEntries(new URL(href!.replaceAll('&amp;', '&'), runtime.url).searchParams), { vendor: 'Alpha Temps', errorCode: 'ACCOUNT_UNMAPPED' }, 'carrying the filter')
  const csv = (await get(href!.replaceAll('&amp;', '&'))).text.trim().split('\r\n').slice(1)
  t.same(csv.map((l) => l.split(',')[0]).sort(), [a1, a2].sort(), "the export is the page's bills")
  t.match((await get('/admin/failed')).text, /href="\/admin\/failed\.csv"/, 'unfiltered, the link exports everything')
})

t.test('messages are shown whole on the Failed page and the bill page', async (t) => {
  const list = (await get('/admin/failed')).text
  for (const id of [ambId!, misId!]) {
    const { last_error_message: message } = await row(id)
    t.ok(message.length > 160, 'a long message')
    t.ok(list.includes(escape(message)), `the whole ${id === ambId ? 'VENDOR_AMBIGUOUS' : 'CURRENCY_MISMATCH'} message is on the list`)
    t.ok((await get(`/admin/transactions/${id}`)).text.includes(escape(message)), 'and on the bill page')
  }
})

t.test('the currency-mismatch fix names what billbridge can do: one Zoho vendor per NetSuite vendor', async (t) => {
  const { last_error_message: message } = await row(misId!)
  t.match(message, /correct it in NetSuite and send the bill again/)
  t.match(message, /enter this bill in Zoho Books by hand under a EUR vendor and mark it resolved/)
  t.match(message, /only if all its bills are in EUR: its USD bills would fail/, 'remapping the vendor is not offered as the fix')
  t.notMatch(message, /or map "Dollar Vendor Inc" to a EUR vendor/)
  const fix = (formatAlert([{ transactionId: misId!, code: 'CURRENCY_MISMATCH', message }], 'json') as { codes: Array<{ fix: string }> }).codes[0]!.fix
  t.match(fix, /mark it resolved/)
  t.notMatch(fix, /^the Zoho vendor books in another currency: map the bill's vendor/)
  const page = await get('/admin/failed?errorCode=CURRENCY_MISMATCH')
  t.ok(page.text.includes(`What to do:</b> ${escape(fix)}`), 'the Failed page filtered to the code says the same')
  t.ok((await get('/admin')).text.includes(escape(fix)), 'and the overview, beside the count')
})

t.test('the account picker searches the whole cached chart and says when it shows only part', async (t) => {
  const total = Number((await runtime.pool.query('SELECT count(*) AS n FROM zoho_accounts WHERE is_active')).rows[0].n)
  t.ok(total >= 260, 'the chart was cached by delivery')
  const key = encodeURIComponent(UNMAPPED.toLowerCase())
  const all = (await get(`/admin/mappings/account?key=${key}`)).text
  t.equal([...all.matchAll(/name="zohoId"/g)].length, 50)
  t.match(all, new RegExp(`Showing 50 of ${total} active accounts`), 'says how many it shows of how many')
  const narrowed = (await get(`/admin/mappings/account?key=${key}&find=${encodeURIComponent('expense 12')}`)).text
  t.equal([...narrowed.matchAll(/name="zohoId"/g)].length, 10, 'part of the name (contains, any case) narrows it')
  t.match(narrowed, /All 10 accounts whose name or code contains/)
  t.match(narrowed, /Operating Expense 125/)
  const byCode = (await get(`/admin/mappings/account?key=${key}&find=7259`)).text
  t.match(byCode, /Operating Expense 259/, 'the last account of the chart, by its code')
})

t.test('bulk retry applies the filter shown on the page and comes back to it', async (t) => {
  const page = (await get('/admin/failed?vendor=Alpha+Temps')).text
  t.match(page, /<form method="post" action="\/admin\/failed\/retry" id="bulk"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="vendor" value="Alpha Temps">/, 'the bulk form carries the filter')
  const done = await post('/admin/failed/retry', { vendor: 'Alpha Temps', all: '1' })
  t.equal(done.status, 303)
  t.match(done.location, /^\/admin\/failed\?vendor=Alpha\+Temps&notice=requeued&n=2$/, 'back to the filtered list, two requeued')
  await settledAs([a1!, a2!], 'failed', 2)
  t.equal((await row(b1!)).attempts, 1, "the other vendor's bill was not retried")
  const audit = await runtime.pool.query(`SELECT detail FROM operator_audit WHERE action = 'retry_bulk' ORDER BY id DESC LIMIT 1`)
  t.same(audit.rows[0].detail.filter, { vendor: 'Alpha Temps' })
})

t.test('failures by reason count the bills failed now, by their last error', async (t) => {
  const retried = await post(`/admin/transactions/${misId}/retry`, {})
  t.equal(retried.status, 303)
  await settledAs([misId!], 'failed', 2)
  const resolved = await post(`/admin/transactions/${b1}/resolve`, { note: 'entered by hand in Zoho' })
  t.equal(resolved.status, 303)
  t.equal((await row(b1!)).status, 'resolved')
  // ACCOUNT_UNMAPPED: two Alpha bills failed twice each and one Bravo bill resolved; CURRENCY_MISMATCH failed twice.
  t.same(await reasons(), { ACCOUNT_UNMAPPED: 2, CURRENCY_MISMATCH: 1, VENDOR_AMBIGUOUS: 1 })
  const { rows } = await runtime.pool.query(`SELECT coalesce(last_error_code, 'UNKNOWN') AS code, count(*)::int AS n FROM transactions WHERE status = 'failed' GROUP BY 1
    EXCEPT SELECT code, n::int FROM failed_by_code WHERE n > 0`)
  t.same(rows, [], 'the rollup is what a scan counts')
})

t.test('the rollup follows inserts, code changes, status changes and deletes of any size', async (t) => {
  const client = await runtime.pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`UPDATE transactions SET last_error_code = 'RETRIES_EXHAUSTED' WHERE id = $1`, [a1])
    await client.query(`UPDATE transactions SET status = 'failed', last_error_code = NULL WHERE id = $1`, [goodId])
    await client.query(`UPDATE transactions SET status = 'queued' WHERE id = $1`, [a2])
    const scan = await client.query(`SELECT coalesce(last_error_code, 'UNKNOWN') AS code, count(*)::int AS n FROM transactions WHERE status = 'failed' GROUP BY 1 ORDER BY 1`)
    const rollup = await client.query('SELECT code, n::int FROM failed_by_code WHERE n <> 0 ORDER BY 1')
    t.same(rollup.rows, scan.rows)
    await client.query(`DELETE FROM attempts WHERE transaction_id IN (SELECT id FROM transactions WHERE status = 'failed')`)
    await client.query(`DELETE FROM transactions WHERE status = 'failed'`)
    t.same((await client.query('SELECT code, n::int FROM failed_by_code WHERE n <> 0')).rows, [], 'nothing failed, nothing counted')
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }
})

t.test('VENDOR_AMBIGUOUS: the picker offers the contacts the error names, with both emails, and maps one', async (t) => {
  const candidates = [...sandbox.state.contacts.values()].filter((c) => c.contact_name === 'Same Name')
  const page = (await get('/admin/mappings/vendor?key=same%20name')).text
  const offered = [...page.matchAll(/name="zohoId" value="(\d+)"/g)].map((m) => m[1])
  t.same(offered.sort(), candidates.map((c) => c.contact_id).sort(), 'the candidates, with no search typed')
  t.match(page, /Zoho email: <b>x@same\.test<\/b>/)
  t.match(page, /Zoho email: <b>y@same\.test<\/b>/)
  t.equal([...page.matchAll(/NetSuite vendor's email: z@same\.test/g)].length, 2, "the NetSuite vendor's email beside each")
  const chosen = candidates.find((c) => c.email === 'y@same.test')!
  const saved = await post('/admin/mappings/vendor', { key: 'same name', zohoId: chosen.contact_id, retry: '1' })
  t.equal(saved.status, 303)
  t.match(saved.location, /notice=mapped-requeued&n=1/)
  await settledAs([ambId!], 'delivered')
  t.equal(sandbox.bills().find((b) => b.bill_number === amb!.billNumber)?.vendor_id, chosen.contact_id, 'delivered to the chosen contact')
})

t.test('Activity names bills by number and vendor, and Zoho accounts by name', async (t) => {
  const accountId = (await runtime.pool.query(`SELECT account_id, account_name FROM zoho_accounts WHERE account_name = 'Miscellaneous'`)).rows[0]
  const mapped = await post('/admin/mappings/account', { key: UNMAPPED.toLowerCase(), zohoId: accountId.account_id })
  t.equal(mapped.status, 303)
  const text = (await get('/admin/activity')).text
  const b1Row = await row(b1!)
  t.match(text, new RegExp(`<a href="/admin/transactions/${b1}" title="transaction ${b1}">${b1Row.bill_number}</a> <span class="muted">Bravo Staffing</span>`), 'the resolved bill by number and vendor')
  t.match(text, new RegExp(`<a href="/admin/transactions/${a1}" title="transaction ${a1}">${unA1!.billNumber}</a>`), 'the bills of a bulk retry')
  t.match(text, /matching vendor Alpha Temps/)
  t.match(text, /NetSuite account 7790 Contract Labour<\/td>\s*<td class="msg">unmapped → <span title="Zoho account \d+">Miscellaneous<\/span>/, 'the Zoho account by its name')
  t.notMatch(text, />[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}</, 'no transaction id as text')
})

t.test('the search box finds items rejected at ingest, in their own section', async (t) => {
  for (const term of ['rej-findme', 'REJECTO find', rej!.externalId.toLowerCase()]) {
    const text = (await get(`/admin/search?q=${encodeURIComponent(term)}`)).text
    t.match(text, /<h2>Rejected at ingest <span class="muted">\(1\)<\/span><\/h2>/, `found by "${term}"`)
    t.match(text, /REJ-FINDME-1[\s\S]*Rejecto Findable Ltd[\s\S]*DATE_INVALID/)
  }
  t.match((await get('/admin/search?q=nothing-like-this')).text, /No bill matches “nothing-like-this”, and no item rejected at ingest/)
})

t.test('a rejected bill with overlong fields is stored and found by their start', async (t) => {
  const [ok, long] = bills(2, 'LONG')
  const res = await postBatch(runtime, { bills: [ok, { ...long!, externalId: `LONGID-${'x'.repeat(3000)}`, billNumber: `LONGNO-${'y'.repeat(3000)}`, vendor: { name: `Longvendor ${'z'.repeat(3000)}` } }] },
    { key: await mintKey(runtime, ['ingest']) })
  t.equal(res.status, 202, 'the batch commits: the search indexes take no overlong value')
  t.equal(res.body.items[1].status, 'rejected')
  for (const term of ['longid-xxx', 'longno-yyy', 'longvendor zzz']) t.match((await get(`/admin/search?q=${term}`)).text, /Rejected at ingest <span class="muted">\(1\)/, `found by "${term}"`)
})

t.test('the Batches page has a column for every outcome, and they add up to the total', async (t) => {
  const text = (await get('/admin/batches')).text
  const head = /<thead><tr>(.*?)<\/tr><\/thead>/s.exec(text)![1]!
  const names = [...head.matchAll(/<th[^>]*>([^<]+)<\/th>/g)].map((m) => m[1])
  t.ok(names.includes('Resolved'), 'a Resolved column')
  const tr = /<tr><td>[^<]*<\/td><td><a href="\/admin\/batches\/[^"]+">clerk-batch<\/a><\/td>(.*?)<\/tr>/s.exec(text)![1]!
  const cells = [...tr.matchAll(/<td class="num">(?:<a [^>]*>)?(\d+)/g)].map((m) => Number(m[1]))
  const col = (name: string) => cells[names.indexOf(name) - 2]!
  t.equal(col('Total'), 7)
  t.same([col('Rejected'), col('Waiting'), col('Delivered'), col('Failed'), col('Resolved'), col('Elsewhere')], [1, 0, 2, 3, 1, 0])
  t.equal(col('Rejected') + col('Waiting') + col('Delivered') + col('Failed') + col('Resolved') + col('Elsewhere'), col('Total'), 'the columns add up')
})

const hasBrowser = fs.existsSync(CHROMIUM)
t.test('in Chromium: filter the Failed page, export it, retry all matching, land on the same filter', { skip: hasBrowser ? false : `no browser at ${CHROMIUM}` }, async (t) => {
  const page = await openPage(t, path.resolve('out/screenshots'))
  await page.goto(`${runtime.url}/admin/login`)
  await page.fill('input[name=apiKey]', admin)
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/admin$/)
  await page.goto(`${runtime.url}/admin/failed`)
  await page.fill('input[name=errorCode]', 'CURRENCY_MISMATCH')
  await page.click('form.filters button[type=submit]')
  await page.waitForURL(/errorCode=CURRENCY_MISMATCH/)
  t.equal(await page.getAttribute('a:has-text("Export CSV")', 'href'), '/admin/failed.csv?errorCode=CURRENCY_MISMATCH')
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Export CSV")')])
  const lines = fs.readFileSync((await download.path())!, 'utf8').trim().split('\r\n')
  t.same(lines.slice(1).map((l) => l.split(',')[0]), [misId], 'the download is the filtered list')
  await page.check('#select-all')
  await page.click('button:has-text("Retry selected")')
  await page.waitForURL(/notice=requeued/)
  t.match(page.url(), /\/admin\/failed\?errorCode=CURRENCY_MISMATCH&notice=requeued&n=1$/)
  t.match(await page.textContent('p.notice'), /Requeued 1 bill/)
  t.equal(await page.inputValue('input[name=errorCode]'), 'CURRENCY_MISMATCH', 'the filter is still shown')
  await settledAs([misId!], 'failed', 3)
})
