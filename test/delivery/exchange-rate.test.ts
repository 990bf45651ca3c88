import t from 'tap'
import { zohoExchangeRate } from '../../src/delivery/bill-payload.ts'

t.test("NetSuite's exchangeRate goes to Zoho only when both mean the same base currency", async (t) => {
  const eur = { currency: 'EUR', exchangeRate: '0.8612' }
  t.equal(zohoExchangeRate(eur, 'GBP', undefined), 0.8612, 'base currencies not configured: assumed one, NetSuite’s rate is sent')
  t.equal(zohoExchangeRate(eur, 'GBP', 'GBP'), 0.8612, 'the subsidiaries’ base currency is the organization’s: sent')
  t.equal(zohoExchangeRate(eur, 'GBP', 'USD'), undefined, 'NetSuite’s rate is to USD, Zoho’s would be to GBP: none sent, Zoho applies its own')
  t.equal(zohoExchangeRate({ currency: 'GBP', exchangeRate: '1.27' }, 'GBP', 'USD'), undefined, 'a bill in the organization’s base currency: none (Zoho books it at 1)')
  t.equal(zohoExchangeRate({ currency: 'EUR' }, 'GBP', 'USD'), undefined, 'no rate from NetSuite: none')
  t.equal(zohoExchangeRate(eur, '', 'USD'), 0.8612, 'the organization’s currency not known yet: as configured before')
})
