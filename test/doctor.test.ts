import { randomBytes, randomUUID } from 'node:crypto'
import type pg from 'pg'
import t from 'tap'
import { DOCTOR_REQUEST_BUDGET } from '../scripts/lib/doctor.ts'
import { SANDBOX_CREDENTIALS, type ZohoSandbox } from '../src/sandbox/server.ts'
import { createTestDatabase } from './helpers/db.ts'
import { runScript } from './helpers/process.ts'
import { startOrganizations } from './helpers/organizations.ts'
import { startSandbox } from './helpers/zoho.ts'

// The client paces requests at the configured rate; a faster sandbox and bucket keep the test short.
const FAST = { ratePerMinute: 1200 }
const FAST_ENV = { ZOHO_RATE_PER_MINUTE: '1200', ZOHO_PLAN: 'professional' }

/** A bill of an organization (the sandbox's by default) as ingest stores it, in any status, without a job: doctor only reads it. */
async function addBill(pool: pg.Pool, bill: { status: string; vendor: string; email?: string; accounts: string[]; errorCode?: string; errorMessage?: string; organizationId?: string }) {
  const id = randomUUID()
  const number = `DOC-${randomBytes(3).toString('hex')}`
  const vendor = { name: bill.vendor, ...(bill.email ? { email: bill.email } : {}) }
  const body = { date: '2026-11-02', currency: 'USD', lines: bill.accounts.map((account) => ({ account, amount: '10.00' })) }
  await pool.query(
    `INSERT INTO transactions (id, external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, last_error_code, last_error_message, blob_key, file_name, sha256, size_bytes, organization_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'USD', $8, $9, $10, $11, $12, $13, 100, $14)`,
    [id, `NS-${number}`, number, bill.vendor, vendor, body, 10 * bill.accounts.length, bill.status, bill.errorCode ?? null, bill.errorMessage ?? null, `blobs/${id}`, `${number}.pdf`, '0'.repeat(64), bill.organizationId ?? SANDBOX_CREDENTIALS.organizationId])
  return id
}

function accountId(sandbox: ZohoSandbox, code: string): string {
  return [...sandbox.state.accounts.values()].find((a) => a.account_code === code)!.account_id
}

function zohoSaw(sandbox: Pick<ZohoSandbox, 'counters'>): number {
  const c = sandbox.counters()
  return c.booksRequests + (c.requestsByEndpoint['POST /oauth/v2/token'] ?? 0)
}

