import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import { request } from 'undici'
import t from 'tap'
import { createApiKeyRepository } from '../src/auth/api-keys.ts'
import { createTestDatabase } from './helpers/db.ts'
import { reachableTempDir } from './helpers/embedded.ts'
import { runScript, spawnService } from './helpers/process.ts'
import { startOrganizations } from './helpers/organizations.ts'
import { startSandbox } from './helpers/zoho.ts'

const { url, db, pool } = await createTestDatabase(t)

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/cli.ts', ...args], { env: { ...process.env, DATABASE_URL: url, ZOHO_ORGANIZATION_ID: '' }, encoding: 'utf8' })
  return { code: result.status, out: result.stdout, err: result.stderr }
}

t.test('keys create prints the key last, stores only its hash; list and revoke', async (t) => {
  const created = cli('keys', 'create', '--name', 'netsuite-prod', '--scopes', 'ingest,read')
  t.equal(created.code, 0, created.err)
  const key = created.out.trim().split('\n').at(-1)!
  t.match(key, /^bb_[A-Za-z0-9_-]{40,}$/, 'the last line is the key')
  const identity = await createApiKeyRepository(db).authenticate(key)
  t.same(identity?.scopes, ['ingest', 'read'])
  const { rows } = await pool.query('SELECT key_hash FROM api_keys')
  t.notOk(rows.some((r) => String(r.key_hash).includes(key)), 'not stored in clear')
  const list = cli('keys', 'list')
  t.match(list.out, /netsuite-prod\tbb_.{7}…\tingest,read\tactive/)
  t.notOk(list.out.includes(key), 'list never shows the key')
  t.equal(cli('keys', 'create', '--name', 'netsuite-prod', '--scopes', 'read').code, 1, 'names are unique')
  t.match(cli('keys', 'create', '--name', 'x', '--scopes', 'ingest,superuser').err, /unknown: superuser/)
  t.equal(cli('keys', 'revoke', 'netsuite-prod').code, 0)
  t.equal(await createApiKeyRepository(db).authenticate(key), null, 'revoked keys no longer authenticate')
  t.equal(cli('keys', 'revoke', 'netsuite-prod').code, 1, 'revoking twice says so')
  const unknown = cli('nonsense')
  t.equal(unknown.code, 2, 'exit 2 for an unknown command')
  t.match(unknown.err, /^error: unknown command "nonsense"\nusage: /, 'it says the command is unknown, then the usage')
  const audit = await pool.query(`SELECT action, subject FROM operator_audit WHERE action LIKE 'key_%' ORDER BY id`)
  t.same(audit.rows, [{ action: 'key_created', subject: 'netsuite-prod' }, { action: 'key_revoked', subject: 'netsuite-prod' }], 'key created and revoked are in the audit trail, once each')
})

t.test('map account and retry', async (t) => {
  const mapped = cli('map', 'account', '7777 Consulting Fees', '460000123')
  t.equal(mapped.code, 0, mapped.err)
  t.match(cli('map', 'list').out, /7777 consulting fees\t460000123\toperator/)
  const audit = await pool.query(`SELECT actor, subject, detail FROM operator_audit WHERE action = 'map_account'`)
  t.match(audit.rows[0], { actor: /^cli:/, subject: '7777 Consulting Fees', detail: { old: null, new: '460000123' } }, 'the same path as the mappings page: recorded old → new')
  t.match(cli('map', 'account', 'x', 'not-a-number').err, /numeric Zoho account_id/)
  const retried = cli('retry', '00000000-0000-0000-0000-000000000000')
  t.equal(retried.code, 0, retried.err)
  t.match(retried.out, /requeued 0; skipped 1/)
})

t.test('retry of something that is not a transaction id: one line, exit 2, no PostgreSQL stack', async (t) => {
  const audited = async () => (await pool.query(`SELECT 1 FROM operator_audit WHERE action LIKE 'retry%'`)).rowCount
  const before = await audited()
  const bad = cli('retry', 'not-a-uuid')
  t.equal(bad.code, 2)
  t.match(bad.err.split('\n')[0], /^error: retry takes transaction ids .*"not-a-uuid" is not one$/)
  t.notMatch(bad.err, /^\s+at /m, 'no stack')
  t.equal(await audited(), before, 'nothing recorded')
})

