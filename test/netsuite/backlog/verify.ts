// What the backlog must end with: each bill in billbridge once, posted once, and its state written back.
import type pg from 'pg'
import { MAX_PERSISTED_BYTES, MAX_VALUE_BYTES, MAX_KEY_CHARS, STAGE_UNITS } from '../fake/limits.ts'
import type { BacklogResult } from './scenario.ts'

export async function problemsAfterBacklog(pool: pg.Pool, result: BacklogResult, bills: number, options: { taxed?: boolean } = {}): Promise<string[]> {
  const problems: string[] = []
  const { rows } = await pool.query<{ external_id: string; id: string; status: string; zoho_bill_id: string | null; delivered_at: Date | null }>(
    `SELECT external_id, id, status, zoho_bill_id, delivered_at FROM transactions WHERE source = 'netsuite'`)
  if (rows.length !== bills) problems.push(`billbridge holds ${rows.length} bills, not ${bills}`)
  const posted = Object.entries(result.postsPerBill)
  if (posted.length !== bills) problems.push(`${posted.length} distinct bills were posted, not ${bills}`)
  const twice = posted.filter(([, n]) => n !== 1)
  if (twice.length) problems.push(`${twice.length} bills were posted more than once, e.g. ${twice[0]![0]} ×${twice[0]![1]}`)
  const byId = new Map(rows.map((r) => [r.external_id, r]))
  const refused = new Set(result.refused)
  const unlogged = result.refused.filter((id) => !result.refusedLogged.includes(id))
  if (unlogged.length) problems.push(`${unlogged.length} bills whose state could not be written were not logged, e.g. ${unlogged[0]}`)
  let wrong = 0
  for (const [id, fields] of result.fields) {
    if (refused.has(id)) continue
    const row = byId.get(id)
    const expected = row && {
      custbody_bb_status: row.status, custbody_bb_transaction_id: row.id, custbody_bb_zoho_bill_id: row.zoho_bill_id ?? '',
      custbody_bb_delivered_at: row.delivered_at?.toISOString() ?? '', custbody_bb_error_code: '',
    }
    const ok = expected && row.status === 'delivered' && Object.entries(expected).every(([field, value]) => fields[field] === value) && Boolean(fields.custbody_bb_checked_at)
    if (!ok && wrong++ === 0) problems.push(`bill ${id}: NetSuite has ${JSON.stringify(fields)}, billbridge ${JSON.stringify(row)}`)
  }
  if (wrong) problems.push(`${wrong} bills without billbridge's final state written back`)
  const carried = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM transactions WHERE bill->>'exchangeRate' = '1.0842' AND bill->'lines'->0 ? 'account'`)
  const withQuantity = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM transactions WHERE bill::text LIKE '%"quantity"%'`)
  if (Number(carried.rows[0]!.n) !== Math.ceil(bills / 4)) problems.push(`${carried.rows[0]!.n} bills kept their EUR exchange rate, not ${Math.ceil(bills / 4)}`)
  if (Number(withQuantity.rows[0]!.n) === 0) problems.push('no item line kept its quantity and rate')
  if (options.taxed) {
    // Every bill of a taxed backlog arrives with its total, its lines' tax and its department.
    const taxed = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM transactions WHERE source = 'netsuite' AND bill ? 'total' AND bill->'lines'->0 ? 'taxCode' AND bill->>'department' = 'Sales : EMEA'`)
    if (Number(taxed.rows[0]!.n) !== bills) problems.push(`${taxed.rows[0]!.n} bills arrived with their total, line tax and department, not ${bills}`)
  }
  if (result.persistedLimitHit) problems.push('the persisted data limit was hit')
  const errors = result.runs.flatMap((r) => r.errors)
  if (errors.length) problems.push(`${errors.length} invocation errors, first: ${errors[0]}`)
  return problems
}

/** The figures the issue asks for: peaks per stage and persisted bytes against NetSuite's limits. */
export function backlogFigures(result: BacklogResult): string[] {
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`
  return [
    ...(['getInputData', 'map', 'reduce', 'summarize'] as const).map((s) => `peak units ${s}: ${result.peakUnits[s]} of ${STAGE_UNITS[s]} (${pct(result.peakUnits[s], STAGE_UNITS[s])})`),
    `peak persisted between stages: ${result.peakPersistedBytes} bytes of ${MAX_PERSISTED_BYTES} (${pct(result.peakPersistedBytes, MAX_PERSISTED_BYTES)})`,
    `peak map/reduce value: ${result.peakValueBytes} bytes of ${MAX_VALUE_BYTES}; peak key: ${result.peakKeyChars} characters of ${MAX_KEY_CHARS}`,
    `peak request body: ${result.peakRequestBytes} bytes; ${result.requests} batch requests; ${result.runs.length} runs`,
    `bills posted once: ${Object.values(result.postsPerBill).filter((n) => n === 1).length}; posted more than once: ${Object.values(result.postsPerBill).filter((n) => n > 1).length}`,
    `bills whose state the account refused to save: ${result.refused.length}, logged with the reason: ${result.refusedLogged.length}`,
  ]
}
