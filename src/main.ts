import type { FastifyPluginAsync } from 'fastify'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { createLogger, safeUrl } from './logger.ts'
import { startRuntime, type Runtime } from './runtime.ts'

export interface RunOptions {
  /** Extra routes registered after the service's own (used by process-level tests). */
  extraRoutes?: FastifyPluginAsync
}

/** Loads the configuration, starts the service and stops it cleanly on SIGTERM or SIGINT. */
export async function run(options: RunOptions = {}): Promise<Runtime> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`billbridge: configuration error: ${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  const logger = createLogger(config.logLevel)
  let runtime: Runtime
  try {
    runtime = await startRuntime(config, logger, options)
  } catch (err) {
    // HOST or PORT the service cannot listen on: one line naming it, as for a bad value.
    if (err instanceof ConfigError) {
      process.stderr.write(`billbridge: cannot start: ${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  const address = runtime.app?.server.address()
  const url = typeof address === 'object' && address ? `http://${address.address}:${address.port}` : undefined
  logger.info({
    role: config.role,
    url,
    database: runtime.embedded ? `embedded PostgreSQL under ${config.dataDir}/pg` : safeUrl(runtime.databaseUrl),
    blobStore: config.blob.kind === 'fs' ? `local disk ${config.blob.root}` : `s3 bucket ${config.blob.bucket}`,
    zoho: config.zoho.mode === 'sandbox' ? `LOCAL ZOHO SANDBOX${runtime.sandbox ? ` at ${runtime.sandbox.url}` : ''} (no real Zoho credentials set)` : runtime.organizations.map((o) => `${o.name ?? o.label}: Zoho organization ${o.organizationId} at ${o.target.apiUrl ?? o.target.accountsUrl} for ${o.subsidiaries.join(', ')}`).join('; '),
    ...(url ? { dashboard: `${url}/admin`, apiDocs: `${url}/docs` } : {}),
    ...(url ? { dashboardLogin: 'with an API key that has the admin scope' } : {}),
    makeKey: `${scriptEnv(config)}npm run cli -- keys create --name NAME --scopes ingest,read,admin`,
  }, 'billbridge started')

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'signal received')
    runtime.stop().then(
      (inTime) => process.exit(inTime ? 0 : 1),
      (err) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  return runtime
}

/** What a script run beside this service needs to find its database: the same DATA_DIR or DATABASE_URL. */
function scriptEnv(config: Config): string {
  if (config.databaseUrl) return 'DATABASE_URL=<the same as the service> '
  return process.env.DATA_DIR?.trim() ? `DATA_DIR=${config.dataDir} ` : ''
}