t.test('a healthy configuration: exit 0, the table, at most 10 Zoho requests', async (t) => {
  const { sandbox, env } = await startSandbox(t, FAST)
  const { url, pool } = await createTestDatabase(t)
  await pool.query(`INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, '6200 travel', $2, 'operator')`, [sandbox.organizationId, accountId(sandbox, '6200')])
  await addBill(pool, { status: 'queued', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies', '6200 Travel'] })
  await addBill(pool, { status: 'received', vendor: 'Brand New Vendor Ltd', accounts: ['Utilities'] })
  const run = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.equal(run.code, 0, 'exit code 0', { output: run.out + run.err })
  for (const line of [
    /^token refresh +OK +.*granted a token/m,
    /^api domain +OK +api_domain http:\/\/127\.0\.0\.1:\d+ .*requests go to http:\/\/127\.0\.0\.1:\d+\/books\/v3/m,
    /^organization +OK +60012345678 "billbridge sandbox organization", base currency USD, time zone Etc\/UTC/m,
    /^plan limits +OK +ZOHO_PLAN=professional: 5000 requests\/day, 10 concurrent/m,
    /^accounts +OK +3 NetSuite account\(s\) seen .*every one maps to an active Zoho account; chart: 6 accounts/m,
    /^vendors +OK +no ambiguous vendor \(2 unmapped vendor\(s\) of waiting bills looked up in Zoho, 1 to be created\)$/m,
    /^daily calls +OK +\d+ of 5000 used today/m,
    /^ready: no blockers$/m,
  ]) t.match(run.out, line)
  const made = zohoSaw(sandbox)
  t.ok(made <= DOCTOR_REQUEST_BUDGET, `${made} requests reached the sandbox`)
  t.match(run.out, new RegExp(`^Zoho requests: ${made} of at most 10 `, 'm'), 'the printed count is what Zoho saw')
  t.same(Object.keys(sandbox.counters().requestsByEndpoint).filter((e) => /^(POST|PUT|DELETE) /.test(e) && e !== 'POST /oauth/v2/token'), [], 'doctor writes nothing to Zoho')
  const { rows } = await pool.query('SELECT day_count FROM rate_limits WHERE key = $1', [`zoho:${sandbox.organizationId}`])
  t.equal(rows[0]?.day_count, sandbox.counters().acceptedBooksRequests, 'every Books request took a permit from the shared bucket')
})

t.test('blockers: an unmapped account, a vendor with two active namesakes, a failed VENDOR_AMBIGUOUS bill; exit 1 with the fix named', async (t) => {
  // The grant names an EU api_domain while ZOHO_API_URL sends requests elsewhere: a warning, not a blocker.
  const { sandbox, env } = await startSandbox(t, { ...FAST, apiDomain: 'https://www.zohoapis.eu', seed: { accounts: 260, vendors: [{ name: 'Twin Co', email: 'a@twin.test' }, { name: 'Twin Co', email: 'b@twin.test' }] } })
  const { url, pool } = await createTestDatabase(t)
  await addBill(pool, { status: 'queued', vendor: 'Twin Co', accounts: ['6100 Office Supplies', '9999 Consulting Fees'] })
  await addBill(pool, { status: 'queued', vendor: 'Twin Co', email: 'c@twin.test', accounts: ['Operating Expense 259'] })
  const failed = await addBill(pool, { status: 'failed', vendor: 'Dup Ltd', accounts: ['6100 Office Supplies'], errorCode: 'VENDOR_AMBIGUOUS',
    errorMessage: 'Zoho Books has 2 active vendors named "Dup Ltd" (contact ids 4600001, 4600002): choose one with `npm run cli -- map vendor "Dup Ltd" <contact_id>`, then retry' })
  const run = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url, ZOHO_API_URL: sandbox.apiUrl })
  t.equal(run.code, 1, 'exit code 1', { output: run.out + run.err })
  t.match(run.out, /^api domain +WARN +ZOHO_API_URL http:\/\/127\.0\.0\.1:\d+\/books\/v3 overrides the api_domain https:\/\/www\.zohoapis\.eu .*→ fix: unset ZOHO_API_URL/m)
  t.match(run.out, /^account +BLOCKER +"9999 consulting fees" matches no active Zoho account \(by code or name\) → fix: `npm run cli -- map account "9999 consulting fees" <Zoho account_id>`$/m)
  t.notMatch(run.out, /operating expense 259/, 'an account on the second page of the chart is found')
  t.match(run.out, /^vendor +BLOCKER +"Twin Co": 2 active Zoho vendors with this name \(contacts \d+, \d+\).* → fix: `npm run cli -- map vendor "Twin Co" <contact_id>`$/m)
  t.match(run.out, new RegExp(`^vendor +BLOCKER +"Dup Ltd": 1 bill\\(s\\) failed VENDOR_AMBIGUOUS \\(Zoho contacts 4600001, 4600002\\) → fix: \`npm run cli -- map vendor "Dup Ltd" <contact_id>\`, then npm run cli -- retry ${failed}$`, 'm'))
  t.match(run.out, /^3 blocker\(s\): fix them and run doctor again$/m)
  t.ok(zohoSaw(sandbox) <= DOCTOR_REQUEST_BUDGET, `${zohoSaw(sandbox)} requests, two chart pages included`)
  t.equal(sandbox.counters().requestsByEndpoint['GET /chartofaccounts'], 2, 'the whole chart of 260 accounts was read')

  // map vendor checks the contact in Zoho: the operator picks a real, active vendor.
  const chosen = sandbox.state.addContact({ name: 'Dup Ltd' }).contact_id
  const mapped = await runScript('scripts/cli.ts', ['map', 'vendor', 'Dup Ltd', chosen], { ...env, DATABASE_URL: url, ZOHO_API_URL: sandbox.apiUrl })
  t.equal(mapped.code, 0, 'map vendor', { output: mapped.err })
  const again = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url, ZOHO_API_URL: sandbox.apiUrl })
  t.match(again.out, /^vendor +WARN +"Dup Ltd": 1 bill\(s\) failed VENDOR_AMBIGUOUS but the vendor is mapped now → fix: npm run cli -- retry /m, 'once mapped, the fix is a retry')
  t.match(again.out, /^2 blocker\(s\)/m)
  t.match(again.out, /^token refresh +OK +.*\(the shared cached token is still valid\)$/m, 'with a cached token, one grant still proves the refresh token')
  const total = Number(/^Zoho requests: (\d+) /m.exec(again.out)?.[1])
  t.ok(total > 0 && total <= DOCTOR_REQUEST_BUDGET, `the second run made ${total} requests`)
})

