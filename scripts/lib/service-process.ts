// Starts `node src/server.ts` as a child process pointed at a database and the Zoho sandbox, as the
// benchmarks and the fault suite run it: a real process, killed and restarted like a container.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import readline from 'node:readline'
import { sandboxZohoEnv, type ZohoSandbox } from '../../src/sandbox/server.ts'

export interface ServiceProcess {
  child: ChildProcess
  url: string
}

export type ServiceEnv = Record<string, string>

/** The environment of a service that talks to `sandbox` at `ratePerMinute` and keeps its PDFs under `dataDir`. */
export function sandboxServiceEnv(databaseUrl: string, dataDir: string, sandbox: ZohoSandbox, ratePerMinute: number, windowSeconds = 60, extra: ServiceEnv = {}): ServiceEnv {
  return {
    ...(process.env as ServiceEnv),
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
    ...sandboxZohoEnv(sandbox),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ZOHO_RATE_PER_MINUTE: String(ratePerMinute),
    ZOHO_RATE_WINDOW_SECONDS: String(windowSeconds),
    API_RATE_PER_MINUTE: '100000',
    WORKER_CONCURRENCY: '5',
    ...extra,
  }
}

/** The environment of a service delivering to several organizations (ZOHO_ORGANIZATIONS) instead of one. */
export function organizationsServiceEnv(databaseUrl: string, dataDir: string, organizations: { ZOHO_ORGANIZATIONS: string }, ratePerMinute: number, windowSeconds = 60, extra: ServiceEnv = {}): ServiceEnv {
  const env: ServiceEnv = { ...(process.env as ServiceEnv), DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...organizations,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ZOHO_RATE_PER_MINUTE: String(ratePerMinute), ZOHO_RATE_WINDOW_SECONDS: String(windowSeconds),
    API_RATE_PER_MINUTE: '100000', WORKER_CONCURRENCY: '5', ...extra }
  for (const name of ['ZOHO_CLIENT_ID', 'ZOHO_CLIENT_SECRET', 'ZOHO_REFRESH_TOKEN', 'ZOHO_ORGANIZATION_ID', 'ZOHO_DC', 'ZOHO_ACCOUNTS_URL', 'ZOHO_API_URL']) delete env[name]
  return env
}

/** Resolves once the process logs that it started (with the URL it listens on), rejects if it exits first. */
export function startServiceProcess(env: ServiceEnv, role: 'all' | 'api' | 'worker', options: { port?: number; stderr?: 'inherit' | 'ignore' } = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['src/server.ts'], { env: { ...env, ROLE: role, PORT: String(options.port ?? 0) }, stdio: ['ignore', 'pipe', options.stderr ?? 'ignore'] })
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"billbridge started"')) resolve({ child, url: (JSON.parse(line) as { url?: string }).url ?? '' })
    })
    child.on('exit', (code) => reject(new Error(`${role} process exited with ${code} before starting`)))
  })
}

/** SIGTERM, then wait for the exit; resolves with the exit code. */
export function stopServiceProcess(service: ServiceProcess): Promise<number | null> {
  if (service.child.exitCode !== null) return Promise.resolve(service.child.exitCode)
  return new Promise((resolve) => {
    service.child.on('exit', (code) => resolve(code))
    service.child.kill('SIGTERM')
  })
}
