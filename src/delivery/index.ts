import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { BlobStore } from '../blob/types.ts'
import type { Config } from '../config.ts'
import type { Logger } from '../logger.ts'
import { DEAD_LETTER_QUEUE, DELIVER_BILL_QUEUE, deliveryQueue, RETRY_DELAY_MAX } from '../queue/boss.ts'
import type { BooksClient, RequestOutcome } from '../zoho/books-client.ts'
import { defaultOrganization, type OrganizationConfig } from '../zoho/organizations.ts'
import { createZohoStacks, type ZohoStack } from '../zoho/stack.ts'
import { createAlerter, type Alerter } from './alerts.ts'
import { deliverBill, type DeliverJob, type DeliveryDeps } from './deliver-bill.ts'
import { markDeadLettered } from './dead-letter.ts'
import { createMapper } from './mapping.ts'
import { createOrganizationWorker, type OrganizationWorker } from './organization-worker.ts'
import { pacingSettings } from './pacing.ts'
import { dailyQuotaSpent, warnOnDataCentreMismatch } from './zoho-notices.ts'

export type { ZohoTarget } from '../zoho/stack.ts'

export interface DeliveryHooks {
  onRequest?: (endpoint: string, outcome: RequestOutcome) => void
  onRefresh?: () => void
}

export interface Delivery {
  alerts: Alerter
  /** an organization's Books client (its token, bucket and slots); the default organization's when none is named */
  books(organizationId?: string): BooksClient
  stacks: Map<string, ZohoStack>
  workers: Map<string, OrganizationWorker>
  close(): Promise<void>
}

/**
 * The Zoho side of a worker process: per organization its stack (token shared per OAuth grant, its own
 * bucket and slots), its mapper and its own deliver-bill workers on its own queue.
 */
export async function startDelivery(deps: { config: Config; pool: pg.Pool; boss: PgBoss; blobs: BlobStore; logger: Logger; organizations: readonly OrganizationConfig[]; hooks?: (organization: OrganizationConfig) => DeliveryHooks }): Promise<Delivery> {
  const { config, pool, boss, blobs, logger, organizations } = deps
  const alerts = createAlerter({ pool, logger, organizations, format: config.alertFormat, ...(config.alertWebhookUrl ? { url: config.alertWebhookUrl } : {}), ...(config.dashboardUrl ? { dashboardUrl: config.dashboardUrl } : {}) })
  const stacks = createZohoStacks({
    pool, organizations, encryptionKey: config.tokenEncryptionKey, logger,
    hooks: (organization) => ({ ...deps.hooks?.(organization), onDailyLimit: (until: Date) => void dailyQuotaSpent(pool, alerts, logger, until, organization) }),
  })
  const pacing = pacingSettings({ hours: config.deliveryRetryHours, delaySeconds: config.deliveryRetryDelaySeconds, maxSeconds: RETRY_DELAY_MAX })
  const workers = new Map<string, OrganizationWorker>()
  for (const organization of organizations) {
    const { organizationId, limits, target } = organization
    const stack = stacks.get(organizationId)!
    if (target.apiUrl) void warnOnDataCentreMismatch(stack.tokens, target.apiUrl, logger)
    const mapper = createMapper({ pool, books: stack.books, organizationId, createMissingVendors: limits.createMissingVendors, ...(limits.defaultAccountId ? { defaultAccountId: limits.defaultAccountId } : {}),
      ...(limits.edition ? { edition: limits.edition } : {}), tags: limits.tags })
    const orgLogger = logger.child({ organizationId })
    const worker = createOrganizationWorker({
      boss, queue: deliveryQueue(organizationId), concurrency: config.workerConcurrency, logger: orgLogger,
      readPause: async () => ((await stack.limiter.state()) as { blocked_until: Date | null } | null)?.blocked_until ?? null,
    })
    const delivery: DeliveryDeps = {
      pool, boss, blobs, books: stack.books, mapper, alerts, logger: orgLogger, pacing, maxAttachmentBytes: limits.maxAttachmentBytes, organizationId,
      queue: worker.queue, onPause: worker.pause, taxRoundingTolerance: limits.taxRoundingTolerance, ...(organization.netsuiteBaseCurrency ? { netsuiteBaseCurrency: organization.netsuiteBaseCurrency } : {}), ...(limits.uniqueField ? { uniqueField: limits.uniqueField } : {}),
    }
    await worker.start((job) => deliverBill(delivery, job))
    workers.set(organizationId, worker)
  }
  // Jobs queued before each organization had its own queue: each moves to its bill's organization's queue.
  await boss.work<{ transactionId: string }>(DELIVER_BILL_QUEUE, { pollingIntervalSeconds: 5 }, async ([job]) => {
    if (job) await moveToOrganizationQueue(pool, boss, job.data, defaultOrganization(organizations).organizationId)
  })
  await boss.work<{ transactionId: string }>(DEAD_LETTER_QUEUE, { pollingIntervalSeconds: 2 }, async ([job]) => {
    if (job) await markDeadLettered(pool, alerts, logger, job.data.transactionId)
  })
  return {
    alerts,
    books: (organizationId?: string) => stacks.get(organizationId ?? defaultOrganization(organizations).organizationId)!.books,
    stacks,
    workers,
    async close() {
      for (const worker of workers.values()) worker.close()
      await alerts.close()
      for (const stack of stacks.values()) await stack.dispatcher.close()
    },
  }
}

async function moveToOrganizationQueue(pool: pg.Pool, boss: PgBoss, data: { transactionId: string }, fallback: string): Promise<void> {
  const { rows } = await pool.query<{ organization_id: string | null }>('SELECT organization_id FROM transactions WHERE id = $1', [data.transactionId])
  const organizationId = rows[0]?.organization_id ?? fallback
  if (rows[0] && !rows[0].organization_id) await pool.query('UPDATE transactions SET organization_id = $2 WHERE id = $1 AND organization_id IS NULL', [data.transactionId, fallback])
  if (rows[0]) await boss.send(deliveryQueue(organizationId), data)
}

export type DeliverJobHandler = (job: DeliverJob) => Promise<void>
