import t from 'tap'
import { mapAccount } from '../../src/delivery/mapping.ts'
import { retryTransactions } from '../../src/delivery/retry.ts'
import { bills, sendBills as send } from '../helpers/api.ts'
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.ts'
import { startAlertReceiver } from '../helpers/alerts.ts'
import { startSandbox, waitFor } from '../helpers/zoho.ts'

async function statuses(runtime: TestRuntime, ids: string[]): Promise<string[]> {
  const { rows } = await runtime.pool.query('SELECT status FROM transactions WHERE id = ANY($1::uuid[])', [ids])
  return rows.map((r) => r.status)
}

async function allDelivered(runtime: TestRuntime, ids: string[]): Promise<boolean> {
  const s = await statuses(runtime, ids)
  return s.length === ids.length && s.every((x) => x === 'delivered')
}

async function attemptsOf(runtime: TestRuntime, id: string) {
  const { rows } = await runtime.pool.query('SELECT outcome, error_code, zoho_code, http_status FROM attempts WHERE transaction_id = $1 ORDER BY id', [id])
  return rows
}

t.test('happy path: delivered with the Zoho bill id and the same PDF; one request per bill once mappings are cached', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const first = bills(4, 'HAPPY')
  const ids = await send(runtime, first)
  await waitFor(() => allDelivered(runtime, ids), 'the first bills to be delivered')
  const { rows } = await runtime.pool.query('SELECT id, bill_number, zoho_bill_id, sha256, zoho_attachment, delivered_at FROM transactions WHERE id = ANY($1::uuid[])', [ids])
  const inZoho = new Map(sandbox.bills().map((b) => [b.bill_number, b]))
  for (const row of rows) {
    const bill = inZoho.get(row.bill_number)!
    t.equal(row.zoho_bill_id, bill.bill_id, `${row.bill_number}: the Zoho bill id is saved`)
    t.equal(bill.attachments[0]?.sha256, row.sha256, `${row.bill_number}: Zoho got the same PDF`)
    t.ok(row.zoho_attachment && row.delivered_at)
  }
  const before = sandbox.counters()
  const second = bills(4, 'HAPPY2')
  const ids2 = await send(runtime, second)
  await waitFor(() => allDelivered(runtime, ids2), 'the second bills to be delivered')
  const after = sandbox.counters()
  t.equal(after.acceptedBooksRequests - before.acceptedBooksRequests, 4, 'four bills, four requests: vendor and accounts came from the cache')
  t.equal((after.requestsByEndpoint['POST /bills'] ?? 0) - (before.requestsByEndpoint['POST /bills'] ?? 0), 4)
  t.same(Object.values(after.billsByNumber).filter((n) => n !== 1), [], 'every bill number once in Zoho')
  t.equal(after.tokensIssued, 1, 'one token for all of it')
  const log = await attemptsOf(runtime, ids2[0]!)
  t.same(log.map((a) => a.outcome), ['delivered'], 'one attempt row')
})

t.test('a 429 storm ends with every bill delivered, the rate held and no attempt spent on the 429s', async (t) => {
  const { sandbox, env } = await startSandbox(t, { ratePerMinute: 20, windowMs: 5000 })
  const runtime = await startTestRuntime(t, { ...env, ZOHO_RATE_PER_MINUTE: '20', ZOHO_RATE_WINDOW_SECONDS: '5' })
  sandbox.setFaults({ rateLimitStormUntil: Date.now() + 2500 })
  const ids = await send(runtime, bills(12, 'STORM'))
  await waitFor(() => allDelivered(runtime, ids), 'every bill delivered after the storm')
  const counters = sandbox.counters()
  t.ok(counters.responses429 >= 1, `the storm answered ${counters.responses429} requests with 429`)
  t.ok(counters.maxRequestsInAnyWindow <= 20, `at most 20 requests in any 5 s window (saw ${counters.maxRequestsInAnyWindow})`)
  t.same(Object.values(counters.billsByNumber).filter((n) => n !== 1), [], 'each bill once')
  const { rows } = await runtime.pool.query(`SELECT count(*)::int AS n FROM attempts WHERE outcome = 'rate_limited'`)
  t.ok(rows[0].n >= 1, 'the 429s are in the attempts log')
  const spent = await runtime.pool.query('SELECT max(attempts)::int AS n FROM transactions WHERE id = ANY($1::uuid[])', [ids])
  t.equal(spent.rows[0].n, 1, 'no bill spent an attempt on a 429')
})

