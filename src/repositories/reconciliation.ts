import type pg from 'pg'
import type { DifferenceKind } from '../reconcile/compare.ts'

export interface DifferenceRow {
  id: string
  /** the Zoho organization whose books differ (null only for a difference recorded before organizations, until the service assigns it) */
  organizationId: string | null
  kind: DifferenceKind
  transactionId: string | null
  externalId: string | null
  billNumber: string | null
  zohoBillId: string | null
  billbridgeValue: string | null
  zohoValue: string | null
  foundAt: Date
}

export interface RunSummary {
  id: string
  organizationId: string | null
  startedAt: Date
  finishedAt: Date | null
  state: string
  trigger: string
  requests: number
  billsRead: number
  newDifferences: number
  note: string | null
}

/** The reconciliation page's reads: open differences of every organization (newest first within a kind, capped per kind) and the latest runs. */
export function createReconciliationRepository(pool: pg.Pool) {
  return {
    async open(perKind = 100): Promise<DifferenceRow[]> {
      const { rows } = await pool.query<DifferenceRow>(
        `SELECT f.id, f.organization_id AS "organizationId", f.kind, f.transaction_id AS "transactionId", f.external_id AS "externalId", t.bill_number AS "billNumber", f.zoho_bill_id AS "zohoBillId",
                f.billbridge_value AS "billbridgeValue", f.zoho_value AS "zohoValue", f.found_at AS "foundAt"
           FROM (SELECT *, row_number() OVER (PARTITION BY kind ORDER BY found_at DESC, id DESC) AS n FROM reconciliation_findings WHERE resolved_at IS NULL) f
           LEFT JOIN transactions t ON t.id = f.transaction_id
          WHERE f.n <= $1 ORDER BY f.kind, f.found_at DESC, f.id DESC`, [perKind])
      return rows
    },
    async runs(limit = 5): Promise<RunSummary[]> {
      const { rows } = await pool.query<RunSummary>(
        `SELECT id, organization_id AS "organizationId", started_at AS "startedAt", finished_at AS "finishedAt", state, trigger, requests, bills_read AS "billsRead", new_differences AS "newDifferences", note
           FROM reconciliation_runs ORDER BY id DESC LIMIT $1`, [limit])
      return rows
    },
  }
}
