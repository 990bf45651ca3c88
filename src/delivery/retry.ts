import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { DELIVER_BILL_QUEUE } from '../queue/boss.ts'

/**
 * Puts failed bills back in the queue: status queued and a new deliver-bill job each, in one transaction.
 * Bills that are not failed are left alone and reported as skipped.
 */
export async function retryTransactions(pool: pg.Pool, boss: PgBoss, ids: string[]): Promise<{ retried: string[]; skipped: string[] }> {
  if (ids.length === 0) return { retried: [], skipped: [] }
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ id: string }>(
      `UPDATE transactions SET status = 'queued', updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'failed' RETURNING id`, [ids])
    const retried = rows.map((r) => r.id)
    if (retried.length > 0) {
      await boss.insert(DELIVER_BILL_QUEUE, retried.map((transactionId) => ({ data: { transactionId } })), { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } })
    }
    await client.query('COMMIT')
    const done = new Set(retried)
    return { retried, skipped: ids.filter((id) => !done.has(id)) }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