t.test('an answer lost after Zoho created the bill ends with one bill in Zoho, adopted', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1 })
  const [id] = await send(runtime, bills(1, 'LOST'))
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0 })
  await waitFor(() => allDelivered(runtime, [id!]), 'the bill to be adopted')
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho')
  const log = await attemptsOf(runtime, id!)
  t.same(log.map((a) => a.outcome), ['retry', 'adopted'])
  t.equal(log[0].error_code, 'ZOHO_UNREACHABLE')
  const { rows } = await runtime.pool.query('SELECT zoho_bill_id FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].zoho_bill_id, sandbox.bills()[0]!.bill_id)
})

t.test('5xx answers and timeouts are retried until delivered', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, { ...env, ZOHO_TIMEOUT_MS: '800' })
  sandbox.setFaults({ errorRate5xx: 1 })
  const [a] = await send(runtime, bills(1, 'FIVE'))
  await waitFor(async () => (await attemptsOf(runtime, a!)).length >= 1, 'a failed attempt')
  sandbox.setFaults({ errorRate5xx: 0, timeoutRate: 1 })
  const [b] = await send(runtime, bills(1, 'SLOW'))
  await waitFor(async () => (await attemptsOf(runtime, b!)).some((x) => x.error_code === 'ZOHO_UNREACHABLE'), 'a timed-out attempt')
  sandbox.setFaults({ timeoutRate: 0 })
  await waitFor(() => allDelivered(runtime, [a!, b!]), 'both bills delivered')
  t.equal((await attemptsOf(runtime, a!))[0].error_code, 'ZOHO_SERVER_ERROR')
  t.equal((await attemptsOf(runtime, a!))[0].http_status, 500)
  t.same(Object.values(sandbox.counters().billsByNumber), [1, 1], 'each once')
})

t.test("a permanent 4xx fails at once with Zoho's code", async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  await mapAccount(runtime.pool, sandbox.organizationId, '6100 Office Supplies', '999999')
  const [bill] = bills(1, 'PERM')
  const [id] = await send(runtime, [{ ...bill, lines: [{ account: '6100 Office Supplies', amount: '12.00' }] }])
  await waitFor(async () => (await statuses(runtime, [id!]))[0] === 'failed', 'the bill to fail')
  const { rows } = await runtime.pool.query('SELECT attempts, last_error_code, last_error_message FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].attempts, 1, 'no retry')
  t.equal(rows[0].last_error_code, 'ZOHO_REJECTED')
  t.match(rows[0].last_error_message, /code 4\b.*account_id/)
  t.equal((await attemptsOf(runtime, id!))[0].zoho_code, 4, "Zoho's own code is kept")
})

t.test('retries that run out dead-letter the job, fail the bill and post one alert', async (t) => {
  const { url: alertUrl, alerts } = await startAlertReceiver(t)
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, { ...env, DELIVERY_RETRY_HOURS: '0.001', ALERT_WEBHOOK_URL: alertUrl })
  sandbox.setFaults({ errorRate5xx: 1 })
  const [id] = await send(runtime, bills(1, 'DEAD'))
  await waitFor(async () => (await statuses(runtime, [id!]))[0] === 'failed', 'the bill to fail after its retries')
  await waitFor(async () => alerts.length > 0, 'the alert')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(alerts.length, 1, 'one alert')
  t.equal(alerts[0].failures[0].transactionId, id)
  t.equal(alerts[0].failures[0].code, 'RETRIES_EXHAUSTED')
  const { rows } = await runtime.pool.query('SELECT last_error_code, attempts FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].last_error_code, 'ZOHO_SERVER_ERROR', 'the last error is kept for the operator')
  t.ok(rows[0].attempts >= 2, `retried (${rows[0].attempts} attempts)`)
  const dead = await runtime.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'deliver-bill-dead'`)
  t.equal(dead.rows[0].n, 1, 'one dead-letter job')
})

t.test('an unmapped account fails; a mapping is added; a retry delivers', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, env)
  const [bill] = bills(1, 'UNMAPPED')
  const [id] = await send(runtime, [{ ...bill, lines: [{ account: '7777 Consulting Fees', amount: '500.00' }] }])
  await waitFor(async () => (await statuses(runtime, [id!]))[0] === 'failed', 'the bill to fail')
  const { rows } = await runtime.pool.query('SELECT last_error_code, last_error_message FROM transactions WHERE id = $1', [id])
  t.equal(rows[0].last_error_code, 'ACCOUNT_UNMAPPED')
  t.match(rows[0].last_error_message, /npm run cli -- map account/)
  const misc = sandbox.bills().length === 0 ? (await fetchAccountId(sandbox, '6900')) : ''
  await mapAccount(runtime.pool, sandbox.organizationId, '7777 Consulting Fees', misc)
  const result = await retryTransactions(runtime.pool, runtime.boss, [id!])
  t.same(result.retried, [id])
  await waitFor(() => allDelivered(runtime, [id!]), 'the retried bill to be delivered')
  t.equal(sandbox.bills()[0]!.line_items[0]!.account_id, misc, 'delivered to the mapped account')
})

async function fetchAccountId(sandbox: { apiUrl: string; accountsUrl: string; clientId: string; clientSecret: string; refreshToken: string; organizationId: string }, code: string): Promise<string> {
  const grant = await fetch(`${sandbox.accountsUrl}/oauth/v2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: sandbox.clientId, client_secret: sandbox.clientSecret, refresh_token: sandbox.refreshToken }) })
  const { access_token } = (await grant.json()) as { access_token: string }
  const res = await fetch(`${sandbox.apiUrl}/chartofaccounts?organization_id=${sandbox.organizationId}`, { headers: { authorization: `Zoho-oauthtoken ${access_token}` } })
  const body = (await res.json()) as { chartofaccounts: Array<{ account_code: string; account_id: string }> }
  return body.chartofaccounts.find((a) => a.account_code === code)!.account_id
}

