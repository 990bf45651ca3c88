import type pg from 'pg'
import { ZohoError } from './errors.ts'

const SLOT_NAMESPACE = 0x5a0c

/**
 * At most `slots` Zoho requests in flight per organization across every process: each request holds one
 * session advisory lock out of `slots`, on its own connection, so a crashed process releases its slot.
 * After Zoho's concurrency 429 the rate_limits row narrows the slots for a while (rate-limiter.ts).
 */
export function createConcurrencyGate(pool: pg.Pool, options: { organizationId: string; slots: number; pollMs?: number; maxPollMs?: number }) {
  const orgHash = hash32(options.organizationId)
  const firstPollMs = options.pollMs ?? 25
  const maxPollMs = options.maxPollMs ?? 100
  return {
    async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const client = await pool.connect()
      let slot = -1
      try {
        // One statement tries every slot, from a random one on so that waiters spread out; while all are
        // taken the wait doubles (with jitter) up to maxPollMs, so a crowd of waiting jobs across many
        // processes does not poll the database flat out.
        for (let wait = firstPollMs; slot < 0; wait = Math.min(wait * 2, maxPollMs)) {
          const { rows } = await client.query<{ slot: number }>(
            `WITH cap AS (SELECT LEAST($4, COALESCE((SELECT concurrency_cap FROM rate_limits WHERE key = $5 AND concurrency_cap_until > clock_timestamp()), $4)) AS n)
             SELECT s AS slot FROM (SELECT (i + $3) % cap.n AS s FROM cap, generate_series(0, cap.n - 1) AS i) slots
              WHERE pg_try_advisory_lock($1, $2 * 64 + s) LIMIT 1`,
            [SLOT_NAMESPACE, orgHash, Math.floor(Math.random() * options.slots), options.slots, `zoho:${options.organizationId}`])
          if (rows[0]) slot = rows[0].slot
          else {
            if (signal?.aborted) throw new ZohoError('retryable', 'DELIVERY_ABORTED', 'the job was stopped while waiting for a Zoho concurrency slot')
            await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait))
          }
        }
        return await work()
      } finally {
        let broken = false
        if (slot >= 0) await client.query('SELECT pg_advisory_unlock($1, $2)', [SLOT_NAMESPACE, orgHash * 64 + slot]).catch(() => (broken = true))
        // A connection that could not unlock is discarded, which releases its lock.
        client.release(broken)
      }
    },
  }
}

// A small positive int so that orgHash * 64 + slot fits the int4 key of pg_advisory_lock(int, int).
function hash32(text: string): number {
  let h = 0
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 30_000_000
  return h
}

export type ConcurrencyGate = ReturnType<typeof createConcurrencyGate>
