// A bill's life after it reaches billbridge, in the fake SuiteScript runtime: approval routing, edits after delivery,
// voids, cancellations and deletes, and what the kit does with each of billbridge's answers.
import t from 'tap'
import { addBill, createKit } from './fake/kit.ts'
import { versionedResponder } from './fake/responder.ts'
import { createLoader } from './fake/amd.ts'
import { STAGE_UNITS } from './fake/limits.ts'

function setup(parameters: Record<string, unknown> = {}) {
  const billbridge = versionedResponder()
  const kit = createKit(billbridge.respond, { parameters })
  const sent = () => billbridge.requests.flatMap((r) => r.bills)
  const status = (id: string) => kit.account.bill(id).custom.custbody_bb_status ?? ''
  return { kit, billbridge, sent, status }
}

/** The bill is delivered in billbridge and the kit has read that back. */
function deliver(s: ReturnType<typeof setup>, id: string) {
  s.kit.run()
  s.billbridge.states.set(id, { status: 'delivered', transactionId: s.billbridge.held.get(id)!.transactionId })
  s.kit.run()
}

t.test('approval routing on: pending and rejected bills are held and say so; approved ones are sent', async (t) => {
  const s = setup()
  s.kit.account.approvalRouting = true
  addBill(s.kit.account, { id: '1' }) // a new bill starts Pending Approval
  addBill(s.kit.account, { id: '2', approvalstatus: '3', status: 'rejected' })
  addBill(s.kit.account, { id: '3', approvalstatus: '2', status: 'open' })
  const first = s.kit.run()
  t.same(first.errors, [])
  t.same(s.sent().map((b) => b.externalId), ['3'], 'only the approved bill is sent')
  t.equal(s.status('1'), 'awaiting_approval')
  t.match(s.kit.account.bill('1').custom.custbody_bb_error_message, /pending approval in NetSuite/)
  t.equal(s.status('2'), 'rejected_in_netsuite')
  t.match(s.kit.account.bill('2').custom.custbody_bb_error_message, /rejected by its approver/)

  const second = s.kit.run()
  t.same(second.output.filter(([k]) => k.startsWith('held:')), [], 'a bill held already is not written again')
  t.equal(s.sent().length, 1)

  s.kit.account.approve('1')
  s.kit.run()
  t.same(s.sent().map((b) => b.externalId), ['3', '1'], 'once approved, the bill is sent')
  t.equal(s.status('1'), 'queued')
  s.kit.run()
  t.equal(s.sent().length, 2, 'and only once')

  s.kit.account.approve('2')
  s.kit.run()
  t.same(s.sent().map((b) => b.externalId), ['3', '1', '2'], 'a rejected bill approved later is sent')
})

t.test('approval routing off: the approval status is not asked for, a pending transaction status still holds', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '4', approvalstatus: '1', status: 'open' })
  addBill(s.kit.account, { id: '5', status: 'pendingApproval' })
  s.kit.run()
  t.same(s.sent().map((b) => b.externalId), ['4'])
  t.equal(s.status('5'), 'awaiting_approval')
})

t.test('an edit after delivery sends the new version once, with a newer lastModified; billbridge answers updated', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '10' })
  deliver(s, '10')
  t.equal(s.status('10'), 'delivered')
  const before = s.sent()[0]!
  t.match(before.lastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, 'ISO 8601 with an offset')

  s.kit.account.editByUser('10', { usertotal: 150, expense: [{ account: { id: '61', name: '6100 Office Supplies' }, amount: 150, memo: 'paper' }] })
  t.equal(s.status('10'), '', 'the User Event re-opens the delivered bill')
  t.match(s.kit.account.bill('10').custom.custbody_bb_error_message, /changed after it was sent/)
  t.equal(s.kit.account.bill('10').custom.custbody_bb_transaction_id, s.billbridge.held.get('10')!.transactionId, 'its transaction id stays')

  const run = s.kit.run()
  t.same(run.errors, [])
  t.equal(s.sent().length, 2, 'sent again')
  const after = s.sent()[1]!
  t.equal(after.total, '150.00')
  t.ok(Date.parse(after.lastModified) > Date.parse(before.lastModified), `${after.lastModified} is newer than ${before.lastModified}`)
  t.equal(s.status('10'), 'queued', 'updated: queued again until billbridge has delivered the update')
  t.equal(s.kit.account.bill('10').custom.custbody_bb_error_message, '')

  s.kit.run()
  s.kit.run()
  t.equal(s.sent().length, 2, 'and only once: the write-back does not re-open it')
})