t.test('with ZOHO_UNIQUE_FIELD every attempt is one idempotent upsert, even after a lost answer', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, { ...env, ZOHO_UNIQUE_FIELD: 'cf_netsuite_id' })
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1 })
  const [bill] = bills(1, 'UPSERT')
  const [id] = await send(runtime, [bill])
  await waitFor(async () => sandbox.counters().billsCreated === 1, 'Zoho to create the bill')
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0 })
  await waitFor(() => allDelivered(runtime, [id!]), 'the bill delivered')
  const counters = sandbox.counters()
  t.equal(counters.billsCreated, 1, 'one bill in Zoho')
  t.equal(counters.requestsByEndpoint['PUT /bills'], 2, 'two upserts, no lookup')
  t.equal(counters.requestsByEndpoint['GET /bills'] ?? 0, 0)
  t.equal(counters.attachmentsAdded, 1, 'the upsert carries JSON only: the PDF follows once, when the answer shows none')
  t.equal(sandbox.bills()[0]!.attachments.length, 1)
  t.same(sandbox.bills()[0]!.custom_fields, [{ api_name: 'cf_netsuite_id', value: bill!.externalId }])
})

/** Each deliver-bill job of these bills with the delay it was scheduled at (seconds from its creation). */
async function retryJobs(runtime: TestRuntime, ids: string[]) {
  const { rows } = await runtime.pool.query<{ transaction_id: string; state: string; failures: number | null; failing_since: string | null; delay: number }>(
    `SELECT data->>'transactionId' AS transaction_id, state, (data->>'failures')::int AS failures, data->>'failingSince' AS failing_since,
            EXTRACT(EPOCH FROM start_after - created_on)::float8 AS delay
       FROM pgboss.job WHERE name LIKE 'deliver-bill/%' AND data->>'transactionId' = ANY($1::text[]) ORDER BY created_on`, [ids])
  return rows
}

t.test('an isolated lost answer is retried within seconds, not after DELIVERY_RETRY_DELAY_SECONDS', async (t) => {
  const { sandbox, env } = await startSandbox(t)
  const runtime = await startTestRuntime(t, { ...env, DELIVERY_RETRY_DELAY_SECONDS: '30' })
  sandbox.setFaults({ loseAnswerAfterCreateRate: 1 })
  const [id] = await send(runtime, bills(1, 'QUICK'))
  const [retry] = (await waitFor(async () => {
    const jobs = (await retryJobs(runtime, [id!])).filter((j) => j.failures !== null)
    return jobs.length > 0 ? jobs : null
  }, 'the retry to be scheduled'))!
  sandbox.setFaults({ loseAnswerAfterCreateRate: 0 })
  t.equal(retry!.failures, 1, 'the retry job counts the failure')
  // The delay counts from the start of the transaction that scheduled it: a few milliseconds of slack.
  t.ok(retry!.delay >= 1 && retry!.delay <= 2.5, `scheduled ${retry!.delay.toFixed(2)} s after the failure (1 to 2 s; the outage delay would be 15 to 30 s)`)
  await waitFor(() => allDelivered(runtime, [id!]), 'the bill to be adopted')
  t.same((await attemptsOf(runtime, id!)).map((a) => a.outcome), ['retry', 'adopted'])
  t.equal(sandbox.counters().billsCreated, 1, 'one bill in Zoho')
})

