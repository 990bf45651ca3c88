import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config.ts'
import { startRuntime, type Runtime } from '../../src/runtime.ts'
import { createTestDatabase, silentLogger } from './db.ts'

export interface TestRuntime extends Runtime {
  url: string
}

/** The whole service in-process on a free port, its own database and blob folder, stopped at teardown. */
export async function startTestRuntime(t: Test, env: Record<string, string> = {}): Promise<TestRuntime> {
  const databaseUrl = env.DATABASE_URL ?? (await createTestDatabase(t)).url
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-data-'))
  t.teardown(() => fs.rm(dataDir, { recursive: true, force: true }))
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '5000', ...env, DATABASE_URL: databaseUrl })
  const runtime = await startRuntime(config, silentLogger)
  let stopped = false
  const stop = runtime.stop
  runtime.stop = async () => {
    if (stopped) return true
    stopped = true
    return stop()
  }
  t.teardown(() => runtime.stop())
  const address = runtime.app?.server.address()
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : ''
  return Object.assign(runtime, { url })
}
