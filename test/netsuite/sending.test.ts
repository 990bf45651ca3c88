// How the kit sends: failures caught per request, Retry-After left to the next run, batch ids, rejected bills.
import t from 'tap'
import { addBill, createKit } from './fake/kit.ts'
import { acceptingResponder } from './fake/responder.ts'
import type { HttpRequest } from './fake/env.ts'
import { SuiteScriptError } from './fake/errors.ts'
import { createSearchModule } from './fake/n-search.ts'

const status = (kit: ReturnType<typeof createKit>, id: string) => kit.account.bill(id).custom.custbody_bb_status ?? ''

t.test('a request that throws (timeout, reset) leaves its bills for the next run and the run goes on', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_bills_per_group: 2 } })
  for (const id of ['1', '2', '3', '4', '5', '6']) addBill(kit.account, { id })
  let calls = 0
  kit.env.fault = (request: HttpRequest) => {
    if (!request.url.endsWith('/batches')) return undefined
    calls++
    return calls === 1 ? 'timeout' : calls === 2 ? 'reset' : undefined
  }
  const before = kit.env.clock.now()
  const report = kit.run()
  t.same(report.errors, [], 'no invocation failed: the errors were caught')
  t.same(['1', '2', '3', '4', '5', '6'].map((id) => status(kit, id)), ['', '', '', '', 'queued', 'queued'])
  t.ok(kit.env.clock.now() - before >= 45_000, 'the timeout took its 45 s of script time')
  t.match(report.output.filter(([k]) => k === 'left').map(([, v]) => v), [/^1 request failed: SSS_REQUEST_TIME_EXCEEDED/, /^2 request failed/, /^3 request failed: SSS_CONNECTION_CLOSED/, /^4 request failed/])
  t.ok(kit.env.logs.some((l) => l.title === 'billbridge: left 4'), 'summarize says what was left and why')
  kit.env.fault = () => undefined
  kit.run()
  t.same(['1', '2', '3', '4'].map((id) => status(kit, id)), ['queued', 'queued', 'queued', 'queued'], 'the next run sends them')
})

t.test('429 and 503 leave the bills for the next run at once, whatever Retry-After says', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond)
  addBill(kit.account, { id: '7' })
  kit.env.fault = (request) => (request.url.endsWith('/batches') ? { code: 429, headers: { 'Retry-After': '120' }, body: '{"error":{"code":"RATE_LIMITED","message":"slow down"}}' } : undefined)
  const before = kit.env.clock.now()
  const report = kit.run()
  t.ok(kit.env.clock.now() - before < 5_000, 'no waiting inside NetSuite')
  t.match(report.output.find(([k]) => k === 'left')?.[1], /HTTP 429, Retry-After 120s/)
  t.equal(status(kit, '7'), '')
  kit.env.fault = () => undefined
  kit.run()
  t.equal(status(kit, '7'), 'queued')
})

t.test('a reduce re-run after a restart sends the same batch id; a corrected bill makes a new one', async (t) => {
  const billbridge = acceptingResponder({ reject: (b) => (b.billNumber === 'INV-9' ? { code: 'VENDOR_MISSING', message: 'no vendor' } : undefined) })
  const kit = createKit(billbridge.respond)
  addBill(kit.account, { id: '8' })
  addBill(kit.account, { id: '9' })
  kit.run({ restart: (stage) => stage === 'reduce' })
  const [first, again] = billbridge.requests
  t.equal(billbridge.requests.length, 2, 'the restarted reduce posted again')
  t.equal(first!.batchId, again!.batchId, 'with the same batch id, so billbridge answers as the first time')
  t.equal(status(kit, '8'), 'queued')
  t.equal(status(kit, '9'), 'rejected')
  t.equal(kit.account.bill('9').custom.custbody_bb_error_code, 'VENDOR_MISSING')

  kit.run()
  t.equal(billbridge.requests.length, 2, 'a rejected bill is not resent while nobody edits it')
  kit.account.editByUser('9', { tranid: 'INV-9b' })
  t.equal(status(kit, '9'), '', 'an edit reopens it')
  kit.run()
  t.equal(billbridge.requests.length, 3)
  t.same(billbridge.requests[2]!.bills.map((b) => b.billNumber), ['INV-9b'])
  t.not(billbridge.requests[2]!.batchId, first!.batchId)
  t.equal(status(kit, '9'), 'queued')
})