t.test('an edit that changes nothing billbridge holds is answered duplicate and stays queued', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '11' })
  s.kit.run()
  s.kit.account.editByUser('11', {})
  s.kit.run()
  t.equal(s.sent().length, 2)
  t.equal(s.status('11'), 'queued')
  s.kit.run()
  t.equal(s.sent().length, 2)
})

t.test('a stale answer (billbridge holds a newer version) is written once and never loops', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '12' })
  s.billbridge.held.set('12', { content: 'newer', lastModified: '2099-01-01T00:00:00+00:00', cancelled: false, transactionId: 'tx-12' })
  s.kit.run()
  t.equal(s.sent().length, 1)
  t.equal(s.status('12'), 'queued')
  t.match(s.kit.account.bill('12').custom.custbody_bb_error_message, /newer version/)
  s.kit.run()
  s.kit.run()
  t.equal(s.sent().length, 1, 'not sent again')
})

for (const withEditEvent of [true, false]) {
  t.test(`a void after delivery is sent as cancelled once (the void ${withEditEvent ? 'runs' : 'does not run'} the edit event)`, async (t) => {
    const s = setup()
    addBill(s.kit.account, { id: '20' })
    deliver(s, '20')
    s.kit.account.void('20', withEditEvent)
    const run = s.kit.run()
    t.same(run.errors, [])
    const last = s.sent().at(-1)!
    t.same(Object.keys(last).sort(), ['cancelled', 'externalId', 'lastModified'], 'only externalId, lastModified and cancelled')
    t.same({ externalId: last.externalId, cancelled: last.cancelled }, { externalId: '20', cancelled: true })
    t.equal(s.status('20'), 'cancelling', 'billbridge took the cancellation')
    s.kit.run()
    t.equal(s.status('20'), 'cancelled', 'the status check reads back the cancelled transaction')
    const count = s.sent().length
    s.kit.run()
    s.kit.run()
    t.equal(s.sent().length, count, 'sent once')
  })
}

t.test('a cancelled bill: never sent when it was never sent; sent as cancelled when billbridge has it', async (t) => {
  const s = setup()
  s.kit.account.approvalRouting = true
  addBill(s.kit.account, { id: '30' })
  s.kit.run()
  t.equal(s.status('30'), 'awaiting_approval')
  s.kit.account.cancel('30')
  s.kit.run()
  t.equal(s.status('30'), 'cancelled')
  t.equal(s.sent().length, 0, 'nothing sent')
  t.match(s.kit.account.bill('30').custom.custbody_bb_error_message, /never sent/)

  addBill(s.kit.account, { id: '31', approvalstatus: '2', status: 'open' })
  s.kit.run()
  s.kit.account.cancel('31')
  s.kit.run()
  t.same(s.sent().map((b) => [b.externalId, b.cancelled ?? false]), [['31', false], ['31', true]])
  t.equal(s.status('31'), 'cancelling')
  s.kit.run()
  t.equal(s.status('31'), 'cancelled')
})

