import t, { type Test } from 'tap'
import { startZohoSandbox, type SandboxOptions } from '../../src/sandbox/server.ts'
import { booksRequest as books, grantToken } from '../helpers/books.ts'

async function open(t: Test, options: Partial<SandboxOptions> = {}) {
  const sandbox = await startZohoSandbox(options)
  t.teardown(() => sandbox.close())
  const tok = (await grantToken(sandbox)).body.access_token as string
  return { sandbox, tok }
}

t.test('the chart of accounts is paged: per_page at most 200, has_more_page until the last page', async (t) => {
  const { sandbox, tok } = await open(t, { seed: { accounts: 260 } })
  const first = await books(sandbox, tok, 'GET', '/chartofaccounts')
  t.equal(first.body.chartofaccounts.length, 200)
  t.same(first.body.page_context, { page: 1, per_page: 200, has_more_page: true })
  const second = await books(sandbox, tok, 'GET', '/chartofaccounts', { query: { page: '2' } })
  t.equal(second.body.chartofaccounts.length, 60)
  t.equal(second.body.page_context.has_more_page, false)
  t.equal((await books(sandbox, tok, 'GET', '/chartofaccounts', { query: { per_page: '500' } })).status, 400, 'per_page over 200 is refused')
})

t.test('vendor names repeat; name filters take 100 characters; status and currency are listed', async (t) => {
  const long = `${'Northwind Industrial Components and Precision Fasteners International '.repeat(2)}GmbH`
  const { sandbox, tok } = await open(t, { seed: { vendors: [{ name: 'Twin Co', email: 'a@twin.test' }, { name: 'Twin Co', email: 'b@twin.test', currency: 'EUR' }, { name: 'Old Co', status: 'inactive' }, { name: long }] } })
  const twins = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_type: 'vendor', contact_name: 'twin co' } })
  t.equal(twins.body.contacts.length, 2)
  t.same(twins.body.contacts.map((c: any) => c.currency_code).sort(), ['EUR', 'USD'])
  const inactive = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_name: 'Old Co', filter_by: 'Status.Active' } })
  t.equal(inactive.body.contacts.length, 0, 'Status.Active leaves out inactive contacts')
  const tooLong = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_name: long } })
  t.equal(tooLong.status, 400, `a ${long.length}-character name is refused as a filter`)
  const prefix = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_name_startswith: long.slice(0, 100) } })
  t.equal(prefix.body.contacts[0].contact_name, long)
})

t.test('currencies: listed in /settings/currencies; a vendor has one; a bill takes its vendor\'s', async (t) => {
  const { sandbox, tok } = await open(t)
  const currencies = (await books(sandbox, tok, 'GET', '/settings/currencies')).body.currencies as Array<{ currency_id: string; currency_code: string; is_base_currency: boolean }>
  const eur = currencies.find((c) => c.currency_code === 'EUR')!
  t.ok(currencies.find((c) => c.currency_code === 'USD')?.is_base_currency, 'USD is the base currency')
  const vendor = (await books(sandbox, tok, 'POST', '/contacts', { json: { contact_name: 'Euro GmbH', contact_type: 'vendor', currency_id: eur.currency_id } })).body.contact
  t.equal(vendor.currency_code, 'EUR')
  const account = (await books(sandbox, tok, 'GET', '/chartofaccounts')).body.chartofaccounts[0].account_id
  const bill = { vendor_id: vendor.contact_id, bill_number: 'E-1', date: '2026-11-02', exchange_rate: 1.08, line_items: [{ account_id: account, rate: 100, quantity: 1 }] }
  const created = await books(sandbox, tok, 'POST', '/bills', { json: bill })
  t.equal(created.body.bill.currency_code, 'EUR')
  t.equal(created.body.bill.exchange_rate, 1.08)
  const usd = currencies.find((c) => c.currency_code === 'USD')!
  const wrong = await books(sandbox, tok, 'POST', '/bills', { json: { ...bill, bill_number: 'E-2', currency_id: usd.currency_id } })
  t.equal(wrong.status, 400, 'a bill cannot take another currency than its vendor\'s')
})

t.test('a bill number is one per vendor per financial year; the next year may repeat it; a void bill frees it', async (t) => {
  const { sandbox, tok } = await open(t, { seed: { bills: [{ vendorName: 'Acme Supplies', billNumber: 'INV-7', date: '2025-03-01', total: 50, attachment: true }] } })
  const vendor = (await books(sandbox, tok, 'GET', '/contacts', { query: { contact_name: 'Acme Supplies' } })).body.contacts[0].contact_id
  const account = (await books(sandbox, tok, 'GET', '/chartofaccounts')).body.chartofaccounts[0].account_id
  const bill = { vendor_id: vendor, bill_number: 'INV-7', date: '2026-03-01', line_items: [{ account_id: account, rate: 80 }] }
  const thisYear = await books(sandbox, tok, 'POST', '/bills', { json: bill })
  t.equal(thisYear.status, 201, "last year's INV-7 does not stop this year's")
  const again = await books(sandbox, tok, 'POST', '/bills', { json: { ...bill, date: '2026-09-30' } })
  t.equal(again.status, 400, 'the same number again in the same year is refused')
  t.ok(again.body.code > 0)
  const listed = await books(sandbox, tok, 'GET', '/bills', { query: { bill_number: 'INV-7', vendor_id: vendor } })
  t.same(listed.body.bills.map((b: any) => [b.date, b.total, b.status, b.has_attachment]).sort(), [['2025-03-01', 50, 'open', true], ['2026-03-01', 80, 'open', false]])
  t.notOk('documents' in listed.body.bills[0], 'lists carry has_attachment, not documents')
  t.equal((await books(sandbox, tok, 'POST', `/bills/${thisYear.body.bill.bill_id}/status/void`)).status, 200)
  t.equal((await books(sandbox, tok, 'POST', '/bills', { json: { ...bill, date: '2026-09-30' } })).status, 201, 'voiding frees the number')
})

