import t, { type Test } from 'tap'
import { startZohoSandbox, type SandboxOptions, type ZohoSandbox } from '../../src/sandbox/server.ts'
import { booksRequest as books, grantToken } from '../helpers/books.ts'

// Taxes, editions and reporting tags (docs/zoho.md, "Taxes, editions and reporting tags"), over real HTTP.

async function open(t: Test, options: Partial<SandboxOptions> = {}) {
  const sandbox = await startZohoSandbox(options)
  t.teardown(() => sandbox.close())
  const tok = (await grantToken(sandbox)).body.access_token as string
  const vendor = (await books(sandbox, tok, 'GET', '/contacts')).body.contacts[0].contact_id as string
  const accounts = (await books(sandbox, tok, 'GET', '/chartofaccounts')).body.chartofaccounts.map((a: any) => a.account_id) as string[]
  let n = 0
  const post = (bill: Record<string, unknown>) => books(sandbox, tok, 'POST', '/bills', { json: { vendor_id: vendor, bill_number: `T-${++n}`, date: '2026-11-01', ...bill } })
  return { sandbox, tok, vendor, account: accounts[0]!, accounts, post }
}

const id = (sandbox: ZohoSandbox, name: string): string => {
  const tax = sandbox.state.taxByName(name)
  if (!tax) throw new Error(`no tax ${name}`)
  return 'tax_group_id' in tax ? tax.tax_group_id : tax.tax_id
}

t.test('the default organization is a US one with no taxes and no tags; bills work as before', async (t) => {
  const { sandbox, tok, account, post } = await open(t)
  const org = (await books(sandbox, tok, 'GET', `/organizations/${sandbox.organizationId}`)).body.organization
  t.match(org, { currency_code: 'USD', price_precision: 2, country: 'U.S.A', country_code: 'US', version: 'us', address: { country: 'U.S.A' } })
  t.notOk('tax_rounding' in org, 'the rounding setting is not exposed by the API')
  t.same((await books(sandbox, tok, 'GET', '/organizations')).body.organizations[0].version, 'us')
  t.same((await books(sandbox, tok, 'GET', '/settings/taxes')).body.taxes, [])
  t.same((await books(sandbox, tok, 'GET', '/reportingtags')).body.reporting_tags, [])
  const bill = await post({ line_items: [{ account_id: account, rate: 10.5, quantity: 2 }] })
  t.equal(bill.status, 201)
  t.equal(bill.body.bill.total, 21)
  t.notOk('tax_total' in bill.body.bill, 'an untaxed bill carries no tax fields')
  const reverse = await post({ is_reverse_charge_applied: true, line_items: [{ account_id: account, rate: 1 }] })
  t.equal(reverse.status, 400, 'no reverse charge in the US edition')
  t.equal((await post({ line_items: [{ account_id: account, rate: 1, tax_id: '4600000000000000001' }] })).status, 400, 'no such tax')
})

t.test('a US organization may have a sales tax; a purchase bill without tax is fine', async (t) => {
  const { sandbox, account, post } = await open(t, { seed: { taxes: [{ name: 'Illinois', percentage: 6.25 }] } })
  const taxed = await post({ line_items: [{ account_id: account, rate: 100, tax_id: id(sandbox, 'Illinois') }] })
  t.match(taxed.body.bill, { sub_total: 100, tax_total: 6.25, total: 106.25 })
  t.equal((await post({ line_items: [{ account_id: account, rate: 100 }] })).body.bill.total, 100)
})

t.test('an upsert that updates a taxed bill without tax leaves no tax behind', async (t) => {
  const { sandbox, tok, vendor, account } = await open(t, { seed: { taxes: [{ name: 'Illinois', percentage: 6.25 }] } })
  const headers = { 'X-Unique-Identifier-Key': 'cf_netsuite_id', 'X-Unique-Identifier-Value': 'NS-T1', 'X-Upsert': 'true' }
  const bill = { vendor_id: vendor, bill_number: 'UT-1', date: '2026-11-01' }
  const taxed = await books(sandbox, tok, 'PUT', '/bills', { headers, json: { ...bill, line_items: [{ account_id: account, rate: 100, tax_id: id(sandbox, 'Illinois') }] } })
  t.equal(taxed.body.bill.total, 106.25)
  const plain = await books(sandbox, tok, 'PUT', '/bills', { headers, json: { ...bill, line_items: [{ account_id: account, rate: 100 }] } })
  t.equal(plain.status, 200)
  t.equal(plain.body.bill.total, 100)
  t.notOk('tax_total' in plain.body.bill)
})

