// Vendor names shared by several vendors, in NetSuite and in Zoho: each NetSuite vendor lands on its own
// Zoho vendor, a name: key never carries one vendor's email match to another, each bill records the Zoho
// vendor it went to, and migration 0022 clears the name: keys stored before.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.ts'
import { retryTransactions } from '../../src/delivery/retry.ts'
import { mapVendor } from '../../src/delivery/vendors.ts'
import { bills, sendBills as send } from '../helpers/api.ts'
import { createTestDatabase, silentLogger } from '../helpers/db.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

async function settled(runtime: TestRuntime, ids: string[]) {
  return waitFor(async () => {
    const { rows } = await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status IN ('delivered', 'failed')`, [ids])
    return rows[0].n === ids.length
  }, 'the bills to be delivered or failed')
}

async function rowOf(runtime: TestRuntime, id: string) {
  return (await runtime.pool.query('SELECT status, last_error_code, last_error_message, zoho_bill_id, zoho_vendor_id, zoho_vendor_name FROM transactions WHERE id = $1', [id])).rows[0]
}

const ACME = 'Acme Supplies'
let serial = 0
function billOf(vendor: { externalId?: string; name: string; email?: string }) {
  return { ...bills(1, `VN${++serial}X`)[0]!, vendor }
}

t.test('two NetSuite vendors and two Zoho vendors named "Acme Supplies": each bill goes by email, a vendor with no email stays ambiguous', async (t) => {
  // The sandbox always holds "Acme Supplies" <ap@acme.test>; a second active one has another email.
  const { sandbox, env } = await startSandbox(t, { seed: { vendors: [{ name: ACME, email: 'ap@acme-east.test' }, { name: 'Solo Stationers', email: 'ap@solo.test' }] } })
  const runtime = await startTestRuntime(t, env)
  const contacts = [...sandbox.state.contacts.values()]
  const west = contacts.find((c) => c.email === 'ap@acme.test')!
  const east = contacts.find((c) => c.email === 'ap@acme-east.test')!
  const solo = contacts.find((c) => c.contact_name === 'Solo Stationers')!
  const vendorOfBill = (id: string) => rowOf(runtime, id).then((r) => sandbox.bills().find((b) => b.bill_id === r.zoho_bill_id)?.vendor_id)

  const westVendor = { externalId: 'V-ACME-W', name: ACME, email: 'ap@acme.test' }
  const eastVendor = { externalId: 'V-ACME-E', name: ACME, email: 'ap@acme-east.test' }
  const noEmail = { externalId: 'V-ACME-X', name: ACME }

  const [first] = await send(runtime, [billOf(westVendor)])
  await settled(runtime, [first!])
  t.equal(await vendorOfBill(first!), west.contact_id, 'the first NetSuite vendor: the Zoho vendor with its email')

  // Delivered after the first: a name: key from its email match would send all of these to the first's vendor.
  const later = await send(runtime, [billOf(eastVendor), billOf(eastVendor), billOf(noEmail), billOf({ name: ACME, email: 'ap@acme-east.test' })])
  await settled(runtime, later)
  const [east1, east2, ambiguous, eastNoId] = later as [string, string, string, string]
  t.equal(await vendorOfBill(east1), east.contact_id, 'the second NetSuite vendor: the Zoho vendor with its email')
  t.equal(await vendorOfBill(east2), east.contact_id, 'and its next bill too')
  t.equal(await vendorOfBill(eastNoId), east.contact_id, 'a vendor with no NetSuite id goes by its email as well')
  const failed = await rowOf(runtime, ambiguous)
  t.match(failed, { status: 'failed', last_error_code: 'VENDOR_AMBIGUOUS' }, 'a third vendor of that name with no email is ambiguous')
  t.match(failed.last_error_message, west.contact_id)
  t.match(failed.last_error_message, east.contact_id, 'naming both candidates')
  t.match(failed.last_error_message, /map vendor "V-ACME-X" <contact_id>/, 'offering to map this NetSuite vendor alone')

  t.match(await rowOf(runtime, east1), { zoho_vendor_id: east.contact_id, zoho_vendor_name: ACME }, 'the bill records the Zoho vendor it went to')
  t.match(await rowOf(runtime, first!), { zoho_vendor_id: west.contact_id, zoho_vendor_name: ACME })
  const map = await runtime.pool.query(`SELECT vendor_key, zoho_vendor_id, source FROM vendor_map WHERE vendor_key LIKE '%acme%' OR vendor_key LIKE 'id:V-ACME%' ORDER BY vendor_key`)
  t.same(map.rows.map((r) => [r.vendor_key, r.zoho_vendor_id, r.source]), [
    ['id:V-ACME-E', east.contact_id, 'auto_email'],
    ['id:V-ACME-W', west.contact_id, 'auto_email'],
  ], 'an email match is kept for its own NetSuite vendor id only: no name: key')

  // A name that resolves to exactly one Zoho vendor is still remembered by name.
  const lookups = () => sandbox.counters().requestsByEndpoint['GET /contacts'] ?? 0
  const [solo1] = await send(runtime, [billOf({ externalId: 'V-SOLO-1', name: 'Solo Stationers', email: 'ap@solo.test' })])
  await settled(runtime, [solo1!])
  const afterFirst = lookups()
  const soloNext = await send(runtime, [billOf({ externalId: 'V-SOLO-1', name: 'Solo Stationers' }), billOf({ externalId: 'V-SOLO-2', name: 'solo stationers ' }), billOf({ name: 'Solo Stationers' })])
  await settled(runtime, soloNext)
  for (const id of [solo1!, ...soloNext]) t.equal(await vendorOfBill(id), solo.contact_id, 'the only Zoho vendor of that name')
  t.equal(lookups(), afterFirst, 'no vendor lookup after the first bill: the id: and name: keys serve the rest')
  const soloMap = await runtime.pool.query(`SELECT vendor_key, source FROM vendor_map WHERE vendor_key IN ('id:V-SOLO-1', 'name:solo stationers') ORDER BY vendor_key`)
  t.same(soloMap.rows.map((r) => [r.vendor_key, r.source]), [['id:V-SOLO-1', 'auto_unique_name'], ['name:solo stationers', 'auto_unique_name']])

  // The operator maps the name: it wins for every NetSuite vendor of that name.
  await mapVendor(runtime.pool, sandbox.organizationId, ACME, east.contact_id)
  t.same((await retryTransactions(runtime.pool, runtime.boss, [ambiguous])).retried, [ambiguous])
  const mapped = await send(runtime, [billOf({ externalId: 'V-ACME-NEW', name: ACME }), billOf(westVendor)])
  await settled(runtime, [ambiguous, ...mapped])
  t.equal(await vendorOfBill(ambiguous), east.contact_id, "the ambiguous bill, retried, goes to the operator's choice")
  t.equal(await vendorOfBill(mapped[0]!), east.contact_id, 'so does a new NetSuite vendor of that name')
  t.equal(await vendorOfBill(mapped[1]!), east.contact_id, "an operator's name mapping wins over a vendor's own email match")
  t.match(await rowOf(runtime, ambiguous), { zoho_vendor_id: east.contact_id, zoho_vendor_name: ACME }, "the contact's name is read once for the operator's mapping")
})

t.test('an operator maps one NetSuite vendor by its id: its namesakes keep their own matches', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { vendors: [{ name: ACME, email: 'ap@acme-east.test' }] } })
  const runtime = await startTestRuntime(t, env)
  const contacts = [...sandbox.state.contacts.values()]
  const west = contacts.find((c) => c.email === 'ap@acme.test')!
  const east = contacts.find((c) => c.email === 'ap@acme-east.test')!
  const [ambiguous] = await send(runtime, [billOf({ externalId: 'V-ACME-X', name: ACME })])
  await settled(runtime, [ambiguous!])
  t.equal((await rowOf(runtime, ambiguous!)).last_error_code, 'VENDOR_AMBIGUOUS')
  const { keys } = await mapVendor(runtime.pool, sandbox.organizationId, 'V-ACME-X', west.contact_id)
  t.same(keys, ['id:V-ACME-X'], 'the id alone is mapped, not the name')
  await retryTransactions(runtime.pool, runtime.boss, [ambiguous!])
  const [east1] = await send(runtime, [billOf({ externalId: 'V-ACME-E', name: ACME, email: 'ap@acme-east.test' })])
  await settled(runtime, [ambiguous!, east1!])
  t.match(await rowOf(runtime, ambiguous!), { status: 'delivered', zoho_vendor_id: west.contact_id })
  t.match(await rowOf(runtime, east1!), { status: 'delivered', zoho_vendor_id: east.contact_id })
})

t.test('migration 0022 removes the name: keys earlier lookups stored, audits each, and the documented check finds the bills booked through them', async (t) => {
  const { pool } = await createTestDatabase(t, { migrate: false })
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-0022-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const files = await readMigrations()
  const before = files.filter((m) => m.version < 22)
  for (const m of before) await fs.writeFile(path.join(dir, `${String(m.version).padStart(4, '0')}_${m.name}.sql`), m.sql)
  await migrate(pool, silentLogger, dir)

  // As the old resolver left it: V-W's lookup chose C1 by email and stored name:acme supplies; V-E found C2
  // by its own lookup; V-X took C1 through the name. Solo's name had one vendor; one made, one mapped.
  const org = 'ORG1'
  const keys: Array<[string, string, string, string]> = [
    ['id:V-W', 'C1', 'lookup', ACME], ['name:acme supplies', 'C1', 'lookup', ACME], ['id:V-E', 'C2', 'lookup', ACME],
    ['id:V-S', 'C3', 'lookup', 'Solo'], ['name:solo', 'C3', 'lookup', 'Solo'], ['name:made here', 'C4', 'created', 'Made Here'], ['name:mapped', 'C5', 'operator', 'Mapped'],
  ]
  for (const [key, contact, origin, name] of keys) {
    await pool.query(`INSERT INTO vendor_map (organization_id, vendor_key, zoho_vendor_id, origin, vendor_name, created_at) VALUES ($1, $2, $3, $4, $5, now() - interval '1 day')`, [org, key, contact, origin, name])
  }
  const bill = async (vendorId: string, name: string) => {
    const id = randomUUID()
    await pool.query(
      `INSERT INTO transactions (id, external_id, bill_number, vendor_external_id, vendor_name, vendor, bill, amount, currency, status, zoho_bill_id, delivered_at, blob_key, file_name, sha256, size_bytes)
       VALUES ($1, $2, $2, $3, $4, $5, '{}', '10.00', 'USD', 'delivered', $6, now(), $7, 'x.pdf', $8, 100)`,
      [id, `NS-${id.slice(0, 8)}`, vendorId, name, { externalId: vendorId, name }, `Z-${id.slice(0, 8)}`, `blobs/${id}`, '0'.repeat(64)])
    return id
  }
  await bill('V-W', ACME)
  await bill('V-E', ACME)
  const inherited = await bill('V-X', ` ${ACME.toUpperCase()}`)
  await bill('V-S', 'Solo')

  await fs.copyFile(path.join(MIGRATIONS_DIR, '0022_vendor_name_keys.sql'), path.join(dir, '0022_vendor_name_keys.sql'))
  t.same(await migrate(pool, silentLogger, dir), [22])
  const map = await pool.query('SELECT vendor_key, zoho_vendor_id, source FROM vendor_map ORDER BY vendor_key')
  t.same(map.rows.map((r) => [r.vendor_key, r.source]), [
    ['id:V-E', null], ['id:V-S', null], ['id:V-W', null], ['name:made here', 'created'], ['name:mapped', 'operator'],
  ], "every lookup's name: key is gone; created and operator keys stay")
  const audit = await pool.query(`SELECT actor, subject, detail FROM operator_audit WHERE action = 'vendor_key_removed' ORDER BY subject`)
  t.same(audit.rows.map((r) => [r.actor, r.subject, r.detail.reason, r.detail.zoho_vendor_id, r.detail.id_key_contacts]), [
    ['migration:0022', 'name:acme supplies', 'shared', 'C1', ['C1', 'C2']],
    ['migration:0022', 'name:solo', 'unverified', 'C3', ['C3']],
  ], 'each removal is in the audit trail, with the evidence')

  const docs = await fs.readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8')
  const check = /## Bills booked through a shared vendor name[\s\S]*?```sql\n([\s\S]*?)```/.exec(docs)![1]!
  const found = await pool.query(check)
  t.same(found.rows.map((r) => [r.id, r.vendor_external_id, Number(r.vendor_ids)]), [[inherited, 'V-X', 3]], 'the documented check lists the bill that took its vendor through the shared name')
})
