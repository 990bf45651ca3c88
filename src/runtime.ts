import path from 'node:path'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { buildApp } from './app.ts'
import type { AppDeps, Lifecycle } from './deps.ts'
import { createBlobStore } from './blob/index.ts'
import { ConfigError, type Config } from './config.ts'
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts'
import { migrate } from './db/migrate.ts'
import { createKysely, createPool, expectDisconnects, reportLostConnection } from './db/pool.ts'
import type { Logger } from './logger.ts'
import { startDelivery, type Delivery } from './delivery/index.ts'
import { sweepOrphanBlobs } from './ingest/sweep.ts'
import { requeueOrphans } from './delivery/retry.ts'
import { createMetrics } from './metrics.ts'
import { SANDBOX_CREDENTIALS, startZohoSandbox, type ZohoSandbox } from './sandbox/server.ts'
import { createBoss, createQueues, RECONCILE_BOOKS_QUEUE, RECONCILE_QUEUE, SMOKE_QUEUE, SWEEP_QUEUE } from './queue/boss.ts'
import { reconcile } from './reconcile/run.ts'
import { removeServiceFile, writeServiceFile } from './service-file.ts'
import { defaultOrganization, sandboxOrganization, type OrganizationConfig } from './zoho/organizations.ts'

/** The parts buildApp takes (AppDeps), and what the runtime itself holds and stops. */
export interface Runtime extends AppDeps {
  app?: FastifyInstance
  databaseUrl: string
  embedded?: EmbeddedDatabase
  sandbox?: ZohoSandbox
  delivery?: Delivery
  /** Drains and releases everything in order; resolves false when the deadline passed first. */
  stop(): Promise<boolean>
}

/** Starts every part the configured ROLE needs; on a failure part-way, releases what was started. */
export async function startRuntime(config: Config, logger: Logger, options: { extraRoutes?: FastifyPluginAsync } = {}): Promise<Runtime> {
  const releases: Array<() => Promise<unknown>> = []
  const releaseAll = async () => {
    for (const release of releases.reverse()) await release().catch((err) => logger.warn({ err }, 'release failed'))
  }
  try {
    let embedded: EmbeddedDatabase | undefined
    if (!config.databaseUrl) {
      embedded = await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
      releases.push(() => embedded!.stop())
    }
    const databaseUrl = config.databaseUrl ?? embedded!.url
    // A delivery holds two connections (its bill lock, then a Zoho concurrency slot) and each organization
    // runs WORKER_CONCURRENCY deliveries at most, so the pool has room for every organization's at once: one
    // organization's waits never take a connection another's deliveries need. The API needs its own.
    const organizationCount = Math.max(1, config.organizations.length)
    const pool = createPool(databaseUrl, logger, config.workerConcurrency * 2 * organizationCount + 10)
    const db = createKysely(pool)
    releases.push(() => closeDatabase(db, pool))
    await migrate(pool, logger)

    // In sandbox mode the workers run the local Zoho; an API-only process knows its organization but cannot reach it.
    let sandbox: ZohoSandbox | undefined
    if (config.zoho.mode === 'sandbox' && config.role !== 'api') {
      sandbox = await startZohoSandbox({ port: Number(process.env.SANDBOX_PORT ?? 0) })
      releases.push(() => sandbox!.close())
    }
    const organizations = config.zoho.mode === 'remote' ? config.organizations
      // As with a real organization, the Books root comes from the api_domain of the token grant.
      : [sandboxOrganization({ ...SANDBOX_CREDENTIALS, accountsUrl: sandbox?.accountsUrl ?? '', defaultApiUrl: sandbox?.apiUrl ?? '' }, config.zoho)]
    await assignEarlierBills(pool, defaultOrganization(organizations).organizationId, logger)

    const blobs = await createBlobStore(config.blob)
    releases.push(() => blobs.close())

    const boss = createBoss(databaseUrl, logger, 4, config.deliveryJobExpireSeconds)
    // pg-boss's own pool reports through 'error' (which must keep a listener): a disconnect while stopping is expected.
    boss.removeAllListeners('error')
    boss.on('error', (err: Error) => reportLostConnection(pool, logger, err, { err }, 'pg-boss error'))
    await boss.start()
    releases.push(() => boss.stop({ graceful: false, close: true }))
    await createQueues(boss, { hours: config.deliveryRetryHours, delaySeconds: config.deliveryRetryDelaySeconds, expireSeconds: config.deliveryJobExpireSeconds }, organizations.map((o) => o.organizationId))

    const lifecycle: Lifecycle = { draining: false }
    const metrics = createMetrics({ pool, boss, organizations })
    const runtime: Runtime = {
      config, logger, pool, db, blobs, boss, databaseUrl, lifecycle, metrics, organizations, zohoReachable: config.zoho.mode === 'remote' || sandbox !== undefined,
      stop: async () => true, ...(embedded ? { embedded } : {}), ...(sandbox ? { sandbox } : {}),
    }

    if (config.role !== 'api') {
      await startWorkers(runtime)
      releases.push(async () => {
        await runtime.delivery?.close()
      })
    }
    if (config.role !== 'worker') {
      const app = await buildApp(runtime)
      if (options.extraRoutes) await app.register(options.extraRoutes)
      releases.push(() => app.close())
      await listen(app, config)
      runtime.app = app
    }
    if (!config.production) {
      const address = runtime.app?.server.address()
      await writeServiceFile(config.dataDir, {
        pid: process.pid,
        ...(typeof address === 'object' && address ? { url: `http://${urlHost(address.address)}:${address.port}` } : {}),
        ...(runtime.sandbox ? { zohoSandboxUrl: runtime.sandbox.url } : {}),
      }).catch((err: Error) => logger.debug({ err: { message: err.message } }, 'DATA_DIR/service.json not written; scripts beside the service will need --url'))
    }
    runtime.stop = () => stopRuntime(runtime)
    return runtime
  } catch (err) {
    await releaseAll()
    throw err
  }
}