t.test('without DATABASE_URL and with no service under DATA_DIR: one line, and no database is made', async (t) => {
  const dataDir = await reachableTempDir(t, 'bb-cli-nodb-')
  const env = { DATABASE_URL: '', DATA_DIR: dataDir }
  const list = await runScript('scripts/cli.ts', ['keys', 'list'], env)
  t.equal(list.code, 1)
  t.equal(list.err.trim().split('\n').length, 1, 'one line')
  t.match(list.err, new RegExp(`^error: no billbridge database under DATA_DIR=${dataDir}: start the service first \\(npm start\\).*or set DATABASE_URL`))
  const sample = await runScript('scripts/send-sample.ts', ['--bills', '1', '--url', 'http://127.0.0.1:9'], env)
  t.equal(sample.code, 1)
  t.match(sample.err, /^error: no billbridge answers at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): start it first/)
  t.equal(sample.err.trim().split('\n').length, 1, 'one line')
  t.same(await fs.readdir(dataDir), [], 'no PostgreSQL cluster was initialised under DATA_DIR')
})

t.test('map vendor checks the contact in Zoho: unknown, a customer or inactive are refused and nothing is saved', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const run = (...args: string[]) => runScript('scripts/cli.ts', args, { ...env, DATABASE_URL: url })
  const customer = sandbox.state.addContact({ name: 'Retail Buyer' })
  customer.contact_type = 'customer'
  const inactive = sandbox.state.addContact({ name: 'Old Vendor', status: 'inactive' })
  const active = sandbox.state.addContact({ name: 'Checked Vendor' })
  const saved = async () => (await pool.query(`SELECT zoho_vendor_id FROM vendor_map WHERE organization_id = $1`, [sandbox.organizationId])).rows
  for (const [id, reason] of [['123', /Zoho has no contact 123/], [customer.contact_id, /is a customer, not a vendor/], [inactive.contact_id, /is inactive/]] as const) {
    const refused = await run('map', 'vendor', 'Checked Co', id)
    t.equal(refused.code, 1, `contact ${id} refused`, { err: refused.err })
    t.equal(refused.err.trim().split('\n').length, 1, 'one line')
    t.match(refused.err, reason)
    t.match(refused.err, /nothing was saved$/m)
  }
  t.same(await saved(), [], 'no mapping saved')
  const before = sandbox.counters().requestsByEndpoint['GET /contacts/:id'] ?? 0
  const ok = await run('map', 'vendor', 'Checked Co', active.contact_id)
  t.equal(ok.code, 0, ok.err)
  t.equal((sandbox.counters().requestsByEndpoint['GET /contacts/:id'] ?? 0) - before, 1, 'one request: GET /contacts/{id}')
  t.same((await saved()).map((r) => r.zoho_vendor_id), [active.contact_id], 'an active vendor is mapped')
})

t.test('beside a running service (embedded defaults): send-sample finds it under DATA_DIR, prints the key it minted and a curl line that works; map vendor asks its sandbox', async (t) => {
  const dataDir = await reachableTempDir(t, 'bb-cli-service-')
  const service = await spawnService(t, 'src/server.ts', { DATA_DIR: dataDir, DATABASE_URL: '', ZOHO_CLIENT_ID: '', ZOHO_CLIENT_SECRET: '', ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '' }, 120_000)
  const env = { DATA_DIR: dataDir, DATABASE_URL: '', PORT: '', BILLBRIDGE_URL: '', BILLBRIDGE_API_KEY: '', ZOHO_ORGANIZATION_ID: '' }
  const sample = await runScript('scripts/send-sample.ts', ['--bills', '2', '--size', '2kb', '--prefix', 'CLITEST'], env)
  t.equal(sample.code, 0, sample.err)
  const key = /^minted API key "sample-sender-\d+" \(scopes ingest,read\); it is shown once:\n {2}(bb_\S+)$/m.exec(sample.out)?.[1]
  t.ok(key, 'the minted key is printed, marked as such')
  t.match(sample.out, `to ${service.url}`, 'sent to the running service found under DATA_DIR')
  const curl = /curl -H "Authorization: Bearer (\S+)" (\S+)$/m.exec(sample.out)
  t.equal(curl?.[1], key, 'the curl line carries the key')
  const res = await request(curl![2]!, { headers: { authorization: `Bearer ${curl![1]}` } })
  t.equal(res.statusCode, 200, 'the printed curl line works')
  t.equal(((await res.body.json()) as { batchId?: string }).batchId, 'CLITEST-B1')

  const unknown = await runScript('scripts/cli.ts', ['map', 'vendor', 'Someone', '999'], env)
  t.equal(unknown.code, 1, unknown.err)
  t.match(unknown.err.trim(), /^error: Zoho has no contact 999 in this organization .*nothing was saved$/, 'the check reached the service\'s sandbox')
})

