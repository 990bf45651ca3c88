// billbridge's prediction of Zoho's tax against the sandbox's own computation, under both rounding settings,
// over many lines: the adjustment is only right if the two agree to the cent.
import t from 'tap'
import { planAdjustment, predictTotals, toMilli, type PricedLine } from '../../src/delivery/tax-rounding.ts'
import type { ZohoTaxRef } from '../../src/delivery/taxes.ts'
import { BooksState } from '../../src/sandbox/state.ts'
import { computeTaxes } from '../../src/sandbox/tax.ts'

t.test('predicted totals equal the sandbox\'s under per-line and per-bill rounding', async (t) => {
  let seed = 7
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  for (const rounding of ['line', 'transaction'] as const) {
    const state = new BooksState({ edition: 'uk', taxRounding: rounding })
    const taxes = ['Standard Rate', 'Reduced Rate', 'Zero Rate'].map((name) => state.taxByName(name)!) as Array<{ tax_id: string; tax_name: string; tax_percentage: number }>
    let mismatches = 0
    for (let bill = 0; bill < 300; bill++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({ net: Math.round(random() * 20000) / 100, tax: taxes[Math.floor(random() * taxes.length)]! }))
      const sandbox = computeTaxes(state, { vendorCurrency: 'GBP', rounding, inclusive: false, lines: lines.map((l) => ({ net: l.net, tax: l.tax as never })) })
      const priced: PricedLine[] = lines.map((l) => ({ rate: l.net, quantity: 1, tax: { taxId: l.tax.tax_id, name: l.tax.tax_name, percentage: String(l.tax.tax_percentage), isGroup: false, kind: 'standard' } satisfies ZohoTaxRef }))
      const predicted = predictTotals(priced, 2, false)
      if (predicted.total[rounding] !== toMilli(sandbox.subTotal + sandbox.taxTotal)) mismatches++
    }
    t.equal(mismatches, 0, `${rounding}: 300 bills predicted to the cent`)
  }
})

t.test('planAdjustment: the learned setting first, the other when only it is within the tolerance, TAX_DIFFERS beyond both', async (t) => {
  const prediction = { decimals: 2, subTotal: 990, tax: { line: 210, transaction: 200 }, total: { line: 1200, transaction: 1190 } }
  const plan = (total: string, learned: 'line' | 'transaction' | null, tolerance = 0.05) =>
    planAdjustment({ netsuiteTotal: total, netsuiteTax: '0.20', prediction, learned, tolerance, currency: 'GBP', reverseCharge: false })
  t.same([plan('1.19', null).mode, plan('1.19', null).adjustment], ['line', -10], 'per line until learned: −0.01')
  t.same([plan('1.19', 'transaction').mode, plan('1.19', 'transaction').adjustment], ['transaction', 0])
  t.same([plan('1.30', null, 0.1).mode, plan('1.30', null, 0.1).adjustment], ['line', 100])
  t.same(plan('1.14', null).mode, 'transaction', 'only per bill is within 0.05')
  t.throws(() => plan('1.30', null), { code: 'TAX_DIFFERS', message: /GBP 1\.30.*GBP 1\.20 \(tax rounded per line\) or GBP 1\.19 \(per bill\)/ })
})
