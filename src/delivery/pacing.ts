import type pg from 'pg'

/**
 * When a bill is tried again after a transient failure (5xx, reset, timeout, lost answer).
 *
 * The organization's token bucket already keeps every request, retries included, within Zoho's budget, so
 * an isolated failure is retried within seconds: the bill's own delay starts at `quickSeconds` and doubles
 * with each failure of that bill. Only while failures persist across the organization (its last
 * `outageAfter` attempts all failed, with no delivery between: Zoho is down) do retries wait minutes: at
 * least `outageSeconds`, and otherwise about as long as the organization has been failing, so successive
 * retries of a bill during an outage double their spacing up to `maxSeconds`, and a bill never waits much
 * longer than the outage lasted. Every delay is jittered (between half and all of it). A bill whose
 * failures have gone on for `windowSeconds` is not retried again.
 */
export interface PacingSettings {
  quickSeconds: number
  /** DELIVERY_RETRY_DELAY_SECONDS */
  outageSeconds: number
  maxSeconds: number
  outageAfter: number
  /** DELIVERY_RETRY_HOURS in seconds */
  windowSeconds: number
}

export const QUICK_RETRY_SECONDS = 2
export const OUTAGE_AFTER_FAILURES = 5

export function pacingSettings(retry: { hours: number; delaySeconds: number; maxSeconds: number }): PacingSettings {
  return {
    quickSeconds: Math.min(QUICK_RETRY_SECONDS, retry.delaySeconds),
    outageSeconds: retry.delaySeconds,
    maxSeconds: retry.maxSeconds,
    outageAfter: OUTAGE_AFTER_FAILURES,
    windowSeconds: retry.hours * 3600,
  }
}

export interface FailureState {
  /** this bill's transient failures in its current run of retries, the one just recorded included */
  billFailures: number
  /** seconds since the first of them */
  billFailingSeconds: number
  /** failed attempts across the organization since its last delivery (counted up to outageAfter) */
  orgStreak: number
  /** seconds since the first of those */
  orgFailingSeconds: number
}

/** Seconds until the next try, or null when the bill's retry window is spent. */
export function retryDelaySeconds(state: FailureState, settings: PacingSettings, random: () => number = Math.random): number | null {
  const left = settings.windowSeconds - state.billFailingSeconds
  if (left <= 0) return null
  const own = settings.quickSeconds * 2 ** Math.min(30, Math.max(0, state.billFailures - 1))
  const outage = state.orgStreak >= settings.outageAfter ? Math.max(settings.outageSeconds, state.orgFailingSeconds) : 0
  const delay = Math.min(settings.maxSeconds, Math.max(own, outage))
  return Math.min(left, delay / 2 + (delay / 2) * random())
}

/** What a deliver-bill job carries: the bill, and the run of transient failures it is in, if any. */
export interface DeliverJobData {
  transactionId: string
  /** transient failures in a row for this bill (attempts that were refunded, as 429s are, do not count) */
  failures?: number
  /** when the first of them happened (database clock, ISO 8601) */
  failingSince?: string
}

export type RetryPlan = { retryAt: Date; delaySeconds: number; data: DeliverJobData } | { retryAt: null; data: DeliverJobData }

/**
 * Plans the next try of a bill whose attempt just failed and has been recorded in `attempts` (on `db`,
 * inside the same transaction): reads the organization's failure streak from the attempts log and applies
 * the policy. Nothing is written here.
 */
export async function planRetry(db: pg.Pool | pg.PoolClient, settings: PacingSettings, data: DeliverJobData, organizationId: string, random: () => number = Math.random): Promise<RetryPlan> {
  // The streak is the organization's own: another organization's deliveries do not end it, nor its failures start it.
  const { rows } = await db.query<{ streak: number; org_since: Date | null; now: Date }>(
    `WITH last_ok AS (SELECT COALESCE(max(id), 0) AS id FROM attempts WHERE organization_id = $2 AND outcome IN ('delivered', 'adopted'))
     SELECT (SELECT count(*)::int FROM (SELECT 1 FROM attempts a WHERE a.organization_id = $2 AND a.id > (SELECT id FROM last_ok) AND a.outcome = 'retry' LIMIT $1) s) AS streak,
            (SELECT a.finished_at FROM attempts a WHERE a.organization_id = $2 AND a.id > (SELECT id FROM last_ok) AND a.outcome = 'retry' ORDER BY a.id LIMIT 1) AS org_since,
            clock_timestamp() AS now`, [settings.outageAfter, organizationId])
  const { streak, org_since: orgSince, now } = rows[0]!
  const failingSince = data.failingSince ? new Date(data.failingSince) : now
  const next: DeliverJobData = { transactionId: data.transactionId, failures: (data.failures ?? 0) + 1, failingSince: failingSince.toISOString() }
  const seconds = (since: Date | null) => Math.max(0, (now.getTime() - (since ?? now).getTime()) / 1000)
  const delaySeconds = retryDelaySeconds({ billFailures: next.failures!, billFailingSeconds: seconds(failingSince), orgStreak: streak, orgFailingSeconds: seconds(orgSince) }, settings, random)
  if (delaySeconds === null) return { retryAt: null, data: next }
  return { retryAt: new Date(now.getTime() + delaySeconds * 1000), delaySeconds, data: next }
}
