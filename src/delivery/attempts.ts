import type pg from 'pg'

export type AttemptOutcome = 'delivered' | 'adopted' | 'updated' | 'cancelled' | 'retry' | 'rate_limited' | 'failed'

export interface AttemptRecord {
  outcome: AttemptOutcome
  status: 'delivered' | 'queued' | 'failed' | 'cancelled'
  httpStatus?: number | null
  zohoCode?: number | null
  errorCode?: string | null
  message?: string | null
  /** a 429 does not count against the bill's attempts */
  refund?: boolean
  /** the Zoho vendor the bill was resolved to in this attempt, if it got that far */
  zohoVendor?: { id: string; name: string | null } | null
}

/** Records the attempt and moves the bill to its new status in one statement. */
export async function finishAttempt(pool: pg.Pool | pg.PoolClient, transactionId: string, started: Date, record: AttemptRecord): Promise<void> {
  const delivered = record.status === 'delivered'
  await pool.query(
    `WITH attempt AS (
       INSERT INTO attempts (transaction_id, started_at, outcome, http_status, zoho_code, error_code, message, duration_ms, organization_id)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.organization_id FROM transactions t WHERE t.id = $1
     )
     UPDATE transactions SET status = $9, updated_at = now(),
            attempts = attempts - $10::int,
            last_error_code = CASE WHEN $11 THEN NULL ELSE $6 END,
            last_error_message = CASE WHEN $11 THEN NULL ELSE $7 END,
            delivered_at = CASE WHEN $11 THEN now() ELSE delivered_at END,
            zoho_vendor_id = coalesce($12, zoho_vendor_id),
            zoho_vendor_name = CASE WHEN $12::text IS NULL THEN zoho_vendor_name ELSE $13 END
      WHERE id = $1`,
    [transactionId, started, record.outcome, record.httpStatus ?? null, record.zohoCode ?? null, record.errorCode ?? null, record.message?.slice(0, 2000) ?? null,
      Date.now() - started.getTime(), record.status, record.refund ? 1 : 0, delivered,
      record.zohoVendor?.id ?? null, record.zohoVendor?.name ?? null],
  )
}
