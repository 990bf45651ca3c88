import t from 'tap'
import { pacingSettings, planRetry, retryDelaySeconds, type FailureState } from '../../src/delivery/pacing.ts'
import { RETRY_DELAY_MAX } from '../../src/queue/boss.ts'
import { createTestDatabase } from '../helpers/db.ts'

// The defaults: DELIVERY_RETRY_HOURS 24, DELIVERY_RETRY_DELAY_SECONDS 30.
const ORG = '60000000001'
const OTHER = '60000000002'
const settings = pacingSettings({ hours: 24, delaySeconds: 30, maxSeconds: RETRY_DELAY_MAX })
const low = () => 0
const high = () => 1
const isolated = (billFailures: number): FailureState => ({ billFailures, billFailingSeconds: 10 * billFailures, orgStreak: 1, orgFailingSeconds: 0 })
const outage = (orgFailingSeconds: number, billFailures = 1): FailureState => ({ billFailures, billFailingSeconds: orgFailingSeconds, orgStreak: settings.outageAfter, orgFailingSeconds })

t.test('an isolated failure is retried within seconds, with jitter; the bill alone backs off if it keeps failing', async (t) => {
  t.same([retryDelaySeconds(isolated(1), settings, low), retryDelaySeconds(isolated(1), settings, high)], [1, 2], 'first retry between 1 and 2 s')
  t.equal(retryDelaySeconds(isolated(1), settings, () => 0.5), 1.5)
  t.same([1, 2, 3, 4].map((n) => retryDelaySeconds(isolated(n), settings, high)), [2, 4, 8, 16], "a bill's own failures double its delay")
  t.equal(retryDelaySeconds(isolated(40), settings, high), RETRY_DELAY_MAX, 'up to the cap: a bill that alone keeps failing is not retried every few seconds')
  t.equal(retryDelaySeconds({ ...isolated(1), orgStreak: settings.outageAfter - 1, orgFailingSeconds: 600 }, settings, high), 2,
    'failures across the organization below the streak threshold are still isolated ones')
})

t.test('while failures persist across the organization, delays grow with the outage up to the cap', async (t) => {
  const delays = [0, 20, 60, 120, 240, 600, 1800, 4000, 20_000].map((s) => retryDelaySeconds(outage(s), settings, high)!)
  t.same(delays, [30, 30, 60, 120, 240, 600, 1800, 3600, 3600], 'at least DELIVERY_RETRY_DELAY_SECONDS, then about as long as the outage has lasted, at most an hour')
  t.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]!), 'never shorter as the outage goes on')
  t.same([retryDelaySeconds(outage(120), settings, low), retryDelaySeconds(outage(120), settings, high)], [60, 120], 'jitter: between half and all of it')
  t.equal(retryDelaySeconds(outage(60, 6), settings, high), 64, "the bill's own backoff still counts when it is longer")
})

t.test('DELIVERY_RETRY_HOURS ends the retries; the last one is due at the end of the window', async (t) => {
  t.equal(retryDelaySeconds({ ...outage(600), billFailingSeconds: 24 * 3600 }, settings, high), null, 'window spent: no retry')
  t.equal(retryDelaySeconds({ ...outage(600), billFailingSeconds: 24 * 3600 - 100 }, settings, high), 100, 'capped at what is left of the window')
  const none = pacingSettings({ hours: 0, delaySeconds: 30, maxSeconds: RETRY_DELAY_MAX })
  t.equal(retryDelaySeconds(isolated(1), none, high), null, 'DELIVERY_RETRY_HOURS=0: no retries at all')
  const quick = pacingSettings({ hours: 24, delaySeconds: 1, maxSeconds: RETRY_DELAY_MAX })
  t.equal(retryDelaySeconds(isolated(1), quick, high), 1, 'a first delay under 2 s also bounds the quick retries')
})

