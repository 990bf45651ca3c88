import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { sandboxOrganizationsEnv, startZohoSandbox, type ZohoSandbox } from '../../src/sandbox/server.ts'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'

// Three organizations in two data centres: US and CA share one Zoho user's client in "com"; EU has its own in "eu".
const US = '71000000001'
const CA = '71000000002'
const EU = '71000000003'
const SHARED = { clientId: '1000.ACMEGROUP', clientSecret: 'acme-group-secret', refreshToken: '1000.acme-group.refresh' }
const ROUTES = { [US]: ['Acme US Inc'], [CA]: ['Acme Canada Ltd'], [EU]: ['*'] }
const SUBSIDIARY: Record<string, string | undefined> = { [US]: 'Acme US Inc', [CA]: 'Acme Canada Ltd', [EU]: 'Acme Europe BV' }

async function start(t: Test, env: Record<string, string> = {}): Promise<{ sandbox: ZohoSandbox; runtime: TestRuntime; key: string }> {
  const sandbox = await startZohoSandbox({
    organizations: [
      { organizationId: US, dataCentre: 'com', client: SHARED, name: 'Acme US' },
      { organizationId: CA, dataCentre: 'com', client: SHARED, name: 'Acme Canada' },
      { organizationId: EU, dataCentre: 'eu', name: 'Acme Europe' },
    ],
  })
  t.teardown(() => sandbox.close())
  const runtime = await startTestRuntime(t, {
    ...sandboxOrganizationsEnv(sandbox, ROUTES), TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ZOHO_TIMEOUT_MS: '2000', DELIVERY_RETRY_DELAY_SECONDS: '1', WORKER_CONCURRENCY: '2', ZOHO_RATE_PER_MINUTE: '1200', ...env,
  })
  return { sandbox, runtime, key: await mintKey(runtime, ['ingest', 'read']) }
}

/** `n` bills per organization, each with the subsidiary routed to it. */
function billsFor(organizations: string[], n: number, prefix: string) {
  return organizations.flatMap((id) => bills(n, `${prefix}${id.slice(-1)}`).map((b) => ({ ...b, ...(SUBSIDIARY[id] ? { subsidiary: SUBSIDIARY[id] } : {}) })))
}