t.test("the sender's own write-back does not reopen a rejected bill", async (t) => {
  const billbridge = acceptingResponder({ reject: () => ({ code: 'CURRENCY_INVALID', message: 'no' }) })
  const kit = createKit(billbridge.respond)
  addBill(kit.account, { id: '10' })
  kit.run()
  kit.run()
  t.equal(status(kit, '10'), 'rejected')
  t.equal(billbridge.requests.length, 1)
})

t.test('a PDF too large for one request is refused without reading it', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond)
  addBill(kit.account, { id: '11', pdfSize: 12_000_000 })
  addBill(kit.account, { id: '12', pdfSize: 5_000_000 })
  const report = kit.run()
  t.same(report.errors, [], 'getContents was never asked for more than 10 MB')
  t.equal(kit.account.bill('11').custom.custbody_bb_error_code, 'ATTACHMENT_TOO_LARGE')
  t.same(billbridge.requests.map((r) => r.bills.map((b) => b.externalId)), [['12']])
})

t.test('requests stay under the byte limit', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_max_post_bytes: 1_000_000, custscript_bb_bills_per_group: 50 } })
  for (let i = 0; i < 10; i++) addBill(kit.account, { pdfSize: 200_000 })
  const sizes: number[] = []
  const respond = kit.env.transport
  kit.env.transport = (request) => {
    sizes.push(Buffer.byteLength(request.body))
    return respond(request)
  }
  kit.run()
  t.equal(billbridge.requests.flatMap((r) => r.bills).length, 10)
  t.ok(sizes.length >= 3 && sizes.every((s) => s <= 1_000_000), `requests of ${sizes.join(', ')} bytes`)
})

t.test('state is read back in bulk and written on each bill; a bill billbridge does not know is sent again', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond)
  addBill(kit.account, { id: '13' })
  addBill(kit.account, { id: '14' })
  kit.run()
  billbridge.states.set('13', { status: 'delivered', transactionId: 'tx-13' })
  billbridge.states.delete('14')
  kit.run()
  t.equal(status(kit, '13'), 'delivered')
  t.equal(status(kit, '14'), '', 'unknown to billbridge: open again')
  t.equal(kit.account.bill('14').custom.custbody_bb_error_code, 'NOT_IN_BILLBRIDGE')
  kit.run()
  t.equal(billbridge.requests.at(-1)!.bills[0]!.externalId, '14')
})

t.test('the first run creates the saved search "Vendor bills not in Zoho"', async (t) => {
  const kit = createKit(acceptingResponder().respond)
  kit.run()
  const saved = kit.account.savedSearches.get('customsearch_bb_not_in_zoho') as { title: string; isPublic: boolean }
  t.match(saved, { title: 'Vendor bills not in Zoho', isPublic: true })
  kit.run()
  t.equal(kit.account.savedSearches.size, 1, 'and only once')
})

t.test('a run without the go-live date or URL sends nothing and says which parameter is missing', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_go_live: null } })
  addBill(kit.account, { id: '15' })
  const report = kit.run()
  t.equal(billbridge.requests.length, 0)
  t.match(report.errors[0], { stage: 'getInputData', name: 'BILLBRIDGE_SETUP', message: /custscript_bb_go_live/ })
})