/** Listens, turning the usual failures (port taken, unknown host) into one line naming the variable to change. */
async function listen(app: FastifyInstance, config: Config): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'EADDRINUSE') throw new ConfigError('PORT', `${config.port} is already in use on ${config.host} (another billbridge running?): stop that process or set PORT to a free port`)
    if (code === 'EACCES') throw new ConfigError('PORT', `${config.port} needs privileges on this machine: set PORT to 1024 or above`)
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError('HOST', `cannot listen on "${config.host}" (${code}): give an address of this machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`)
    }
    throw err
  }
}

/** A listening address as a URL host: an IPv6 address goes in brackets. */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

async function startWorkers(runtime: Runtime): Promise<void> {
  const { boss, logger } = runtime
  await boss.work(SMOKE_QUEUE, async ([job]) => {
    logger.info({ jobId: job?.id }, 'smoke job done')
  })
  const hooks = (organization: OrganizationConfig) => ({
    onRequest: (endpoint: string, outcome: string) => runtime.metrics.zohoRequest(endpoint, outcome, organization.organizationId),
    onRefresh: runtime.metrics.tokenRefreshed,
  })
  runtime.delivery = await startDelivery({ config: runtime.config, pool: runtime.pool, boss, blobs: runtime.blobs, logger, organizations: runtime.organizations, hooks })
  await boss.schedule(SWEEP_QUEUE, '*/15 * * * *')
  await boss.work(SWEEP_QUEUE, async () => {
    await sweepOrphanBlobs(runtime.pool, runtime.blobs, logger)
  })
  // Every minute: bills whose job ended without finishing them get a new one (see requeueOrphans).
  await boss.schedule(RECONCILE_QUEUE, '* * * * *')
  await boss.work(RECONCILE_QUEUE, async () => {
    const ids = await requeueOrphans(runtime.pool, boss, runtime.config.deliveryJobExpireSeconds + 60, runtime.organizations.map((o) => o.organizationId))
    if (ids.length > 0) logger.warn({ count: ids.length, transactionIds: ids.slice(0, 20) }, 'bills without a live job requeued')
  })
  // Daily by default (RECONCILE_CRON); the dashboard's button sends the same job. One run at a time fleet-wide.
  await boss.schedule(RECONCILE_BOOKS_QUEUE, runtime.config.reconcileCron, { trigger: 'schedule' }, { tz: 'UTC' })
  const delivery = runtime.delivery
  await boss.work<{ trigger?: string }>(RECONCILE_BOOKS_QUEUE, { pollingIntervalSeconds: 5 }, async ([job]) => {
    // Each organization in turn, each within its own share of its own daily quota.
    for (const organization of runtime.organizations) {
      await reconcile({
        pool: runtime.pool, books: delivery.books(organization.organizationId), organizationId: organization.organizationId, dailyLimit: organization.limits.dailyLimit,
        maxDailyShare: runtime.config.reconcileMaxDailyShare, logger: logger.child({ organizationId: organization.organizationId }), alerts: delivery.alerts,
        ...(organization.limits.uniqueField ? { uniqueField: organization.limits.uniqueField } : {}), ...(job?.signal ? { signal: job.signal } : {}),
      }, job?.data.trigger ?? 'schedule')
    }
  })
}

