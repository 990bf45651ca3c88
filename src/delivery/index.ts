import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { Agent } from 'undici'
import type { BlobStore } from '../blob/types.ts'
import type { Config } from '../config.ts'
import type { Logger } from '../logger.ts'
import { DEAD_LETTER_QUEUE, DELIVER_BILL_QUEUE, RETRY_DELAY_MAX } from '../queue/boss.ts'
import type { BooksClient, RequestOutcome } from '../zoho/books-client.ts'
import { createZohoStack, type ZohoTarget } from '../zoho/stack.ts'
import { createAlerter, type Alerter } from './alerts.ts'
import { deliverBill, type DeliverJob } from './deliver-bill.ts'
import { markDeadLettered } from './dead-letter.ts'
import { createMapper } from './mapping.ts'
import { pacingSettings } from './pacing.ts'
import { dailyQuotaSpent, warnOnDataCentreMismatch } from './zoho-notices.ts'

export type { ZohoTarget } from '../zoho/stack.ts'

export interface DeliveryHooks {
  onRequest?: (endpoint: string, outcome: RequestOutcome) => void
  onRefresh?: () => void
}

export interface Delivery {
  alerts: Alerter
  /** the workers' Books client: the organization's token, bucket and slots */
  books: BooksClient
  dispatcher: Agent
  close(): Promise<void>
}

/** The Zoho side of a worker process: shared token, shared bucket, and the deliver-bill workers. */
export async function startDelivery(deps: { config: Config; pool: pg.Pool; boss: PgBoss; blobs: BlobStore; logger: Logger; target: ZohoTarget; hooks?: DeliveryHooks }): Promise<Delivery> {
  const { config, pool, boss, blobs, logger, target } = deps
  const zoho = config.zoho
  const alerts = createAlerter({ pool, logger, format: config.alertFormat, ...(config.alertWebhookUrl ? { url: config.alertWebhookUrl } : {}), ...(config.dashboardUrl ? { dashboardUrl: config.dashboardUrl } : {}) })
  const onDailyLimit = (until: Date) => void dailyQuotaSpent(pool, alerts, logger, until)
  const { dispatcher, tokens, books } = createZohoStack({ pool, limits: zoho, target, encryptionKey: config.tokenEncryptionKey, logger, hooks: { ...deps.hooks, onDailyLimit } })
  if (target.apiUrl) void warnOnDataCentreMismatch(tokens, target.apiUrl, logger)
  const mapper = createMapper({ pool, books, organizationId: target.organizationId, createMissingVendors: zoho.createMissingVendors, ...(zoho.defaultAccountId ? { defaultAccountId: zoho.defaultAccountId } : {}),
    ...(zoho.edition ? { edition: zoho.edition } : {}), tags: zoho.tags })
  const pacing = pacingSettings({ hours: config.deliveryRetryHours, delaySeconds: config.deliveryRetryDelaySeconds, maxSeconds: RETRY_DELAY_MAX })
  const delivery = { pool, boss, blobs, books, mapper, alerts, logger, pacing, maxAttachmentBytes: zoho.maxAttachmentBytes, organizationId: target.organizationId, taxRoundingTolerance: zoho.taxRoundingTolerance, ...(zoho.uniqueField ? { uniqueField: zoho.uniqueField } : {}) }

  // Each of the local workers would otherwise wait the polling interval after every job, capping a process
  // at localConcurrency / 0.5 s (600 bills a minute at 5) whatever Zoho allows. While a backlog is ready they
  // fetch again at once (pg-boss burst mode, on its cached ready count); the first empty fetch returns them to polling.
  await boss.work<{ transactionId: string }>(DELIVER_BILL_QUEUE, { localConcurrency: config.workerConcurrency, batchSize: 1, pollingIntervalSeconds: 0.5, burstWhenReadyExceeds: 1 }, async ([job]) => {
    if (job) await deliverBill(delivery, job as DeliverJob)
  })
  await boss.work<{ transactionId: string }>(DEAD_LETTER_QUEUE, { pollingIntervalSeconds: 2 }, async ([job]) => {
    if (job) await markDeadLettered(pool, alerts, logger, job.data.transactionId)
  })
  return {
    alerts,
    books,
    dispatcher,
    async close() {
      await alerts.close()
      await dispatcher.close()
    },
  }
}
