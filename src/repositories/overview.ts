import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { DEAD_LETTER_QUEUE } from '../queue/boss.ts'

/** What the overview page shows; every figure comes from a rollup row or an index, never a scan. */
export async function loadOverview(pool: pg.Pool, boss: PgBoss, organizationId: string) {
  const [counts, oldest, hourly, reasons, token, bucket, dead] = await Promise.all([
    pool.query<{ status: string; n: string }>('SELECT status, n FROM status_counts ORDER BY status'),
    pool.query<{ at: Date | null }>(`SELECT min(created_at) AS at FROM transactions WHERE status IN ('queued', 'processing')`),
    pool.query<{ hour: Date; n: string }>(`SELECT hour, n FROM delivery_hourly WHERE hour > now() - interval '24 hours' ORDER BY hour`),
    // Bills failed now by their last error (rollup failed_by_code), not failures counted per attempt.
    pool.query<{ code: string; n: string }>('SELECT code, n FROM failed_by_code WHERE n > 0 ORDER BY n DESC, code LIMIT 20'),
    pool.query<{ expires_at: Date; refreshed_at: Date; refresh_count: string }>('SELECT expires_at, refreshed_at, refresh_count FROM oauth_tokens WHERE organization_id = $1', [organizationId]),
    pool.query<{ tokens: number; capacity: number; refill_per_sec: number; updated_at: Date; blocked_until: Date | null; day_count: number; daily_limit: number; rate_limited_count: string; concurrency_cap: number | null }>(
      `SELECT tokens, capacity, refill_per_sec, updated_at, CASE WHEN blocked_until > now() THEN blocked_until END AS blocked_until,
              CASE WHEN day = (now() AT TIME ZONE 'UTC')::date THEN day_count ELSE 0 END AS day_count, daily_limit, rate_limited_count,
              CASE WHEN concurrency_cap_until > now() THEN concurrency_cap END AS concurrency_cap FROM rate_limits WHERE key = $1`, [`zoho:${organizationId}`]),
    boss.getQueue(DEAD_LETTER_QUEUE),
  ])
  const statusCounts = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]))
  const b = bucket.rows[0]
  return {
    statusCounts,
    queued: (statusCounts.queued ?? 0) + (statusCounts.processing ?? 0),
    oldestQueuedAt: oldest.rows[0]?.at ?? null,
    hourly: hourly.rows.map((r) => ({ hour: r.hour, n: Number(r.n) })),
    reasons: reasons.rows.map((r) => ({ code: r.code, n: Number(r.n) })),
    token: token.rows[0] ? { expiresAt: token.rows[0].expires_at, refreshedAt: token.rows[0].refreshed_at, refreshes: Number(token.rows[0].refresh_count) } : null,
    bucket: b ? {
      permits: Math.min(b.capacity, b.tokens + ((Date.now() - b.updated_at.getTime()) / 1000) * b.refill_per_sec),
      perMinute: b.refill_per_sec * 60,
      blockedUntil: b.blocked_until,
      dayCount: b.day_count,
      dailyLimit: b.daily_limit,
      dailyResetAt: nextUtcMidnight(),
      concurrencyCap: b.concurrency_cap,
      rateLimited: Number(b.rate_limited_count),
    } : null,
    deadLetters: dead?.queuedCount ?? 0,
  }
}

export type Overview = Awaited<ReturnType<typeof loadOverview>>

/** The daily request counter starts again at the next UTC midnight (rate-limiter.ts). */
export function nextUtcMidnight(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
}
