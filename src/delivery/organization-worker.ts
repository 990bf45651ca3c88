import type { PgBoss } from 'pg-boss'
import type { Logger } from '../logger.ts'
import type { DeliverJob } from './deliver-bill.ts'

/** A pause shorter than this is left to the jobs' own rescheduling; a longer one stops fetching. */
export const PAUSE_AFTER_MS = 15_000
/** A paused organization's pause is read again this often, so one lifted early (a quota raised) resumes then. */
export const PAUSE_CHECK_MS = 30_000

/**
 * One organization's deliver-bill workers in this process, on its own queue.
 *
 * While the organization cannot be served (its daily quota spent, a 429 window, a long wait for budget),
 * `pause(until)` stops this process fetching its jobs until then: its bills wait in the queue as rows, and
 * hold no worker, no connection and no place in front of another organization's bills. Each process learns
 * of a pause from the first of its jobs that meets it (the pause is kept in the organization's rate_limits
 * row, which every process reads), so this holds with any number of processes.
 */
export function createOrganizationWorker(options: { boss: PgBoss; queue: string; concurrency: number; logger: Logger; pollingIntervalSeconds?: number
  /** the organization's pause as every process sees it (rate_limits.blocked_until), read again while paused */
  readPause?: () => Promise<Date | null>; pauseCheckMs?: number }) {
  const { boss, queue, logger } = options
  const checkMs = options.pauseCheckMs ?? PAUSE_CHECK_MS
  let handler: ((job: DeliverJob) => Promise<void>) | null = null
  let workId: string | null = null
  let pausedUntil: Date | null = null
  let timer: NodeJS.Timeout | null = null
  let closed = false

  async function subscribe(): Promise<void> {
    if (closed || workId || !handler) return
    const run = handler
    // Each local worker would otherwise wait the polling interval after every job; while a backlog is
    // ready it fetches again at once (pg-boss burst mode), and the first empty fetch returns it to polling.
    workId = await boss.work<{ transactionId: string }>(queue, { localConcurrency: options.concurrency, batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, burstWhenReadyExceeds: 1 }, async ([job]) => {
      if (job) await run(job as DeliverJob)
    })
  }

  const resume = () => {
    pausedUntil = null
    logger.info({ queue }, 'deliveries resumed for this organization')
    subscribe().catch((err: Error) => logger.warn({ err, queue }, 'deliveries could not resume'))
  }

  // Wakes at the pause's end, or sooner to read the pause again: lifted or shortened (by any process), it resumes.
  function arm(): void {
    if (timer) clearTimeout(timer)
    if (closed || !pausedUntil) return
    const left = pausedUntil.getTime() - Date.now()
    timer = setTimeout(() => {
      timer = null
      if (closed || !pausedUntil) return
      if (pausedUntil.getTime() <= Date.now() || !options.readPause) return resume()
      options.readPause().then((shared) => {
        if (!pausedUntil) return
        if (!shared || shared.getTime() - Date.now() < PAUSE_AFTER_MS) return resume()
        pausedUntil = shared
        arm()
      }, (err: Error) => {
        logger.warn({ err, queue }, 'the pause could not be read; read again later')
        arm()
      })
    }, Math.max(0, Math.min(left, checkMs)))
    timer.unref()
  }

  return {
    queue,
    async start(run: (job: DeliverJob) => Promise<void>): Promise<void> {
      handler = run
      await subscribe()
    },
    /** Stops fetching until `until` when it is far enough; jobs already running finish (they reschedule themselves). */
    pause: (until: Date): void => {
      if (closed || until.getTime() - Date.now() < PAUSE_AFTER_MS) return
      if (pausedUntil && pausedUntil >= until) return
      pausedUntil = until
      arm()
      const id = workId
      workId = null
      logger.info({ queue, until }, 'deliveries paused for this organization')
      if (id) boss.offWork(queue, { id, wait: false }).catch((err: Error) => logger.warn({ err, queue }, 'deliveries could not be paused'))
    },
    pausedUntil: (): Date | null => pausedUntil,
    close(): void {
      closed = true
      if (timer) clearTimeout(timer)
    },
  }
}

export type OrganizationWorker = ReturnType<typeof createOrganizationWorker>