t.test('tax is charged on the line amount rounded to the currency', async (t) => {
  const { sandbox, account, post } = await open(t, { seed: { taxes: [{ name: 'GST', percentage: 10 }] } })
  const bill = await post({ line_items: [{ account_id: account, rate: 54.54545, tax_id: id(sandbox, 'GST') }] })
  t.match(bill.body.bill, { sub_total: 54.55, tax_total: 5.46, total: 60.01 }, '10% of 54.55, not of 54.54545')
  t.equal(bill.body.bill.line_items[0].item_total, 54.55)
})

t.test('UK: taxes and their kinds, paged; vat_treatment required; tax per line, totals, adjustment', async (t) => {
  const { sandbox, tok, account, accounts, post } = await open(t, { seed: { edition: 'uk' } })
  const org = (await books(sandbox, tok, 'GET', `/organizations/${sandbox.organizationId}`)).body.organization
  t.match(org, { currency_code: 'GBP', country: 'United Kingdom', version: 'uk' })
  const first = await books(sandbox, tok, 'GET', '/settings/taxes', { query: { per_page: '3' } })
  t.equal(first.body.taxes.length, 3)
  t.same(first.body.page_context, { page: 1, per_page: 3, has_more_page: true })
  const second = await books(sandbox, tok, 'GET', '/settings/taxes', { query: { per_page: '3', page: '2' } })
  t.equal(second.body.page_context.has_more_page, false)
  const all = [...first.body.taxes, ...second.body.taxes]
  t.same(all.map((x: any) => [x.tax_name, x.tax_percentage, x.tax_specific_type]), [
    ['Standard Rate', 20, 'standard'], ['Reduced Rate', 5, 'reduced'], ['Zero Rate', 0, 'zero_rated'], ['Exempt', 0, 'exempt'], ['Out of Scope', 0, 'out_of_scope'],
  ], 'zero-rated, exempt and out of scope are three distinct 0% taxes')
  t.ok(all.every((x: any) => x.tax_type === 'tax' && x.status === 'active'))
  const vendorGbp = (await books(sandbox, tok, 'GET', '/contacts')).body.contacts[0].currency_code
  t.equal(vendorGbp, 'GBP', 'vendors take the base currency')

  const lines = [
    { account_id: account, rate: 100, tax_id: id(sandbox, 'Standard Rate') },
    { account_id: accounts[1], rate: 40, quantity: 2, tax_id: id(sandbox, 'Reduced Rate') },
    { account_id: accounts[2], rate: 15, tax_id: id(sandbox, 'Zero Rate') },
    { account_id: accounts[3], rate: 7.5, tax_id: id(sandbox, 'Exempt') },
  ]
  const missing = await post({ line_items: lines })
  t.equal(missing.status, 400)
  t.match(missing.body, { code: 4, message: /vat_treatment/ })
  t.match((await post({ vat_treatment: 'mars', line_items: lines })).body.message, /Invalid value passed for vat_treatment/)
  const bill = await post({ vat_treatment: 'uk', adjustment: -0.01, adjustment_description: 'Rounding difference', line_items: lines })
  t.equal(bill.status, 201)
  t.match(bill.body.bill, { sub_total: 202.5, tax_total: 24, adjustment: -0.01, adjustment_description: 'Rounding difference', total: 226.49, vat_treatment: 'uk', is_inclusive_tax: false })
  t.same(bill.body.bill.line_items.map((l: any) => [l.tax_name, l.tax_percentage, l.item_total, l.tax_amount]), [
    ['Standard Rate', 20, 100, 20], ['Reduced Rate', 5, 80, 4], ['Zero Rate', 0, 15, 0], ['Exempt', 0, 7.5, 0],
  ])
  t.same(bill.body.bill.taxes.map((x: any) => [x.tax_name, x.tax_amount]), [['Standard Rate', 20], ['Reduced Rate', 4], ['Zero Rate', 0], ['Exempt', 0]])
  const read = (await books(sandbox, tok, 'GET', `/bills/${bill.body.bill.bill_id}`)).body.bill
  t.same([read.sub_total, read.tax_total, read.total, read.line_items[0].tax_id], [202.5, 24, 226.49, id(sandbox, 'Standard Rate')], 'GET /bills/{id} returns what was stored')
  const listed = (await books(sandbox, tok, 'GET', '/bills', { query: { bill_number: read.bill_number } })).body.bills[0]
  t.equal(listed.total, 226.49, 'the list carries the total')
  t.equal((await post({ vat_treatment: 'uk', adjustment: 'x', line_items: lines })).status, 400, 'a bad adjustment is refused')
})

