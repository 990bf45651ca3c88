import type pg from 'pg'
import { request } from 'undici'
import type { Logger } from '../logger.ts'

export interface FailureNotice {
  transactionId: string
  billNumber?: string
  code: string
  message: string
  /** bills this notice stands for, when more than one (a daily quota notice) */
  count?: number
}

export interface Alerter {
  notify(notice: FailureNotice): Promise<void>
  close(): Promise<void>
}

const INTERVAL_MS = 60_000

/**
 * Failure alerts to ALERT_WEBHOOK_URL as one JSON POST that summarises what failed, at most once a minute
 * across every process: the right to send is claimed on the alert_state row.
 */
export function createAlerter(options: { pool: pg.Pool; url?: string; logger: Logger; intervalMs?: number }): Alerter {
  const interval = options.intervalMs ?? INTERVAL_MS
  let pending: FailureNotice[] = []
  let timer: NodeJS.Timeout | null = null

  async function claim(): Promise<boolean> {
    const { rowCount } = await options.pool.query(
      `UPDATE alert_state SET last_sent_at = clock_timestamp() WHERE id = 1 AND last_sent_at <= clock_timestamp() - make_interval(secs => $1)`, [interval / 1000])
    return rowCount === 1
  }

  async function flush(): Promise<void> {
    timer = null
    if (pending.length === 0 || !options.url) return
    if (!(await claim().catch(() => false))) {
      schedule(Math.min(interval, 10_000))
      return
    }
    const batch = pending
    pending = []
    const body = {
      text: `billbridge: ${batch.length} bill${batch.length === 1 ? '' : 's'} failed delivery to Zoho Books`,
      count: batch.length,
      byCode: Object.fromEntries([...new Set(batch.map((n) => n.code))].map((code) => [code, batch.filter((n) => n.code === code).length])),
      failures: batch.slice(0, 50),
    }
    try {
      const res = await request(options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      await res.body.dump()
      if (res.statusCode >= 300) options.logger.warn({ status: res.statusCode }, 'alert webhook refused the alert')
    } catch (err) {
      options.logger.warn({ err }, 'alert webhook unreachable')
    }
  }

  function schedule(ms: number): void {
    if (!timer) timer = setTimeout(() => void flush(), ms)
  }

  return {
    async notify(notice) {
      if (!options.url) return
      pending.push(notice)
      schedule(0)
    },
    async close() {
      if (timer) clearTimeout(timer)
      timer = null
      await flush()
    },
  }
}
