import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { recordOperatorAction } from '../audit/operator-actions.ts'
import { BOSS_SCHEMA, DELIVER_BILL_QUEUE, insertDeliveryJobs } from '../queue/boss.ts'

/**
 * Puts failed bills back in the queue: status queued and a new deliver-bill job each, in one transaction.
 * Bills that are not failed are left alone and reported as skipped.
 */
export async function retryTransactions(pool: pg.Pool, boss: PgBoss, ids: string[], audit?: RetryAudit): Promise<{ retried: string[]; skipped: string[] }> {
  if (ids.length === 0) return { retried: [], skipped: [] }
  const record = audit && (async (client: pg.PoolClient, done: string[]) => {
    const bulk = audit.bulk ?? done.length > 1
    await recordOperatorAction(client, {
      actor: audit.actor, action: bulk ? 'retry_bulk' : 'retry', subject: bulk ? null : (done[0] ?? ids[0] ?? null), address: audit.address ?? null,
      detail: { count: done.length, ...(audit.filter ? { filter: audit.filter } : {}), ...(bulk ? { ids: done.slice(0, 100) } : {}) },
    })
  })
  const retried = await requeueWhere(pool, boss, `id = ANY($1::uuid[]) AND status = 'failed'`, [ids], record)
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
export async function requeueOrphans(pool: pg.Pool, boss: PgBoss, staleSeconds: number, organizationIds: readonly string[]): Promise<string[]> {
  // The outer conditions are checked again on each row as it is updated, so a bill a worker took up
  // meanwhile is left alone.
  // Only bills of organizations this service delivers to: a bill of an organization since removed from the
  // configuration waits, visible, until it is configured again.
  return requeueWhere(pool, boss, `status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1) AND id IN (
      SELECT t.id FROM transactions t
       WHERE t.status IN ('queued', 'processing') AND t.updated_at < now() - make_interval(secs => $1) AND t.organization_id = ANY($2::text[])
         AND NOT EXISTS (SELECT 1 FROM ${BOSS_SCHEMA}.job j WHERE j.name IN ('${DELIVER_BILL_QUEUE}', '${DELIVER_BILL_QUEUE}/' || t.organization_id)
                          AND j.state IN ('created', 'retry', 'active') AND j.data->>'transactionId' = t.id::text)
       LIMIT 1000)`, [staleSeconds, organizationIds])
}

/**
 * A delivered bill Zoho no longer has (deleted there): its Zoho id is cleared and a new delivery job queued,
 * in one transaction with `record` (the operator's audit and the difference's resolution). The attempt
 * looks for the bill before creating it, as any retry does. False when the bill is no longer delivered as
 * that Zoho bill.
 */
export async function redeliverMissing(pool: pg.Pool, boss: PgBoss, transactionId: string, zohoBillId: string, record: (client: pg.PoolClient, ids: string[]) => Promise<void>): Promise<boolean> {
  const ids = await requeueWhere(pool, boss, `id = $1 AND zoho_bill_id = $2 AND status = 'delivered'`, [transactionId, zohoBillId], record, ', zoho_bill_id = NULL, zoho_attachment = false')
  return ids.length === 1
}

export interface RetryAudit {
  actor: string
  address?: string | null
  /** the list filter a bulk retry was chosen by */
  filter?: Record<string, unknown>
  /** recorded as retry_bulk even for one bill (a selection or a filter), otherwise by count */
  bulk?: boolean
}

/** Sets the matching rows queued and inserts their jobs with the same transaction; returns their ids. */
async function requeueWhere(pool: pg.Pool, boss: PgBoss, where: string, params: unknown[], record?: (client: pg.PoolClient, ids: string[]) => Promise<void>, alsoSet = ''): Promise<string[]> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ id: string; organization_id: string | null }>(`UPDATE transactions SET status = 'queued', updated_at = now()${alsoSet} WHERE ${where} RETURNING id, organization_id`, params)
    const ids = rows.map((r) => r.id)
    // A bill with no organization yet (accepted before organizations, not yet assigned) goes through the old
    // queue, whose worker assigns it the default organization.
    await insertDeliveryJobs(boss, client, rows.filter((r) => r.organization_id).map((r) => ({ organizationId: r.organization_id!, data: { transactionId: r.id } })))
    const unassigned = rows.filter((r) => !r.organization_id).map((r) => ({ data: { transactionId: r.id } }))
    if (unassigned.length > 0) await boss.insert(DELIVER_BILL_QUEUE, unassigned, { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } })
    if (record) await record(client, ids)
    await client.query('COMMIT')
    return ids
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