t.test('map tax and map tag: checked against the cached lists, re-read with one request when missing; map list shows them', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk', tags: [{ name: 'Department', options: ['Sales', { name: 'EMEA', parent: 'Sales' }] }] } })
  const run = (...args: string[]) => runScript('scripts/cli.ts', args, { ...env, DATABASE_URL: url, ZOHO_RATE_PER_MINUTE: '1200', ZOHO_TAGS: 'department=Department,class=Cost centre' })
  const exempt = sandbox.state.taxByName('Exempt') as { tax_id: string }
  const dept = sandbox.state.tagByName('Department')!
  const emea = dept.options.find((o) => o.tag_option_name === 'EMEA')!.tag_option_id

  let books = sandbox.counters().booksRequests
  const tax = await run('map', 'tax', 'VAT:E-GB', exempt.tax_id)
  t.equal(tax.code, 0, tax.err)
  t.match(tax.out, `mapped "VAT:E-GB" to Zoho tax ${exempt.tax_id} "Exempt" (0%, exempt)`)
  t.equal(sandbox.counters().booksRequests - books, 1, 'the id was not cached: one request for the taxes list')
  books = sandbox.counters().booksRequests
  t.equal((await run('map', 'tax', 'VAT:E2', exempt.tax_id)).code, 0)
  t.equal(sandbox.counters().booksRequests, books, 'cached now: no request')
  const unknown = await run('map', 'tax', 'VAT:E-GB', '99999')
  t.equal(unknown.code, 1)
  t.match(unknown.err, /Zoho lists no tax or tax group 99999/)
  t.match((await run('map', 'tax', 'VAT:E-GB')).err, /map tax needs the NetSuite tax code/)

  const tag = await run('map', 'tag', 'department', 'Europe : EMEA', emea)
  t.equal(tag.code, 0, tag.err)
  t.match(tag.out, `mapped department "Europe : EMEA" to "Department" option ${emea} "Sales : EMEA"`)
  t.match((await run('map', 'tag', 'class', 'X', emea)).err, /is not an option of the reporting tag "Cost centre"/, 'an option of another tag is refused')
  t.match((await run('map', 'tag', 'location', 'X', emea)).err, /ZOHO_TAGS maps no reporting tag to location/)
  t.match((await run('map', 'tag', 'division', 'X', emea)).err, /department, class or location/)

  const list = await run('map', 'list')
  t.match(list.out, new RegExp(`tax\\tvat:e-gb\\t${exempt.tax_id}\\toperator\\tExempt 0%`))
  t.match(list.out, new RegExp(`tag department\\teurope : emea\\t${emea}\\toperator\\tSales : EMEA`))
  const audit = await pool.query(`SELECT action, subject, detail FROM operator_audit WHERE action IN ('map_tax', 'map_tag') ORDER BY id`)
  t.match(audit.rows, [{ action: 'map_tax', subject: 'VAT:E-GB', detail: { old: null, new: exempt.tax_id } }, { action: 'map_tax', subject: 'VAT:E2' }, { action: 'map_tag', subject: 'department: Europe : EMEA', detail: { new: emea } }])
})

