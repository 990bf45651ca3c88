import type pg from 'pg'

/**
 * Runs `work` while holding a session advisory lock named `name`, across every process on the database.
 * Waiters poll instead of blocking on a connection, so a crowd of waiters never holds the pool while the
 * holder needs it. A caller that already holds a connection for the whole job (`own`) takes the lock on it,
 * so nested locks cost no extra connection.
 */
export async function withSessionLock<T>(pool: pg.Pool, name: string, work: () => Promise<T>, signal?: AbortSignal, own?: pg.PoolClient): Promise<T> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    const client = own ?? await pool.connect()
    let held = false
    try {
      held = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name])).rows[0]!.ok
      if (held) return await work()
    } finally {
      let broken = false
      if (held) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]).catch(() => (broken = true))
      // A connection that could not unlock is discarded, which releases its lock.
      if (own) {
        if (broken) throw new Error(`could not release the lock ${name}`)
      } else client.release(broken)
    }
    if (signal?.aborted) throw new Error(`stopped while waiting for the lock ${name}`)
    await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait))
  }
}
