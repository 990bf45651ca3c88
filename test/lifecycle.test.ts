import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import net from 'node:net'
import { request } from 'undici'
import t from 'tap'
import { createTestDatabase } from './helpers/db.ts'
import { reachableTempDir, startOwnPostgres } from './helpers/embedded.ts'
import { spawnService } from './helpers/process.ts'
import { startTestRuntime } from './helpers/runtime.ts'

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await request(url)
  return { status: res.statusCode, body: await res.body.json() }
}

/** PIDs of live postgres processes whose command line mentions dir. */
async function postgresProcessesUnder(dir: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes('postgres') && cmdline.includes(dir)) found.push(Number(entry))
  }
  return found
}

t.test('with nothing configured the service runs on embedded PostgreSQL and SIGTERM leaves nothing behind', async (t) => {
  const dataDir = await reachableTempDir(t, 'bb-start-')
  const env: Record<string, string> = { DATA_DIR: dataDir }
  for (const name of ['DATABASE_URL', 'BLOB_STORE', 'ZOHO_CLIENT_ID']) env[name] = ''
  const service = await spawnService(t, 'src/server.ts', env, 120_000)
  const ready = await getJson(`${service.url}/health/ready`)
  t.equal(ready.status, 200, 'ready')
  t.equal(ready.body.status, 'ready')
  t.ok((await postgresProcessesUnder(dataDir)).length > 0, 'embedded postgres runs under DATA_DIR')
  const banner = service.logs.find((entry) => entry.msg === 'billbridge started')!
  t.match(String(banner.zoho), /SANDBOX/, 'the banner says the sandbox is in use')
  t.match(String(banner.database), /embedded/)
  t.equal(banner.dashboard, `${service.url}/admin`, 'the banner names the dashboard')
  t.equal(banner.apiDocs, `${service.url}/docs`, 'and the API docs')
  t.match(String(banner.dashboardLogin), /admin scope/, 'and how to log in to the dashboard')
  t.equal(banner.makeKey, `DATA_DIR=${dataDir} npm run cli -- keys create --name NAME --scopes ingest,read,admin`, 'and the command that mints a key for this service')
  service.child.kill('SIGTERM')
  const { code } = await service.exited
  t.equal(code, 0, 'exit code 0')
  t.same(await postgresProcessesUnder(dataDir), [], 'no postgres process left')
})

t.test('Ctrl-C in a terminal (SIGINT to the whole process group, embedded PostgreSQL included) stops without a warning', async (t) => {
  const dataDir = await reachableTempDir(t, 'bb-ctrlc-')
  const env: Record<string, string> = { DATA_DIR: dataDir }
  for (const name of ['DATABASE_URL', 'BLOB_STORE', 'ZOHO_CLIENT_ID']) env[name] = ''
  const service = await spawnService(t, 'src/server.ts', env, 120_000, { detached: true })
  t.equal((await getJson(`${service.url}/health/ready`)).status, 200, 'ready')
  process.kill(-service.child.pid!, 'SIGINT')
  const { code } = await service.exited
  t.equal(code, 0, 'exit code 0')
  const warnings = service.logs.filter((entry) => Number(entry.level) >= 40).map((entry) => `${entry.msg}: ${(entry.err as { message?: string } | undefined)?.message ?? ''}`)
  t.same(warnings, [], 'no warning or error logged')
  t.ok(service.logs.some((entry) => entry.msg === 'shutdown complete' && entry.inTime === true), 'shutdown complete, in time')
  t.same(await postgresProcessesUnder(dataDir), [], 'no postgres process left')
})

t.test('a port in use or a HOST that is not an address of this machine: one line naming the variable, no stack', async (t) => {
  const { url: databaseUrl } = await createTestDatabase(t)
  const dataDir = await reachableTempDir(t, 'bb-listen-')
  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const port = (taken.address() as net.AddressInfo).port
  const start = (extra: Record<string, string>) => spawnSync(process.execPath, ['src/server.ts'], { env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...extra }, encoding: 'utf8', timeout: 60_000 })
  const inUse = start({ PORT: String(port), HOST: '127.0.0.1' })
  t.equal(inUse.status, 78)
  t.equal(inUse.stderr.trim().split('\n').length, 1, 'one line on stderr')
  t.match(inUse.stderr, new RegExp(`^billbridge: cannot start: PORT: ${port} is already in use on 127\\.0\\.0\\.1 .*set PORT to a free port`))
  t.notMatch(inUse.stdout, /"level":[4-6]0/, 'no warning logged while releasing what had started')
  const badHost = start({ PORT: '0', HOST: 'not-a-host' })
  t.equal(badHost.status, 78)
  t.equal(badHost.stderr.trim().split('\n').length, 1, 'one line on stderr')
  t.match(badHost.stderr, /^billbridge: cannot start: HOST: cannot listen on "not-a-host" \(ENOTFOUND|EAI_AGAIN\)/)
})

t.test('SIGTERM during a slow request lets it finish, refuses new work and exits 0', async (t) => {
  const { url: databaseUrl } = await createTestDatabase(t)
  const dataDir = await reachableTempDir(t, 'bb-slow-')
  const service = await spawnService(t, 'test/fixtures/slow-route-server.ts', { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: '10000' })
  const slow = getJson(`${service.url}/test/slow?ms=1500`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  service.child.kill('SIGTERM')
  const answer = await slow
  t.equal(answer.status, 200, 'the in-flight request finished')
  t.same(answer.body, { slept: 1500 })
  const { code } = await service.exited
  t.equal(code, 0, 'exit code 0')
  const draining = service.logs.some((entry) => entry.msg === 'shutting down: draining')
  t.ok(draining, 'shutdown went through draining')
})

t.test('/health/ready names the database while it is down and recovers when it returns', async (t) => {
  const own = await startOwnPostgres(t)
  const runtime = await startTestRuntime(t, { DATABASE_URL: own.url })
  t.equal((await getJson(`${runtime.url}/health/ready`)).status, 200)
  t.equal((await getJson(`${runtime.url}/health/live`)).status, 200)

  await own.stop()
  const down = await getJson(`${runtime.url}/health/ready`)
  t.equal(down.status, 503, '503 while the database is stopped')
  t.same(down.body.failing, ['database'], 'the failing part is named')
  t.equal((await getJson(`${runtime.url}/health/live`)).status, 200, 'liveness does not depend on the database')

  await own.start()
  let status = 0
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await getJson(`${runtime.url}/health/ready`)).status
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(status, 200, 'ready again once the database is back, without a restart')
})

t.test('/health/ready answers 503 while draining and names a broken blob store', async (t) => {
  const runtime = await startTestRuntime(t)
  const blobRoot = runtime.config.blob.kind === 'fs' ? runtime.config.blob.root : ''
  await fs.rm(blobRoot, { recursive: true, force: true })
  await fs.writeFile(blobRoot, 'not a directory')
  const broken = await getJson(`${runtime.url}/health/ready`)
  t.equal(broken.status, 503)
  t.same(broken.body.failing, ['blobStore'])
  await fs.rm(blobRoot)
  await fs.mkdir(blobRoot)
  runtime.lifecycle.draining = true
  const draining = await getJson(`${runtime.url}/health/ready`)
  t.equal(draining.status, 503)
  t.equal(draining.body.status, 'draining')
})
