import type pg from 'pg'

export interface PermitDecision {
  granted: boolean
  waitMs: number
  tokensLeft: number
  dayCount: number
}

// Zoho counts requests over any sliding 60 s. A bucket of capacity C refilling at r per second lets at most
// C + 60·r through in any 60 s, so capacity 1 and r = (limit − 2)/60 keeps every window under the limit with
// one request of slack for network jitter, while using (limit − 2)/limit of the budget (98% at 100/min).
export const BUCKET_CAPACITY = 1

export function refillPerSecond(perWindow: number, windowSeconds = 60): number {
  return Math.max(perWindow - 2, perWindow * 0.5) / windowSeconds
}

/** The organization's token bucket: a row in rate_limits, shared by every process. */
export function createRateLimiter(pool: pg.Pool, options: { key: string; perMinute: number; dailyLimit: number; windowSeconds?: number; maxConcurrency?: number }) {
  const windowSeconds = options.windowSeconds ?? 60
  const refill = refillPerSecond(options.perMinute, windowSeconds)
  return {
    /** Takes one permit, or says how long until one is available. One atomic statement. */
    async take(): Promise<PermitDecision> {
      const { rows } = await pool.query<{ granted: boolean; wait_ms: number; tokens_left: number; day_count: number }>(
        'SELECT * FROM take_permit($1, $2, $3, $4)', [options.key, BUCKET_CAPACITY, refill, options.dailyLimit])
      const row = rows[0]!
      return { granted: row.granted, waitMs: row.wait_ms, tokensLeft: row.tokens_left, dayCount: row.day_count }
    },

    /** After a 429: pause every process until a full window has passed since it (Zoho sends no Retry-After). */
    async block(seconds = windowSeconds): Promise<Date> {
      const { rows } = await pool.query<{ blocked_until: Date }>(
        `UPDATE rate_limits SET blocked_until = GREATEST(blocked_until, clock_timestamp() + make_interval(secs => $2)), tokens = 0,
                rate_limited_count = rate_limited_count + 1
          WHERE key = $1 RETURNING blocked_until`, [options.key, seconds])
      return rows[0]?.blocked_until ?? new Date(Date.now() + seconds * 1000)
    },

    /**
     * After Zoho's daily-quota 429 (code 45): every process waits until the next UTC midnight (Zoho does not
     * document its day boundary; UTC matches the daily counter here). `claimed` is true for exactly one
     * caller a day, the one that raises the alert.
     */
    async blockForTheDay(): Promise<{ until: Date; claimed: boolean }> {
      const { rows } = await pool.query<{ blocked_until: Date; claimed: boolean }>(
        `WITH before AS (SELECT daily_alerted_on FROM rate_limits WHERE key = $1 FOR UPDATE)
         UPDATE rate_limits SET blocked_until = GREATEST(blocked_until, ((clock_timestamp() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'),
                tokens = 0, rate_limited_count = rate_limited_count + 1, daily_alerted_on = (clock_timestamp() AT TIME ZONE 'UTC')::date
          FROM before WHERE key = $1
          RETURNING blocked_until, before.daily_alerted_on IS DISTINCT FROM (clock_timestamp() AT TIME ZONE 'UTC')::date AS claimed`, [options.key])
      const row = rows[0]
      return row ? { until: row.blocked_until, claimed: row.claimed } : { until: new Date(Date.now() + windowSeconds * 1000), claimed: false }
    },

    /** After Zoho's concurrency 429 (code 1070): one slot fewer than now in flight, for `seconds`. */
    async narrowConcurrency(seconds: number): Promise<void> {
      await pool.query(
        `UPDATE rate_limits SET concurrency_cap = GREATEST(1, COALESCE(CASE WHEN concurrency_cap_until > clock_timestamp() THEN concurrency_cap END, $2) - 1),
                concurrency_cap_until = clock_timestamp() + make_interval(secs => $3), rate_limited_count = rate_limited_count + 1
          WHERE key = $1`, [options.key, options.maxConcurrency ?? 5, seconds])
    },

    async state() {
      const { rows } = await pool.query('SELECT tokens, capacity, refill_per_sec, blocked_until, day, day_count, daily_limit, rate_limited_count, concurrency_cap, concurrency_cap_until FROM rate_limits WHERE key = $1', [options.key])
      return rows[0] ?? null
    },
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
