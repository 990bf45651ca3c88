import t from 'tap'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { spawnService } from '../helpers/process.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

t.test('three worker processes on one database share one token and one rate bucket', async (t) => {
  const { sandbox, env } = await startSandbox(t, { ratePerMinute: 30, windowMs: 5000, tokenLifetimeSeconds: 4, grantsPerWindow: 600 })
  const limits = { ZOHO_RATE_PER_MINUTE: '30', ZOHO_RATE_WINDOW_SECONDS: '5' }
  const api = await startTestRuntime(t, { ROLE: 'api' })
  const blobDir = api.config.blob.kind === 'fs' ? api.config.blob.root : ''
  const workers = await Promise.all([1, 2, 3].map(() => spawnService(t, 'src/server.ts', { ...env, ...limits, ROLE: 'worker', DATABASE_URL: api.databaseUrl, BLOB_DIR: blobDir, DATA_DIR: blobDir })))

  const key = await mintKey(api, ['ingest'])
  const started = Date.now()
  const res = await postBatch(api, { bills: bills(30, 'SCALE') }, { key })
  t.equal(res.status, 202)
  const ids = res.body.items.map((i: { transactionId: string }) => i.transactionId)
  await waitFor(async () => {
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE id = ANY($1::uuid[]) AND status = 'delivered'`, [ids])
    return rows[0].n === ids.length
  }, 'all 30 bills delivered by the three workers')
  const elapsedSeconds = (Date.now() - started) / 1000

  const counters = sandbox.counters()
  t.same(Object.values(counters.billsByNumber).filter((n) => n !== 1), [], 'each bill once in Zoho')
  t.ok(counters.maxRequestsInAnyWindow <= 30, `the bucket is global: at most 30 requests in any 5 s window (saw ${counters.maxRequestsInAnyWindow})`)
  t.equal(counters.responses429, 0, 'no 429 from Zoho')
  // A token lives 4 s and is refreshed 1 s ahead: one refresh per 3 s for the whole fleet.
  const allowed = Math.ceil(elapsedSeconds / 3) + 1
  t.ok(counters.tokensIssued <= allowed, `tokens issued ${counters.tokensIssued} over ${elapsedSeconds.toFixed(1)} s, at most ${allowed} (one per lifetime)`)
  t.equal(counters.refreshDenied, 0, 'never throttled by the accounts server')
  const perWorker = workers.map((w) => w.logs.filter((l) => l.msg === 'bill delivered').length)
  t.ok(perWorker.every((n) => n > 0), `every worker delivered some bills (${perWorker.join(', ')})`)
  for (const w of workers) w.child.kill('SIGTERM')
  const exits = await Promise.all(workers.map((w) => w.exited))
  t.same(exits.map((e) => e.code), [0, 0, 0], 'workers stop cleanly')
})
