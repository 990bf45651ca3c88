import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { CookieJar, getPage, logIn } from '../helpers/admin.ts'
import { bills, getJson, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

const T1 = '2026-11-30T14:05:00-08:00'
const T2 = '2026-11-30T15:10:00-08:00'
const T0 = '2026-11-30T09:00:00-08:00'

type Bill = ReturnType<typeof bills>[number]

function pdf(text: string) {
  return Buffer.from(`%PDF-1.4\n% ${text}\n${'x'.repeat(2000)}\n%%EOF\n`)
}

/** The same bill, edited in NetSuite: another first line amount and another PDF. */
function edited(bill: Bill, amount: string, lastModified: string, text = `edit ${amount}`) {
  return {
    ...bill, lastModified,
    lines: bill.lines.map((l, i) => (i === 0 ? { ...l, amount } : l)),
    attachment: { ...bill.attachment, contentBase64: pdf(text).toString('base64') },
  }
}

const total = (bill: { lines: Array<{ amount: string }> }) => bill.lines.reduce((s, l) => s + Math.round(Number(l.amount) * 100), 0) / 100

async function post(runtime: TestRuntime, items: unknown[]) {
  const key = await mintKey(runtime, ['ingest'])
  const res = await postBatch(runtime, { bills: items }, { key })
  return res
}

async function row(runtime: TestRuntime, id: string) {
  const { rows } = await runtime.pool.query('SELECT status, version, zoho_version, zoho_bill_id, last_error_code, last_error_message FROM transactions WHERE id = $1', [id])
  return rows[0]
}

async function settled(runtime: TestRuntime, id: string, status: string, version?: number) {
  await waitFor(async () => {
    const r = await row(runtime, id)
    return r.status === status && (version === undefined || r.zoho_version === version)
  }, `bill ${id} ${status}${version ? ` at version ${version}` : ''}`)
}

t.test('an edit after delivery updates the same Zoho bill in place: new total, one PDF (the new one); stale and same content are ignored', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const [base] = bills(1, 'EDIT')
  const v1 = { ...base!, lastModified: T1 }
  const first = await post(runtime, [v1])
  const id = first.body.items[0].transactionId
  await settled(runtime, id, 'delivered', 1)
  const [zohoBill] = sandbox.bills()
  const v2 = edited(base!, '999.99', T2, 'second version')
  const second = await post(runtime, [v2])
  t.equal(second.status, 202)
  t.same(second.body.items.map((i: { status: string; transactionId: string }) => [i.status, i.transactionId]), [['updated', id]])
  await settled(runtime, id, 'delivered', 2)
  const inZoho = sandbox.bills()
  t.equal(inZoho.length, 1, 'one bill in Zoho')
  t.equal(inZoho[0]!.bill_id, zohoBill!.bill_id, 'the same Zoho bill id')
  t.equal(Number(inZoho[0]!.total), total(v2), 'the new total')
  t.same(inZoho[0]!.attachments.map((a) => a.sha256), [createHash('sha256').update(pdf('second version')).digest('hex')], 'one PDF: the new one')
  const counters = sandbox.counters()
  t.equal(counters.billsCreated, 1)
  t.equal(counters.billsUpdated, 1)

  const again = await post(runtime, [v2, { ...edited(base!, '5.00', T0) , externalId: v2.externalId }])
  t.same(again.body.items.map((i: { status: string }) => i.status), ['duplicate', 'duplicate'], 'the same content is a duplicate (and the same bill twice in a batch)')
  const stale = await post(runtime, [edited(base!, '5.00', T0)])
  t.equal(stale.body.items[0].status, 'stale', 'an older lastModified is stale')
  t.match(stale.body.items[0].message, /not newer than the version billbridge holds/)
  const noDate = await post(runtime, [{ ...edited(base!, '6.00', T2), lastModified: undefined }])
  t.equal(noDate.body.items[0].status, 'duplicate', 'new content without lastModified on a delivered bill stays a duplicate')
  await new Promise((r) => setTimeout(r, 500))
  t.equal(sandbox.counters().billsUpdated, 1, 'nothing more sent to Zoho')
  t.equal(Number(sandbox.bills()[0]!.total), total(v2))

  const key = await mintKey(runtime, ['read'])
  const read = await getJson(runtime, `/v1/transactions/${id}`, key)
  t.same(read.body.versions.map((v: { number: number; zohoHolds: boolean }) => [v.number, v.zohoHolds]), [[1, false], [2, true]], 'the versions, Zoho holding the second')
  t.ok(read.body.versions.every((v: { sentAt: string | null; hash: string }) => v.sentAt && v.hash))
})