t.test('UK: reverse charge only from abroad; the tax is shown but not owed to the vendor', async (t) => {
  const { sandbox, account, post } = await open(t, { seed: { edition: 'uk' } })
  const line = { account_id: account, rate: 500, tax_id: id(sandbox, 'Standard Rate') }
  const home = await post({ vat_treatment: 'uk', is_reverse_charge_applied: true, line_items: [line] })
  t.equal(home.status, 400)
  t.match(home.body.message, /Reverse charge/)
  const abroad = await post({ vat_treatment: 'overseas', is_reverse_charge_applied: true, line_items: [line] })
  t.equal(abroad.status, 201)
  t.match(abroad.body.bill, { is_reverse_charge_applied: true, sub_total: 500, tax_total: 0, total: 500 })
  t.same(abroad.body.bill.taxes, [{ tax_id: id(sandbox, 'Standard Rate'), tax_name: 'Standard Rate', tax_amount: 100 }])
})

t.test('an unknown or inactive tax is refused, and nothing is written', async (t) => {
  const { sandbox, account, post } = await open(t, { seed: { edition: 'uk', taxes: [{ name: 'Standard Rate', percentage: 20 }, { name: 'Old Rate', percentage: 17.5, active: false }] } })
  const inactive = await post({ vat_treatment: 'uk', line_items: [{ account_id: account, rate: 1, tax_id: id(sandbox, 'Old Rate') }] })
  t.equal(inactive.status, 400)
  t.match(inactive.body.message, /Old Rate is inactive/)
  const unknown = await post({ vat_treatment: 'uk', line_items: [{ account_id: account, rate: 1, tax_id: '123' }] })
  t.match(unknown.body, { code: 4, message: 'Invalid value passed for tax_id: 123' })
  t.equal(sandbox.bills().length, 0)
})

t.test('rounding: per line and per bill differ by a cent on three lines of 0.33 at 20%', async (t) => {
  const lines = (sandbox: ZohoSandbox, account: string) => Array.from({ length: 3 }, () => ({ account_id: account, rate: 0.33, tax_id: id(sandbox, 'Standard Rate') }))
  const perLine = await open(t, { seed: { edition: 'uk', taxRounding: 'line' } })
  const a = await perLine.post({ vat_treatment: 'uk', line_items: lines(perLine.sandbox, perLine.account) })
  t.match(a.body.bill, { sub_total: 0.99, tax_total: 0.21, total: 1.2 }, 'each line: 0.066 → 0.07')
  t.same(a.body.bill.line_items.map((l: any) => l.tax_amount), [0.07, 0.07, 0.07])
  const perBill = await open(t, { seed: { edition: 'uk', taxRounding: 'transaction' } })
  const b = await perBill.post({ vat_treatment: 'uk', line_items: lines(perBill.sandbox, perBill.account) })
  t.match(b.body.bill, { sub_total: 0.99, tax_total: 0.2, total: 1.19 }, 'the bill: 0.198 → 0.20')
  const half = await perLine.post({ vat_treatment: 'uk', line_items: [{ account_id: perLine.account, rate: 0.1, tax_id: id(perLine.sandbox, 'Reduced Rate') }] })
  t.equal(half.body.bill.tax_total, 0.01, 'a half cent (0.005) rounds half up, not to even')
  const jpy = await open(t, { seed: { edition: 'uk', vendors: [{ name: 'Tokyo KK', currency: 'JPY' }] } })
  const vendor = jpy.sandbox.state.contacts
  const tokyo = [...vendor.values()].find((c) => c.contact_name === 'Tokyo KK')!.contact_id
  const yen = await jpy.post({ vendor_id: tokyo, vat_treatment: 'overseas', line_items: [{ account_id: jpy.account, rate: 333, tax_id: id(jpy.sandbox, 'Standard Rate') }] })
  t.match(yen.body.bill, { sub_total: 333, tax_total: 67, total: 400 }, 'to the currency\'s decimal places (JPY: none)')
})

t.test('tax-inclusive rates: the sandbox takes the tax out of the line', async (t) => {
  const { sandbox, account, post } = await open(t, { seed: { edition: 'uk' } })
  const bill = await post({ vat_treatment: 'uk', is_inclusive_tax: true, line_items: [{ account_id: account, rate: 120, tax_id: id(sandbox, 'Standard Rate') }] })
  t.match(bill.body.bill, { is_inclusive_tax: true, sub_total: 100, tax_total: 20, total: 120 })
})

