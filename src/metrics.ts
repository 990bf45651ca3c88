import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { loadBacklog, type OrganizationBacklog } from './repositories/backlog.ts'
import { nextUtcMidnight } from './repositories/overview.ts'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { DEAD_LETTER_QUEUE, deliveryQueue } from './queue/boss.ts'
import { openCounts } from './reconcile/store.ts'
import type { OrganizationConfig } from './zoho/organizations.ts'

interface BucketRow { organization_id: string; tokens: number; refill_per_sec: number; capacity: number; updated_at: Date; day_count: number; daily_limit: number }

/**
 * Prometheus metrics of one process; gauges read shared state (rollups, queues, buckets) at scrape time, and
 * every figure of one organization carries its `organization` label.
 */
export function createMetrics(options: { pool: pg.Pool; boss: PgBoss; organizations: readonly OrganizationConfig[] }) {
  const deps = { pool: options.pool, boss: options.boss }
  const organizationIds = options.organizations.map((o) => o.organizationId)
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'billbridge_process_' })

  const httpRequests = new Counter({ name: 'billbridge_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] })
  const httpDuration = new Histogram({ name: 'billbridge_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route', 'method'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] })
  const zohoRequests = new Counter({ name: 'billbridge_zoho_requests_total', help: 'Zoho Books requests by endpoint and outcome', labelNames: ['organization', 'endpoint', 'outcome'], registers: [registry] })
  const zoho429 = new Counter({ name: 'billbridge_zoho_rate_limited_total', help: '429 answers from Zoho', labelNames: ['organization'], registers: [registry] })
  const tokenRefreshes = new Counter({ name: 'billbridge_zoho_token_refreshes_total', help: 'Zoho access token refreshes made by this process', registers: [registry] })
  const storageErrors = new Counter({ name: 'billbridge_storage_errors_total', help: 'Blob store and database errors seen by requests', labelNames: ['store'], registers: [registry] })

  new Gauge({
    name: 'billbridge_bills', help: 'Bills by Zoho organization and status (from the rollup kept with every change)', labelNames: ['organization', 'status'], registers: [registry],
    async collect() {
      // Every configured organization's every status, zeros included; bills of an organization no longer configured too.
      const { rows } = await deps.pool.query<{ organization: string; status: string; n: string }>(
        `SELECT o.organization, s.status, coalesce(c.n, 0) AS n
           FROM unnest($1::text[]) o(organization) CROSS JOIN status_counts s
           LEFT JOIN organization_status_counts c ON c.organization_id = o.organization AND c.status = s.status
         UNION ALL
         SELECT organization_id, status, n FROM organization_status_counts WHERE organization_id <> ALL($1::text[]) AND n <> 0`, [organizationIds])
      for (const row of rows) this.set({ organization: row.organization, status: row.status }, Number(row.n))
    },
  })
  // The autoscaling signal: bills waiting for a worker, by queue (one per organization, and the dead letters).
  new Gauge({
    name: 'billbridge_queue_depth', help: 'Jobs queued (created or waiting to retry) per queue', labelNames: ['queue', 'organization'], registers: [registry],
    async collect() {
      for (const organization of organizationIds) {
        const queue = deliveryQueue(organization)
        this.set({ queue, organization }, (await deps.boss.getQueue(queue))?.queuedCount ?? 0)
      }
      this.set({ queue: DEAD_LETTER_QUEUE }, (await deps.boss.getQueue(DEAD_LETTER_QUEUE))?.queuedCount ?? 0)
    },
  })
  new Gauge({
    name: 'billbridge_queue_oldest_seconds', help: "Age of the organization's oldest bill waiting for delivery (0 when none waits)", labelNames: ['organization'], registers: [registry],
    async collect() {
      // One index probe per organization (transactions_pending_organization_idx).
      const { rows } = await deps.pool.query<{ organization: string; s: string | null }>(
        `SELECT o.organization, extract(epoch FROM now() - (SELECT min(created_at) FROM transactions t
                  WHERE t.organization_id = o.organization AND t.status IN ('queued', 'processing'))) AS s
           FROM unnest($1::text[]) o(organization)`, [organizationIds])
      for (const row of rows) this.set({ organization: row.organization }, Number(row.s ?? 0))
    },
  })
  new Gauge({
    name: 'billbridge_dead_letter_depth', help: 'Jobs in the dead-letter queue not yet handled', registers: [registry],
    async collect() {
      this.set((await deps.boss.getQueue(DEAD_LETTER_QUEUE))?.queuedCount ?? 0)
    },
  })
  // Each organization's bucket row, read once per scrape by the first gauge that needs it (as the backlog's below).
  let bucketsRead: Promise<Map<string, BucketRow>> | null = null
  const buckets = (fresh: boolean) => {
    if (fresh || !bucketsRead) {
      bucketsRead = deps.pool.query<BucketRow>(
        `SELECT substr(key, 6) AS organization_id, tokens, refill_per_sec, capacity, updated_at,
                CASE WHEN day = (now() AT TIME ZONE 'UTC')::date THEN day_count ELSE 0 END AS day_count, daily_limit
           FROM rate_limits WHERE key = ANY($1::text[])`, [organizationIds.map((id) => `zoho:${id}`)])
        .then(({ rows }) => new Map(rows.map((r) => [r.organization_id, r])))
    }
    return bucketsRead
  }
  const bucketGauge = (name: string, help: string, value: (row: BucketRow | undefined, organization: OrganizationConfig) => number, fresh = false) => new Gauge({
    name, help, labelNames: ['organization'], registers: [registry],
    async collect() {
      const rows = await buckets(fresh)
      for (const organization of options.organizations) this.set({ organization: organization.organizationId }, value(rows.get(organization.organizationId), organization))
    },
  })
  bucketGauge('billbridge_zoho_rate_permits', "Permits left in the organization's rate bucket",
    (r) => (r ? Math.min(r.capacity, r.tokens + ((Date.now() - r.updated_at.getTime()) / 1000) * r.refill_per_sec) : 0), true)
  bucketGauge('billbridge_zoho_daily_requests', "Zoho requests spent today (UTC) of the organization's daily quota", (r) => r?.day_count ?? 0)
  // Before its first request an organization has no bucket row: its configured quota.
  bucketGauge('billbridge_zoho_daily_limit', "The organization's daily Zoho request quota (its plan / dailyLimit, else ZOHO_PLAN / ZOHO_DAILY_LIMIT)", (r, o) => r?.daily_limit ?? o.limits.dailyLimit)

  new Gauge({
    name: 'billbridge_reconciliation_differences', help: 'Open differences between billbridge and Zoho found by reconciliation, by organization and kind', labelNames: ['organization', 'kind'], registers: [registry],
    async collect() {
      for (const organization of organizationIds) {
        for (const [kind, n] of Object.entries(await openCounts(deps.pool, organization))) this.set({ organization, kind }, n)
      }
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
      if (fresh || !backlogRead) backlogRead = loadBacklog(deps.pool, options.organizations)
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
