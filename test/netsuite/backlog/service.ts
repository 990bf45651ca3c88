// A real billbridge process (node src/server.ts) on a database, delivering to the Zoho sandbox fast enough
// that a backlog of thousands of bills is delivered within a test.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import { createApiKeyRepository } from '../../../src/auth/api-keys.ts'
import { createKysely } from '../../../src/db/pool.ts'
import { startZohoSandbox } from '../../../src/sandbox/server.ts'
import { sandboxServiceEnv, startServiceProcess, stopServiceProcess } from '../../../scripts/lib/service-process.ts'

const RATE = 10_000 // requests per one-second window, sandbox and service alike: no rate waits in this scenario

export interface BacklogService { url: string; key: string; stop(): Promise<void> }

/** `edition: 'uk'` runs the sandbox as a UK organization (VAT taxes, vat_treatment required) for taxed backlogs. */
export async function startBacklogService(databaseUrl: string, pool: pg.Pool, options: { edition?: 'uk' } = {}): Promise<BacklogService> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-netsuite-backlog-'))
  const sandbox = await startZohoSandbox({ ratePerMinute: RATE, windowMs: 1000, concurrency: 20, dailyLimit: 10_000_000, ...(options.edition ? { seed: { edition: options.edition } } : {}) })
  const env = sandboxServiceEnv(databaseUrl, dataDir, sandbox, RATE, 1, { WORKER_CONCURRENCY: '8', ZOHO_MAX_CONCURRENCY: '8', ZOHO_DAILY_LIMIT: '10000000' })
  const service = await startServiceProcess(env, 'all', { stderr: 'inherit' })
  const db = createKysely(pool)
  const { key } = await createApiKeyRepository(db).create(`netsuite-backlog-${Date.now()}`, ['ingest', 'read'])
  return {
    url: service.url,
    key,
    async stop() {
      await stopServiceProcess(service)
      await sandbox.close()
      await fs.rm(dataDir, { recursive: true, force: true })
    },
  }
}
