import type pg from 'pg'
import { backlogEta, nextUtcMidnight, type Eta } from '../delivery/backlog-eta.ts'
import { refillPerSecond } from '../zoho/rate-limiter.ts'

/** The pace is measured over the last 10 minutes; what a bill costs, over the last hour (steadier). */
export const PACE_WINDOW_SECONDS = 600
export const COST_WINDOW_SECONDS = 3600
/** Assumed until a bill has been delivered within the cost window: a bill is one request at least. */
export const ASSUMED_REQUESTS_PER_BILL = 1

export interface BacklogLimits {
  ratePerMinute: number
  rateWindowSeconds: number
  dailyLimit: number
}

/** An organization as the backlog reads it: its id, how it is named, its limits (src/zoho/organizations.ts). */
export interface BacklogOrganization {
  organizationId: string
  label: string
  name?: string
  limits: BacklogLimits
}

export interface OrganizationBacklog {
  organizationId: string
  /** the entry's name, else its label */
  organizationName: string
  /** bills not yet in Zoho nor failed: queued (retries scheduled included), processing, received */
  billsWaiting: number
  queued: number
  processing: number
  requestsUsedToday: number
  requestsLeftToday: number
  dailyLimit: number
  dailyResetAt: Date
  pausedUntil: Date | null
  pacePerMinute: number
  requestsPerBill: number
  requestsPerBillMeasured: boolean
  budgetPerMinute: number
  eta: Eta
  measuredAt: Date
}

interface Row {
  now: Date
  received: string
  queued: string
  processing: string
  day_count: number | null
  daily_limit: number | null
  refill_per_sec: number | null
  paused_until: Date | null
  paced: string
  first_started: Date | null
  cost_bills: string
  cost_requests: string
}

// One round trip per organization ($4); each figure from a rollup row (migration 0036), the bucket's row, or
// an index range over the window of that organization's attempts.
export const BACKLOG_SQL = `
  SELECT now() AS now,
         (SELECT n FROM organization_status_counts WHERE organization_id = $4 AND status = 'received') AS received,
         (SELECT n FROM organization_status_counts WHERE organization_id = $4 AND status = 'queued') AS queued,
         (SELECT n FROM organization_status_counts WHERE organization_id = $4 AND status = 'processing') AS processing,
         r.day_count, r.daily_limit, r.refill_per_sec, r.paused_until,
         (SELECT count(*) FROM attempts WHERE organization_id = $4 AND outcome IN ('delivered', 'adopted') AND finished_at > now() - make_interval(secs => $2)) AS paced,
         (SELECT min(started_at) FROM attempts WHERE organization_id = $4 AND outcome IN ('delivered', 'adopted') AND finished_at > now() - make_interval(secs => $2)) AS first_started,
         (SELECT count(*) FROM attempts WHERE organization_id = $4 AND outcome IN ('delivered', 'adopted') AND finished_at >= date_trunc('minute', now()) - make_interval(secs => $3)) AS cost_bills,
         (SELECT coalesce(sum(n), 0) FROM zoho_requests_minute WHERE key = $1 AND minute >= date_trunc('minute', now()) - make_interval(secs => $3)) AS cost_requests
    FROM (SELECT 1) one
    LEFT JOIN (SELECT CASE WHEN day = (now() AT TIME ZONE 'UTC')::date THEN day_count ELSE 0 END AS day_count, daily_limit, refill_per_sec,
                      CASE WHEN blocked_until > now() THEN blocked_until END AS paused_until
                 FROM rate_limits WHERE key = $1) r ON true`

/** The parameters of BACKLOG_SQL for one organization. */
export function backlogParams(organizationId: string): unknown[] {
  return [`zoho:${organizationId}`, PACE_WINDOW_SECONDS, COST_WINDOW_SECONDS, organizationId]
}

/**
 * Bills waiting, requests left today, the pace now, what a bill costs and when the backlog will be in
 * Zoho: one entry per organization, each from its own bills, bucket, daily quota and deliveries.
 */
export async function loadBacklog(pool: pg.Pool, organizations: readonly BacklogOrganization[]): Promise<OrganizationBacklog[]> {
  return Promise.all(organizations.map((organization) => loadOne(pool, organization)))
}

async function loadOne(pool: pg.Pool, organization: BacklogOrganization): Promise<OrganizationBacklog> {
  const { organizationId, limits } = organization
  const { rows } = await pool.query<Row>(BACKLOG_SQL, backlogParams(organizationId))
  const r = rows[0]!
  const now = r.now
  const queued = Number(r.queued ?? 0)
  const processing = Number(r.processing ?? 0)
  const billsWaiting = Number(r.received ?? 0) + queued + processing
  const dailyLimit = r.daily_limit ?? limits.dailyLimit
  const requestsUsedToday = r.day_count ?? 0
  const requestsLeftToday = Math.max(0, dailyLimit - requestsUsedToday)
  const budgetPerMinute = (r.refill_per_sec ?? refillPerSecond(limits.ratePerMinute, limits.rateWindowSeconds)) * 60
  // Bills over the time they took: from the first one's start (a backlog that began 2 minutes ago is not
  // spread over 10), at most the window.
  const paced = Number(r.paced)
  const since = Math.max(now.getTime() - PACE_WINDOW_SECONDS * 1000, r.first_started?.getTime() ?? now.getTime())
  const pacePerMinute = paced > 0 ? paced / (Math.max(1_000, now.getTime() - since) / 60_000) : 0
  const costBills = Number(r.cost_bills)
  const costRequests = Number(r.cost_requests)
  const requestsPerBillMeasured = costBills > 0 && costRequests > 0
  const requestsPerBill = requestsPerBillMeasured ? costRequests / costBills : ASSUMED_REQUESTS_PER_BILL
  const pausedUntil = r.paused_until
  const eta = backlogEta({ now, billsWaiting, pacePerMinute, requestsPerBill, requestsLeftToday, dailyLimit, budgetPerMinute, pausedUntil })
  return {
    organizationId, organizationName: organization.name ?? organization.label, billsWaiting, queued, processing, requestsUsedToday, requestsLeftToday, dailyLimit,
    dailyResetAt: nextUtcMidnight(now), pausedUntil, pacePerMinute, requestsPerBill, requestsPerBillMeasured, budgetPerMinute, eta, measuredAt: now,
  }
}

/** The JSON shape of GET /v1/backlog (src/schemas/backlog.ts). */
export function backlogJson(b: OrganizationBacklog) {
  const round = (n: number, digits = 2) => Number(n.toFixed(digits))
  return {
    organizationId: b.organizationId,
    organizationName: b.organizationName,
    billsWaiting: b.billsWaiting,
    queued: b.queued,
    processing: b.processing,
    requestsUsedToday: b.requestsUsedToday,
    requestsLeftToday: b.requestsLeftToday,
    dailyLimit: b.dailyLimit,
    dailyResetAt: b.dailyResetAt.toISOString(),
    pausedUntil: b.pausedUntil?.toISOString() ?? null,
    pacePerMinute: round(b.pacePerMinute),
    paceWindowSeconds: PACE_WINDOW_SECONDS,
    requestsPerBill: round(b.requestsPerBill),
    requestsPerBillMeasured: b.requestsPerBillMeasured,
    budgetPerMinute: round(b.budgetPerMinute),
    eta: b.eta.at?.toISOString() ?? null,
    etaSeconds: b.eta.seconds,
    etaBasis: b.eta.basis,
    limitedBy: b.eta.limitedBy,
    quotaResets: b.eta.resets,
    requestsNeeded: b.eta.requestsNeeded,
  }
}
