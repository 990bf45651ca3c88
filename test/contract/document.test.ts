import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { renderApiDocs, type OpenApiDocument } from '../../scripts/lib/api-docs.ts'
import { ERROR_CODES } from '../../src/schemas/error-codes.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

const runtime = await startTestRuntime(t, { ROLE: 'api' })
const doc = (await (await request(`${runtime.url}/docs/json`)).body.json()) as OpenApiDocument & { servers?: unknown[] }

t.test('the served document passes the OpenAPI linter (@redocly/cli) with no error or warning', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-openapi-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'openapi.json')
  await fs.writeFile(file, JSON.stringify(doc))
  const cli = path.resolve('node_modules/@redocly/cli/bin/cli.js')
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, 'lint', file, '--config', path.resolve('redocly.yaml'), '--format', 'stylish'], { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
    .catch((err: { stdout: string; stderr: string }) => err)
  t.notMatch(stdout + stderr, /\b(error|warning)\s/, `linter output:\n${stdout}\n${stderr}`)
  t.match(stdout + stderr, /Your API description is valid/)
})

t.test('every operation has an operationId, a description and examples; servers is set', async (t) => {
  t.ok(doc.servers?.length, 'servers')
  for (const [route, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const name = `${method.toUpperCase()} ${route}`
      t.ok(op.operationId, `${name} operationId`)
      t.ok(op.description, `${name} description`)
      const ok = Object.entries(op.responses).filter(([status]) => status.startsWith('2'))
      t.ok(ok.every(([, r]) => r.content?.['application/json']?.example !== undefined), `${name} success example`)
      const body = op.requestBody?.content['application/json']
      if (body) t.ok(body.example ?? body.schema?.examples?.length ?? doc.components.schemas[String(body.schema?.$ref).split('/').at(-1)!]?.examples?.length, `${name} request example`)
      if (route.startsWith('/health/')) t.same(op.security, [], `${name} is open`)
    }
  }
})

t.test('every error code the service raises is in the published list', async (t) => {
  const dirs = ['src/routes', 'src/http', 'src/ingest', 'src/plugins', 'src/repositories', 'src/auth/auth-failures.ts', 'src/db/errors.ts']
  const raised = new Set<string>()
  for (const dir of dirs) {
    const files = dir.endsWith('.ts') ? [dir] : (await fs.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f))
    for (const file of files) for (const m of (await fs.readFile(file, 'utf8')).matchAll(/(?:AppError|Rejected)\(\s*'([A-Z_]+)'|\[\s*'([A-Z_]+)',\s*\d{3}/g)) raised.add(m[1] ?? m[2]!)
  }
  t.ok(raised.size > 30, `found ${raised.size} codes`)
  t.same([...raised].filter((code) => !ERROR_CODES.includes(code)), [], 'no code missing from src/schemas/error-codes.ts')
  const enumCodes = (doc.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum
  t.same(enumCodes, ERROR_CODES, 'the document publishes them as an enum')
})

t.test('docs/api.md is generated from the served document and up to date', async (t) => {
  const rendered = renderApiDocs(doc)
  if (process.env.UPDATE_API_DOCS === '1') await fs.writeFile('docs/api.md', rendered)
  t.equal(await fs.readFile('docs/api.md', 'utf8').catch(() => ''), rendered, 'docs/api.md is out of date: run npm run api-docs')
})
