import type pg from 'pg'
import type { BlobStore } from '../blob/types.ts'
import type { Logger } from '../logger.ts'

const CHECK_BATCH = 500

/**
 * Deletes PDFs that no transaction points at and that are older than the cutoff: the leftovers of
 * batches whose commit failed, and temp files of writes a crash interrupted.
 */
export async function sweepOrphanBlobs(pool: pg.Pool, blobs: BlobStore, logger: Logger, olderThanMs = 3_600_000): Promise<{ checked: number; deleted: number }> {
  const cutoff = new Date(Date.now() - olderThanMs)
  let checked = 0
  let deleted = 0
  let pending: string[] = []
  const flush = async () => {
    if (pending.length === 0) return
    const { rows } = await pool.query<{ blob_key: string }>('SELECT blob_key FROM transactions WHERE blob_key = ANY($1::text[])', [pending])
    const referenced = new Set(rows.map((r) => r.blob_key))
    for (const key of pending) {
      if (referenced.has(key)) continue
      await blobs.delete(key)
      deleted++
    }
    pending = []
  }
  for await (const info of blobs.listOlderThan(cutoff)) {
    checked++
    pending.push(info.key)
    if (pending.length >= CHECK_BATCH) await flush()
  }
  await flush()
  if (deleted > 0) logger.info({ checked, deleted }, 'orphan PDFs swept')
  return { checked, deleted }
}