t.test('several organizations: map needs --organization (an unknown one is one line naming the configured ones, exit 2); each mapping goes to its organization only', async (t) => {
  const { sandbox, env: orgEnv } = await startOrganizations(t, [
    { organizationId: '60012345678', subsidiaries: ['*'], entry: { name: 'Acme US' } },
    { organizationId: '60087654321', subsidiaries: ['Acme UK'], entry: { name: 'Acme UK' } },
  ])
  const us = sandbox.organization('60012345678')
  const uk = sandbox.organization('60087654321')
  const env = { ...orgEnv, DATABASE_URL: url, ZOHO_RATE_PER_MINUTE: '1200' }
  const run = (...args: string[]) => runScript('scripts/cli.ts', args, env)
  const mapsOf = async (account: string) => (await pool.query(`SELECT organization_id, zoho_account_id FROM account_map WHERE account = $1 ORDER BY organization_id`, [account])).rows

  const missing = await run('map', 'account', '8800 Shared Services', '460000001')
  t.equal(missing.code, 2, 'exit 2 without --organization', { err: missing.err })
  t.equal(missing.err, 'error: map account needs --organization <id>: billbridge delivers to 2 Zoho organizations, 60012345678 (Acme US), 60087654321 (Acme UK)\n', 'one line naming them')
  const unknown = await run('map', 'account', '8800 Shared Services', '460000001', '--organization', '999')
  t.equal(unknown.code, 2)
  t.equal(unknown.err, 'error: no Zoho organization 999 is configured; the configured ones are 60012345678 (Acme US), 60087654321 (Acme UK)\n')
  t.same(await mapsOf('8800 shared services'), [], 'nothing saved')

  const toUs = await run('map', 'account', '8800 Shared Services', '460000001', '--organization', us.organizationId)
  t.equal(toUs.code, 0, toUs.err)
  t.match(toUs.out, /^mapped "8800 Shared Services" to Zoho account 460000001 in Zoho organization 60012345678 \(Acme US\); /)
  const toUk = await run('map', 'account', '--organization=60087654321', '8800 Shared Services', '460000002')
  t.equal(toUk.code, 0, toUk.err)
  t.same(await mapsOf('8800 shared services'), [{ organization_id: us.organizationId, zoho_account_id: '460000001' }, { organization_id: uk.organizationId, zoho_account_id: '460000002' }], 'the same NetSuite account, a mapping per organization')
  const audit = await pool.query(`SELECT detail FROM operator_audit WHERE action = 'map_account' AND subject = '8800 Shared Services' ORDER BY id`)
  t.match(audit.rows.map((r) => r.detail), [{ new: '460000001', organizationId: us.organizationId }, { new: '460000002', organizationId: uk.organizationId }])

  // map vendor checks the contact in the named organization's Zoho.
  const ukOnly = uk.state.addContact({ name: 'UK Only Vendor' })
  const wrongZoho = await run('map', 'vendor', 'UK Only Vendor', ukOnly.contact_id, '--organization', us.organizationId)
  t.equal(wrongZoho.code, 1, "a contact of the other organization's Zoho is refused")
  t.match(wrongZoho.err, /Zoho has no contact \d+ in this organization/)
  const rightZoho = await run('map', 'vendor', 'UK Only Vendor', ukOnly.contact_id, '--organization', uk.organizationId)
  t.equal(rightZoho.code, 0, rightZoho.err)

  const list = await run('map', 'list')
  t.equal(list.code, 0, list.err)
  t.match(list.out, new RegExp(`^${us.organizationId}\\taccount\\t8800 shared services\\t460000001\\toperator$`, 'm'), 'each line starts with its organization')
  t.match(list.out, new RegExp(`^${uk.organizationId}\\taccount\\t8800 shared services\\t460000002\\toperator$`, 'm'))
  t.match(list.out, new RegExp(`^${uk.organizationId}\\tvendor\\tname:uk only vendor\\t${ukOnly.contact_id}\\toperator`, 'm'))
  const ukList = await run('map', 'list', '--organization', uk.organizationId)
  t.notMatch(ukList.out, new RegExp(`^${us.organizationId}`, 'm'), 'one organization when named')
  t.match(ukList.out, /460000002/)
})
