// Taxed, tagged bills delivered to the sandbox over HTTP, per Zoho edition, with PostgreSQL: for every
// delivered bill Zoho's total is NetSuite's to the cent, and its tax is NetSuite's once the rounding
// adjustment is counted. Each refusal happens before Zoho is asked, or leaves no bill open in Zoho.
import t, { type Test } from 'tap'
import { saveMapping } from '../../src/delivery/mapping.ts'
import { retryTransactions } from '../../src/delivery/retry.ts'
import type { SandboxBill } from '../../src/sandbox/state.ts'
import type { ZohoSandbox } from '../../src/sandbox/server.ts'
import { bills, sendBills as send } from '../helpers/api.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

type Line = { account?: string; amount: string; taxCode?: string; taxRate?: string; taxAmount?: string; department?: string; class?: string; location?: string }
const cents = (v: string | number) => Math.round(Number(v) * 100)
const money = (c: number) => (c / 100).toFixed(2)

/** A bill in `currency`, its total NetSuite's: Σ amount + Σ taxAmount. */
function taxed(prefix: string, currency: string, vendor: Record<string, unknown>, lines: Line[], extra: Record<string, unknown> = {}) {
  const base = bills(1, prefix)[0]!
  const total = lines.reduce((s, l) => s + cents(l.amount) + cents(l.taxAmount ?? 0), 0)
  return { ...base, currency, vendor: { name: `${prefix} Vendor`, ...vendor }, lines: lines.map((l) => ({ account: '6100 Office Supplies', ...l })), total: money(total), ...extra }
}

