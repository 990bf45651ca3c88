// The contract billbridge relies on, asserted against a Zoho Books organization (real, or the sandbox): the
// facts in docs/zoho.md that the sandbox models and the client depends on. Read-only unless `write` is set;
// in write mode it makes one clearly-marked test bill with a PDF in the vendor "billbridge test vendor",
// checks it, and deletes it (or voids it when Zoho will not delete it). Every request goes through the
// workers' Zoho stack: the organization's rate bucket and concurrency slots.
import { createLogger } from '../../src/logger.ts'
import { booksRootFor, createBooksClient, type BooksRequest } from '../../src/zoho/books-client.ts'
import { dataCentreOf } from '../../src/zoho/data-centres.ts'
import { ZohoError } from '../../src/zoho/errors.ts'
import type { TokenCache } from '../../src/zoho/token-cache.ts'
import { samplePdf } from './sample-bills.ts'
import { grantOnce, type ZohoSession } from './zoho-session.ts'

export const TEST_VENDOR_NAME = 'billbridge test vendor'

export interface CheckResult {
  name: string
  outcome: 'PASS' | 'FAIL' | 'SKIP'
  reason: string
}

/** A failed expectation: the check reports FAIL with this reason. */
class Broken extends Error {}
/** The organization holds nothing this check could look at: SKIP with this reason. */
class Nothing extends Error {}

function expect(condition: unknown, reason: string): asserts condition {
  if (!condition) throw new Broken(reason)
}

type Json = Record<string, any>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Runs a request that Zoho must refuse; returns the refusal (HTTP status and Zoho code). */
async function refused(run: () => Promise<unknown>, what: string): Promise<ZohoError> {
  try {
    await run()
  } catch (err) {
    if (err instanceof ZohoError && err.httpStatus !== null) return err
    throw err
  }
  throw new Broken(`${what} was accepted`)
}

/**
 * Runs every check in order and reports each as it ends. Later checks use what earlier ones found (an
 * account, a bill), and SKIP when the organization holds none.
 */
