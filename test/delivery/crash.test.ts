import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { spawnService } from '../helpers/process.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'
import { requeueOrphans } from '../../src/delivery/retry.ts'

t.test('a worker killed with SIGKILL mid-delivery: the job expires, another worker adopts the bill, one bill in Zoho', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const api = await startTestRuntime(t, { ROLE: 'api' })
  const blobDir = api.config.blob.kind === 'fs' ? api.config.blob.root : ''
  const workerEnv = { ...env, ROLE: 'worker', DATABASE_URL: api.databaseUrl, BLOB_DIR: blobDir, DATA_DIR: blobDir, DELIVERY_JOB_EXPIRE_SECONDS: '4', ZOHO_TIMEOUT_MS: '10000' }
  const first = await spawnService(t, 'src/server.ts', workerEnv)
  // Zoho makes the bill at once but holds its answer: the worker dies before it learns the bill id.
  sandbox.setFaults({ answerDelayMs: 3000 })
  const key = await mintKey(api, ['ingest'])
  const res = await postBatch(api, { bills: bills(1, 'KILLED') }, { key })
  const id = res.body.items[0].transactionId
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  first.child.kill('SIGKILL')
  await first.exited
  sandbox.setFaults({ answerDelayMs: 0 })
  const { rows: before } = await api.pool.query('SELECT status, zoho_bill_id FROM transactions WHERE id = $1', [id])
  t.equal(before[0].status, 'processing', 'the row was left processing by the dead worker')
  t.equal(before[0].zoho_bill_id, null, 'and never learned the Zoho bill id')

  await spawnService(t, 'src/server.ts', workerEnv)
  await waitFor(async () => {
    const { rows } = await api.pool.query('SELECT status FROM transactions WHERE id = $1', [id])
    return rows[0].status === 'delivered'
  }, 'the second worker to finish the bill after the job expired')
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho')
  const { rows } = await api.pool.query('SELECT zoho_bill_id FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].zoho_bill_id, sandbox.bills()[0]!.bill_id, 'adopted')
  const { rows: log } = await api.pool.query('SELECT outcome FROM attempts WHERE transaction_id = $1', [id])
  t.same(log.map((r) => r.outcome), ['adopted'], 'the killed attempt left no row; the adopting one did')
})

t.test('a bill left queued with no live job (its job ended elsewhere) is requeued once stale, then delivered once', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const api = await startTestRuntime(t, { ROLE: 'api' })
  const key = await mintKey(api, ['ingest'])
  const res = await postBatch(api, { bills: bills(2, 'ORPHAN') }, { key })
  const [orphan, fresh] = res.body.items.map((i: { transactionId: string }) => i.transactionId)
  // Both jobs end without delivering; only the first bill has been untouched for longer than the threshold.
  await api.pool.query(`UPDATE pgboss.job SET state = 'completed', completed_on = now() WHERE name LIKE 'deliver-bill/%' AND data->>'transactionId' = ANY($1)`, [[orphan, fresh]])
  await api.pool.query(`UPDATE transactions SET updated_at = now() - interval '10 minutes' WHERE id = $1`, [orphan])

  t.same(await requeueOrphans(api.pool, api.boss, 120, api.organizations.map((o) => o.organizationId)), [orphan], 'only the stale bill without a live job is requeued')
  t.same(await requeueOrphans(api.pool, api.boss, 120, api.organizations.map((o) => o.organizationId)), [], 'a second pass finds its new job and leaves it alone')
  const { rows: jobs } = await api.pool.query(`SELECT state FROM pgboss.job WHERE name LIKE 'deliver-bill/%' AND data->>'transactionId' = $1 ORDER BY created_on`, [orphan])
  t.same(jobs.map((j) => j.state), ['completed', 'created'], 'a new job beside the ended one')

  const blobDir = api.config.blob.kind === 'fs' ? api.config.blob.root : ''
  await spawnService(t, 'src/server.ts', { ...env, ROLE: 'worker', DATABASE_URL: api.databaseUrl, BLOB_DIR: blobDir, DATA_DIR: blobDir })
  await waitFor(async () => (await api.pool.query('SELECT status FROM transactions WHERE id = $1', [orphan])).rows[0].status === 'delivered', 'the requeued bill to be delivered')
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho: the requeued one')
  const { rows } = await api.pool.query('SELECT status FROM transactions WHERE id = $1', [fresh])
  t.equal(rows[0].status, 'queued', 'the bill touched recently waits for the threshold')
})