t.test('India: gst_treatment, GSTIN, places of supply; CGST+SGST within a state, IGST between states', async (t) => {
  const { sandbox, tok, account, post } = await open(t, { seed: { edition: 'india', homeState: 'KA' } })
  t.match((await books(sandbox, tok, 'GET', `/organizations/${sandbox.organizationId}`)).body.organization, { currency_code: 'INR', version: 'india', country_code: 'IN', tax_group_enabled: true })
  const groups = (await books(sandbox, tok, 'GET', '/settings/taxgroups')).body.tax_groups
  t.same(groups.map((g: any) => [g.tax_group_name, g.tax_group_percentage, g.taxes.map((x: any) => x.tax_specific_type)]), [['GST18', 18, ['cgst', 'sgst']], ['GST5', 5, ['cgst', 'sgst']]])
  const group = (await books(sandbox, tok, 'GET', `/settings/taxgroups/${groups[0].tax_group_id}`)).body.tax_group
  t.equal(group.tax_group_name, 'GST18')
  const listed = (await books(sandbox, tok, 'GET', '/settings/taxes')).body.taxes
  t.ok(listed.some((x: any) => x.tax_name === 'GST18' && x.tax_type === 'tax_group'), 'the tax list carries the groups too')
  t.ok(listed.some((x: any) => x.tax_name === 'IGST18' && x.tax_specific_type === 'igst'))

  const gst18 = [{ account_id: account, rate: 1000, tax_id: id(sandbox, 'GST18') }]
  const base = { gst_treatment: 'business_gst', gst_no: '29ABCDE1234F1Z5', source_of_supply: 'KA' }
  t.match((await post({ line_items: gst18 })).body.message, /gst_treatment/)
  t.match((await post({ ...base, gst_no: undefined, line_items: gst18 })).body.message, /gst_no/)
  t.match((await post({ ...base, gst_no: '12345', line_items: gst18 })).body.message, /Invalid value passed for gst_no/)
  t.match((await post({ ...base, source_of_supply: undefined, line_items: gst18 })).body.message, /source_of_supply/)
  const intra = await post({ ...base, line_items: gst18 })
  t.equal(intra.status, 201)
  t.match(intra.body.bill, { sub_total: 1000, tax_total: 180, total: 1180, destination_of_supply: 'KA', gst_treatment: 'business_gst', gst_no: '29ABCDE1234F1Z5' })
  t.same(intra.body.bill.taxes.map((x: any) => [x.tax_name, x.tax_amount]), [['CGST9', 90], ['SGST9', 90]])
  t.equal(intra.body.bill.line_items[0].tax_type, 'tax_group')
  const igstWithin = await post({ ...base, line_items: [{ account_id: account, rate: 1000, tax_id: id(sandbox, 'IGST18') }] })
  t.equal(igstWithin.status, 400)
  t.match(igstWithin.body.message, /IGST18 cannot be applied.*intra-state/)
  const groupBetween = await post({ ...base, source_of_supply: 'MH', line_items: gst18 })
  t.match(groupBetween.body.message, /GST18 cannot be applied.*inter-state/)
  const inter = await post({ ...base, source_of_supply: 'MH', line_items: [{ account_id: account, rate: 1000, tax_id: id(sandbox, 'IGST18') }] })
  t.match(inter.body.bill, { tax_total: 180, total: 1180, source_of_supply: 'MH' })
  const unregistered = await post({ gst_treatment: 'business_none', source_of_supply: 'KA', is_reverse_charge_applied: true, line_items: gst18 })
  t.match(unregistered.body.bill, { is_reverse_charge_applied: true, tax_total: 0, total: 1000 })
  const nil = await post({ gst_treatment: 'overseas', line_items: [{ account_id: account, rate: 50, tax_id: id(sandbox, 'GST0') }] })
  t.match(nil.body.bill, { total: 50, gst_treatment: 'overseas' })
})

