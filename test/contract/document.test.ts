import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { renderApiDocs, type OpenApiDocument } from '../../scripts/lib/api-docs.ts'
import { fixFor } from '../../src/delivery/alerts.ts'
import { DELIVERY_ERROR_CODES } from '../../src/schemas/delivery-codes.ts'
import { DASHBOARD_ERROR_CODES, ERROR_CODES } from '../../src/schemas/error-codes.ts'
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
  const dashboard = Object.keys(DASHBOARD_ERROR_CODES)
  t.same([...raised].filter((code) => !ERROR_CODES.includes(code) && !dashboard.includes(code)), [], 'no code missing from src/schemas/error-codes.ts')
  const enumCodes = (doc.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum
  t.same(enumCodes, ERROR_CODES, 'the document publishes them as an enum')
  t.same(enumCodes.filter((code) => dashboard.includes(code)), [], 'codes only the dashboard answers with are not in the API\'s enum')
})

t.test('delivery codes are published as an enum, each with the fix the failure alert gives', async (t) => {
  const raised = new Set<string>()
  for (const dir of ['src/delivery', 'src/zoho']) {
    for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.ts'))) {
      for (const m of (await fs.readFile(path.join(dir, file), 'utf8')).matchAll(/ZohoError\(\s*'[a-z_]+',\s*'([A-Z_]+)'|'(RETRIES_EXHAUSTED|DELIVERY_ERROR)'/g)) raised.add(m[1] ?? m[2]!)
    }
  }
  const published = (doc.components.schemas.DeliveryErrorCode as { enum: string[] }).enum
  t.ok(raised.size > 15, `found ${raised.size} codes`)
  t.same([...raised].filter((code) => !published.includes(code)), [], 'every code a delivery records is in DeliveryErrorCode')
  t.same(published, Object.keys(DELIVERY_ERROR_CODES))
  for (const [code, { fix }] of Object.entries(DELIVERY_ERROR_CODES)) t.equal(fix, fixFor(code), `${code}: one source for its fix`)
  const lookupItem = (doc.paths['/v1/transactions/lookup']!.post!.responses['200']!.content!['application/json']!.schema as { properties: { items: { items: { properties: Record<string, unknown> } } } })
  t.same(lookupItem.properties.items.items.properties.lastErrorCode, { anyOf: [{ $ref: '#/components/schemas/DeliveryErrorCode' }, { type: 'null' }], description: (lookupItem.properties.items.items.properties.lastErrorCode as { description: string }).description })
  const api = renderApiDocs(doc)
  for (const [code, { fix }] of Object.entries(DELIVERY_ERROR_CODES)) t.ok(api.includes(`| \`${code}\` |`) && api.includes(fix), `docs/api.md has ${code} with its fix`)
})

t.test('what every operation can answer is on it, and its headers are there whenever it lists them', async (t) => {
  const schemes = (doc.components as { securitySchemes?: Record<string, { type: string; scheme?: string; description?: string }> }).securitySchemes
  t.same(schemes, { bearerAuth: { type: 'http', scheme: 'bearer', description: schemes?.bearerAuth?.description } }, 'the security scheme is named for what it is: HTTP bearer')
  const headers = (doc.components as { headers?: Record<string, { required?: boolean }> }).headers!
  for (const [route, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const name = `${method.toUpperCase()} ${route}`
      const statuses = Object.keys(op.responses)
      t.ok(statuses.includes('500'), `${name} documents 500`)
      if (op.requestBody) t.same(['408', '413', '415'].filter((s) => !statuses.includes(s)), [], `${name} documents 408, 413 and 415 for its body`)
      for (const [status, response] of Object.entries(op.responses)) {
        const limited = Object.keys(response.headers ?? {}).filter((h) => h.startsWith('X-RateLimit-'))
        // Answers refused before the rate limit counts the request (400, 401, 403, 413, 414, 415, 429 AUTH_THROTTLED …) lack them.
        const counted = route.startsWith('/v1/') && /^(2\d\d|404|409|422)$/.test(status)
        t.equal(limited.length, counted ? 3 : 0, `${name} ${status}: X-RateLimit-* listed only where every answer carries them`)
      }
    }
  }
  for (const name of ['RateLimitLimit', 'RateLimitRemaining', 'RateLimitReset']) t.equal(headers[name]?.required, true, `${name} is required where listed, so the validating proxy checks it`)
})

t.test('docs/api.md is generated from the served document and up to date', async (t) => {
  const rendered = renderApiDocs(doc)
  if (process.env.UPDATE_API_DOCS === '1') await fs.writeFile('docs/api.md', rendered)
  t.equal(await fs.readFile('docs/api.md', 'utf8').catch(() => ''), rendered, 'docs/api.md is out of date: run npm run api-docs')
})

t.test('the docs name no file outside the repository', async (t) => {
  const docs = ['README.md', 'netsuite/README.md', ...(await fs.readdir('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  const tracked = (await promisify(execFile)('git', ['ls-files'])).stdout.split('\n')
  for (const doc of docs) {
    const text = await fs.readFile(doc, 'utf8')
    t.notMatch(text, /(^|[\s`(])\/(work|home|tmp|Users)\//m, `${doc} names no absolute path`)
    for (const [, name] of text.matchAll(/\b([\w./-]+\.md)\b/g)) {
      if (name!.startsWith('http') || name!.includes('//')) continue
      t.ok(tracked.some((file) => file === name || file.endsWith(`/${name}`)), `${doc} names ${name}, which is in the repository`)
    }
  }
})
