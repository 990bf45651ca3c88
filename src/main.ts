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
  const runtime = await startRuntime(config, logger, options)
  const address = runtime.app?.server.address()
  logger.info({
    role: config.role,
    url: typeof address === 'object' && address ? `http://${address.address}:${address.port}` : undefined,
    database: runtime.embedded ? `embedded PostgreSQL under ${config.dataDir}/pg` : safeUrl(runtime.databaseUrl),
    blobStore: config.blob.kind === 'fs' ? `local disk ${config.blob.root}` : `s3 bucket ${config.blob.bucket}`,
    zoho: config.zoho.mode === 'sandbox' ? `LOCAL ZOHO SANDBOX${runtime.sandbox ? ` at ${runtime.sandbox.url}` : ''} (no real Zoho credentials set)` : config.zoho.apiUrl,
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