t.test('planRetry reads the organization streak from the attempts log in PostgreSQL', async (t) => {
  const { pool } = await createTestDatabase(t)
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO transactions (external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, blob_key, file_name, sha256, size_bytes, organization_id)
     SELECT 'ext-' || i, 'B-' || i, 'Acme', '{}', '{}', 10, 'USD', 'queued', 'k' || i, 'b.pdf', repeat('0', 64), 10, CASE WHEN i = 4 THEN '${OTHER}' ELSE '${ORG}' END
       FROM generate_series(1, 4) i ORDER BY i RETURNING id`)
  const [a, b, c, elsewhere] = rows.map((r) => r.id) as [string, string, string, string]
  const log = (id: string, outcome: string, agoSeconds = 0) => pool.query(
    `INSERT INTO attempts (transaction_id, started_at, finished_at, outcome, duration_ms, organization_id)
     SELECT $1, now() - make_interval(secs => $3), now() - make_interval(secs => $3), $2, 5, organization_id FROM transactions WHERE id = $1`, [id, outcome, agoSeconds])

  await log(a, 'delivered', 700)
  await log(b, 'retry', 600)
  let plan = await planRetry(pool, settings, { transactionId: b }, ORG, high)
  t.equal(plan.retryAt && plan.delaySeconds, 2, 'one failure since the last delivery: a quick retry')
  t.equal(plan.data.failures, 1, 'the next job carries the bill’s failure count')
  t.ok(plan.data.failingSince, 'and when its failures began')
  const since = plan.data.failingSince!

  plan = await planRetry(pool, settings, plan.data, ORG, high)
  t.equal(plan.retryAt && plan.delaySeconds, 4, 'the same bill failing again: its own delay doubles')
  t.equal(plan.data.failures, 2)
  t.equal(plan.data.failingSince, since, 'the run of failures keeps its start')

  await log(c, 'rate_limited')
  await log(c, 'retry', 500)
  await log(b, 'retry', 400)
  await log(c, 'retry', 300)
  plan = await planRetry(pool, settings, { transactionId: c }, ORG, high)
  t.equal(plan.retryAt && plan.delaySeconds, 2, 'four failures in a row (a 429 is neither a failure nor a success): still isolated')
  await log(elsewhere, 'delivered', 250)
  await log(b, 'retry', 200)
  await log(elsewhere, 'retry', 100)
  plan = await planRetry(pool, settings, { transactionId: elsewhere }, OTHER, high)
  t.equal(plan.retryAt && plan.delaySeconds, 2, "another organization's failures are its own streak, not this organization's outage")
  plan = await planRetry(pool, settings, { transactionId: c }, ORG, high)
  t.ok(plan.retryAt, 'five failures in a row across the organization: an outage')
  t.ok(plan.retryAt && Math.abs(plan.delaySeconds - 600) < 5, `the delay is about as long as the organization has been failing (600 s; got ${plan.retryAt && plan.delaySeconds})`)

  await pool.query(`UPDATE attempts SET finished_at = now() - interval '3 hours' WHERE outcome = 'retry' AND id = (SELECT min(id) FROM attempts WHERE outcome = 'retry')`)
  plan = await planRetry(pool, settings, { transactionId: c }, ORG, high)
  t.equal(plan.retryAt && plan.delaySeconds, RETRY_DELAY_MAX, 'a long outage: at most an hour')

  await log(a, 'adopted')
  await log(c, 'retry')
  plan = await planRetry(pool, settings, { transactionId: c, failures: 1, failingSince: new Date().toISOString() }, ORG, high)
  t.equal(plan.retryAt && plan.delaySeconds, 4, 'any delivery ends the streak: quick again (second failure of this bill)')

  plan = await planRetry(pool, settings, { transactionId: c, failures: 30, failingSince: new Date(Date.now() - 25 * 3600_000).toISOString() }, ORG, high)
  t.equal(plan.retryAt, null, 'a bill failing for longer than DELIVERY_RETRY_HOURS is not retried again')
  t.equal(plan.data.failures, 31)

  // A few rows make a sequential scan cheapest; with it ruled out, the plan shows the index fits the query.
  const client = await pool.connect()
  try {
    await client.query('SET enable_seqscan = off')
    const explain = await client.query(`EXPLAIN SELECT COALESCE(max(id), 0) FROM attempts WHERE organization_id = $1 AND outcome IN ('delivered', 'adopted')`, [ORG])
    t.match(explain.rows.map((r) => r['QUERY PLAN']).join('\n'), /attempts_organization_delivered(_finished)?_idx/, "the organization's last delivery is found through a partial index of its deliveries")
  } finally {
    client.release(true)
  }
})
