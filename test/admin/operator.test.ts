import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CHROMIUM, openPage } from '../helpers/browser.ts'
import { request } from 'undici'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { adminSession } from '../helpers/admin.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

// The pictures in docs/operations.md are refreshed on request (UPDATE_SCREENSHOTS=1); a plain run writes under out/.
const SHOTS = path.resolve(process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'out/screenshots')
const UNMAPPED = '7788 Temp Staffing'

const { env } = await startSandbox(t)
const runtime = await startTestRuntime(t, env)
const admin = await mintKey(runtime, ['admin'], 'ap-operator')
const ingest = await mintKey(runtime, ['ingest'])

const statuses = async (ids: string[]) => (await runtime.pool.query('SELECT status FROM transactions WHERE id = ANY($1::uuid[])', [ids])).rows.map((r) => r.status as string)

// Two bills delivered, two fail ACCOUNT_UNMAPPED, two are rejected at ingest.
const [goodA, goodB, badA, badB, rejA, rejB] = bills(6, 'OPS')
const unmapped = (b: typeof goodA) => ({ ...b!, lines: [{ account: UNMAPPED, amount: '250.00' }] })
const sent = await postBatch(runtime, {
  batchId: 'ops-batch',
  bills: [goodA, goodB, unmapped(badA), unmapped(badB), { ...rejA!, vendor: undefined }, { ...rejB!, date: 'not-a-date' }],
}, { key: ingest })
if (sent.status !== 202) throw new Error(`the batch answered ${sent.status}`)
const ids = sent.body.items.filter((i: { transactionId?: string }) => i.transactionId).map((i: { transactionId: string }) => i.transactionId) as string[]
const failedIds = ids.slice(2)
await waitFor(async () => (await statuses(failedIds)).every((s) => s === 'failed') && (await statuses(ids.slice(0, 2))).every((s) => s === 'delivered'), 'two delivered and two failed')
const session = await adminSession(runtime, admin)

t.test('rejected items are rows: the batch page and the rejected view list them with code, field and message', async (t) => {
  const { rows } = await runtime.pool.query('SELECT item_index, code, field FROM rejected_items ORDER BY item_index')
  t.same(rows.map((r) => [r.item_index, r.code]), [[4, 'VENDOR_MISSING'], [5, 'DATE_INVALID']])
  const batch = await request(`${runtime.url}/admin/batches/ops-batch`, { headers: { cookie: session.cookie } })
  const text = await batch.body.text()
  t.equal(batch.statusCode, 200)
  t.match(text, /Rejected \(2\)/)
  t.match(text, /VENDOR_MISSING/)
  t.match(text, new RegExp(rejA!.externalId))
  const view = await request(`${runtime.url}/admin/rejected?code=VENDOR_MISSING`, { headers: { cookie: session.cookie } })
  const viewText = await view.body.text()
  t.match(viewText, new RegExp(rejA!.externalId))
  t.notMatch(viewText, new RegExp(rejB!.externalId), 'the code filter leaves the other out')
  const impossible = await request(`${runtime.url}/admin/rejected?from=2026-02-30`, { headers: { cookie: session.cookie, accept: 'application/json' } })
  t.equal(impossible.statusCode, 400)
  t.equal(((await impossible.body.json()) as any).error.code, 'FILTER_INVALID', 'an impossible date is refused with a stable code')
})