t.test('Gulf: tax_treatment and place_of_supply required; VAT 5%', async (t) => {
  const { sandbox, tok, account, post } = await open(t, { seed: { edition: 'gcc' } })
  t.match((await books(sandbox, tok, 'GET', `/organizations/${sandbox.organizationId}`)).body.organization, { currency_code: 'AED', version: 'gcc' })
  const line = [{ account_id: account, rate: 200, tax_id: id(sandbox, 'VAT 5%') }]
  t.match((await post({ place_of_supply: 'DU', line_items: line })).body.message, /tax_treatment/)
  t.match((await post({ tax_treatment: 'vat_registered', line_items: line })).body.message, /place_of_supply/)
  t.match((await post({ tax_treatment: 'vat_registered', place_of_supply: 'XX', line_items: line })).body.message, /Invalid value passed for place_of_supply/)
  t.match((await post({ tax_treatment: 'vat_registered', place_of_supply: 'DU', is_reverse_charge_applied: true, line_items: line })).body.message, /Reverse charge/)
  const bill = await post({ tax_treatment: 'vat_registered', place_of_supply: 'DU', line_items: line })
  t.match(bill.body.bill, { sub_total: 200, tax_total: 10, total: 210, tax_treatment: 'vat_registered', place_of_supply: 'DU' })
  const imported = await post({ tax_treatment: 'non_gcc', place_of_supply: 'DU', is_reverse_charge_applied: true, line_items: line })
  t.match(imported.body.bill, { total: 200, is_reverse_charge_applied: true })
})

t.test('reporting tags: listed with options and hierarchy; lines take known options; a mandatory tag is required', async (t) => {
  const tags = [
    { name: 'Department', mandatory: true, options: ['Sales', { name: 'EMEA', parent: 'Sales' }, 'Finance', { name: 'Closed', active: false }] },
    { name: 'Region', options: ['North', 'South'] },
  ]
  const { sandbox, tok, account, post } = await open(t, { seed: { tags } })
  const listed = (await books(sandbox, tok, 'GET', '/reportingtags')).body.reporting_tags
  t.same(listed.map((x: any) => [x.tag_name, x.is_mandatory, x.status]), [['Department', true, 'active'], ['Region', false, 'active']])
  const dept = listed[0].tag_id
  const options = (await books(sandbox, tok, 'GET', `/reportingtags/${dept}/options`)).body.tag_options
  const sales = options.find((o: any) => o.tag_option_name === 'Sales')
  const emea = options.find((o: any) => o.tag_option_name === 'EMEA')
  t.equal(emea.parent_tag_option_id, sales.tag_option_id, 'EMEA sits under Sales')
  t.equal((await books(sandbox, tok, 'GET', `/reportingtags/${dept}`)).body.reporting_tag.tag_options.length, 4)
  t.equal((await books(sandbox, tok, 'GET', '/reportingtags/42/options')).status, 404)
  const region = sandbox.state.tagByName('Region')!
  const north = region.options[0]!.tag_option_id

  const none = await post({ line_items: [{ account_id: account, rate: 5, tags: [{ tag_id: region.tag_id, tag_option_id: north }] }] })
  t.equal(none.status, 400)
  t.match(none.body, { code: 4, message: 'Please select an option for the reporting tag Department: it is mandatory.' })
  const foreign = await post({ line_items: [{ account_id: account, rate: 5, tags: [{ tag_id: dept, tag_option_id: north }] }] })
  t.match(foreign.body.message, /not an active option of the reporting tag Department/)
  const closed = sandbox.state.tagByName('Department')!.options.find((o) => o.tag_option_name === 'Closed')!
  t.equal((await post({ line_items: [{ account_id: account, rate: 5, tags: [{ tag_id: dept, tag_option_id: closed.tag_option_id }] }] })).status, 400, 'an inactive option is refused')
  t.match((await post({ line_items: [{ account_id: account, rate: 5, tags: [{ tag_id: '99', tag_option_id: north }] }] })).body.message, /tag_id: 99/)
  const ok = await post({ line_items: [
    { account_id: account, rate: 5, tags: [{ tag_id: dept, tag_option_id: emea.tag_option_id }, { tag_id: region.tag_id, tag_option_id: north }] },
    { account_id: account, rate: 6, tags: [{ tag_id: dept, tag_option_id: sales.tag_option_id }] },
  ] })
  t.equal(ok.status, 201)
  const read = (await books(sandbox, tok, 'GET', `/bills/${ok.body.bill.bill_id}`)).body.bill
  t.same(read.line_items.map((l: any) => l.tags.map((x: any) => `${x.tag_name}=${x.tag_option_name}`)), [['Department=EMEA', 'Region=North'], ['Department=Sales']])
  t.equal(sandbox.bills().length, 1, 'refused bills left nothing behind')
})
