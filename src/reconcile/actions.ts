import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { recordOperatorAction, type OperatorActionKind } from '../audit/operator-actions.ts'
import { redeliverMissing } from '../delivery/retry.ts'
import type { DifferenceKind } from './compare.ts'

export interface ActionAudit {
  actor: string
  address?: string | null
}

interface FindingRow {
  id: string
  organization_id: string | null
  transaction_id: string | null
  zoho_bill_id: string | null
  kind: DifferenceKind
  billbridge_value: string | null
  zoho_value: string | null
}

export type ActionOutcome = 'done' | 'not-open' | 'not-redeliverable'

async function openFinding(pool: pg.Pool | pg.PoolClient, id: string): Promise<FindingRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined
  const { rows } = await pool.query<FindingRow>('SELECT id, organization_id, transaction_id, zoho_bill_id, kind, billbridge_value, zoho_value FROM reconciliation_findings WHERE id = $1 AND resolved_at IS NULL', [id])
  return rows[0]
}

/**
 * Deliver again: a bill missing in Zoho gets its Zoho id cleared and a new delivery job through the retry
 * path; the difference is resolved 'redelivered' and the action audited, all in one transaction.
 */
export async function redeliver(pool: pg.Pool, boss: PgBoss, id: string, audit: ActionAudit): Promise<ActionOutcome> {
  const finding = await openFinding(pool, id)
  if (!finding) return 'not-open'
  if (finding.kind !== 'missing_in_zoho' || !finding.transaction_id || !finding.zoho_bill_id) return 'not-redeliverable'
  const done = await redeliverMissing(pool, boss, finding.transaction_id, finding.zoho_bill_id, async (client, ids) => {
    if (ids.length === 0) return
    await resolve(client, finding, 'redelivered', audit, 'reconcile_redeliver')
  })
  return done ? 'done' : 'not-redeliverable'
}

/** Accept Zoho's version, or mark reviewed: the difference is settled, and a later run does not reopen it while the values stay the same. */
export async function settle(pool: pg.Pool, id: string, resolution: 'accepted' | 'reviewed', audit: ActionAudit): Promise<ActionOutcome> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const finding = await openFinding(client, id)
    if (!finding) {
      await client.query('ROLLBACK')
      return 'not-open'
    }
    await resolve(client, finding, resolution, audit, resolution === 'accepted' ? 'reconcile_accept' : 'reconcile_review')
    await client.query('COMMIT')
    return 'done'
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

async function resolve(client: pg.PoolClient, finding: FindingRow, resolution: string, audit: ActionAudit, action: OperatorActionKind): Promise<void> {
  await client.query(`UPDATE reconciliation_findings SET resolved_at = now(), resolution = $2, resolved_by = $3 WHERE id = $1 AND resolved_at IS NULL`, [finding.id, resolution, audit.actor])
  await recordOperatorAction(client, {
    actor: audit.actor, action, subject: finding.transaction_id ?? finding.zoho_bill_id, address: audit.address ?? null,
    detail: { difference: Number(finding.id), kind: finding.kind, billbridgeValue: finding.billbridge_value, zohoValue: finding.zoho_value, zohoBillId: finding.zoho_bill_id, organizationId: finding.organization_id },
  })
}
