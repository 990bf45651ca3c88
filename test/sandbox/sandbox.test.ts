import { request } from 'undici'
import t from 'tap'
import { startZohoSandbox } from '../../src/sandbox/server.ts'
import { booksRequest, grantToken } from '../helpers/books.ts'

const token = grantToken
const books = booksRequest

t.test('token grant, its errors with HTTP 200, and the grant limit', async (t) => {
  const sandbox = await startZohoSandbox({ grantsPerWindow: 2 })
  t.teardown(() => sandbox.close())
  const ok = await token(sandbox)
  t.equal(ok.status, 200)
  t.match(ok.body, { expires_in: 3600, token_type: 'Bearer' })
  t.ok(ok.body.access_token)
  t.same((await token(sandbox, { client_secret: 'wrong' })).body, { error: 'invalid_client' })
  const badCode = await token(sandbox, { refresh_token: 'nope' })
  t.equal(badCode.status, 200, 'errors come with HTTP 200')
  t.same(badCode.body, { error: 'invalid_code' })
  await token(sandbox)
  const denied = await token(sandbox)
  t.equal(denied.body.error, 'Access Denied', 'the third grant in a minute is refused')
  t.equal(sandbox.counters().tokensIssued, 2)
  t.equal(sandbox.counters().refreshDenied, 1)
})

t.test('expired and unknown tokens get 401 with the envelope', async (t) => {
  const sandbox = await startZohoSandbox({ tokenLifetimeSeconds: 1 })
  t.teardown(() => sandbox.close())
  const { access_token } = (await token(sandbox)).body
  t.equal((await books(sandbox, access_token, 'GET', '/contacts')).status, 200)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const expired = await books(sandbox, access_token, 'GET', '/contacts')
  t.equal(expired.status, 401)
  t.equal(expired.body.code, 57)
  t.equal((await books(sandbox, 'made-up', 'GET', '/contacts')).status, 401)
})

t.test('contacts, accounts, bills as JSON and multipart, lookups, attachments, upsert', async (t) => {
  const sandbox = await startZohoSandbox()
  t.teardown(() => sandbox.close())
  const { access_token: tok } = (await token(sandbox)).body
  const chart = await books(sandbox, tok, 'GET', '/chartofaccounts', { query: { filter_by: 'AccountType.All' } })
  const office = chart.body.chartofaccounts.find((a: any) => a.account_code === '6100')
  t.ok(office, 'seeded chart of accounts')
  const created = await books(sandbox, tok, 'POST', '/contacts', { json: { contact_name: 'Globex', contact_type: 'vendor' } })
  t.equal(created.status, 201)
  const dup = await books(sandbox, tok, 'POST', '/contacts', { json: { contact_name: 'globex', contact_type: 'vendor' } })
  t.equal(dup.status, 201, 'Zoho allows a second contact with the same name')
  const found = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_type: 'vendor', contact_name: 'Globex' } })
  t.equal(found.body.contacts.length, 2, 'both are found by name')
  const vendorId = created.body.contact.contact_id
  const bill = { vendor_id: vendorId, bill_number: 'INV-1', date: '2026-11-01', line_items: [{ account_id: office.account_id, rate: 10, quantity: 1 }] }
  const json = await books(sandbox, tok, 'POST', '/bills', { json: bill })
  t.equal(json.status, 201)
  t.equal(json.body.code, 0)
  const pdf = Buffer.from('%PDF-1.4 hello')
  const multi = await books(sandbox, tok, 'POST', '/bills', { multipart: { json: { ...bill, bill_number: 'INV-2' }, file: pdf, fileName: 'INV-2.pdf' } })
  t.equal(multi.status, 201)
  t.equal(multi.body.bill.documents[0].file_size, pdf.length, 'the attachment part is read')
  const listed = await books(sandbox, tok, 'GET', '/bills', { query: { bill_number: 'INV-2', vendor_id: vendorId } })
  t.equal(listed.body.bills.length, 1)
  t.equal(listed.body.bills[0].has_attachment, true)
  t.equal(listed.body.bills[0].documents, undefined, 'list entries carry has_attachment, not documents')
  const noPdf = await books(sandbox, tok, 'GET', '/bills', { query: { bill_number: 'INV-1', vendor_id: vendorId } })
  t.equal(noPdf.body.bills[0].has_attachment, false)
  const attach = await books(sandbox, tok, 'POST', `/bills/${json.body.bill.bill_id}/attachment`, { multipart: { json: {}, file: pdf, fileName: 'INV-1.pdf' } })
  t.equal(attach.status, 200)
  t.equal((await books(sandbox, tok, 'GET', `/bills/${json.body.bill.bill_id}`)).body.bill.documents.length, 1)
  const badAccount = await books(sandbox, tok, 'POST', '/bills', { json: { ...bill, bill_number: 'INV-3', line_items: [{ account_id: '42', rate: 1 }] } })
  t.equal(badAccount.status, 400)
  t.equal(badAccount.body.code, 4)
  const upsertHeaders = { 'X-Unique-Identifier-Key': 'cf_netsuite_id', 'X-Unique-Identifier-Value': 'NS-9', 'X-Upsert': 'true' }
  const first = await books(sandbox, tok, 'PUT', '/bills', { json: { ...bill, bill_number: 'INV-9' }, headers: upsertHeaders })
  t.equal(first.status, 201, 'upsert creates')
  const second = await books(sandbox, tok, 'PUT', '/bills', { json: { ...bill, bill_number: 'INV-9', notes: 'again' }, headers: upsertHeaders })
  t.equal(second.status, 200, 'upsert updates')
  t.equal(second.body.bill.bill_id, first.body.bill.bill_id)
  t.equal(sandbox.counters().billsByNumber['INV-9'], 1, 'one bill for the unique value')
  t.equal((await books(sandbox, tok, 'GET', '/bills')).status, 200)
  const noOrg = await request(`${sandbox.apiUrl}/bills`, { headers: { authorization: `Zoho-oauthtoken ${tok}` } })
  t.equal(noOrg.statusCode, 400, 'organization_id is required')
  await noOrg.body.dump()
})