t.test('an update before delivery: the queued bill is delivered with the new content, once', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  sandbox.setFaults({ errorRate5xx: 1 })
  const [base] = bills(1, 'EARLY')
  const first = await post(runtime, [{ ...base!, lastModified: T1 }])
  const id = first.body.items[0].transactionId
  await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM attempts WHERE transaction_id = $1`, [id])).rows[0].n >= 1, 'a failed attempt')
  const v2 = edited(base!, '321.00', T2, 'early second')
  const second = await post(runtime, [v2])
  t.equal(second.body.items[0].status, 'updated')
  sandbox.setFaults({ errorRate5xx: 0 })
  await settled(runtime, id, 'delivered', 2)
  const inZoho = sandbox.bills()
  t.equal(inZoho.length, 1)
  t.equal(Number(inZoho[0]!.total), total(v2), 'Zoho got the new content')
  t.equal(inZoho[0]!.attachments.length, 1)
  t.equal(sandbox.counters().billsUpdated, 0, 'created with the new content, not updated')
})

t.test('cancel before delivery: never sent; cancel after delivery: voided in Zoho; unknown: rejected BILL_UNKNOWN', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-versions-'))
  t.teardown(() => fs.rm(dataDir, { recursive: true, force: true }))
  const api = await startTestRuntime(t, { ...env, ROLE: 'api', DATA_DIR: dataDir })
  const [early, late] = bills(2, 'CANCEL')
  const stored = await post(api, [{ ...early!, lastModified: T1 }])
  const earlyId = stored.body.items[0].transactionId
  const cancel = await post(api, [{ externalId: early!.externalId, lastModified: T2, cancelled: true }, { externalId: 'nobody-knows', cancelled: true }])
  t.equal(cancel.status, 202)
  t.same(cancel.body.items.map((i: { status: string }) => i.status), ['cancelled', 'rejected'])
  t.equal(cancel.body.items[1].error.code, 'BILL_UNKNOWN')
  t.equal((await row(api, earlyId)).status, 'cancelled')
  await startTestRuntime(t, { ...env, ROLE: 'worker', DATABASE_URL: api.databaseUrl!, DATA_DIR: dataDir })
  const delivered = await post(api, [{ ...late!, lastModified: T1 }])
  const lateId = delivered.body.items[0].transactionId
  await settled(api, lateId, 'delivered')
  const after = await post(api, [{ externalId: late!.externalId, cancelled: true }])
  t.equal(after.body.items[0].status, 'cancelled')
  await settled(api, lateId, 'cancelled')
  t.equal(sandbox.bills().length, 1, 'only the late bill reached Zoho')
  t.equal(sandbox.bills()[0]!.status, 'void', 'and it is void')
  t.equal((await row(api, earlyId)).status, 'cancelled', 'the early bill\'s job found it cancelled and stopped')
  const key = await mintKey(api, ['read'])
  const lookup = await getJson(api, `/v1/transactions/${lateId}`, key)
  t.equal(lookup.body.status, 'cancelled')
  const single = await postBatch(api, { externalId: 'nobody-knows', cancelled: true }, { key: await mintKey(api, ['ingest']) }, '/v1/vendor-bills')
  t.equal(single.status, 422)
  t.equal(single.body.error.code, 'BILL_UNKNOWN')
})

t.test('UPDATE_REFUSED on a paid bill: Zoho keeps the old version; VOID_REFUSED with payments applied', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const [base] = bills(1, 'PAID')
  const first = await post(runtime, [{ ...base!, lastModified: T1 }])
  const id = first.body.items[0].transactionId
  await settled(runtime, id, 'delivered', 1)
  const zohoBill = sandbox.bills()[0]!
  const oldTotal = Number(zohoBill.total)
  sandbox.state.payBill(zohoBill.bill_id, oldTotal)
  const v2 = edited(base!, '1.00', T2)
  t.equal((await post(runtime, [v2])).body.items[0].status, 'updated')
  await settled(runtime, id, 'failed')
  const r = await row(runtime, id)
  t.equal(r.last_error_code, 'UPDATE_REFUSED')
  t.match(r.last_error_message, /cannot be less than the payments already made/, "Zoho's reason is quoted")
  t.equal(r.zoho_version, 1, 'Zoho holds version 1')
  t.equal(Number(sandbox.bills()[0]!.total), oldTotal, 'Zoho keeps the old total')
  t.equal(sandbox.bills()[0]!.attachments.length, 1, 'and its PDF')
  const jar = new CookieJar()
  await logIn(runtime, jar, await mintKey(runtime, ['admin']))
  const page = await getPage(runtime, jar, `/admin/transactions/${id}`)
  t.match(page.html, /Zoho holds this version/, 'the bill page lists the versions')
  t.match(page.html, /What differs between the version Zoho holds \(1\) and the newest \(2\)/)
  t.match(page.html, /<code>bill\.lines\[0\]\.amount<\/code><\/td><td>[^<]+<\/td><td>1\.00<\/td>/, 'the changed line amount')
  t.match(page.html, /<code>pdf_sha256<\/code>/, 'and the changed PDF')

  t.equal((await post(runtime, [{ externalId: base!.externalId, cancelled: true }])).body.items[0].status, 'cancelled')
  await waitFor(async () => (await row(runtime, id)).last_error_code === 'VOID_REFUSED', 'the void to be refused')
  t.match((await row(runtime, id)).last_error_message, /payments of .* applied/)
  t.not(sandbox.bills()[0]!.status, 'void')
})

t.test('a lost answer on the update ends with one update and no second bill', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const [base] = bills(1, 'LOSTPUT')
  const first = await post(runtime, [{ ...base!, lastModified: T1 }])
  const id = first.body.items[0].transactionId
  await settled(runtime, id, 'delivered', 1)
  sandbox.setFaults({ loseAnswerEndpoint: 'PUT /bills/:id', loseAnswerAfterCreateRate: 1 })
  const v2 = edited(base!, '777.00', T2)
  await post(runtime, [v2])
  await waitFor(async () => sandbox.counters().billsUpdated >= 1, 'Zoho to apply the update')
  sandbox.setFaults({ loseAnswerEndpoint: '', loseAnswerAfterCreateRate: 0 })
  await settled(runtime, id, 'delivered', 2)
  t.equal(sandbox.counters().billsUpdated, 1, 'one update')
  t.equal(sandbox.bills().length, 1, 'no second bill')
  t.equal(Number(sandbox.bills()[0]!.total), total(v2))
  t.equal(sandbox.bills()[0]!.attachments.length, 1)
})

t.test('a new version that arrives while the first is being created is sent after it, as an update', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  // Zoho holds its answer to every write for a while: the create is made, its answer still on the way.
  sandbox.setFaults({ answerDelayMs: 1200 })
  const [base] = bills(1, 'RACE')
  const first = await post(runtime, [{ ...base!, lastModified: T1 }])
  const id = first.body.items[0].transactionId
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  const v2 = edited(base!, '432.10', T2, 'raced version')
  t.equal((await post(runtime, [v2])).body.items[0].status, 'updated')
  sandbox.setFaults({ answerDelayMs: 0 })
  await settled(runtime, id, 'delivered', 2)
  const inZoho = sandbox.bills()
  t.equal(inZoho.length, 1, 'one bill')
  t.equal(Number(inZoho[0]!.total), total(v2), 'with the new total')
  t.same(inZoho[0]!.attachments.map((a) => a.sha256), [createHash('sha256').update(pdf('raced version')).digest('hex')], 'and only the new PDF')
})

t.test('a new version that arrives while an attempt at the old one fails is still delivered', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  sandbox.setFaults({ latencyMs: 400 })
  const [base] = bills(1, 'FIXED')
  const broken = { ...base!, lastModified: T1, lines: [{ ...base!.lines[0]!, account: '9999 No Such Account' }] }
  const first = await post(runtime, [broken])
  const id = first.body.items[0].transactionId
  await waitFor(async () => (await row(runtime, id)).status === 'processing', 'the first attempt to start')
  const fixed = edited(base!, '250.00', T2, 'fixed version')
  t.equal((await post(runtime, [fixed])).body.items[0].status, 'updated')
  sandbox.setFaults({ latencyMs: 0 })
  await settled(runtime, id, 'delivered', 2)
  const { rows } = await runtime.pool.query('SELECT error_code FROM attempts WHERE transaction_id = $1 ORDER BY id', [id])
  t.same(rows.map((r) => r.error_code), ['ACCOUNT_UNMAPPED', null], 'the old version failed, the new one was delivered')
  t.equal(sandbox.bills().length, 1)
  t.equal(Number(sandbox.bills()[0]!.total), total(fixed))
})
