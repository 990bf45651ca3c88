import { sql } from 'kysely'
import type pg from 'pg'
import type { Db } from '../db/pool.ts'

export type OperatorActionKind =
  | 'login' | 'logout' | 'retry' | 'retry_bulk' | 'resolve' | 'map_account' | 'map_vendor' | 'map_tax' | 'map_tag' | 'key_created' | 'key_revoked'
  | 'reconcile_run' | 'reconcile_redeliver' | 'reconcile_accept' | 'reconcile_review'

export interface OperatorAction {
  /** the API key name of the operator, or `cli:<user>` for the command line */
  actor: string
  action: OperatorActionKind
  /** what was acted on: a bill id, an account, a vendor, a key name */
  subject?: string | null
  /** the rest: old → new mapping, filter and count, a note */
  detail?: Record<string, unknown>
  address?: string | null
}

/**
 * Appends one row to the audit trail. Call it with the connection (or Kysely transaction) that makes the
 * change, before its COMMIT, so the action and its record stand or fall together.
 */
export async function recordOperatorAction(client: pg.Pool | pg.ClientBase | Db, entry: OperatorAction): Promise<void> {
  const values = [entry.actor, entry.action, entry.subject ?? null, JSON.stringify(entry.detail ?? {}), entry.address ?? null] as const
  if ('query' in client) {
    await client.query('INSERT INTO operator_audit (actor, action, subject, detail, address) VALUES ($1, $2, $3, $4, $5)', [...values])
  } else {
    await sql`INSERT INTO operator_audit (actor, action, subject, detail, address) VALUES (${values[0]}, ${values[1]}, ${values[2]}, ${values[3]}::jsonb, ${values[4]})`.execute(client)
  }
}
