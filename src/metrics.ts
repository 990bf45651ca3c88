import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { loadBacklog, type BacklogLimits, type OrganizationBacklog } from './repositories/backlog.ts'
import { nextUtcMidnight } from './repositories/overview.ts'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { DEAD_LETTER_QUEUE, deliveryQueue } from './queue/boss.ts'
import { openCounts } from './reconcile/store.ts'
import { defaultOrganization, type OrganizationConfig } from './zoho/organizations.ts'

/** Prometheus metrics of one process; gauges read shared state (rollups, queues, bucket) at scrape time. */
export function createMetrics(options: { pool: pg.Pool; boss: PgBoss; organizations: readonly OrganizationConfig[] }) {
  const main = defaultOrganization(options.organizations)
  const deps: { pool: pg.Pool; boss: PgBoss; organizationId: string; limits: BacklogLimits } = { pool: options.pool, boss: options.boss, organizationId: main.organizationId, limits: main.limits }
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'billbridge_process_' })

  const httpRequests = new Counter({ name: 'billbridge_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] })
  const httpDuration = new Histogram({ name: 'billbridge_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route', 'method'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] })
  const zohoRequests = new Counter({ name: 'billbridge_zoho_requests_total', help: 'Zoho Books requests by endpoint and outcome', labelNames: ['organization', 'endpoint', 'outcome'], registers: [registry] })
  const zoho429 = new Counter({ name: 'billbridge_zoho_rate_limited_total', help: '429 answers from Zoho', labelNames: ['organization'], registers: [registry] })
  const tokenRefreshes = new Counter({ name: 'billbridge_zoho_token_refreshes_total', help: 'Zoho access token refreshes made by this process', registers: [registry] })
  const storageErrors = new Counter({ name: 'billbridge_storage_errors_total', help: 'Blob store and database errors seen by requests', labelNames: ['store'], registers: [registry] })

  new Gauge({
    name: 'billbridge_bills', help: 'Bills by status (from the rollup kept with every change)', labelNames: ['status'], registers: [registry],
    async collect() {
      const { rows } = await deps.pool.query<{ status: string; n: string }>('SELECT status, n FROM status_counts')
      for (const row of rows) this.set({ status: row.status }, Number(row.n))
    },
  })
  // The autoscaling signal: bills waiting for a worker, by queue.
  new Gauge({
    name: 'billbridge_queue_depth', help: 'Jobs queued (created or waiting to retry) per queue', labelNames: ['queue'], registers: [registry],
    async collect() {
      for (const queue of [...options.organizations.map((o) => deliveryQueue(o.organizationId)), DEAD_LETTER_QUEUE]) {
        const info = await deps.boss.getQueue(queue)
        this.set({ queue }, info?.queuedCount ?? 0)
      }
    },
  })
  new Gauge({
    name: 'billbridge_queue_oldest_seconds', help: 'Age of the oldest bill waiting for delivery', registers: [registry],
    async collect() {
      const { rows } = await deps.pool.query<{ s: string | null }>(`SELECT extract(epoch FROM now() - min(created_at)) AS s FROM transactions WHERE status IN ('queued', 'processing')`)
      this.set(Number(rows[0]?.s ?? 0))
    },
  })
  new Gauge({
    name: 'billbridge_dead_letter_depth', help: 'Jobs in the dead-letter queue not yet handled', registers: [registry],
    async collect() {
      this.set((await deps.boss.getQueue(DEAD_LETTER_QUEUE))?.queuedCount ?? 0)
    },
  })
  new Gauge({
    name: 'billbridge_zoho_rate_permits', help: "Permits left in the organization's bucket", registers: [registry],
    async collect() {
      const { rows } = await deps.pool.query<{ tokens: number; refill_per_sec: number; capacity: number; updated_at: Date }>('SELECT tokens, refill_per_sec, capacity, updated_at FROM rate_limits WHERE key = $1', [`zoho:${deps.organizationId}`])
      const r = rows[0]
      this.set(r ? Math.min(r.capacity, r.tokens + ((Date.now() - r.updated_at.getTime()) / 1000) * r.refill_per_sec) : 0)
    },
  })

  new Gauge({
    name: 'billbridge_reconciliation_differences', help: 'Open differences between billbridge and Zoho found by reconciliation, by kind', labelNames: ['kind'], registers: [registry],
    async collect() {
      for (const [kind, n] of Object.entries(await openCounts(deps.pool))) this.set({ kind }, n)
    },
  })

  const dailyRow = async () => (await deps.pool.query<{ n: number; limit: number }>(
    `SELECT CASE WHEN day = (now() AT TIME ZONE 'UTC')::date THEN day_count ELSE 0 END AS n, daily_limit AS limit FROM rate_limits WHERE key = $1`, [`zoho:${deps.organizationId}`])).rows[0]
  new Gauge({
    name: 'billbridge_zoho_daily_requests', help: "Zoho requests spent today (UTC) of the organization's daily quota", registers: [registry],
    async collect() {
      this.set((await dailyRow())?.n ?? 0)
    },
  })
  new Gauge({
    name: 'billbridge_zoho_daily_limit', help: "The organization's daily Zoho request quota (ZOHO_PLAN / ZOHO_DAILY_LIMIT)", registers: [registry],
    async collect() {
      this.set((await dailyRow())?.limit ?? 0)
    },
  })
  new Gauge({
    name: 'billbridge_zoho_daily_reset_timestamp_seconds', help: 'When the daily Zoho request counter starts again (Unix time)', registers: [registry],
    collect() {
      this.set(nextUtcMidnight().getTime() / 1000)
    },
  })

  // The backlog's figures, read once per scrape (one query): the first of these gauges reads them, the
  // others (collected after it, in registration order) reuse that read.
  let backlogRead: Promise<OrganizationBacklog[]> | null = null
  const backlogGauge = (name: string, help: string, value: (b: OrganizationBacklog) => number, fresh = false) => new Gauge({
    name, help, labelNames: ['organization'], registers: [registry],
    async collect() {
      if (fresh || !backlogRead) backlogRead = loadBacklog(deps.pool, deps.organizationId, deps.limits)
      for (const b of await backlogRead) this.set({ organization: b.organizationId }, value(b))
    },
  })
  backlogGauge('billbridge_backlog_bills', 'Bills waiting for delivery to Zoho (queued, retries scheduled, processing)', (b) => b.billsWaiting, true)
  backlogGauge('billbridge_backlog_eta_seconds', 'Seconds until the backlog is in Zoho at the pace and quota now (0: nothing waits; -1: beyond a year)', (b) => b.eta.seconds ?? -1)
  backlogGauge('billbridge_zoho_requests_left_today', "Zoho requests the organization's daily quota still allows today (UTC day)", (b) => b.requestsLeftToday)
  backlogGauge('billbridge_delivery_pace_per_minute', 'Bills delivered per minute over the last 10 minutes', (b) => b.pacePerMinute)
  backlogGauge('billbridge_zoho_requests_per_bill', 'Zoho requests spent per bill delivered over the last hour (1 assumed before any)', (b) => b.requestsPerBill)

  return {
    registry,
    httpRequests,
    httpDuration,
    zohoRequest(endpoint: string, outcome: string, organization: string) {
      zohoRequests.inc({ organization, endpoint, outcome })
      if (outcome === 'rate_limited') zoho429.inc({ organization })
    },
    tokenRefreshed: () => tokenRefreshes.inc(),
    storageError: (store: 'database' | 'blob') => storageErrors.inc({ store }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