async function settled(runtime: TestRuntime, ids: string[]) {
  await waitFor(async () => {
    const { rows } = await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status IN ('delivered', 'failed')`, [ids])
    return rows[0].n === ids.length
  }, 'the bills to be delivered or failed')
  const { rows } = await runtime.pool.query('SELECT id, status, amount, bill, zoho_bill_id, last_error_code, last_error_message FROM transactions WHERE id = ANY($1::uuid[])', [ids])
  return ids.map((id) => rows.find((r) => r.id === id)!)
}

/** Zoho's books equal NetSuite's: total to the cent, tax once the adjustment is counted, and the adjustment says why. */
function sameBooks(t: Test, sandbox: ZohoSandbox, row: { zoho_bill_id: string; amount: string; bill: { lines: Line[] } }, what: string): SandboxBill {
  const bill = sandbox.state.bills.get(row.zoho_bill_id)!
  const netsuiteTax = row.bill.lines.reduce((s, l) => s + cents(l.taxAmount ?? 0), 0)
  t.equal(cents(bill.total), cents(row.amount), `${what}: Zoho's total ${bill.total} is NetSuite's ${row.amount}`)
  t.equal(cents(bill.tax_total ?? 0) + cents(bill.adjustment ?? 0), netsuiteTax, `${what}: Zoho's tax ${bill.tax_total} + adjustment ${bill.adjustment ?? 0} is NetSuite's tax ${money(netsuiteTax)}`)
  if (cents(bill.adjustment ?? 0) !== 0) t.match(bill.adjustment_description, /tax rounding to match NetSuite total/i, `${what}: the adjustment says what it is`)
  return bill
}

const taxId = (sandbox: ZohoSandbox, name: string) => {
  const tax = sandbox.state.taxByName(name)!
  return 'tax_group_id' in tax ? tax.tax_group_id : tax.tax_id
}

t.test('UK: several rates, a mixed-rate bill, zero-rated and exempt lines, vat_treatment from the vendor\'s country, tags on every line', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', tags: [
    { name: 'Department', options: ['Sales', { name: 'EMEA', parent: 'Sales' }, 'Ops'] },
    { name: 'Region', options: ['London', 'Paris'] },
  ] } })
  const runtime = await startTestRuntime(t, { ...env, ZOHO_TAGS: 'department=Department,location=Region' })
  const gb = { country: 'GB', taxId: 'GB123456789' }
  const ids = await send(runtime, [
    taxed('UK20', 'GBP', gb, [{ amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00' }]),
    taxed('UK5', 'GBP', gb, [{ amount: '40.00', taxCode: 'VAT:R-GB', taxRate: '5', taxAmount: '2.00' }]),
    taxed('UKMIX', 'GBP', gb, [
      { amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00', department: 'Ops' },
      { amount: '40.00', taxCode: 'VAT:R-GB', taxRate: '5', taxAmount: '2.00' },
      { amount: '10.00', taxCode: 'VAT:Z-GB', taxRate: '0', taxAmount: '0.00', location: 'Paris' },
      { amount: '5.00', taxCode: 'VAT:E-GB', taxRate: '0', taxAmount: '0.00' },
    ], { department: 'Sales : EMEA', location: 'London' }),
    taxed('UKDE', 'GBP', { country: 'DE', taxId: 'DE123456789' }, [{ amount: '50.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '10.00' }]),
    taxed('UKOLD', 'GBP', { country: 'FR', taxId: 'FR12345678' }, [{ amount: '50.00', taxCode: 'VAT:Z-GB', taxRate: '0', taxAmount: '0.00' }], { date: '2020-06-01' }),
    // A service bought from abroad: NetSuite charged no tax on a 20% code, the buyer accounts for it (reverse charge).
    taxed('UKRC', 'GBP', { country: 'US' }, [{ amount: '300.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '0.00' }]),
  ])
  const [rate20, rate5, mixed, german, before2021, reverse] = await settled(runtime, ids)
  for (const [row, name] of [[rate20, '20%'], [rate5, '5%'], [mixed, 'mixed'], [german, 'German vendor'], [before2021, 'before 2021'], [reverse, 'reverse charge']] as const) {
    t.equal(row!.status, 'delivered', `${name}: delivered (${row!.last_error_code ?? ''} ${row!.last_error_message ?? ''})`)
  }
  const b20 = sameBooks(t, sandbox, rate20, '20%')
  t.equal(b20.tax_total, 20, 'Zoho charged 20.00, as NetSuite')
  t.equal(b20.line_items[0]!.tax_id, taxId(sandbox, 'Standard Rate'))
  t.equal(b20.vat_treatment, 'uk', 'a GB vendor: uk')
  t.equal(sameBooks(t, sandbox, rate5, '5%').line_items[0]!.tax_id, taxId(sandbox, 'Reduced Rate'))
  const mix = sameBooks(t, sandbox, mixed, 'mixed')
  t.same(mix.line_items.map((l) => l.tax_id), ['Standard Rate', 'Reduced Rate', 'Zero Rate', 'Exempt'].map((n) => taxId(sandbox, n)), 'each line its own tax: zero-rated and exempt stay apart')
  t.same(mix.line_items.map((l) => l.tax_amount), [20, 2, 0, 0])
  const option = (tag: string, name: string) => sandbox.state.tagByName(tag)!.options.find((o) => o.tag_option_name === name)!.tag_option_id
  t.same(mix.line_items.map((l) => (l.tags ?? []).map((g) => `${g.tag_name}=${g.tag_option_name}`).sort()), [
    ['Department=Ops', 'Region=London'], ['Department=EMEA', 'Region=London'], ['Department=EMEA', 'Region=Paris'], ['Department=EMEA', 'Region=London'],
  ], "tags on every line: a line's own segment, else the bill's")
  t.equal(mix.line_items[1]!.tags!.find((g) => g.tag_name === 'Department')!.tag_option_id, option('Department', 'EMEA'), '"Sales : EMEA" is the EMEA option under Sales')
  t.equal(sameBooks(t, sandbox, german, 'German vendor').vat_treatment, 'overseas', 'an EU vendor since 2021: overseas (Bills page)')
  const old = sameBooks(t, sandbox, before2021, 'before 2021')
  t.same([old.vat_treatment, old.vat_reg_no], ['eu_vat_registered', 'FR12345678'], 'an EU vendor with a VAT number before 2021: eu_vat_registered')
  const rc = sameBooks(t, sandbox, reverse, 'reverse charge')
  t.same([rc.vat_treatment, rc.is_reverse_charge_applied, rc.tax_total, rc.total], ['overseas', true, 0, 300], 'reverse charge: the tax is the buyer\'s, the vendor is owed 300.00')
  t.equal(rc.taxes?.[0]?.tax_amount, 60, 'Zoho still shows the 60.00 the buyer accounts for')

  const [unmappedTag] = await send(runtime, [taxed('UKTAG', 'GBP', gb, [{ amount: '10.00', department: 'Marketing' }])])
  const [tagFailed] = await settled(runtime, [unmappedTag!])
  t.equal(tagFailed!.last_error_code, 'TAG_UNMAPPED')
  t.match(tagFailed!.last_error_message, /npm run cli -- map tag department "Marketing"/)

  const [noCountry] = await send(runtime, [taxed('UKNOC', 'GBP', { taxId: 'GB1' }, [{ amount: '10.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '2.00' }])])
  const [noCountryRow] = await settled(runtime, [noCountry!])
  t.equal(noCountryRow!.last_error_code, 'VENDOR_COUNTRY_REQUIRED')
  t.match(noCountryRow!.last_error_message, /vendor\.country/)
  t.equal(sandbox.bills().filter((b) => b.bill_number.startsWith('UKNOC') || b.bill_number.startsWith('UKTAG')).length, 0, 'nothing made in Zoho for either')
})

t.test('rounding per line and per bill: the adjustment absorbs the cent; Zoho\'s answer teaches billbridge the setting', async (t) => {
  // Three lines of 0.33 at 20%: 0.07 × 3 = 0.21 per line, 0.198 → 0.20 per bill.
  const perBill = (prefix: string) => taxed(prefix, 'GBP', { country: 'GB' }, [0.07, 0.07, 0.06].map((tax) => ({ amount: '0.33', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: tax.toFixed(2) })))
  const perLine = (prefix: string) => taxed(prefix, 'GBP', { country: 'GB' }, [0.07, 0.07, 0.07].map((tax) => ({ amount: '0.33', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: tax.toFixed(2) })))

  t.test('an organization rounding per line', async (t) => {
    const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', taxRounding: 'line' } })
    const runtime = await startTestRuntime(t, env)
    const [a, b] = await settled(runtime, await send(runtime, [perBill('LNB'), perLine('LNL')]))
    t.equal(a!.status, 'delivered')
    t.equal(b!.status, 'delivered')
    const absorbed = sameBooks(t, sandbox, a!, 'NetSuite per bill, Zoho per line')
    t.same([absorbed.tax_total, absorbed.adjustment, absorbed.total], [0.21, -0.01, 1.19], 'Zoho 0.21 of tax, −0.01 adjustment: 1.19 as NetSuite')
    t.equal(sameBooks(t, sandbox, b!, 'both per line').adjustment ?? 0, 0, 'no adjustment when they agree')
    t.equal(sandbox.counters().requestsByEndpoint['PUT /bills/:id'] ?? 0, 0, 'predicted right the first time: no update')
    t.equal((await runtime.pool.query('SELECT mode FROM tax_rounding')).rows[0]?.mode, 'line')
  })

  t.test('an organization rounding per bill', async (t) => {
    const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', taxRounding: 'transaction' } })
    const runtime = await startTestRuntime(t, env)
    const [first] = await settled(runtime, await send(runtime, [perLine('TXL1')]))
    t.equal(first!.status, 'delivered')
    const corrected = sameBooks(t, sandbox, first!, 'NetSuite per line, Zoho per bill')
    t.same([corrected.tax_total, corrected.adjustment, corrected.total], [0.2, 0.01, 1.21 - 0.01], 'Zoho 0.20 of tax, +0.01 adjustment: 1.20 as NetSuite')
    t.equal(sandbox.counters().requestsByEndpoint['PUT /bills/:id'], 1, 'predicted per line, Zoho rounded per bill: one update corrected it')
    t.equal((await runtime.pool.query('SELECT mode FROM tax_rounding')).rows[0]?.mode, 'transaction', 'the setting is remembered')
    const [second, third] = await settled(runtime, await send(runtime, [perLine('TXL2'), perBill('TXB')]))
    sameBooks(t, sandbox, second!, 'the next bill')
    t.equal(sameBooks(t, sandbox, third!, 'NetSuite per bill too').adjustment ?? 0, 0)
    t.equal(sandbox.counters().requestsByEndpoint['PUT /bills/:id'], 1, 'later bills are right the first time')
    t.equal(sandbox.bills().filter((b) => b.status === 'open').length, 3)
  })
})

t.test('beyond the tolerance: TAX_DIFFERS naming both figures, no bill left open in Zoho', async (t) => {
  // A group of a 10% tax and a 10% tax compounded on it: listed as 20%, charged 21% (docs/zoho.md).
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk',
    taxes: [{ name: 'Reduced Rate', percentage: 5, specificType: 'reduced' }, { name: 'Levy', percentage: 10, specificType: 'standard' }, { name: 'Levy on levy', percentage: 10, type: 'compound_tax', specificType: 'standard' }],
    taxGroups: [{ name: 'Levies', taxes: ['Levy', 'Levy on levy'] }] } })
  const runtime = await startTestRuntime(t, env)
  const gb = { country: 'GB' }
  const [early, late] = await settled(runtime, await send(runtime, [
    // NetSuite's 8.00 on 100.00 at 5%: Zoho would charge 5.00 under either rounding.
    taxed('DIFF1', 'GBP', gb, [{ amount: '100.00', taxCode: 'VAT:R-GB', taxRate: '5', taxAmount: '8.00' }]),
    taxed('DIFF2', 'GBP', gb, [{ amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00' }]),
  ]))
  t.equal(early!.last_error_code, 'TAX_DIFFERS')
  t.match(early!.last_error_message, /GBP 108\.00/, "names NetSuite's total")
  t.match(early!.last_error_message, /GBP 105\.00/, "names Zoho's")
  t.equal(sandbox.bills().filter((b) => b.bill_number.startsWith('DIFF1')).length, 0, 'decided before any bill was made')
  t.equal(late!.status, 'failed')
  t.equal(late!.last_error_code, 'TAX_DIFFERS', 'Zoho booked 121.00 where 120.00 was predicted: beyond the tolerance')
  t.match(late!.last_error_message, /GBP 121\.00.*GBP 120\.00/)
  t.equal(late!.zoho_bill_id, null, 'the transaction points at no Zoho bill')
  t.equal(sandbox.bills().filter((b) => b.bill_number.startsWith('DIFF2') && b.status !== 'void').length, 0, 'no wrong bill left open in Zoho')
  t.equal(sandbox.counters().requestsByEndpoint['DELETE /bills/:id'], 1, 'deleted')
})

t.test('TAX_UNMAPPED → map tax → retry → delivered', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', taxes: [
    { name: 'Standard Rate', percentage: 20, specificType: 'standard' }, { name: 'Standard Rate (imports)', percentage: 20, specificType: 'standard' },
  ] } })
  const runtime = await startTestRuntime(t, env)
  const [id] = await send(runtime, [taxed('UNMAP', 'GBP', { country: 'GB' }, [{ amount: '10.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '2.00' }])])
  const [failed] = await settled(runtime, [id!])
  t.equal(failed!.last_error_code, 'TAX_UNMAPPED')
  t.match(failed!.last_error_message, /npm run cli -- map tax "VAT:S-GB"/)
  const chosen = taxId(sandbox, 'Standard Rate (imports)')
  await saveMapping(runtime.pool, sandbox.organizationId, { kind: 'tax', netsuite: 'VAT:S-GB', zohoId: chosen }, { actor: 'test' })
  t.same((await retryTransactions(runtime.pool, runtime.boss, [id!])).retried, [id])
  await waitFor(async () => (await runtime.pool.query(`SELECT status FROM transactions WHERE id = $1`, [id])).rows[0].status === 'delivered', 'the retried bill to be delivered')
  const [row] = await settled(runtime, [id!])
  t.equal(sameBooks(t, sandbox, row!, 'mapped').line_items[0]!.tax_id, chosen, "the operator's choice")
})

t.test('India: GST treatment, GSTIN, source and destination of supply; the missing fields', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'india', homeState: 'KA' } })
  const runtime = await startTestRuntime(t, env)
  const ids = await send(runtime, [
    taxed('INTRA', 'INR', { country: 'IN', taxId: '29ABCDE1234F1Z5' }, [{ amount: '1000.00', taxCode: 'GST:CGST+SGST 18%', taxRate: '18', taxAmount: '180.00' }]),
    taxed('INTER', 'INR', { country: 'IN', taxId: '27ABCDE1234F1Z5' }, [{ amount: '1000.00', taxCode: 'GST:IGST 18%', taxRate: '18', taxAmount: '180.00' }]),
    taxed('IMPORT', 'INR', { country: 'US' }, [{ amount: '500.00', taxCode: 'GST:IGST 5%', taxRate: '5', taxAmount: '25.00' }]),
    taxed('NOGSTIN', 'INR', { country: 'IN' }, [{ amount: '100.00', taxCode: 'GST:IGST 5%', taxRate: '5', taxAmount: '5.00' }]),
    taxed('BADGSTIN', 'INR', { country: 'IN', taxId: 'ABC' }, [{ amount: '100.00', taxCode: 'GST:IGST 5%', taxRate: '5', taxAmount: '5.00' }]),
    taxed('INNOC', 'INR', { taxId: '29ABCDE1234F1Z5' }, [{ amount: '100.00', taxCode: 'GST:IGST 5%', taxRate: '5', taxAmount: '5.00' }]),
    taxed('WRONGGST', 'INR', { country: 'IN', taxId: '29ABCDE1234F1Z5' }, [{ amount: '100.00', taxCode: 'GST:IGST 5%', taxRate: '5', taxAmount: '5.00' }]),
  ])
  const [intra, inter, imported, noGstin, badGstin, noCountry, wrongKind] = await settled(runtime, ids)
  const a = sameBooks(t, sandbox, intra!, 'intra-state')
  t.same([a.gst_treatment, a.gst_no, a.source_of_supply, a.destination_of_supply], ['business_gst', '29ABCDE1234F1Z5', 'KA', 'KA'])
  t.equal(a.line_items[0]!.tax_id, taxId(sandbox, 'GST18'), 'CGST + SGST within Karnataka')
  t.same(a.taxes?.map((x) => x.tax_amount), [90, 90])
  const b = sameBooks(t, sandbox, inter!, 'inter-state')
  t.same([b.gst_treatment, b.source_of_supply, b.destination_of_supply, b.line_items[0]!.tax_id], ['business_gst', 'MH', 'KA', taxId(sandbox, 'IGST18')], 'Maharashtra to Karnataka: IGST')
  t.equal(sameBooks(t, sandbox, imported!, 'import').gst_treatment, 'overseas')
  t.equal(noGstin!.last_error_code, 'VENDOR_STATE_REQUIRED')
  t.equal(badGstin!.last_error_code, 'VENDOR_TAX_ID_REQUIRED')
  t.match(badGstin!.last_error_message, /GSTIN/)
  t.equal(noCountry!.last_error_code, 'VENDOR_COUNTRY_REQUIRED')
  t.equal(wrongKind!.last_error_code, 'TAX_UNMAPPED', 'IGST within one state is refused before Zoho is asked')
  t.match(wrongKind!.last_error_message, /intra-state/)
  t.equal(sandbox.bills().length, 3, 'only the three bookable bills are in Zoho')
})

t.test('Gulf: tax treatment and place of supply', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'gcc', homeState: 'DU' } })
  const runtime = await startTestRuntime(t, env)
  const vat = (prefix: string, vendor: Record<string, unknown>, taxAmount = '5.00') => taxed(prefix, 'AED', vendor, [{ amount: '100.00', taxCode: 'VAT:SR-AE', taxRate: '5', taxAmount }])
  const ids = await send(runtime, [
    vat('AEREG', { country: 'AE', taxId: '100123456700003' }), vat('AEUNREG', { country: 'AE' }), vat('SAUNREG', { country: 'SA' }),
    vat('USRC', { country: 'US' }, '0.00'), vat('GCCNOC', {}),
  ])
  const [registered, unregistered, saudi, reverse, noCountry] = await settled(runtime, ids)
  const a = sameBooks(t, sandbox, registered!, 'UAE registered')
  t.same([a.tax_treatment, a.place_of_supply, a.tax_total], ['vat_registered', 'DU', 5])
  t.equal(sameBooks(t, sandbox, unregistered!, 'UAE unregistered').tax_treatment, 'vat_not_registered')
  t.equal(sameBooks(t, sandbox, saudi!, 'Saudi').tax_treatment, 'gcc_vat_not_registered')
  const rc = sameBooks(t, sandbox, reverse!, 'import of a service')
  t.same([rc.tax_treatment, rc.is_reverse_charge_applied, rc.total], ['non_gcc', true, 100])
  t.equal(noCountry!.last_error_code, 'VENDOR_COUNTRY_REQUIRED')
})

t.test('Gulf: an organization whose address names no emirate fails PLACE_OF_SUPPLY_REQUIRED', async (t) => {
  const nowhere = await startSandbox(t, { seed: { edition: 'gcc', homeState: '' } })
  const runtime2 = await startTestRuntime(t, nowhere.env)
  const [row] = await settled(runtime2, await send(runtime2, [taxed('NOPLACE', 'AED', { country: 'AE' }, [{ amount: '100.00', taxCode: 'VAT:SR-AE', taxRate: '5', taxAmount: '5.00' }])]))
  t.equal(row!.last_error_code, 'PLACE_OF_SUPPLY_REQUIRED')
  t.equal(nowhere.sandbox.bills().length, 0)
})

t.test('US: a taxed line with no US tax to map fails TAX_UNMAPPED; an untaxed bill carries nothing extra', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const [plain, withTax] = await settled(runtime, await send(runtime, [
    taxed('USPLAIN', 'USD', { country: 'US' }, [{ amount: '10.00' }]),
    taxed('USTAX', 'USD', { country: 'US' }, [{ amount: '10.00', taxCode: 'CA-SALES', taxRate: '7.25', taxAmount: '0.73' }]),
  ]))
  const bill = sameBooks(t, sandbox, plain!, 'untaxed')
  t.same([bill.vat_treatment, bill.adjustment, bill.tax_total], [undefined, undefined, undefined], 'no edition field, no adjustment')
  t.equal(withTax!.last_error_code, 'TAX_UNMAPPED')
})

t.test("a taxed bill whose create answer was lost is adopted: its twin's total is NetSuite's gross total", async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk' } })
  const runtime = await startTestRuntime(t, env)
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1 })
  const [id] = await send(runtime, [taxed('LOSTTAX', 'GBP', { country: 'GB' }, [{ amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00' }])])
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0 })
  const [row] = await settled(runtime, [id!])
  t.equal(row!.status, 'delivered')
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho, adopted (120.00 = 100.00 + 20.00, not the net 100.00)')
  t.equal(row!.zoho_bill_id, sandbox.bills()[0]!.bill_id)
  sameBooks(t, sandbox, row!, 'adopted')
})

t.test('a lost create answer where Zoho rounded the other way: the twin is adopted and corrected, never left open beside a failure', async (t) => {
  // Per-bill rounding, predicted per line: the bill Zoho made is 0.01 off NetSuite's total, and its answer is lost.
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', taxRounding: 'transaction' } })
  const runtime = await startTestRuntime(t, env)
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1, loseAnswerEndpoint: 'POST /bills' })
  const bill = taxed('LOSTRND', 'GBP', { country: 'GB' }, [0.07, 0.07, 0.07].map((tax) => ({ amount: '0.33', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: tax.toFixed(2) })))
  const [id] = await send(runtime, [bill])
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0, loseAnswerEndpoint: '' })
  const [row] = await settled(runtime, [id!])
  t.equal(row!.status, 'delivered', `delivered (${row!.last_error_code ?? ''} ${row!.last_error_message ?? ''})`)
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho')
  t.equal(row!.zoho_bill_id, sandbox.bills()[0]!.bill_id, 'the twin is the bill billbridge holds')
  sameBooks(t, sandbox, row!, 'adopted and corrected')
})