t.test('a delete leaves a record; its cancellation is sent once and the record keeps the answer', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '40' })
  addBill(s.kit.account, { id: '41', noPdf: true }) // never sent
  deliver(s, '40')
  s.kit.account.deleteByUser('40')
  s.kit.account.deleteByUser('41')
  const records = [...s.kit.account.customRecords.values()].filter((r) => r.type === 'customrecord_bb_deleted')
  t.equal(records.length, 1, 'only the bill billbridge got leaves a record')
  t.equal(records[0]!.name, '40')
  t.match(records[0]!.fields.custrecord_bb_deleted_at, /[+-]\d\d:\d\d$/)
  const run = s.kit.run()
  t.same(run.errors, [], 'the deleted bill is not searched or loaded')
  t.same(s.sent().at(-1), { externalId: '40', lastModified: records[0]!.fields.custrecord_bb_deleted_at, cancelled: true })
  t.equal(records[0]!.fields.custrecord_bb_deleted_answer, 'cancelled')
  const count = s.sent().length
  s.kit.run()
  t.equal(s.sent().length, count, 'sent once')
})

t.test('a delete answered duplicate (cancelled already) is done; one answered stale or rejected is done with the reason', async (t) => {
  const s = setup()
  for (const id of ['50', '51']) addBill(s.kit.account, { id })
  s.kit.run()
  s.billbridge.held.get('50')!.cancelled = true
  s.billbridge.held.get('51')!.lastModified = '2099-01-01T00:00:00+00:00'
  s.kit.account.deleteByUser('50')
  s.kit.account.deleteByUser('51')
  s.kit.run()
  const answers = Object.fromEntries([...s.kit.account.customRecords.values()].filter((r) => r.type === 'customrecord_bb_deleted').map((r) => [r.name, r.fields.custrecord_bb_deleted_answer]))
  t.equal(answers['50'], 'duplicate')
  t.match(answers['51'], /^stale CANCEL_STALE/)
  const count = s.sent().length
  s.kit.run()
  t.equal(s.sent().length, count, 'neither is sent again')
})

t.test('what each answer to a cancellation writes on the bill', async (t) => {
  const { kit } = setup()
  const cancel = createLoader(kit.env).load('bb_cancel')
  const now = '2026-12-01T00:00:00.000Z'
  t.match(cancel.outcome({ status: 'cancelled' }, now), { key: 'cancelled', values: { custbody_bb_status: 'cancelling' } })
  t.match(cancel.outcome({ status: 'duplicate' }, now), { key: 'cancelled', values: { custbody_bb_status: 'cancelling' } })
  t.match(cancel.outcome({ status: 'stale' }, now), { key: 'cancel-refused', values: { custbody_bb_status: 'rejected', custbody_bb_error_code: 'CANCEL_STALE' } })
  t.match(cancel.outcome({ status: 'rejected', error: { code: 'VOID_REFUSED', message: 'payments applied' } }, now), { values: { custbody_bb_status: 'rejected', custbody_bb_error_code: 'VOID_REFUSED' } })
  t.match(cancel.outcome({ status: 'queued' }, now), { values: { custbody_bb_status: 'rejected', custbody_bb_error_code: 'CANCEL_NOT_APPLIED' } })
  const fields = createLoader(kit.env).load('bb_fields')
  t.equal(fields.fromService('updated'), 'queued')
  t.equal(fields.fromService('stale'), 'queued')
  t.equal(fields.fromService('cancelled'), 'cancelled', 'a transaction cancelled in billbridge reads cancelled')
  t.notOk('custbody_bb_transaction_id' in fields.afterAnswer({ status: 'stale' }, now), 'stale without a transaction id keeps the one on the bill')
})

t.test('lastModified: ISO 8601 with the offset, the same instant', async (t) => {
  const { kit } = setup()
  const bill = createLoader(kit.env).load('bb_bill')
  const at = new Date(Date.UTC(2026, 10, 30, 22, 5, 0))
  t.equal(bill.isoWithOffset(at, -480), '2026-11-30T14:05:00-08:00')
  t.equal(bill.isoWithOffset(at, 330), '2026-12-01T03:35:00+05:30')
  t.equal(bill.isoWithOffset(at, 0), '2026-11-30T22:05:00+00:00')
  t.equal(bill.isoWithOffset(new Date(Date.UTC(2026, 6, 1, 12, 0, 0)), -420), '2026-07-01T05:00:00-07:00', 'summer time')
  for (const offset of [-480, -420, 0, 60, 330, 765]) t.equal(Date.parse(bill.isoWithOffset(at, offset)), at.getTime(), `offset ${offset}: the same instant`)
  const text = bill.lastModified(at)
  t.equal(Date.parse(text), at.getTime(), `${text}: the instant of lastmodifieddate`)
  t.equal(bill.lastModified(''), '')
})