t.test('a bill whose state cannot be written is logged and not sent again; the rest of its group is marked', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_bills_per_group: 6 } })
  const ids = Array.from({ length: 12 }, (_, i) => String(40 + i))
  for (const id of ids) addBill(kit.account, { id })
  // A closed period (or another script's beforeSubmit) refuses every save of bills 42 and 47.
  const closed = new Set(['42', '47'])
  kit.account.refuseSave = (bill) => (closed.has(bill.id) ? new SuiteScriptError('USER_ERROR', 'You cannot edit a transaction in a closed period') : undefined)
  const posts = () => billbridge.requests.flatMap((r) => r.bills.map((b) => b.externalId))
  const first = kit.run()
  t.same(first.errors, [], 'no reduce stopped')
  t.same(posts().sort(), ids, 'every bill posted once')
  t.same(ids.filter((id) => status(kit, id) === 'queued'), ids.filter((id) => !closed.has(id)), 'every other bill of both groups is marked')
  t.same(first.output.filter(([k]) => k === 'unwritten').map(([, v]) => v.split(' ')[0]).sort(), ['42', '47'])
  t.ok(['42', '47'].every((id) => kit.env.logs.some((l) => l.level === 'ERROR' && l.title.includes(`bill ${id}`) && l.details.includes('closed period'))), 'each refused bill is logged with its reason')

  kit.run()
  kit.run()
  t.same(posts().sort(), ids, 'later runs send neither refused bill again')
  t.equal(kit.account.customRecords.size, 2, 'each refused bill is remembered once, however often its write is retried')
  t.equal(status(kit, '42'), '', 'still unwritten while the period is closed')

  closed.clear()
  kit.run()
  t.same(['42', '47'].map((id) => status(kit, id)), ['queued', 'queued'], 'once the account takes the write, the next run writes their state')
  t.equal(kit.account.customRecords.size, 0, 'and forgets them')
  t.same(posts().sort(), ids, 'still posted once')
})

t.test('a backlog whose oldest bills cannot be written goes on with the next ones', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_bills_per_run: 3 } })
  for (let i = 0; i < 9; i++) addBill(kit.account, { id: String(60 + i) })
  kit.account.refuseSave = (bill) => (Number(bill.id) < 63 ? new SuiteScriptError('USER_ERROR', 'closed period') : undefined)
  for (let run = 0; run < 3; run++) kit.run()
  const posts = billbridge.requests.flatMap((r) => r.bills.map((b) => b.externalId))
  t.same(posts, ['60', '61', '62', '63', '64', '65', '66', '67', '68'], 'three runs send all nine, each once')
})

