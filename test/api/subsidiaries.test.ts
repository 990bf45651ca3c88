import t from 'tap'
import { countRows, mintKey, postBatch, bills, blobKeys } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// The API process routes; Zoho is never called here (ROLE=api), so the credentials need not work.
const entry = (organizationId: string, subsidiaries: string[], name: string) => ({ name, subsidiaries, organizationId, accountsUrl: 'http://127.0.0.1:9/accounts', clientId: `1000.${name}`, clientSecret: 's', refreshToken: 'r' })
type Bill = ReturnType<typeof bills>[number]
const KEY = { TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32), ROLE: 'api' }

t.test('a bill goes to the organization of its subsidiary; a subsidiary no entry takes is rejected alone, never queued', async (t) => {
  const runtime = await startTestRuntime(t, { ...KEY, ZOHO_ORGANIZATIONS: JSON.stringify([entry('20001', ['Acme UK Ltd'], 'UK'), entry('30001', ['Acme India Pvt Ltd'], 'India')]) })
  const key = await mintKey(runtime, ['ingest'])
  const [a, b, c, d] = bills(4, 'SUB') as [Bill, Bill, Bill, Bill]
  const res = await postBatch(runtime, { batchId: 'subsidiaries-1', bills: [{ ...a, subsidiary: 'Acme UK Ltd' }, { ...b, subsidiary: 'ACME INDIA PVT LTD' }, { ...c, subsidiary: 'Acme Germany GmbH' }, d] }, { key })
  t.equal(res.status, 202)
  t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'queued', 'rejected', 'rejected'])
  const [, , germany, none] = res.body.items
  t.equal(germany.error.code, 'SUBSIDIARY_UNKNOWN')
  t.equal(germany.error.details.field, 'subsidiary')
  t.match(germany.error.message, /no Zoho organization is configured for subsidiary "Acme Germany GmbH": add it to the subsidiaries of an entry of ZOHO_ORGANIZATIONS/)
  t.match(none.error.message, /a bill with no subsidiary/, 'no subsidiary and no "*" entry: rejected too')
  const rows = await runtime.pool.query<{ external_id: string; organization_id: string }>('SELECT external_id, organization_id FROM transactions ORDER BY external_id')
  t.same(rows.rows.map((r) => [r.external_id, r.organization_id]), [[a.externalId, '20001'], [b.externalId, '30001']], 'each stored bill has its organization')
  const jobs = await runtime.pool.query<{ name: string; id: string }>(`SELECT name, data->>'transactionId' AS id FROM pgboss.job WHERE name LIKE 'deliver-bill%' ORDER BY name`)
  t.same(jobs.rows.map((j) => j.name), ['deliver-bill/20001', 'deliver-bill/30001'], "each bill's job waits in its organization's queue")
  t.equal(await countRows(runtime, `SELECT count(*) AS n FROM transactions WHERE external_id = ANY($1)`, [[c.externalId, d.externalId]]), 0, 'nothing stored for the rejected bills')
  t.equal((await blobKeys(runtime)).length, 2, 'their PDFs were not kept')
})

t.test('with a "*" entry every other subsidiary goes there, and a bill keeps its organization when the configuration changes', async (t) => {
  const { url: databaseUrl } = await import('../helpers/db.ts').then((m) => m.createTestDatabase(t))
  const first = await startTestRuntime(t, { ...KEY, DATABASE_URL: databaseUrl, ZOHO_ORGANIZATIONS: JSON.stringify([entry('20001', ['Acme UK Ltd'], 'UK'), entry('10001', ['*'], 'Rest')]) })
  const key = await mintKey(first, ['ingest'])
  const [a, b] = bills(2, 'STAR') as [Bill, Bill]
  const res = await postBatch(first, { batchId: 'star-1', bills: [{ ...a, subsidiary: 'Acme Germany GmbH' }, b] }, { key })
  t.same(res.body.items.map((i: { status: string }) => i.status), ['queued', 'queued'])
  t.same((await first.pool.query('SELECT organization_id FROM transactions ORDER BY external_id')).rows.map((r) => r.organization_id), ['10001', '10001'])
  await first.stop()

  // The same database under a configuration that routes Acme Germany elsewhere: stored bills do not move.
  const second = await startTestRuntime(t, { ...KEY, DATABASE_URL: databaseUrl, ZOHO_ORGANIZATIONS: JSON.stringify([entry('40001', ['Acme Germany GmbH'], 'DE'), entry('10001', ['*'], 'Rest')]) })
  await second.pool.query(`UPDATE transactions SET status = 'delivered', zoho_bill_id = '9001', zoho_version = version WHERE external_id = $1`, [a.externalId])
  const again = await postBatch(second, { batchId: 'star-2', bills: [{ ...a, subsidiary: 'Acme Germany GmbH', memo: 'second version', lastModified: new Date(Date.now() + 60_000).toISOString() }] }, { key })
  t.equal(again.body.items[0].status, 'updated', 'a new version of the bill')
  t.equal((await second.pool.query('SELECT organization_id FROM transactions WHERE external_id = $1', [a.externalId])).rows[0].organization_id, '10001', 'it stays with the organization it was accepted for')
  const jobs = await second.pool.query(`SELECT name FROM pgboss.job WHERE name LIKE 'deliver-bill%' AND data->>'transactionId' = $1 ORDER BY created_on`, [again.body.items[0].transactionId])
  t.same(jobs.rows.map((j) => j.name), ['deliver-bill/10001', 'deliver-bill/10001'], 'and the job that updates it in Zoho waits in that queue')
})

t.test('bills stored before organizations existed belong to the default organization', async (t) => {
  const { url: databaseUrl } = await import('../helpers/db.ts').then((m) => m.createTestDatabase(t))
  const first = await startTestRuntime(t, { ROLE: 'api', DATABASE_URL: databaseUrl })
  const key = await mintKey(first, ['ingest'])
  await postBatch(first, { batchId: 'old-1', bills: bills(2, 'OLD') }, { key })
  await first.pool.query('UPDATE transactions SET organization_id = NULL')
  await first.stop()
  const second = await startTestRuntime(t, { ...KEY, DATABASE_URL: databaseUrl, ZOHO_ORGANIZATIONS: JSON.stringify([entry('20001', ['Acme UK Ltd'], 'UK'), entry('10001', ['*'], 'Rest')]) })
  t.same((await second.pool.query('SELECT DISTINCT organization_id FROM transactions')).rows, [{ organization_id: '10001' }], 'filled with the "*" entry at start')
})
