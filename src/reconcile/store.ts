import type pg from 'pg'
import type { DeliveredBill, Difference, DifferenceKind } from './compare.ts'

type Queryable = pg.Pool | pg.PoolClient

export interface RunRow {
  id: string
  organization_id: string
  started_at: Date
  state: 'running' | 'paused' | 'done'
  range_start: string | null
  range_end: string | null
  next_page: number
  listing_done: boolean
  requests: number
  bills_read: number
  new_differences: number
  note: string | null
}

const RUN_COLUMNS = `id, organization_id, started_at, state, to_char(range_start, 'YYYY-MM-DD') AS range_start, to_char(range_end, 'YYYY-MM-DD') AS range_end,
  next_page, listing_done, requests, bills_read, new_differences, note`

/**
 * The organization's run left unfinished (stopped by its budget, or by a process that died), to resume; else a
 * new one over the dates of the organization's delivered bills.
 */
export async function openRun(pool: pg.Pool, organizationId: string, trigger: string): Promise<{ run: RunRow; resumed: boolean }> {
  const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE organization_id = $1 AND state <> 'done' ORDER BY id DESC LIMIT 1`, [organizationId])
  if (rows[0]) {
    const resumed = await pool.query<RunRow>(`UPDATE reconciliation_runs SET state = 'running', note = NULL WHERE id = $1 RETURNING ${RUN_COLUMNS}`, [rows[0].id])
    return { run: resumed.rows[0]!, resumed: true }
  }
  const created = await pool.query<RunRow>(
    `INSERT INTO reconciliation_runs (organization_id, range_start, range_end, trigger)
       SELECT $1, min((bill->>'date')::date), max((bill->>'date')::date), $2 FROM transactions WHERE organization_id = $1 AND zoho_bill_id IS NOT NULL
     RETURNING ${RUN_COLUMNS}`, [organizationId, trigger])
  return { run: created.rows[0]!, resumed: false }
}

export async function pauseRun(pool: pg.Pool, runId: string, note: string): Promise<void> {
  await pool.query(`UPDATE reconciliation_runs SET state = 'paused', note = $2 WHERE id = $1`, [runId, note])
}

/**
 * Takes one request of reconciliation's daily share for the organization, atomically across processes;
 * false when the share of this UTC day is spent.
 */
export async function spendRequest(pool: Queryable, organizationId: string, cap: number): Promise<boolean> {
  if (cap < 1) return false
  const { rowCount } = await pool.query(
    `INSERT INTO reconciliation_budget AS b (organization_id, day, requests) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)
     ON CONFLICT (organization_id) DO UPDATE SET day = EXCLUDED.day, requests = CASE WHEN b.day = EXCLUDED.day THEN b.requests + 1 ELSE 1 END
      WHERE b.day <> EXCLUDED.day OR b.requests < $2`, [organizationId, cap])
  return rowCount === 1
}

/** The organization's bills waiting for a worker: while there are any, reconciliation leaves its bucket to them. */
export async function deliveriesWaiting(pool: Queryable, organizationId: string): Promise<boolean> {
  const { rows } = await pool.query<{ waiting: boolean }>(`SELECT EXISTS (SELECT 1 FROM transactions WHERE organization_id = $1 AND status IN ('queued', 'processing')) AS waiting`, [organizationId])
  return rows[0]!.waiting
}

const DELIVERED_COLUMNS = `id, external_id, zoho_bill_id, status, amount::text AS amount, currency, bill->>'date' AS date, zoho_vendor_id, zoho_vendor_name`

/** The organization's delivered bills among Zoho's ids (another organization's Zoho may use the same ids). */
export async function deliveredByZohoIds(client: Queryable, organizationId: string, zohoIds: string[]): Promise<Map<string, DeliveredBill>> {
  const { rows } = await client.query<DeliveredBill>(`SELECT ${DELIVERED_COLUMNS} FROM transactions WHERE zoho_bill_id = ANY($2::text[]) AND organization_id = $1`, [organizationId, zohoIds])
  return new Map(rows.map((r) => [r.zoho_bill_id, r]))
}

/** Delivered bills of the run's dates that no page of it listed (deleted in Zoho, or delivered since): each is then read by id. */
export async function unseenDelivered(pool: pg.Pool, run: RunRow, limit: number): Promise<DeliveredBill[]> {
  const { rows } = await pool.query<DeliveredBill>(
    `SELECT ${DELIVERED_COLUMNS} FROM transactions t
      WHERE t.organization_id = $5 AND t.zoho_bill_id IS NOT NULL AND (t.bill->>'date')::date BETWEEN $2 AND $3
        AND NOT EXISTS (SELECT 1 FROM reconciliation_seen s WHERE s.run_id = $1 AND s.zoho_bill_id = t.zoho_bill_id)
      ORDER BY t.zoho_bill_id LIMIT $4`, [run.id, run.range_start, run.range_end, limit, run.organization_id])
  return rows
}

/**
 * Records what one page (or one bill read by id) showed, in one transaction: the bills as read, the
 * differences found (an open one is refreshed, a new one opened unless an operator settled the same values
 * already), and the run's progress. Returns how many differences are new.
 */
export async function recordRead(client: pg.PoolClient, run: Pick<RunRow, 'id' | 'organization_id'>, read: { zohoIds: string[]; differences: Difference[]; nextPage?: number; listingDone?: boolean }): Promise<number> {
  const runId = run.id
  await client.query('BEGIN')
  try {
    await client.query('INSERT INTO reconciliation_seen (run_id, zoho_bill_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [runId, read.zohoIds])
    let added = 0
    for (const d of read.differences) added += await recordDifference(client, run, d)
    await client.query(
      `UPDATE reconciliation_runs SET requests = requests + 1, bills_read = bills_read + $2, new_differences = new_differences + $3,
              next_page = COALESCE($4, next_page), listing_done = listing_done OR $5 WHERE id = $1`,
      [runId, read.zohoIds.length, added, read.nextPage ?? null, read.listingDone ?? false])
    await client.query('COMMIT')
    return added
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  }
}

/** A difference of the run's organization: keyed, refreshed and settled within that organization only. */
async function recordDifference(client: pg.PoolClient, run: Pick<RunRow, 'id' | 'organization_id'>, d: Difference): Promise<number> {
  const key = d.transactionId ?? d.zohoBillId
  const refreshed = await client.query(
    `UPDATE reconciliation_findings SET billbridge_value = $3, zoho_value = $4, zoho_bill_id = $5, last_run_id = $6
      WHERE resolved_at IS NULL AND organization_id = $7 AND kind = $1 AND COALESCE(transaction_id::text, zoho_bill_id) = $2`,
    [d.kind, key, d.billbridgeValue, d.zohoValue, d.zohoBillId, run.id, run.organization_id])
  if (refreshed.rowCount) return 0
  const inserted = await client.query(
    `INSERT INTO reconciliation_findings (transaction_id, external_id, zoho_bill_id, kind, billbridge_value, zoho_value, last_run_id, organization_id)
     SELECT $1, $2, $3, $4, $5, $6, $7, $9
      WHERE NOT EXISTS (SELECT 1 FROM reconciliation_findings f WHERE f.resolution IN ('accepted', 'reviewed') AND f.organization_id = $9 AND f.kind = $4
                           AND COALESCE(f.transaction_id::text, f.zoho_bill_id) = $8
                           AND f.zoho_value IS NOT DISTINCT FROM $6 AND f.billbridge_value IS NOT DISTINCT FROM $5)`,
    [d.transactionId, d.externalId, d.zohoBillId, d.kind, d.billbridgeValue, d.zohoValue, run.id, key, run.organization_id])
  return inserted.rowCount ?? 0
}

/** The run is complete: every open difference of its organization it did not find again is closed as gone. */
export async function finishRun(pool: pg.Pool, run: Pick<RunRow, 'id' | 'organization_id'>): Promise<number> {
  const runId = run.id
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const closed = await client.query(
      `UPDATE reconciliation_findings SET resolved_at = now(), resolution = 'gone', resolved_by = 'reconciliation'
        WHERE resolved_at IS NULL AND organization_id = $2 AND last_run_id IS DISTINCT FROM $1`, [runId, run.organization_id])
    await client.query(`UPDATE reconciliation_runs SET state = 'done', finished_at = now(), note = NULL WHERE id = $1`, [runId])
    await client.query(`DELETE FROM reconciliation_seen WHERE run_id = $1`, [runId])
    await client.query('COMMIT')
    return closed.rowCount ?? 0
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

/** Open differences per kind (every kind named, zero included): of one organization, or of all. */
export async function openCounts(pool: Queryable, organizationId?: string): Promise<Record<DifferenceKind, number>> {
  const { rows } = await pool.query<{ kind: DifferenceKind; n: string }>(
    `SELECT kind, count(*) AS n FROM reconciliation_findings WHERE resolved_at IS NULL${organizationId === undefined ? '' : ' AND organization_id = $1'} GROUP BY kind`,
    organizationId === undefined ? [] : [organizationId])
  const counts = { missing_in_zoho: 0, voided_in_zoho: 0, total_differs: 0, date_differs: 0, vendor_differs: 0, currency_differs: 0, not_in_billbridge: 0 }
  for (const r of rows) counts[r.kind] = Number(r.n)
  return counts
}