t.test('units: a run with held, re-sent, voided and deleted bills stays within every stage limit', async (t) => {
  const s = setup({ custscript_bb_bills_per_group: 20 })
  s.kit.account.approvalRouting = true
  for (let i = 0; i < 150; i++) addBill(s.kit.account, { id: String(1000 + i), approvalstatus: '2', status: 'open' })
  for (let i = 0; i < 50; i++) addBill(s.kit.account, { id: String(2000 + i) })
  s.kit.run()
  for (let i = 0; i < 150; i++) {
    const id = String(1000 + i)
    if (i < 50) s.kit.account.void(id, false)
    else if (i < 100) s.kit.account.deleteByUser(id)
    else s.kit.account.editByUser(id, { memo: 'corrected' })
  }
  const run = s.kit.run()
  t.same(run.errors, [])
  for (const stage of ['getInputData', 'map', 'reduce', 'summarize'] as const) t.ok(run.peakUnits[stage] <= STAGE_UNITS[stage], `${stage}: ${run.peakUnits[stage]} of ${STAGE_UNITS[stage]} units`)
  t.ok(run.peakUnits.reduce <= 1_100, `a cancellation group of 100 costs ${run.peakUnits.reduce} units at most (documented ≤ 1,010 + margin)`)
  t.equal(s.sent().filter((b) => b.cancelled).length, 100, '50 voids and 50 deletes sent as cancelled')
  t.equal(s.sent().filter((b) => b.memo === 'corrected').length, 50, '50 edits re-sent')
})

t.test('a cancellation request refused as a whole goes again one bill per request; only the cause is refused', async (t) => {
  const s = setup()
  for (const id of ['60', '61']) addBill(s.kit.account, { id })
  s.kit.run()
  for (const id of ['60', '61']) s.kit.account.void(id, false)
  const respond = s.kit.env.transport
  s.kit.env.transport = (request) => {
    const body = JSON.parse(request.body)
    if (request.url.endsWith('/batches') && (body.bills.length > 1 || body.bills[0].externalId === '61')) {
      return { code: 422, headers: {}, body: JSON.stringify({ error: { code: 'CONTENT_UNSTORABLE', message: 'cannot store' } }) }
    }
    return respond(request)
  }
  const run = s.kit.run()
  t.same(run.errors, [])
  t.equal(s.status('60'), 'cancelling')
  t.equal(s.status('61'), 'rejected')
  t.equal(s.kit.account.bill('61').custom.custbody_bb_error_code, 'CONTENT_UNSTORABLE')
  const count = s.sent().length
  s.kit.run()
  t.equal(s.sent().length, count, 'neither is sent again')
})

t.test('a void Zoho refuses (VOID_REFUSED, read back by the status check) shows on the bill and is not sent again', async (t) => {
  const s = setup()
  addBill(s.kit.account, { id: '70' })
  deliver(s, '70')
  s.kit.account.void('70', false)
  s.kit.run()
  t.equal(s.status('70'), 'cancelling')
  s.billbridge.states.set('70', { status: 'failed', transactionId: s.billbridge.held.get('70')!.transactionId, lastErrorCode: 'VOID_REFUSED', lastErrorMessage: 'Zoho: payments are applied to this bill' })
  s.kit.run()
  t.equal(s.status('70'), 'failed')
  t.equal(s.kit.account.bill('70').custom.custbody_bb_error_code, 'VOID_REFUSED')
  const count = s.sent().length
  s.kit.run()
  s.kit.run()
  t.equal(s.sent().length, count, 'the cancellation is not sent run after run')
})