t.test('without ZOHO_* credentials doctor says it checks nothing real, and exits 1', async (t) => {
  const { url } = await createTestDatabase(t)
  const run = await runScript('scripts/cli.ts', ['doctor'], { DATABASE_URL: url, ZOHO_CLIENT_ID: '', ZOHO_CLIENT_SECRET: '', ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '' })
  t.equal(run.code, 1, 'exit code 1', { output: run.out + run.err })
  t.match(run.out, /^credentials +BLOCKER +no ZOHO_\* credentials: doctor checks nothing real .*→ fix: set ZOHO_CLIENT_ID/m)
  t.notMatch(run.out, /Zoho requests/)
})

/** A bill carrying tax codes and segments, as the API stores them (bill.lines[].taxCode, taxRate, department …). */
async function addTaxedBill(pool: pg.Pool, lines: Array<Record<string, string>>, bill: Record<string, string> = {}, organizationId = SANDBOX_CREDENTIALS.organizationId) {
  const id = randomUUID()
  const number = `DOC-${randomBytes(3).toString('hex')}`
  await pool.query(
    `INSERT INTO transactions (id, external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, blob_key, file_name, sha256, size_bytes, organization_id)
     VALUES ($1, $2, $3, 'Acme Supplies', '{"name":"Acme Supplies"}', $4, 10, 'GBP', 'queued', $5, $6, $7, 100, $8)`,
    [id, `NS-${number}`, number, { date: '2026-11-02', currency: 'GBP', lines: lines.map((l) => ({ account: '6100 Office Supplies', amount: '10.00', ...l })), ...bill }, `blobs/${id}`, `${number}.pdf`, '0'.repeat(64), organizationId])
}

t.test('taxes, tags and the edition: unmapped tax codes and segment values seen on bills, a mandatory tag ZOHO_TAGS misses', async (t) => {
  const { sandbox, env } = await startSandbox(t, {
    ...FAST,
    seed: {
      edition: 'uk',
      tags: [{ name: 'Department', options: ['Sales', { name: 'EMEA', parent: 'Sales' }] }, { name: 'Project', mandatory: true, options: ['P1'] }],
    },
  })
  const { url, pool } = await createTestDatabase(t)
  await addTaxedBill(pool, [{ taxCode: 'VAT:S-GB', taxRate: '20', department: 'Europe : EMEA' }, { taxCode: 'VAT:X-GB', taxRate: '0' }], { department: 'Marketing' })
  await addTaxedBill(pool, [{ taxCode: 'VAT:Z-GB', taxRate: '0', location: 'London' }])
  const run = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url, ZOHO_TAGS: 'department=Department' })
  t.equal(run.code, 1, 'exit code 1', { output: run.out + run.err })
  t.match(run.out, /^edition +OK +uk \(from the organization's country GB\): every tax code maps to a Zoho VAT rate; the vendor's country decides vat_treatment/m)
  t.match(run.out, /^tax code +BLOCKER +"VAT:X-GB" maps to no Zoho tax: it is 0% and its name does not say .*\(candidates \d+ Zero Rate, \d+ Exempt, \d+ Out of Scope\) → fix: `npm run cli -- map tax "VAT:X-GB" <zoho tax id>`$/m)
  t.notMatch(run.out, /"VAT:S-GB"|"VAT:Z-GB"/, 'codes that match by rate and kind are not reported')
  t.match(run.out, /^tag +BLOCKER +department "Marketing" matches no option of "Department" → fix: `npm run cli -- map tag department "Marketing" <tag option id>`$/m, 'a bill-level value counts')
  t.notMatch(run.out, /Europe : EMEA/, 'the last segment of a hierarchical name matches')
  t.match(run.out, /^tags +WARN +1 location value\(s\) on the newest bills, but ZOHO_TAGS maps no reporting tag to location/m)
  t.match(run.out, /^tag +BLOCKER +Zoho requires the reporting tag "Project" on every line and ZOHO_TAGS maps no NetSuite segment to it/m)
  t.equal(sandbox.counters().requestsByEndpoint['GET /settings/taxes'], 1, 'one request for the taxes')
  t.equal(sandbox.counters().requestsByEndpoint['GET /reportingtags'], 1, 'one for the tags')
  t.ok(zohoSaw(sandbox) <= DOCTOR_REQUEST_BUDGET, `${zohoSaw(sandbox)} requests`)

  const mapped = await runScript('scripts/cli.ts', ['map', 'tax', 'VAT:X-GB', (sandbox.state.taxByName('Exempt') as { tax_id: string }).tax_id], { ...env, DATABASE_URL: url })
  t.equal(mapped.code, 0, mapped.err)
  const again = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url, ZOHO_TAGS: 'department=Department,class=Project', ZOHO_EDITION: 'gcc' })
  t.match(again.out, /^taxes +OK +3 NetSuite tax code\(s\) seen on the newest bills; each maps to a Zoho tax/m, 'mapped now')
  t.notMatch(again.out, /"Project" on every line/, 'the mandatory tag is mapped from class now')
  t.match(again.out, /^edition +OK +gcc \(ZOHO_EDITION=gcc \(the country GB says uk\)\)/m)
})