const delivered = async (runtime: TestRuntime, organizationId: string) =>
  (await runtime.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered' AND organization_id = $1`, [organizationId])).rows[0]!.n

t.test('each bill goes to its subsidiary\'s organization, in its data centre, through its client; one token per client', async (t) => {
  const { sandbox, runtime, key } = await start(t)
  const sent = billsFor([US, CA, EU], 3, 'R')
  const res = await postBatch(runtime, { batchId: 'orgs-1', bills: sent }, { key })
  t.equal(res.status, 202)
  await waitFor(async () => (await runtime.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n === 9, 'nine bills delivered')
  for (const id of [US, CA, EU]) {
    const org = sandbox.organization(id)
    const inZoho = org.bills().map((b) => b.bill_number).sort()
    const mine = sent.filter((b) => b.subsidiary === SUBSIDIARY[id]).map((b) => b.billNumber).sort()
    t.same(inZoho, mine, `organization ${id} holds exactly its own three bills`)
    const rows = (await runtime.pool.query<{ zoho_bill_id: string }>(`SELECT zoho_bill_id FROM transactions WHERE organization_id = $1`, [id])).rows
    t.same(rows.map((r) => r.zoho_bill_id).sort(), org.bills().map((b) => b.bill_id).sort(), 'and billbridge recorded its Zoho ids')
    // Each organization has its own chart: the accounts on its bills are its own.
    const accounts = new Set(org.state.accounts.keys())
    t.ok(org.bills().every((b) => b.line_items.every((l) => accounts.has(l.account_id))), `organization ${id}'s bills are booked to its own accounts`)
  }
  const eu = sandbox.organization(EU).counters()
  const us = sandbox.organization(US).counters()
  const ca = sandbox.organization(CA).counters()
  t.equal(eu.tokensIssued, 1, "the EU data centre's client: one token")
  t.equal(us.tokensIssued + ca.tokensIssued, 1, 'the client shared by US and Canada: one token for both organizations')
  const grants = await runtime.pool.query(`SELECT api_domain FROM oauth_tokens ORDER BY api_domain`)
  t.same(grants.rows.map((r) => r.api_domain).sort(), [sandbox.organization(US).url, sandbox.organization(EU).url].sort(), 'one cached token per grant, each naming its data centre')
  t.equal(us.responses401 + ca.responses401 + eu.responses401, 0, 'no request reached the wrong data centre or organization')
  // Vendors, like accounts, are the organization's own: the same NetSuite vendor is a contact in each.
  const map = await runtime.pool.query<{ organization_id: string; zoho_vendor_id: string }>(`SELECT DISTINCT organization_id, zoho_vendor_id FROM vendor_map WHERE vendor_key LIKE 'id:%' ORDER BY organization_id`)
  t.same([...new Set(map.rows.map((r) => r.organization_id))], [US, CA, EU].sort(), 'a vendor mapping per organization')
  for (const row of map.rows) t.ok(sandbox.organization(row.organization_id).state.contacts.has(row.zoho_vendor_id), `organization ${row.organization_id}'s vendor mapping names one of its own contacts`)
})

t.test('a mapping made in one organization is not used in another', async (t) => {
  const { sandbox, runtime, key } = await start(t)
  // "Trade show stands" is in no chart; the operator maps it in the US organization only.
  const us = sandbox.organization(US)
  const usAccount = [...us.state.accounts.values()].find((a) => a.account_name === 'Office Supplies') ?? [...us.state.accounts.values()][0]!
  await runtime.pool.query(`INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, 'trade show stands', $2, 'operator')`, [US, usAccount.account_id])
  const [toUs, toCa] = billsFor([US, CA], 1, 'M').map((b) => ({ ...b, lines: [{ account: 'Trade show stands', amount: '40.00' }] }))
  await postBatch(runtime, { batchId: 'orgs-map', bills: [toUs, toCa] }, { key })
  const state = async (externalId: string) => (await runtime.pool.query<{ status: string; last_error_code: string | null }>(`SELECT status, last_error_code FROM transactions WHERE external_id = $1`, [externalId])).rows[0]
  await waitFor(async () => (await state(toUs!.externalId))?.status === 'delivered' && (await state(toCa!.externalId))?.status === 'failed', 'the US bill delivered, the Canadian one failed')
  t.equal(us.bills()[0]!.line_items[0]!.account_id, usAccount.account_id, 'the US bill is booked to the mapped US account')
  t.equal((await state(toCa!.externalId))!.last_error_code, 'ACCOUNT_UNMAPPED', 'the Canadian bill is not booked through the US mapping')
  t.equal(sandbox.organization(CA).bills().length, 0)
})

t.test('an organization whose daily quota is spent waits on its own; the others keep their pace, and it drains when its quota returns', async (t) => {
  const { sandbox, runtime, key } = await start(t)
  const eu = sandbox.organization(EU)
  eu.setFaults({ dailyQuotaSpentUntil: Date.now() + 24 * 3600_000 })
  const sent = billsFor([US, CA, EU], 6, 'Q')
  await postBatch(runtime, { batchId: 'orgs-quota', bills: sent }, { key })
  await waitFor(async () => (await delivered(runtime, US)) === 6 && (await delivered(runtime, CA)) === 6, 'the US and Canadian bills delivered')
  const worker = runtime.delivery!.workers.get(EU)!
  await waitFor(async () => worker.pausedUntil() !== null, "the EU organization's workers paused")
  t.equal(await delivered(runtime, EU), 0, 'no EU bill delivered while its quota is spent')
  const waiting = await runtime.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM transactions WHERE organization_id = $1 GROUP BY status`, [EU])
  t.same(waiting.rows, [{ status: 'queued', n: 6 }], 'its bills wait, queued, none failed')
  t.equal((await runtime.pool.query(`SELECT count(*)::int AS n FROM attempts WHERE organization_id = $1 AND outcome = 'retry'`, [EU])).rows[0].n, 0, 'the quota cost no bill an attempt')
  const active = await runtime.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'active'`, [`deliver-bill/${EU}`])
  t.equal(active.rows[0].n, 0, 'no job of the paused organization holds a worker')
  const requestsWhilePaused = eu.counters().booksRequests
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  t.equal(eu.counters().booksRequests, requestsWhilePaused, 'nothing is sent to it while it is paused')
  const alert = await runtime.pool.query(`SELECT count(*)::int AS n FROM rate_limits WHERE key = $1 AND blocked_until > now() + interval '1 hour'`, [`zoho:${EU}`])
  t.equal(alert.rows[0].n, 1, 'the pause is shared (in the rate_limits row) until midnight')

  // The quota returns (Zoho's day turns, or support raises it): with the row's pause at its end, the workers resume
  // at their next look at it, and the organization drains.
  eu.setFaults({ dailyQuotaSpentUntil: 0 })
  await runtime.pool.query(`UPDATE rate_limits SET blocked_until = now() WHERE key = $1`, [`zoho:${EU}`])
  await waitFor(async () => (await delivered(runtime, EU)) === 6, 'the EU bills delivered once its quota returned', 120_000)
  t.equal(eu.bills().length, 6, 'each EU bill in Zoho once')
  const quota429s = eu.counters().responses429ByCode[45] ?? 0
  t.ok(quota429s >= 1 && quota429s <= 2, `one daily-quota 429 per worker at most (WORKER_CONCURRENCY 2; got ${quota429s}): every later job waited without asking`)
})

t.test('a job queued before organizations had queues is moved to its organization and delivered', async (t) => {
  const { sandbox, runtime, key } = await start(t)
  const [bill] = billsFor([EU], 1, 'L')
  await postBatch(runtime, { batchId: 'orgs-legacy', bills: [bill] }, { key })
  await waitFor(async () => (await delivered(runtime, EU)) === 1, 'the first bill delivered')
  // The same bill as a row stored before organizations existed (no organization) with its job on the old queue.
  const { rows } = await runtime.pool.query<{ id: string }>(
    `INSERT INTO transactions (batch_id, source, status, external_id, bill_number, vendor_external_id, vendor_name, vendor, bill, amount, currency, blob_key, file_name, sha256, size_bytes, content_hash)
     SELECT batch_id, source, 'queued', external_id || '-OLD', bill_number || '-OLD', vendor_external_id, vendor_name, vendor, bill, amount, currency, blob_key, file_name, sha256, size_bytes, content_hash
       FROM transactions WHERE external_id = $1 RETURNING id`, [bill!.externalId])
  await runtime.boss.send('deliver-bill', { transactionId: rows[0]!.id })
  await waitFor(async () => (await runtime.pool.query(`SELECT status FROM transactions WHERE id = $1`, [rows[0]!.id])).rows[0].status === 'delivered', 'the old job’s bill delivered')
  t.equal((await runtime.pool.query(`SELECT organization_id FROM transactions WHERE id = $1`, [rows[0]!.id])).rows[0].organization_id, EU, 'it was given the default organization ("*")')
  t.ok(sandbox.organization(EU).bills().some((b) => b.bill_number === `${bill!.billNumber}-OLD`), 'and is in that organization in Zoho')
})

t.test("an organization the credentials do not reach fails its bills with a code naming the configuration, not Zoho's refusal", async (t) => {
  const sandbox = await startZohoSandbox({ organizations: [{ organizationId: US, dataCentre: 'com' }, { organizationId: EU, dataCentre: 'eu' }] })
  t.teardown(() => sandbox.close())
  const eu = sandbox.organization(EU)
  // The US organization's id with the EU user's credentials: Zoho in the EU knows no such organization for that user.
  const entries = [{ organizationId: US, subsidiaries: ['*'], accountsUrl: eu.accountsUrl, clientId: eu.clientId, clientSecret: eu.clientSecret, refreshToken: eu.refreshToken }]
  const runtime = await startTestRuntime(t, { ZOHO_ORGANIZATIONS: JSON.stringify(entries), TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ZOHO_TIMEOUT_MS: '2000', WORKER_CONCURRENCY: '1', ZOHO_RATE_PER_MINUTE: '1200' })
  const key = await mintKey(runtime, ['ingest'])
  const [bill] = bills(1, 'U')
  await postBatch(runtime, { batchId: 'orgs-unknown', bills: [bill] }, { key })
  const row = await waitFor(async () => (await runtime.pool.query<{ status: string; last_error_code: string; last_error_message: string }>(`SELECT status, last_error_code, last_error_message FROM transactions WHERE status = 'failed'`)).rows[0], 'the bill failed')
  t.equal(row!.last_error_code, 'ZOHO_ORGANIZATION_UNKNOWN')
  t.match(row!.last_error_message, new RegExp(`does not know organization ${US}.*check the organization's id, data centre and credentials`))
})