t.test('CSV export of the failed list matches the database', async (t) => {
  const res = await request(`${runtime.url}/admin/failed.csv?errorCode=ACCOUNT_UNMAPPED`, { headers: { cookie: session.cookie } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/csv/)
  const lines = (await res.body.text()).trim().split('\r\n')
  t.equal(lines[0], 'id,bill_number,netsuite_id,vendor,amount,currency,error_code,error_message,attempts,created_at,zoho_vendor_id,zoho_vendor_name,organization,organization_name')
  const db = await runtime.pool.query(`SELECT id, bill_number, external_id, amount, last_error_code FROM transactions WHERE status = 'failed' AND last_error_code = 'ACCOUNT_UNMAPPED' ORDER BY created_at DESC, id DESC`)
  t.equal(lines.length - 1, db.rows.length)
  db.rows.forEach((row, i) => {
    const cells = lines[i + 1]!.split(',')
    t.same([cells[0], cells[1], cells[2], cells[4], cells[6]], [row.id, row.bill_number, row.external_id, row.amount, 'ACCOUNT_UNMAPPED'], `row ${i + 1} is the database's`)
  })
})

t.test('marking resolved needs a note; audit rows cannot be changed; the reporting role reads operator_actions', async (t) => {
  const res = await request(`${runtime.url}/v1/transactions/${failedIds[0]}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{}' })
  t.equal(res.statusCode, 400, 'no note, no resolve')
  await res.body.dump()
  t.same(await statuses([failedIds[0]!]), ['failed'])
  await t.rejects(runtime.pool.query('UPDATE operator_audit SET actor = $1', ['someone else']), /append-only/)
  await t.rejects(runtime.pool.query('DELETE FROM operator_audit'), /append-only/)
  const client = await runtime.pool.connect()
  try {
    await client.query('SET ROLE billbridge_reporting')
    const { rows } = await client.query(`SELECT key_name, action FROM operator_actions WHERE action = 'login'`)
    t.ok(rows.some((r) => r.key_name === 'ap-operator'), 'the log in is there under the key name')
  } finally {
    await client.query('RESET ROLE')
    client.release()
  }
})

const hasBrowser = fs.existsSync(CHROMIUM)
t.test('the operator path in Chromium: search → map the account → retry from there → delivered → activity', { skip: hasBrowser ? false : `no browser at ${CHROMIUM}` }, async (t) => {
  const page = await openPage(t, SHOTS)
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })

  await page.goto(`${runtime.url}/admin/login`)
  await page.fill('input[name=apiKey]', admin)
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/admin$/)

  // The operator has a bill number from the supplier's statement.
  await page.fill('header input[name=q]', badA!.billNumber.toLowerCase().slice(0, -1))
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/admin\/search/)
  t.match(await page.textContent('main'), /ACCOUNT_UNMAPPED/, 'the search finds the failed bill by the start of its number, any case')
  await shot('search')
  await page.click(`a[href="/admin/transactions/${failedIds[0]}"]`)
  await page.waitForURL(new RegExp(failedIds[0]!), { waitUntil: 'domcontentloaded' })
  t.match(await page.textContent('main'), new RegExp(UNMAPPED))

  const listed = await page.goto(`${runtime.url}/admin/mappings?kind=account`)
  t.equal(listed?.status(), 200)
  const first = page.locator('tbody tr').first()
  t.match(await first.textContent(), new RegExp(`${UNMAPPED}[\\s\\S]*unmapped[\\s\\S]*2`), 'the unmapped account with failed bills comes first')
  await shot('mappings')
  await first.locator('a').click()
  await page.waitForURL(/\/admin\/mappings\/account\?key=/)
  t.match(await page.textContent('main'), /2 failed now/)
  await page.fill('input[name=find]', 'Misc')
  await page.keyboard.press('Enter')
  await page.waitForURL(/find=Misc/)
  const choice = page.locator('input[name=zohoId]').first()
  const zohoAccountId = await choice.getAttribute('value')
  await choice.check()
  t.ok(await page.isChecked('input[name=retry]'), 'retrying the failed bills is offered, checked')
  await shot('mapping-edit')
  await page.click('button:has-text("Save mapping")')
  await page.waitForURL(/notice=mapped-requeued/)
  t.match(await page.textContent('p.notice'), /requeued 2 failed bills/)
  await waitFor(async () => (await statuses(failedIds)).every((s) => s === 'delivered'), 'the retried bills to be delivered')
  const mapped = await runtime.pool.query(`SELECT zoho_account_id, origin FROM account_map WHERE account = lower($1)`, [UNMAPPED])
  t.same(mapped.rows[0], { zoho_account_id: zohoAccountId, origin: 'operator' })

  await page.goto(`${runtime.url}/admin/activity`)
  const activity = await page.textContent('tbody')
  const accountName = (await runtime.pool.query('SELECT account_name FROM zoho_accounts WHERE account_id = $1', [zohoAccountId])).rows[0].account_name
  t.match(activity, new RegExp(`ap-operator\\s*map_account\\s*NetSuite account ${UNMAPPED}\\s*unmapped → ${accountName}`), 'the mapping change, old → new by Zoho name, under the key name')
  t.equal(await page.locator(`span[title="Zoho account ${zohoAccountId}"]`).count(), 1, 'the Zoho id stays at hand as a title')
  t.match(activity, /ap-operator\s*retry_bulk[\s\S]*2 bills/, 'and the retry with its count')
  t.match(activity, /ap-operator\s*login/)
  await shot('activity')

  await page.goto(`${runtime.url}/admin/batches`)
  await page.click('a[href$="#rejected"]')
  await page.waitForURL(/\/admin\/batches\/[0-9a-f-]+#rejected/)
  t.match(await page.textContent('#rejected + table'), /VENDOR_MISSING/)
  await shot('batch')
  await page.goto(`${runtime.url}/admin/rejected`)
  await shot('rejected')

  // A bill NetSuite's administrator says was sent, but billbridge refused: the same search box finds it.
  await page.fill('header input[name=q]', rejB!.billNumber.toLowerCase())
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/admin\/search/)
  t.match(await page.textContent('section#rejected'), /Rejected at ingest[\s\S]*DATE_INVALID/, 'the rejected item has its own section')
  await page.click('section#rejected a[href$="#rejected"]')
  await page.waitForURL(/\/admin\/batches\/[0-9a-f-]+#rejected/)
  t.match(await page.textContent('#rejected + table'), new RegExp(rejB!.externalId), 'and opens its batch at the rejections')

  const scripts = await page.locator('script').count()
  t.equal(scripts, 0, 'no inline script on the pages')
})

t.test('a vendor picked from Zoho on the mappings page, through the same code path as map vendor', async (t) => {
  const vendor = goodA!.vendor.name
  const key = vendor.trim().toLowerCase()
  const picker = await request(`${runtime.url}/admin/mappings/vendor?key=${encodeURIComponent(key)}&find=${encodeURIComponent(vendor.slice(0, 4))}`, { headers: { cookie: session.cookie } })
  const text = await picker.body.text()
  t.equal(picker.statusCode, 200)
  const ids = [...text.matchAll(/name="zohoId" value="(\d+)"/g)].map((m) => m[1]!)
  t.ok(ids.length >= 1, 'Zoho vendors whose name starts so are offered')
  const csrf = /name="_csrf" value="([^"]+)"/.exec(text)![1]!
  const post = (body: Record<string, string>) => request(`${runtime.url}/admin/mappings/vendor`, {
    method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString(),
  })
  const extra = await post({ _csrf: csrf, key, zohoId: ids[0]!, sneaky: '1' })
  t.equal(extra.statusCode, 400, 'an unknown field in the form is refused')
  await extra.body.dump()
  const saved = await post({ _csrf: csrf, key, zohoId: ids[0]! })
  t.equal(saved.statusCode, 303)
  await saved.body.dump()
  const { rows } = await runtime.pool.query(`SELECT zoho_vendor_id, origin FROM vendor_map WHERE vendor_key = $1`, [`id:${goodA!.vendor.externalId}`])
  t.same(rows[0], { zoho_vendor_id: ids[0], origin: 'operator' }, 'mapped by the NetSuite vendor id, as the CLI would')
  const audit = await runtime.pool.query(`SELECT detail FROM operator_audit WHERE action = 'map_vendor' ORDER BY id DESC LIMIT 1`)
  t.equal(audit.rows[0].detail.new, ids[0])
})

t.test('the audit rows were written with the actions they record', async (t) => {
  const { rows } = await runtime.pool.query(`SELECT action, detail FROM operator_audit WHERE actor = 'ap-operator' ORDER BY id`)
  const actions = rows.map((r) => r.action)
  if (hasBrowser) {
    t.ok(actions.includes('map_account'))
    const bulk = rows.find((r) => r.action === 'retry_bulk')
    t.equal(bulk?.detail.count, 2)
  }
  t.ok(actions.includes('login'))
})
