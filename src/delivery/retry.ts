import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { BOSS_SCHEMA, DELIVER_BILL_QUEUE } from '../queue/boss.ts'

/**
 * Puts failed bills back in the queue: status queued and a new deliver-bill job each, in one transaction.
 * Bills that are not failed are left alone and reported as skipped.
 */
export async function retryTransactions(pool: pg.Pool, boss: PgBoss, ids: string[]): Promise<{ retried: string[]; skipped: string[] }> {
  if (ids.length === 0) return { retried: [], skipped: [] }
  const retried = await requeueWhere(pool, boss, `id = ANY($1::uuid[]) AND status = 'failed'`, [ids])
  const done = new Set(retried)
  return { retried, skipped: ids.filter((id) => !done.has(id)) }
}

/**
 * The safety net under the queue: a bill still queued or processing, untouched for `staleSeconds`, with no
 * deliver-bill job left that could finish it (created, retry or active), gets a new job. A job that ended
 * while another process's attempt at the same bill was still running, or a process killed past its
 * shutdown deadline, would otherwise leave the bill waiting for ever. A surplus job is harmless: the
 * per-bill lock, the status check and the lookup before create keep the bill in Zoho once.
 */
export async function requeueOrphans(pool: pg.Pool, boss: PgBoss, staleSeconds: number): Promise<string[]> {
  // The outer conditions are checked again on each row as it is updated, so a bill a worker took up
  // meanwhile is left alone.
  return requeueWhere(pool, boss, `status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1) AND id IN (
      SELECT t.id FROM transactions t
       WHERE t.status IN ('queued', 'processing') AND t.updated_at < now() - make_interval(secs => $1)
         AND NOT EXISTS (SELECT 1 FROM ${BOSS_SCHEMA}.job j WHERE j.name = '${DELIVER_BILL_QUEUE}' AND j.state IN ('created', 'retry', 'active')
                          AND j.data->>'transactionId' = t.id::text)
       LIMIT 1000)`, [staleSeconds])
}

/** Sets the matching rows queued and inserts their jobs with the same transaction; returns their ids. */
async function requeueWhere(pool: pg.Pool, boss: PgBoss, where: string, params: unknown[]): Promise<string[]> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ id: string }>(`UPDATE transactions SET status = 'queued', updated_at = now() WHERE ${where} RETURNING id`, params)
    const ids = rows.map((r) => r.id)
    if (ids.length > 0) {
      await boss.insert(DELIVER_BILL_QUEUE, ids.map((transactionId) => ({ data: { transactionId } })), { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } })
    }
    await client.query('COMMIT')
    return ids
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
