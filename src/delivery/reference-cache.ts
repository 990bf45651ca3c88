import type pg from 'pg'
import { withSessionLock } from '../db/session-lock.ts'

export type ReferenceList = 'accounts' | 'currencies' | 'taxes' | 'tags' | 'organization'

/**
 * Lists read whole from Zoho and kept per organization (the chart of accounts, the enabled currencies).
 * A re-read happens under a lock, at most once per `minAgeMs`, so every worker that misses an entry at
 * the same moment waits for one read instead of each making its own.
 */
/** Returns whether this call read the list (false: it was fresh, perhaps read by a process it waited for). */
export async function refreshReference(pool: pg.Pool, org: string, list: ReferenceList, minAgeMs: number, read: () => Promise<number>, signal?: AbortSignal, own?: pg.PoolClient): Promise<boolean> {
  return withSessionLock(pool, `billbridge:zoho-reference:${org}:${list}`, async () => {
    const { rows } = await pool.query<{ fresh: boolean }>(
      `SELECT fetched_at > clock_timestamp() - make_interval(secs => $3) AS fresh FROM zoho_reference_state WHERE organization_id = $1 AND list = $2`,
      [org, list, minAgeMs / 1000])
    if (rows[0]?.fresh) return false
    const count = await read()
    await pool.query(
      `INSERT INTO zoho_reference_state (organization_id, list, fetched_at, item_count) VALUES ($1, $2, clock_timestamp(), $3)
       ON CONFLICT (organization_id, list) DO UPDATE SET fetched_at = EXCLUDED.fetched_at, item_count = EXCLUDED.item_count`, [org, list, count])
    return true
  }, signal, own)
}