t.test('the sliding-window rate limit answers 429 without Retry-After', async (t) => {
  const sandbox = await startZohoSandbox({ ratePerMinute: 10 })
  t.teardown(() => sandbox.close())
  const { access_token: tok } = (await token(sandbox)).body
  const statuses: number[] = []
  let limited
  for (let i = 0; i < 12; i++) {
    const res = await books(sandbox, tok, 'GET', '/contacts')
    statuses.push(res.status)
    if (res.status === 429) limited = res
  }
  t.same(statuses, [...Array(10).fill(200), 429, 429])
  t.equal(limited!.headers['retry-after'], undefined, 'no Retry-After header')
  t.ok(limited!.body.code > 0)
  const counters = sandbox.counters()
  t.equal(counters.responses429, 2)
  t.equal(counters.maxRequestsInAnyWindow, 10)
  t.equal(counters.requestsByEndpoint['GET /contacts'], 12)
})

t.test('fault switches: 5xx, dropped connections, timeouts, lost answers, storms', async (t) => {
  const sandbox = await startZohoSandbox()
  t.teardown(() => sandbox.close())
  const { access_token: tok } = (await token(sandbox)).body
  sandbox.setFaults({ errorRate5xx: 1 })
  const five = await books(sandbox, tok, 'GET', '/contacts')
  t.equal(five.status, 500)
  t.same(five.body, { code: 1000, message: 'Internal error' })
  sandbox.setFaults({ errorRate5xx: 0, dropRate: 1 })
  await t.rejects(books(sandbox, tok, 'GET', '/contacts'), 'a dropped connection is a socket error')
  sandbox.setFaults({ dropRate: 0, timeoutRate: 1 })
  const url = `${sandbox.apiUrl}/contacts?organization_id=${sandbox.organizationId}`
  await t.rejects(request(url, { headers: { authorization: `Zoho-oauthtoken ${tok}` }, headersTimeout: 300 }), { code: 'UND_ERR_HEADERS_TIMEOUT' })
  sandbox.setFaults({ timeoutRate: 0, loseAnswerAfterCreateRate: 1 })
  const vendors = await books(sandbox, tok, 'GET', '/contacts', { query: { contact_type: 'vendor' } })
  const chart = await books(sandbox, tok, 'GET', '/chartofaccounts')
  const bill = { vendor_id: vendors.body.contacts[0].contact_id, bill_number: 'LOST-1', line_items: [{ account_id: chart.body.chartofaccounts[0].account_id, rate: 5 }] }
  await t.rejects(books(sandbox, tok, 'POST', '/bills', { json: bill }), 'the caller never hears of the create')
  t.equal(sandbox.counters().billsByNumber['LOST-1'], 1, 'but the bill exists')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0, rateLimitStormUntil: Date.now() + 60_000 })
  t.equal((await books(sandbox, tok, 'GET', '/contacts')).status, 429, 'a storm refuses everything')
  const faults = sandbox.counters().faults
  t.same(faults, { dropped: 1, timedOut: 1, lostAnswers: 1, errors: 1 })
})
