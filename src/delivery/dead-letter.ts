import type pg from 'pg'
import type { Logger } from '../logger.ts'
import type { Alerter } from './alerts.ts'

/** A job whose retries ran out: its bill becomes failed (keeping the last error) and an alert goes out. */
export async function markDeadLettered(pool: pg.Pool, alerts: Alerter, logger: Logger, transactionId: string): Promise<void> {
  const { rows } = await pool.query<{ bill_number: string; last_error_code: string | null; last_error_message: string | null }>(
    `UPDATE transactions SET status = 'failed', updated_at = now(),
            last_error_code = COALESCE(last_error_code, 'RETRIES_EXHAUSTED'),
            last_error_message = COALESCE(last_error_message, 'delivery retries ran out')
      WHERE id = $1 AND status IN ('queued', 'processing') RETURNING bill_number, last_error_code, last_error_message`, [transactionId])
  const row = rows[0]
  if (!row) return
  logger.warn({ transactionId, code: row.last_error_code }, 'retries exhausted: bill failed')
  await alerts.notify({ transactionId, billNumber: row.bill_number, code: 'RETRIES_EXHAUSTED', message: `retries ran out; last error ${row.last_error_code}: ${row.last_error_message}` })
}
