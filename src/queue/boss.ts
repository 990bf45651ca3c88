import { PgBoss, type ConstructorOptions } from 'pg-boss'
import type { Logger } from '../logger.ts'

export const BOSS_SCHEMA = 'pgboss'
export const SMOKE_QUEUE = 'smoke'
/** Jobs queued before organizations had queues of their own; workers move them to their organization's queue. */
export const DELIVER_BILL_QUEUE = 'deliver-bill'
export const DEAD_LETTER_QUEUE = 'deliver-bill-dead'
export const SWEEP_QUEUE = 'sweep-orphan-blobs'
export const RECONCILE_QUEUE = 'requeue-orphan-bills'
/** the reconciliation with Zoho (src/reconcile/), not to be confused with the orphan requeue above */
export const RECONCILE_BOOKS_QUEUE = 'reconcile-books'

/** pg-boss on the service's own database, in its own schema and with its own small pool. */
export function createBoss(connectionString: string, logger: Logger, max = 4, jobExpireSeconds = 300, extra: ConstructorOptions = {}): PgBoss {
  // Expired jobs are found by the monitor: look often enough that a dead worker's bill waits about one expiry.
  const monitorIntervalSeconds = Math.max(1, Math.min(60, Math.floor(jobExpireSeconds / 5)))
  // The cached queue stats (ready count) decide when workers fetch in burst mode; a 60 s default would keep
  // a fresh month-end backlog at the polling pace for up to a minute.
  const boss = new PgBoss({ connectionString, schema: BOSS_SCHEMA, max, application_name: 'billbridge-boss', monitorIntervalSeconds, superviseIntervalSeconds: monitorIntervalSeconds, queueCacheIntervalSeconds: 10, ...extra })
  // pg-boss crashes the process on an 'error' event nobody listens to; a database blip is logged instead.
  boss.on('error', (err: Error) => logger.warn({ err }, 'pg-boss error'))
  boss.on('warning', (warning: unknown) => logger.warn({ warning }, 'pg-boss warning'))
  return boss
}

const DAY = 86_400

/**
 * Each organization's bills wait in a queue of their own, worked by workers of their own in every process:
 * a paused or failing organization never stands in front of another's bills (docs/architecture.md).
 */
export function deliveryQueue(organizationId: string): string {
  return `${DELIVER_BILL_QUEUE}/${organizationId}`
}

/** The organization a delivery queue belongs to, or null for another queue. */
export function organizationOfQueue(queue: string): string | null {
  return queue.startsWith(`${DELIVER_BILL_QUEUE}/`) ? queue.slice(DELIVER_BILL_QUEUE.length + 1) : null
}

/** Inserts one deliver-bill job per bill on its organization's queue, on `client` (inside the caller's transaction). */
export async function insertDeliveryJobs(boss: PgBoss, client: { query: (text: string, values?: unknown[]) => Promise<unknown> }, jobs: Array<{ organizationId: string; data: { transactionId: string } }>): Promise<void> {
  const byQueue = new Map<string, Array<{ data: { transactionId: string } }>>()
  for (const job of jobs) {
    const queue = deliveryQueue(job.organizationId)
    const list = byQueue.get(queue) ?? []
    list.push({ data: job.data })
    byQueue.set(queue, list)
  }
  for (const [queue, list] of byQueue) {
    // An organization no longer configured has no queue (none was made at start): its bills wait, queued,
    // until it is configured again, when the orphan requeue gives them jobs.
    if (!(await boss.getQueue(queue))) continue
    await boss.insert(queue, list, { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) as Promise<never> } })
  }
}

export const RETRY_DELAY_MAX = 3600

/** Attempts that fit in the retry window when the delay doubles from delaySeconds up to an hour. */
export function retryLimitFor(hours: number, delaySeconds: number): number {
  let elapsed = 0
  let retries = 0
  for (let delay = delaySeconds; elapsed + delay <= hours * 3600; retries++) {
    elapsed += delay
    delay = Math.min(delay * 2, RETRY_DELAY_MAX)
  }
  return retries
}

export interface RetryPolicy {
  hours: number
  delaySeconds: number
  expireSeconds?: number
}

export async function createQueues(boss: PgBoss, retry: RetryPolicy = { hours: 24, delaySeconds: 30 }, organizationIds: readonly string[] = []): Promise<void> {
  await boss.createQueue(SMOKE_QUEUE, { retentionSeconds: 3600, deleteAfterSeconds: 3600 })
  await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 30 * DAY, deleteAfterSeconds: 30 * DAY })
  // Retention beyond the longest Zoho outage we ride out, so a queued bill is never dropped by pg-boss.
  // A failed Zoho attempt schedules its own retry (src/delivery/pacing.ts); these retry settings only pace
  // jobs that end without doing so: an expired job, a bill locked by another attempt, a database error.
  const delivery = { retentionSeconds: 30 * DAY, deleteAfterSeconds: 7 * DAY, expireInSeconds: retry.expireSeconds ?? 300, retryLimit: retryLimitFor(retry.hours, retry.delaySeconds), retryDelay: retry.delaySeconds, retryBackoff: true, retryDelayMax: RETRY_DELAY_MAX }
  for (const queue of [DELIVER_BILL_QUEUE, ...organizationIds.map(deliveryQueue)]) {
    if (!(await boss.getQueue(queue))) await boss.createQueue(queue, { ...delivery, deadLetter: DEAD_LETTER_QUEUE })
    // The retry policy follows the configuration of the process that started last.
    else await boss.updateQueue(queue, delivery)
  }
  await boss.createQueue(SWEEP_QUEUE, { retentionSeconds: 3600, deleteAfterSeconds: 3600, policy: 'singleton' })
  await boss.createQueue(RECONCILE_QUEUE, { retentionSeconds: 3600, deleteAfterSeconds: 3600, policy: 'singleton' })
  // One run active and one waiting at most; a run can take a while (it waits for deliveries), hence the long expiry.
  await boss.createQueue(RECONCILE_BOOKS_QUEUE, { retentionSeconds: DAY, deleteAfterSeconds: DAY, policy: 'stately', expireInSeconds: 4 * 3600, retryLimit: 0 })
}