t.test('several organizations: each is checked in turn, its rows named, within its own budget; one grant proof per Zoho user; a blocker in one is exit 1', async (t) => {
  // The US and Irish organizations are reached by one Zoho user's grant; the UK one by its own.
  const group = { clientId: '1000.ACMEGROUP', clientSecret: 'acme-group-secret', refreshToken: '1000.acme-group.refresh' }
  const { sandbox, env: orgEnv } = await startOrganizations(t, [
    { organizationId: '60012345678', client: group, subsidiaries: ['*'], entry: { name: 'Acme US', plan: 'professional' } },
    { organizationId: '60087654321', subsidiaries: ['Acme UK'], entry: { name: 'Acme UK', plan: 'professional' } },
    { organizationId: '60055555555', client: group, subsidiaries: ['Acme IE'], entry: { name: 'Acme IE', plan: 'professional' } },
  ], FAST)
  const us = sandbox.organization('60012345678')
  const uk = sandbox.organization('60087654321')
  const ie = sandbox.organization('60055555555')
  const { url, pool } = await createTestDatabase(t)
  await addBill(pool, { status: 'queued', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies'], organizationId: us.organizationId })
  await addBill(pool, { status: 'queued', vendor: 'Acme Supplies', accounts: ['9999 Consulting Fees'], organizationId: uk.organizationId })
  const env = { ...orgEnv, ZOHO_RATE_PER_MINUTE: '1200', DATABASE_URL: url }
  t.match(JSON.parse(orgEnv.ZOHO_ORGANIZATIONS!), [{}, {}, { organizationId: ie.organizationId, credentialsFrom: us.organizationId }], 'the Irish entry takes the US credentials')
  const run = await runScript('scripts/cli.ts', ['doctor'], env)
  t.equal(run.code, 1, 'exit code 1: a blocker in one organization', { output: run.out + run.err })
  t.match(run.out, /^ORGANIZATION +CHECK +STATUS +DETAIL$/m)
  t.match(run.out, /^Acme US +token refresh +OK +.*granted a token$/m)
  t.match(run.out, /^Acme US +organization +OK +60012345678 /m)
  t.match(run.out, /^Acme US +accounts +OK +1 NetSuite account\(s\) seen/m, "only the US organization's bills")
  t.match(run.out, /^Acme UK +organization +OK +60087654321 /m)
  t.match(run.out, /^Acme UK +account +BLOCKER +"9999 consulting fees" matches no active Zoho account \(by code or name\) → fix: `npm run cli -- map account "9999 consulting fees" <Zoho account_id> --organization 60087654321`$/m, 'the fix names the organization')
  t.match(run.out, /^Acme UK +plan limits +OK +plan "professional": 5000 requests\/day/m, "the entry's own setting")
  t.match(run.out, /^Acme IE +token refresh +OK +.*\(the token of the OAuth grant it shares with Acme US, proven once\)$/m)
  t.match(run.out, /^Acme IE +organization +OK +60055555555 /m)
  t.equal(run.out.match(/BLOCKER/g)?.length, 1, 'one blocker, in the UK organization')
  t.match(run.out, /^1 blocker\(s\)/m)
  t.equal(us.counters().requestsByEndpoint['POST /oauth/v2/token'], 1, 'one token grant for the two organizations of one Zoho user')
  const spent = (name: string) => Number(new RegExp(`^${name} \\(\\d+\\): Zoho requests: (\\d+) of at most ${DOCTOR_REQUEST_BUDGET} `, 'm').exec(run.out)?.[1])
  for (const name of ['Acme US', 'Acme UK', 'Acme IE']) t.ok(spent(name) > 0 && spent(name) <= DOCTOR_REQUEST_BUDGET, `${name}: ${spent(name)} requests, within its own budget`)
  for (const [name, org] of [['Acme US', us], ['Acme UK', uk], ['Acme IE', ie]] as const) t.equal(spent(name), zohoSaw(org), `${name}: the count is what its Zoho saw`)
  const buckets = (await pool.query(`SELECT key FROM rate_limits WHERE key LIKE 'zoho:%' ORDER BY key`)).rows.map((r) => r.key)
  t.same(buckets, ['zoho:60012345678', 'zoho:60055555555', 'zoho:60087654321'], "each organization's requests took permits from its own bucket")

  const one = await runScript('scripts/cli.ts', ['doctor', '--organization', us.organizationId], env)
  t.equal(one.code, 0, 'the US organization alone has no blocker', { output: one.out + one.err })
  t.notMatch(one.out, /Acme UK|Acme IE/, 'only the organization named')
  const unknown = await runScript('scripts/cli.ts', ['doctor', '--organization', '123'], env)
  t.equal(unknown.code, 2)
  t.equal(unknown.err, 'error: no Zoho organization 123 is configured; the configured ones are 60012345678 (Acme US), 60087654321 (Acme UK), 60055555555 (Acme IE)\n', 'one line naming the configured ones')
})

t.test('bills of an organization no longer configured: waiting ones are a blocker, failed ones a warning, each naming the organization and the fix', async (t) => {
  const { sandbox, env } = await startSandbox(t, FAST)
  const { url, pool } = await createTestDatabase(t)
  const gone = '60099999999'
  await addBill(pool, { status: 'queued', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies'] })
  await addBill(pool, { status: 'queued', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies'], organizationId: gone })
  await addBill(pool, { status: 'processing', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies'], organizationId: gone })
  await addBill(pool, { status: 'delivered', vendor: 'Acme Supplies', accounts: ['6100 Office Supplies'], organizationId: '60088888888' })
  const all = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.equal(all.code, 1, 'exit code 1', { output: all.out + all.err })
  t.match(all.out, /^unconfigured organization +BLOCKER +2 bill\(s\) waiting for Zoho organization 60099999999, which ZOHO_ORGANIZATION_ID no longer names: nothing delivers them → fix: set ZOHO_ORGANIZATION_ID=60099999999 again \(or name both organizations in ZOHO_ORGANIZATIONS\) and restart$/m, 'the setting this configuration uses')
  t.notMatch(all.out, /60088888888/, 'an organization whose bills are all delivered is not named')
  t.equal(all.out.match(/BLOCKER/g)?.length, 1, 'the only blocker')

  await pool.query(`UPDATE transactions SET status = 'failed' WHERE organization_id = $1`, [gone])
  const failed = await runScript('scripts/cli.ts', ['doctor'], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.equal(failed.code, 0, 'failed bills alone do not block', { output: failed.out + failed.err })
  t.match(failed.out, /^unconfigured organization +WARN +2 failed bill\(s\) of Zoho organization 60099999999, .*a retry would only queue them/m)
  const one = await runScript('scripts/cli.ts', ['doctor', '--organization', sandbox.organizationId], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.notMatch(one.out, /unconfigured/, 'doctor of one organization checks that organization only')

  const { env: orgEnv } = await startOrganizations(t, [{ organizationId: '60012345678', subsidiaries: ['*'], entry: { name: 'Acme US', plan: 'professional' } }], FAST)
  await pool.query(`UPDATE transactions SET status = 'queued' WHERE organization_id = $1`, [gone])
  const entries = await runScript('scripts/cli.ts', ['doctor'], { ...orgEnv, ZOHO_RATE_PER_MINUTE: '1200', DATABASE_URL: url })
  t.equal(entries.code, 1, 'exit code 1', { output: entries.out + entries.err })
  t.match(entries.out, /^unconfigured organization +BLOCKER +2 bill\(s\) waiting for Zoho organization 60099999999, which ZOHO_ORGANIZATIONS no longer names: nothing delivers them → fix: add an entry with organizationId "60099999999" back to ZOHO_ORGANIZATIONS \(its subsidiaries, credentials and limits\) and restart$/m, 'with entries, the fix names an entry')
})
