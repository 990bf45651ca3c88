import t from 'tap'
import { runContractChecks, TEST_VENDOR_NAME } from '../scripts/lib/zoho-contract-checks.ts'
import { openZohoSession } from '../scripts/lib/zoho-session.ts'
import { loadConfig } from '../src/config.ts'
import { createTestDatabase, silentLogger } from './helpers/db.ts'
import { runScript } from './helpers/process.ts'
import { startOrganizations } from './helpers/organizations.ts'
import { startSandbox } from './helpers/zoho.ts'

const WRITES = /^(POST|PUT|DELETE|PATCH) /
// The client paces requests at the configured rate; a faster sandbox and bucket keep the test short.
const FAST = { ratePerMinute: 1200 }
const FAST_ENV = { ZOHO_RATE_PER_MINUTE: '1200' }

t.test('read-only: every assertion passes against the sandbox, and Zoho sees no write', async (t) => {
  const { sandbox, env } = await startSandbox(t, { ...FAST, seed: { bills: [{ vendorName: 'Acme Supplies', billNumber: 'OLD-1', date: '2025-06-30', total: 40, attachment: true }] } })
  const { pool } = await createTestDatabase(t)
  const config = loadConfig({ ...env, ...FAST_ENV, DATABASE_URL: 'postgres://unused' })
  if (config.zoho.mode !== 'remote') throw new Error('the sandbox env names remote credentials')
  const session = openZohoSession({ pool, limits: config.organizations[0]!.limits, target: config.organizations[0]!.target, encryptionKey: config.tokenEncryptionKey, logger: silentLogger })
  t.teardown(() => session.close())
  const results = await runContractChecks(session)
  t.same(results.filter((r) => r.outcome !== 'PASS'), [], 'every check passes, none skipped')
  t.ok(results.length >= 10, `${results.length} checks`)
  const counters = sandbox.counters()
  const writes = Object.keys(counters.requestsByEndpoint).filter((e) => WRITES.test(e) && e !== 'POST /oauth/v2/token')
  t.same(writes, [], 'no write request reached Zoho')
  t.same([counters.billsCreated, counters.vendorsCreated, counters.attachmentsAdded], [0, 0, 0])
  const zohoSaw = counters.booksRequests + (counters.requestsByEndpoint['POST /oauth/v2/token'] ?? 0)
  t.equal(session.requests.total(), zohoSaw, `the run counts its own requests as Zoho saw them (${zohoSaw})`)
  t.ok(zohoSaw <= 20, 'a modest number of requests')
})

t.test('--write makes one marked test bill with its PDF, checks it and deletes it; the script exits 0', async (t) => {
  const { sandbox, env } = await startSandbox(t, FAST)
  const { url } = await createTestDatabase(t)
  const run = await runScript('scripts/zoho-contract.ts', ['--write'], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.equal(run.code, 0, 'exit code 0', { output: run.out + run.err })
  t.notMatch(run.out, /^FAIL/m)
  t.match(run.out, /^PASS {2}POST \/bills as multipart/m)
  t.match(run.out, /^PASS {2}the same bill number for the same vendor in the same year is refused/m)
  t.match(run.out, /^PASS {2}clean-up: the test bill is deleted/m)
  t.match(run.out, /^PASS {2}error envelope: .*message "Bill does not exist\."$/m)
  const counters = sandbox.counters()
  t.equal(counters.billsCreated, 1, 'one test bill was made')
  t.same(sandbox.bills(), [], 'and it is gone')
  t.equal([...sandbox.state.contacts.values()].filter((c) => c.contact_name === TEST_VENDOR_NAME).length, 1, `one vendor "${TEST_VENDOR_NAME}"`)
  const again = await runScript('scripts/zoho-contract.ts', ['--write'], { ...env, ...FAST_ENV, DATABASE_URL: url })
  t.equal(again.code, 0, 'exit code 0', { output: again.out + again.err })
  t.match(again.out, /reused contact/, 'a second run reuses the test vendor')
  t.equal(sandbox.counters().vendorsCreated, 1)
})

t.test('a broken credential is a FAIL with its reason, and exit code 1', async (t) => {
  const { env } = await startSandbox(t, FAST)
  const { url } = await createTestDatabase(t)
  const run = await runScript('scripts/zoho-contract.ts', [], { ...env, ...FAST_ENV, DATABASE_URL: url, ZOHO_CLIENT_SECRET: 'wrong' })
  t.equal(run.code, 1, 'exit code 1', { output: run.out + run.err })
  t.match(run.out, /^FAIL {2}token grant: .*invalid_client/m)
  t.match(run.out, /^SKIP {2}the other checks: not run: no token/m, 'nothing else is tried without a token')
})

t.test('--organization checks the organization named; without it the default one; an unknown one is one line, exit 2', async (t) => {
  const { sandbox, env: orgEnv } = await startOrganizations(t, [
    { organizationId: '60087654321', subsidiaries: ['Acme UK'], entry: { name: 'Acme UK' } },
    { organizationId: '60012345678', subsidiaries: ['*'], entry: { name: 'Acme US' } },
  ], FAST)
  const us = sandbox.organization('60012345678')
  const uk = sandbox.organization('60087654321')
  const { url } = await createTestDatabase(t)
  const env = { ...orgEnv, ...FAST_ENV, DATABASE_URL: url }
  const named = await runScript('scripts/zoho-contract.ts', ['--organization', uk.organizationId], env)
  t.equal(named.code, 0, 'exit code 0', { output: named.out + named.err })
  t.match(named.out, /^Zoho organization 60087654321 \(Acme UK\) via http:\/\/127\.0\.0\.1:\d+\/accounts, read-only$/m)
  t.ok(uk.counters().booksRequests > 0, "the UK organization's Zoho was checked")
  t.equal(us.counters().booksRequests, 0, 'the other was not')
  const byDefault = await runScript('scripts/zoho-contract.ts', [], env)
  t.equal(byDefault.code, 0, 'exit code 0', { output: byDefault.out + byDefault.err })
  t.match(byDefault.out, /^Zoho organization 60012345678 \(Acme US\) via /m, 'the default organization: the one taking every other subsidiary')
  const unknown = await runScript('scripts/zoho-contract.ts', ['--organization', '7'], env)
  t.equal(unknown.code, 2)
  t.equal(unknown.err, 'error: no Zoho organization 7 is configured; the configured ones are 60087654321 (Acme UK), 60012345678 (Acme US)\n')
})