async function stopRuntime(runtime: Runtime): Promise<boolean> {
  const { logger, config } = runtime
  runtime.lifecycle.draining = true
  expectDisconnects(runtime.pool)
  const deadline = Date.now() + config.shutdownTimeoutMs
  const remaining = () => Math.max(0, deadline - Date.now())
  let inTime = true
  const step = async (name: string, action: () => Promise<unknown>) => {
    const started = Date.now()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), remaining())
    })
    try {
      const outcome = await Promise.race([action().then(() => 'done' as const), late])
      if (outcome === 'late') {
        inTime = false
        logger.error({ step: name }, 'shutdown step passed the deadline')
      } else logger.debug({ step: name, ms: Date.now() - started }, 'shutdown step done')
    } catch (err) {
      logger.warn({ err, step: name }, 'shutdown step failed')
    } finally {
      clearTimeout(timer)
    }
  }
  logger.info({ timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining')
  if (runtime.app && config.shutdownDrainDelayMs > 0) {
    // Readiness already answers 503; requests still arriving are served until the balancer has moved on.
    await new Promise((resolve) => setTimeout(resolve, Math.min(config.shutdownDrainDelayMs, remaining() / 2)))
  }
  if (runtime.app) await step('http', () => runtime.app!.close())
  // Workers get most of what is left to finish their jobs; unfinished ones are retried by pg-boss.
  await step('queue', () => runtime.boss.stop({ graceful: true, close: true, timeout: Math.max(100, remaining() - 1_500) }))
  if (runtime.delivery) await step('delivery', () => runtime.delivery!.close())
  if (runtime.sandbox) await step('zoho-sandbox', () => runtime.sandbox!.close())
  await step('blobs', () => runtime.blobs.close())
  // The pools end before the embedded PostgreSQL stops, so that it has no connection of ours to terminate.
  await step('database', () => closeDatabase(runtime.db, runtime.pool))
  if (runtime.embedded) await step('embedded-postgres', () => runtime.embedded!.stop())
  if (!config.production) await removeServiceFile(config.dataDir).catch(() => undefined)
  logger.info({ inTime }, 'shutdown complete')
  return inTime
}

/** Kysely ends the pool only when it ran a query itself; most statements here use the pool directly. */
async function closeDatabase(db: Runtime['db'], pool: Runtime['pool']): Promise<void> {
  await db.destroy()
  if (!pool.ending) await pool.end()
}


/**
 * Bills accepted before bills had an organization were all for the one organization configured then: the
 * default one now. Fills them in once (the column is indexed, so a start with nothing to fill reads nothing).
 */
async function assignEarlierBills(pool: import('pg').Pool, organizationId: string, logger: Logger): Promise<void> {
  const { rowCount } = await pool.query('UPDATE transactions SET organization_id = $1 WHERE organization_id IS NULL', [organizationId])
  if (rowCount) logger.info({ organizationId, bills: rowCount }, 'bills accepted before organizations were assigned to the default organization')
  // So were the reconciliation runs and differences of those bills (migration 0035).
  await pool.query('UPDATE reconciliation_runs SET organization_id = $1 WHERE organization_id IS NULL', [organizationId])
  await pool.query('UPDATE reconciliation_findings SET organization_id = $1 WHERE organization_id IS NULL', [organizationId])
}