t.test('while every request fails, retries across the organization move from seconds to the outage delay', async (t) => {
  const { sandbox, env } = await startSandbox(t, { ratePerMinute: 600 })
  const runtime = await startTestRuntime(t, { ...env, DELIVERY_RETRY_DELAY_SECONDS: '30', ZOHO_RATE_PER_MINUTE: '600' })
  sandbox.setFaults({ errorRate5xx: 1 })
  const ids = await send(runtime, bills(8, 'OUTAGE'))
  // Wait for database state, not time: until each bill's latest job is paced as an outage.
  const jobs = (await waitFor(async () => {
    const all = await retryJobs(runtime, ids)
    const latest = new Map(all.map((j) => [j.transaction_id, j]))
    return latest.size === ids.length && [...latest.values()].every((j) => j.delay >= 15) ? all : null
  }, 'every bill to be paced as an outage'))!
  const retries = jobs.filter((j) => j.failures !== null)
  const quick = retries.filter((j) => j.delay < 15)
  const slack = 0.5
  t.ok(quick.length >= 1, `the first failures were retried within seconds (${quick.length})`)
  t.ok(quick.every((j) => j.delay <= 2 * 2 ** (j.failures! - 1) + slack), "each within its bill's own backoff: 2 s, doubling per failure of that bill")
  // Five failures in a row make an outage; attempts still in flight (three workers) cannot see each other's.
  t.ok(quick.length <= 4 + 2, `at most the first few (${quick.length}) before the streak counted as an outage`)
  const first = retries.findIndex((j) => j.delay >= 15)
  t.ok(retries[first]!.delay <= 30 + slack, `the first outage delay is DELIVERY_RETRY_DELAY_SECONDS with jitter (${retries[first]!.delay.toFixed(1)} s)`)
  t.ok(retries.slice(first + 1).filter((j) => j.delay < 15).length <= 2, 'after it, quick retries only from attempts that were already in flight')
  const waiting = await runtime.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'deliver-bill/%' AND state IN ('created', 'retry', 'active')`)
  t.equal(waiting.rows[0].n, ids.length, 'one live job per bill')
  t.same(await statuses(runtime, ids), ids.map(() => 'queued'), 'every bill queued')
  t.equal(sandbox.counters().billsCreated, 0)
})

t.test('under 5xx answers and lost answers every bill is in Zoho exactly once, and each retry job counts its bill’s failures', async (t) => {
  const { sandbox, env } = await startSandbox(t, { ratePerMinute: 1200 })
  const runtime = await startTestRuntime(t, { ...env, ZOHO_RATE_PER_MINUTE: '1200' })
  // Vendors, currencies and the chart first, without faults: the faults then fall on the bills' own requests.
  const warm = await send(runtime, bills(8, 'WARM'))
  await waitFor(() => allDelivered(runtime, warm), 'the warm-up bills delivered')
  const before = sandbox.counters()
  sandbox.setFaults({ errorRate5xx: 0.2, loseAnswerAfterCreateRate: 0.2 })
  const items = bills(30, 'FLAKY')
  const ids = await send(runtime, items)
  await waitFor(() => allDelivered(runtime, ids), 'every bill delivered', 180_000)
  const c = sandbox.counters()
  c.billsCreated -= before.billsCreated
  for (const number of Object.keys(before.billsByNumber)) delete c.billsByNumber[number]
  t.ok(c.faults.errors > 0 && c.faults.lostAnswers > 0, `faults injected: ${c.faults.errors} 5xx, ${c.faults.lostAnswers} lost answers`)
  t.equal(c.billsCreated, items.length, 'one bill created in Zoho per bill')
  t.same(Object.values(c.billsByNumber).filter((n) => n !== 1), [], 'every bill number once in Zoho')
  t.equal(Object.keys(c.billsByNumber).length, items.length, 'none missing')
  const { rows } = await runtime.pool.query<{ transaction_id: string; retries: number; adopted: number }>(
    `SELECT transaction_id, count(*) FILTER (WHERE outcome = 'retry')::int AS retries, count(*) FILTER (WHERE outcome = 'adopted')::int AS adopted
       FROM attempts WHERE transaction_id = ANY($1::uuid[]) GROUP BY transaction_id`, [ids])
  t.ok(rows.reduce((n, r) => n + r.adopted, 0) >= 1, 'lost answers were found by the lookup and adopted')
  const jobs = await retryJobs(runtime, ids)
  for (const row of rows) {
    const mine = jobs.filter((j) => j.transaction_id === row.transaction_id && j.failures !== null)
    t.equal(Math.max(0, ...mine.map((j) => j.failures!)), row.retries, `${row.transaction_id}: its retry jobs count its ${row.retries} failed attempts`)
    t.equal(new Set(mine.map((j) => j.failing_since)).size, Math.min(1, mine.length), 'one run of failures, one start')
  }
  const live = await runtime.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'deliver-bill/%' AND state IN ('created', 'retry', 'active')`)
  t.equal(live.rows[0].n, 0, 'no job left once every bill is delivered')
})