export async function runContractChecks(session: ZohoSession, options: { write?: boolean; report?: (result: CheckResult) => void } = {}): Promise<CheckResult[]> {
  const { stack, target } = session
  const books = stack.books
  const results: CheckResult[] = []
  const call = <T extends Json = Json>(req: BooksRequest) => books.call<T>(req)
  const get = (path: string, endpoint: string, query?: Record<string, string>) => call({ method: 'GET', path, endpoint, ...(query ? { query } : {}) })

  async function check(name: string, run: () => Promise<string>): Promise<void> {
    let result: CheckResult
    try {
      result = { name, outcome: 'PASS', reason: await run() }
    } catch (err) {
      const reason = (err as Error).message
      result = { name, outcome: err instanceof Nothing ? 'SKIP' : 'FAIL', reason }
    }
    results.push(result)
    options.report?.(result)
  }

  const found: { apiDomain?: string; baseCurrency?: { id: string; code: string }; expenseAccount?: string; bill?: Json } = {}

  await check('token grant: envelope with access_token, expires_in, api_domain', async () => {
    const grant = await grantOnce(target, stack.dispatcher)
    expect(grant.status === 200, `HTTP ${grant.status}`)
    expect(!grant.body.error, `Zoho answered error "${String(grant.body.error)}" (${String(grant.body.error_description ?? 'no description')}): check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and ZOHO_DC`)
    expect(typeof grant.body.access_token === 'string' && grant.body.access_token.length > 0, 'no access_token')
    expect(Number(grant.body.expires_in) > 0, `expires_in is ${String(grant.body.expires_in)}`)
    expect(typeof grant.body.api_domain === 'string' && /^https?:\/\//.test(grant.body.api_domain), `api_domain is ${String(grant.body.api_domain)}`)
    found.apiDomain = grant.body.api_domain
    return `api_domain ${grant.body.api_domain} (data centre ${dataCentreOf(grant.body.api_domain) ?? 'none of Zoho\'s'}), expires_in ${String(grant.body.expires_in)} s, token_type ${String(grant.body.token_type ?? '(none)')}`
  })

  if (results[0]?.outcome !== 'PASS') {
    await check('the other checks', async () => {
      throw new Nothing('not run: no token')
    })
    return results
  }

  await check('Books root follows api_domain unless ZOHO_API_URL overrides it', async () => {
    const token = await stack.tokens.get()
    expect(token.apiDomain, 'the shared token row holds no api_domain')
    const root = books.rootFor(token)
    if (target.apiUrl) {
      expect(root === target.apiUrl, `requests go to ${root}, not ZOHO_API_URL ${target.apiUrl}`)
      return `ZOHO_API_URL ${target.apiUrl} overrides api_domain ${token.apiDomain}${booksRootFor(token.apiDomain) === target.apiUrl.replace(/\/+$/, '') ? ' (they agree)' : ' (they DIFFER: unset ZOHO_API_URL unless intended)'}`
    }
    expect(root === booksRootFor(token.apiDomain), `requests go to ${root}, not ${booksRootFor(token.apiDomain)}`)
    return `requests go to ${root}`
  })

  await check('organization: GET /organizations/{id} names the organization, base currency and time zone', async () => {
    const res = await get(`/organizations/${encodeURIComponent(target.organizationId)}`, 'GET /organizations/:id')
    const org = res.organization
    expect(isObject(org), 'no organization object')
    expect(String(org.organization_id) === target.organizationId, `organization_id ${String(org.organization_id)}`)
    expect(typeof org.name === 'string' && typeof org.currency_code === 'string' && typeof org.time_zone === 'string', 'name, currency_code or time_zone missing')
    return `"${org.name}", base currency ${org.currency_code}, time zone ${org.time_zone}`
  })

  await check('organization_id is required on every Books request', async () => {
    const err = await refused(() => get('/settings/currencies', 'GET /settings/currencies (no organization)', { organization_id: '' }), 'a request without organization_id')
    expect(err.httpStatus! >= 400 && err.httpStatus! < 500 && err.zohoCode, `HTTP ${err.httpStatus}, code ${err.zohoCode}`)
    return `refused with HTTP ${err.httpStatus}, code ${err.zohoCode}`
  })

  await check('a bad access token gets HTTP 401 with code 57', async () => {
    // The same permits and slots as every other request; only the token differs, and it is never refreshed.
    const badToken = { token: '1000.not-a-token', expiresAt: new Date(Date.now() + 3_600_000), apiDomain: found.apiDomain ?? null, issuedAfter401: true }
    const tokens: TokenCache = { get: async () => badToken, unauthorized: async () => 'give-up', accepted: async () => undefined }
    const client = createBooksClient({ ...(target.apiUrl ? { apiUrl: target.apiUrl } : {}), defaultApiUrl: target.defaultApiUrl, organizationId: target.organizationId, tokens, limiter: stack.limiter, gate: stack.gate, dispatcher: stack.dispatcher, logger: silent })
    const err = await refused(() => client.call({ method: 'GET', path: '/settings/currencies', endpoint: 'GET /settings/currencies (bad token)' }), 'a made-up token')
    expect(err.httpStatus === 401, `HTTP ${err.httpStatus}`)
    expect(err.zohoCode === 57, `code ${err.zohoCode} (billbridge treats any 401 alike, so this is informational)`)
    return 'HTTP 401, code 57'
  })

  await check('error envelope: a refusal carries { code, message }', async () => {
    const err = await refused(() => get('/bills/1', 'GET /bills/:id (unknown)'), 'GET /bills/1')
    expect(err.httpStatus! >= 400 && err.httpStatus! < 500, `HTTP ${err.httpStatus}`)
    expect(typeof err.zohoCode === 'number' && err.zohoCode !== 0, `code ${err.zohoCode}`)
    expect(!/: HTTP \d+$/.test(err.message), 'no message in the body')
    return `HTTP ${err.httpStatus}, code ${err.zohoCode}, message "${err.message.replace(/^.*?Zoho refused the request \(code [^)]*\): /, '')}"`
  })

  await check('GET /settings/currencies: currency_id and currency_code, one base currency', async () => {
    const list = (await get('/settings/currencies', 'GET /settings/currencies')).currencies
    expect(Array.isArray(list) && list.length > 0, 'no currencies array')
    expect(list.every((c: Json) => typeof c.currency_id === 'string' && /^[A-Z]{3}$/.test(c.currency_code)), 'an entry without currency_id or a 3-letter currency_code')
    const base = list.filter((c: Json) => c.is_base_currency === true)
    expect(base.length === 1, `${base.length} entries with is_base_currency`)
    found.baseCurrency = { id: base[0].currency_id, code: base[0].currency_code }
    return `${list.length} enabled (${list.map((c: Json) => c.currency_code).join(', ')}), base ${base[0].currency_code}`
  })

  await check('chart of accounts is paged: per_page ≤ 200, page_context.has_more_page', async () => {
    const full = await get('/chartofaccounts', 'GET /chartofaccounts', { filter_by: 'AccountType.All', page: '1', per_page: '200' })
    const accounts = full.chartofaccounts as Json[] | undefined
    expect(Array.isArray(accounts) && accounts.length > 0 && accounts.length <= 200, `${accounts?.length ?? 'no'} accounts on a page of 200`)
    expect(accounts.every((a) => typeof a.account_id === 'string' && typeof a.account_name === 'string' && typeof a.is_active === 'boolean'), 'an account without account_id, account_name or is_active')
    expect(typeof full.page_context?.has_more_page === 'boolean', 'no page_context.has_more_page')
    found.expenseAccount = (accounts.find((a) => a.is_active && a.account_type === 'expense') ?? accounts.find((a) => a.is_active && /expense/i.test(String(a.account_type))))?.account_id
    const first = await get('/chartofaccounts', 'GET /chartofaccounts', { filter_by: 'AccountType.All', page: '1', per_page: '2' })
    expect(first.chartofaccounts?.length === Math.min(2, accounts.length), `per_page=2 gave ${first.chartofaccounts?.length}`)
    expect(first.page_context?.has_more_page === accounts.length > 2, `has_more_page ${first.page_context?.has_more_page} with ${accounts.length} accounts`)
    if (accounts.length <= 2) return `${accounts.length} accounts, one page`
    const second = await get('/chartofaccounts', 'GET /chartofaccounts', { filter_by: 'AccountType.All', page: '2', per_page: '2' })
    const ids = new Set(first.chartofaccounts.map((a: Json) => a.account_id))
    expect(second.chartofaccounts?.length > 0 && second.chartofaccounts.every((a: Json) => !ids.has(a.account_id)), 'page 2 repeats page 1')
    return `${accounts.length}${full.page_context.has_more_page ? '+' : ''} accounts on page 1 of 200; per_page=2 pages 1 and 2 differ`
  })

  await check('contacts: vendor and status filters, contact_name, page_context', async () => {
    const list = await get('/contacts', 'GET /contacts', { contact_type: 'vendor', filter_by: 'Status.Active', page: '1', per_page: '2' })
    const vendors = list.contacts as Json[] | undefined
    expect(Array.isArray(vendors) && vendors.length <= 2, 'no contacts array of at most per_page entries')
    expect(typeof list.page_context?.has_more_page === 'boolean', 'no page_context.has_more_page')
    if (vendors.length === 0) throw new Nothing('no active vendor to look up by name')
    expect(vendors.every((c) => (c.contact_type ?? 'vendor') === 'vendor' && (c.status ?? 'active') === 'active'), 'a non-vendor or inactive contact in a vendor, Status.Active list')
    const name = String(vendors[0]!.contact_name)
    const byName = (await get('/contacts', 'GET /contacts', { contact_type: 'vendor', filter_by: 'Status.Active', contact_name: name })).contacts as Json[]
    expect(byName.some((c) => c.contact_id === vendors[0]!.contact_id), `contact_name="${name}" does not find that vendor`)
    // Zoho does not document whether contact_name matches exactly; billbridge compares names itself either way.
    const inexact = byName.filter((c) => String(c.contact_name).trim().toLowerCase() !== name.trim().toLowerCase()).length
    return `contact_name="${name}" → ${byName.length} (${inexact === 0 ? 'all exact' : `${inexact} not exact; billbridge filters exactly itself`}); entries carry currency_code: ${vendors.every((c) => typeof c.currency_code === 'string') ? 'yes' : 'no'}`
  })

  await check('bill list entries carry has_attachment and attachment_name, not documents', async () => {
    const list = await get('/bills', 'GET /bills', { page: '1', per_page: '10' })
    const bills = list.bills as Json[] | undefined
    expect(Array.isArray(bills), 'no bills array')
    expect(typeof list.page_context?.has_more_page === 'boolean', 'no page_context.has_more_page')
    if (bills.length === 0) throw new Nothing('the organization has no bills to inspect')
    expect(bills.every((b) => typeof b.has_attachment === 'boolean'), 'an entry without has_attachment')
    expect(bills.every((b) => !('documents' in b)), 'an entry with documents')
    found.bill = bills.find((b) => b.has_attachment) ?? bills[0]
    return `${bills.length} entries; attachment_name present: ${bills.every((b) => 'attachment_name' in b) ? 'yes' : 'no (billbridge does not need it)'}; currency_code present: ${bills.every((b) => 'currency_code' in b) ? 'yes' : 'no'}`
  })

  await check('a bill by id carries documents', async () => {
    if (!found.bill) throw new Nothing('no bill to fetch')
    const bill = (await get(`/bills/${encodeURIComponent(found.bill.bill_id)}`, 'GET /bills/:id')).bill
    expect(isObject(bill) && Array.isArray(bill.documents), 'no documents array')
    expect(!found.bill.has_attachment || bill.documents.length > 0, 'the list said has_attachment, documents is empty')
    return `bill ${found.bill.bill_id}: ${bill.documents.length} document(s)`
  })

  if (options.write) await writeChecks(session, check, found)
  return results
}

type Check = (name: string, run: () => Promise<string>) => Promise<void>

async function writeChecks(session: ZohoSession, check: Check, found: { baseCurrency?: { id: string; code: string }; expenseAccount?: string }): Promise<void> {
  const books = session.stack.books
  const created: string[] = []
  let vendorId: string | undefined
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  const billNumber = `BB-CONTRACT-${stamp}`
  const date = new Date().toISOString().slice(0, 10)
  const fileName = `${billNumber}.pdf`
  // A real one-page PDF that says what it is, so nobody mistakes it for a vendor's bill.
  const pdf = samplePdf('billbridge zoho-contract test bill - safe to delete', 1024)
  const billJson = () => ({
    vendor_id: vendorId, bill_number: billNumber, date, reference_number: 'billbridge zoho-contract test',
    notes: 'Test bill made by `npm run zoho-contract -- --write` (billbridge); it deletes it at once. Safe to delete.',
    line_items: [{ account_id: found.expenseAccount, description: 'billbridge contract test, safe to delete', rate: 1, quantity: 1 }],
  })

  try {
    await check(`vendor "${TEST_VENDOR_NAME}": found, or created with currency_id`, async () => {
      expect(found.baseCurrency, 'no base currency known (the currencies check failed)')
      const existing = (await books.call<Json>({ method: 'GET', path: '/contacts', endpoint: 'GET /contacts', query: { contact_type: 'vendor', filter_by: 'Status.Active', contact_name: TEST_VENDOR_NAME } })).contacts as Json[]
      const same = existing.find((c) => String(c.contact_name).trim().toLowerCase() === TEST_VENDOR_NAME)
      if (same) {
        vendorId = same.contact_id
        return `reused contact ${same.contact_id} (made by an earlier --write run)`
      }
      const res = await books.call<Json>({
        method: 'POST', path: '/contacts', endpoint: 'POST /contacts',
        json: { contact_name: TEST_VENDOR_NAME, company_name: TEST_VENDOR_NAME, contact_type: 'vendor', currency_id: found.baseCurrency.id, notes: 'Made by billbridge zoho-contract for its test bill.' },
      })
      expect(res.contact?.contact_id, 'no contact_id in the answer')
      vendorId = res.contact.contact_id
      expect(!res.contact.currency_id || res.contact.currency_id === found.baseCurrency.id, `currency_id ${res.contact.currency_id}, asked for ${found.baseCurrency.id}`)
      return `created contact ${vendorId} in ${res.contact.currency_code ?? found.baseCurrency.code}`
    })

    await check('POST /bills as multipart (JSONString + attachment) makes the bill with its PDF', async () => {
      expect(vendorId && found.expenseAccount, 'no vendor or no active expense account to book to')
      const res = await books.call<Json>({ method: 'POST', path: '/bills', endpoint: 'POST /bills', json: billJson(), attachment: { fileName, open: async () => (async function* () { yield pdf })() } })
      expect(res.bill?.bill_id, 'no bill_id in the answer')
      created.push(res.bill.bill_id)
      const docs = res.bill.documents
      return `bill ${res.bill.bill_id} ${billNumber}; the answer ${Array.isArray(docs) ? `lists ${docs.length} document(s)` : 'carries no documents (billbridge then reads the bill)'}`
    })

    await check('GET /bills/:id lists the PDF in documents; the list shows has_attachment', async () => {
      expect(created[0], 'no test bill')
      const bill = (await books.call<Json>({ method: 'GET', path: `/bills/${created[0]}`, endpoint: 'GET /bills/:id' })).bill
      expect(Array.isArray(bill?.documents) && bill.documents.some((d: Json) => d.file_name === fileName), `documents ${JSON.stringify(bill?.documents)}`)
      const listed = (await books.call<Json>({ method: 'GET', path: '/bills', endpoint: 'GET /bills', query: { bill_number: billNumber, vendor_id: vendorId! } })).bills as Json[]
      const entry = listed.find((b) => b.bill_id === created[0])
      expect(entry, 'the list by bill_number and vendor_id does not show it')
      expect(entry.has_attachment === true && !('documents' in entry), `list entry has_attachment ${entry.has_attachment}${'documents' in entry ? ' with documents' : ''}`)
      return `documents: ${bill.documents.map((d: Json) => d.file_name).join(', ')}; list entry has_attachment true`
    })

    await check('the same bill number for the same vendor in the same year is refused', async () => {
      expect(created[0], 'no test bill')
      let err: ZohoError
      try {
        const again = await books.call<Json>({ method: 'POST', path: '/bills', endpoint: 'POST /bills', json: billJson() })
        if (again.bill?.bill_id) created.push(again.bill.bill_id)
        throw new Broken('Zoho made a second bill with the number (is duplicate bill number checking turned off in this organization?)')
      } catch (e) {
        if (!(e instanceof ZohoError)) throw e
        err = e
      }
      expect(err.httpStatus !== null && err.httpStatus >= 400 && err.httpStatus < 500, `HTTP ${err.httpStatus}`)
      // Zoho documents no code for this; billbridge decides BILL_NUMBER_TAKEN by a lookup, not by the code.
      return `refused with HTTP ${err.httpStatus}, code ${err.zohoCode} (undocumented; billbridge does not rely on it)`
    })
  } finally {
    await check('clean-up: the test bill is deleted (or voided)', async () => {
      if (created.length === 0) throw new Nothing('no test bill was made')
      const how: string[] = []
      for (const id of created) {
        try {
          await books.call({ method: 'DELETE', path: `/bills/${id}`, endpoint: 'DELETE /bills/:id' })
          const gone = await refused(() => books.call({ method: 'GET', path: `/bills/${id}`, endpoint: 'GET /bills/:id' }), `GET of deleted bill ${id}`)
          how.push(`${id} deleted (then HTTP ${gone.httpStatus})`)
        } catch (err) {
          if (err instanceof Broken) throw err
          await books.call({ method: 'POST', path: `/bills/${id}/status/void`, endpoint: 'POST /bills/:id/status/void' })
          how.push(`${id} voided (delete refused: ${(err as Error).message})`)
        }
      }
      return how.join('; ')
    })
  }
}

const silent = createLogger('silent')