t.test('the upsert takes JSON only; attachments add a copy each time', async (t) => {
  const { sandbox, tok } = await open(t)
  const vendor = (await books(sandbox, tok, 'GET', '/contacts')).body.contacts[0].contact_id
  const account = (await books(sandbox, tok, 'GET', '/chartofaccounts')).body.chartofaccounts[0].account_id
  const headers = { 'X-Unique-Identifier-Key': 'cf_netsuite_id', 'X-Unique-Identifier-Value': 'NS-1', 'X-Upsert': 'true' }
  const bill = { vendor_id: vendor, bill_number: 'U-1', date: '2026-11-01', line_items: [{ account_id: account, rate: 5 }] }
  const multipart = await books(sandbox, tok, 'PUT', '/bills', { headers, multipart: { json: bill, file: Buffer.from('%PDF-1.4'), fileName: 'u.pdf' } })
  t.equal(multipart.status, 400, 'a file part on the upsert is refused')
  const created = await books(sandbox, tok, 'PUT', '/bills', { headers, json: bill })
  t.same(created.body.bill.documents, [], 'the answer shows the bill has no file')
  const id = created.body.bill.bill_id
  for (let i = 0; i < 2; i++) await books(sandbox, tok, 'POST', `/bills/${id}/attachment`, { multipart: { json: {}, file: Buffer.from('%PDF-1.4'), fileName: 'u.pdf' } })
  t.equal((await books(sandbox, tok, 'GET', `/bills/${id}`)).body.bill.documents.length, 2, 'two attach calls, two copies')
})

t.test('429 codes: 44 per minute, 45 per day, 1070 concurrency', async (t) => {
  const perMinute = await open(t, { ratePerMinute: 1 })
  await books(perMinute.sandbox, perMinute.tok, 'GET', '/contacts')
  t.equal((await books(perMinute.sandbox, perMinute.tok, 'GET', '/contacts')).body.code, 44)
  const daily = await open(t, { dailyLimit: 1 })
  await books(daily.sandbox, daily.tok, 'GET', '/contacts')
  const spent = await books(daily.sandbox, daily.tok, 'GET', '/contacts')
  t.same([spent.status, spent.body.code], [429, 45])
  const concurrent = await open(t, { concurrency: 1 })
  concurrent.sandbox.setFaults({ latencyMs: 300 })
  const both = await Promise.all([books(concurrent.sandbox, concurrent.tok, 'GET', '/contacts'), books(concurrent.sandbox, concurrent.tok, 'GET', '/contacts')])
  t.same(both.map((r) => r.body.code).sort(), [0, 1070])
  t.same(concurrent.sandbox.counters().responses429ByCode, { 1070: 1 })
})

t.test('tokens: 10 grants per refresh token per 10 minutes; 15 live tokens, the 16th evicts the oldest', async (t) => {
  const sandbox = await startZohoSandbox()
  t.teardown(() => sandbox.close())
  const grants = []
  for (let i = 0; i < 11; i++) grants.push(await grantToken(sandbox))
  t.equal(grants.filter((g) => g.body.access_token).length, 10)
  t.equal(grants[10]!.body.error, 'Access Denied', 'the 11th in 10 minutes is refused with HTTP 200')
  const many = await startZohoSandbox({ grantsPerWindow: 100 })
  t.teardown(() => many.close())
  const tokens: string[] = []
  for (let i = 0; i < 16; i++) tokens.push((await grantToken(many)).body.access_token)
  t.equal((await books(many, tokens[0]!, 'GET', '/contacts')).status, 401, 'the oldest token was evicted by the 16th')
  t.equal((await books(many, tokens[1]!, 'GET', '/contacts')).status, 200)
  t.equal(many.counters().tokensEvicted, 1)
})

t.test('the token names the api_domain of the organization\'s data centre', async (t) => {
  const sandbox = await startZohoSandbox({ apiDomain: 'https://www.zohoapis.eu' })
  t.teardown(() => sandbox.close())
  t.equal((await grantToken(sandbox)).body.api_domain, 'https://www.zohoapis.eu')
  const local = await startZohoSandbox()
  t.teardown(() => local.close())
  t.equal((await grantToken(local)).body.api_domain, local.url)
})