t.test("every answer billbridge documents for a batch has an outcome on the bill or a logged stop", async (t) => {
  const json = (code: number, body: unknown, headers: Record<string, string> = {}) => ({ code, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const error = (code: string, message = 'm') => ({ error: { code, message } })
  // docs/api.md, POST /v1/vendor-bills/batches: 202, 400, 401, 403, 409, 413, 415, 422, 429, 5xx.
  const stops: Array<[number, string]> = [[400, 'INVALID_ENVELOPE'], [400, 'BATCH_ID_INVALID'], [401, 'UNAUTHENTICATED'], [403, 'FORBIDDEN'], [409, 'BATCH_ID_REUSED'], [415, 'UNSUPPORTED_MEDIA_TYPE'], [404, 'NOT_FOUND']]
  for (const [code, name] of stops) {
    const billbridge = acceptingResponder()
    const kit = createKit(billbridge.respond)
    addBill(kit.account, { id: '70' })
    addBill(kit.account, { id: '71' })
    kit.env.fault = (r) => (r.url.endsWith('/batches') ? json(code, error(name, 'no')) : undefined)
    const report = kit.run()
    t.same(['70', '71'].map((id) => [status(kit, id), kit.account.bill(id).custom.custbody_bb_error_code]), [['', name], ['', name]], `${code} ${name}: the error is written on each bill, status empty so it goes once fixed`)
    t.same(report.output.filter(([k]) => k === 'stopped').length, 2)
    t.ok(kit.env.logs.some((l) => l.level === 'ERROR' && l.title.includes(name)), `${code} ${name}: the stop is logged as an error`)
  }

  for (const [code, name] of [[429, 'RATE_LIMITED'], [503, 'DATABASE_UNAVAILABLE'], [500, 'INTERNAL_ERROR']] as const) {
    const kit = createKit(acceptingResponder().respond)
    addBill(kit.account, { id: '72' })
    kit.env.fault = (r) => (r.url.endsWith('/batches') ? json(code, error(name), { 'Retry-After': '30' }) : undefined)
    const report = kit.run()
    t.same([status(kit, '72'), kit.account.bill('72').custom.custbody_bb_error_code ?? ''], ['', ''], `${code}: transient, left for the next run`)
    t.match(report.output.find(([k]) => k === 'left')?.[1], new RegExp(`HTTP ${code}`))
  }

  {
    const billbridge = acceptingResponder()
    const kit = createKit(billbridge.respond)
    for (const id of ['73', '74', '75']) addBill(kit.account, { id })
    // 422 without items (CONTENT_UNSTORABLE): nothing stored; bill 74 is the cause.
    kit.env.fault = (r) => (r.url.endsWith('/batches') && JSON.parse(r.body).bills.some((b: { externalId: string }) => b.externalId === '74') ? json(422, error('CONTENT_UNSTORABLE', 'the database refused a value')) : undefined)
    kit.run()
    t.same(['73', '74', '75'].map((id) => status(kit, id)), ['queued', 'rejected', 'queued'], '422 without items: each bill goes alone, the cause is rejected')
    t.equal(kit.account.bill('74').custom.custbody_bb_error_code, 'CONTENT_UNSTORABLE')
    const before = billbridge.requests.length
    kit.run()
    t.equal(billbridge.requests.length, before, 'and it is not posted again until someone edits it')
  }

  {
    const kit = createKit(acceptingResponder().respond)
    for (const id of ['76', '77']) addBill(kit.account, { id })
    kit.env.fault = (r) => (r.url.endsWith('/batches') && JSON.parse(r.body).bills.some((b: { externalId: string }) => b.externalId === '77') ? json(413, error('BODY_TOO_LARGE', 'over MAX_BODY_BYTES')) : undefined)
    kit.run()
    t.same(['76', '77'].map((id) => [status(kit, id), kit.account.bill(id).custom.custbody_bb_error_code ?? '']), [['queued', ''], ['rejected', 'BODY_TOO_LARGE']], '413: split, and a bill too large alone is rejected with the reason')
  }

  {
    const billbridge = acceptingResponder({ reject: () => ({ code: 'CURRENCY_INVALID', message: 'no' }) })
    const kit = createKit((r) => {
      const answer = billbridge.respond(r)
      return r.url.endsWith('/batches') ? { ...answer, code: 422 } : answer
    })
    addBill(kit.account, { id: '78' })
    kit.run()
    t.same([status(kit, '78'), kit.account.bill('78').custom.custbody_bb_error_code], ['rejected', 'CURRENCY_INVALID'], '422 with items: each bill rejected with its own reason')
  }
})

t.test('every vendor bill search reads main lines only: bills with several lines are checked once and listed once', async (t) => {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_checks_per_run: 3 } })
  const threeLines = [{ account: { id: '61', name: '6100 Office Supplies' }, amount: 10 }, { account: { id: '62', name: '6200 Travel' }, amount: 20 }, { account: { id: '61', name: '6100 Office Supplies' }, amount: 30 }]
  for (const id of ['80', '81', '82']) addBill(kit.account, { id, expense: threeLines })
  kit.run()
  const second = kit.run()
  t.same(second.output.filter(([k]) => k.startsWith('checked:')).map(([, v]) => v).sort(), ['80', '81', '82'], 'three checks per run are three bills, each once')
  const saved = kit.account.savedSearches.get('customsearch_bb_not_in_zoho') as { filters: unknown[]; columns: Array<{ name: string }> }
  const search = createSearchModule(kit.env)
  const rows = search.create({ type: 'vendorbill', filters: saved.filters, columns: saved.columns }).run().getRange({ start: 0, end: 100 })
  t.same(rows.map((r) => [r.id, r.getValue('amount')]), [['80', '60'], ['81', '60'], ['82', '60']], 'the saved search lists each bill once, with its total')
})
