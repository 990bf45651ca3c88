import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { DEAD_LETTER_QUEUE } from '../queue/boss.ts'
import type { OrganizationConfig } from '../zoho/organizations.ts'
import { grantKeyOf } from '../zoho/stack.ts'

interface BucketRow {
  key: string; tokens: number; capacity: number; refill_per_sec: number; updated_at: Date; blocked_until: Date | null; day_count: number; daily_limit: number
  rate_limited_count: string; concurrency_cap: number | null
}

/** What the overview page shows; every figure comes from a rollup row or an index, never a scan. */
export async function loadOverview(pool: pg.Pool, boss: PgBoss, organizations: readonly OrganizationConfig[]) {
  const ids = organizations.map((o) => o.organizationId)
  const grants = organizations.map((o) => grantKeyOf(o.target))
  const [counts, oldest, hourly, reasons, byOrganization, oldestByOrganization, tokens, buckets, dead] = await Promise.all([
    pool.query<{ status: string; n: string }>('SELECT status, n FROM status_counts ORDER BY status'),
    pool.query<{ at: Date | null }>(`SELECT min(created_at) AS at FROM transactions WHERE status IN ('queued', 'processing')`),
    pool.query<{ hour: Date; n: string }>(`SELECT hour, n FROM delivery_hourly WHERE hour > now() - interval '24 hours' ORDER BY hour`),
    // Bills failed now by their last error (rollup failed_by_code), not failures counted per attempt.
    pool.query<{ code: string; n: string }>('SELECT code, n FROM failed_by_code WHERE n > 0 ORDER BY n DESC, code LIMIT 20'),
    pool.query<{ organization_id: string; status: string; n: string }>('SELECT organization_id, status, n FROM organization_status_counts WHERE organization_id = ANY($1::text[])', [ids]),
    pool.query<{ organization_id: string; at: Date | null }>(
      `SELECT o.organization_id, (SELECT min(created_at) FROM transactions t WHERE t.organization_id = o.organization_id AND t.status IN ('queued', 'processing')) AS at
         FROM unnest($1::text[]) o(organization_id)`, [ids]),
    // One access token per OAuth grant: organizations sharing a Zoho user show the same one.
    pool.query<{ grant_key: string; expires_at: Date; refreshed_at: Date; refresh_count: string }>('SELECT grant_key, expires_at, refreshed_at, refresh_count FROM oauth_tokens WHERE grant_key = ANY($1::text[])', [grants]),
    pool.query<BucketRow>(
      `SELECT key, tokens, capacity, refill_per_sec, updated_at, CASE WHEN blocked_until > now() THEN blocked_until END AS blocked_until,
              CASE WHEN day = (now() AT TIME ZONE 'UTC')::date THEN day_count ELSE 0 END AS day_count, daily_limit, rate_limited_count,
              CASE WHEN concurrency_cap_until > now() THEN concurrency_cap END AS concurrency_cap FROM rate_limits WHERE key = ANY($1::text[])`, [ids.map((id) => `zoho:${id}`)]),
    boss.getQueue(DEAD_LETTER_QUEUE),
  ])
  const statusCounts = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]))
  const dailyResetAt = nextUtcMidnight()
  return {
    statusCounts,
    queued: (statusCounts.queued ?? 0) + (statusCounts.processing ?? 0),
    oldestQueuedAt: oldest.rows[0]?.at ?? null,
    hourly: hourly.rows.map((r) => ({ hour: r.hour, n: Number(r.n) })),
    reasons: reasons.rows.map((r) => ({ code: r.code, n: Number(r.n) })),
    organizations: organizations.map((o, i) => {
      const count = (status: string) => Number(byOrganization.rows.find((r) => r.organization_id === o.organizationId && r.status === status)?.n ?? 0)
      const token = tokens.rows.find((r) => r.grant_key === grants[i])
      const b = buckets.rows.find((r) => r.key === `zoho:${o.organizationId}`)
      return {
        organizationId: o.organizationId,
        name: o.name ?? o.label,
        waiting: count('received') + count('queued') + count('processing'),
        failed: count('failed'),
        oldestQueuedAt: oldestByOrganization.rows.find((r) => r.organization_id === o.organizationId)?.at ?? null,
        token: token ? { expiresAt: token.expires_at, refreshedAt: token.refreshed_at, refreshes: Number(token.refresh_count) } : null,
        bucket: b ? {
          permits: Math.min(b.capacity, b.tokens + ((Date.now() - b.updated_at.getTime()) / 1000) * b.refill_per_sec),
          perMinute: b.refill_per_sec * 60,
          blockedUntil: b.blocked_until,
          dayCount: b.day_count,
          dailyLimit: b.daily_limit,
          dailyResetAt,
          concurrencyCap: b.concurrency_cap,
          rateLimited: Number(b.rate_limited_count),
        } : null,
        /** the configured quota, for an organization that has made no request yet */
        dailyLimit: b?.daily_limit ?? o.limits.dailyLimit,
      }
    }),
    deadLetters: dead?.queuedCount ?? 0,
  }
}

export type Overview = Awaited<ReturnType<typeof loadOverview>>
export type OrganizationOverview = Overview['organizations'][number]

/** The daily request counter starts again at the next UTC midnight (rate-limiter.ts). */
export function nextUtcMidnight(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
}
