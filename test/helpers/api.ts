import { Readable } from 'node:stream'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import type { Scope } from '../../src/db/schema.ts'
import { batchBody, sampleBill } from '../../scripts/lib/sample-bills.ts'
import type { TestRuntime } from './runtime.ts'

export async function mintKey(runtime: TestRuntime, scopes: Scope[], name = `key-${Math.random().toString(36).slice(2)}`): Promise<string> {
  return (await createApiKeyRepository(runtime.db).create(name, scopes)).key
}

export interface PostOptions {
  key?: string
  contentType?: string
  headers?: Record<string, string>
}

export async function postBatch(runtime: TestRuntime, body: unknown, options: PostOptions = {}, path = '/v1/vendor-bills/batches') {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : body instanceof Readable ? body : JSON.stringify(body)
  const res = await request(`${runtime.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...options.headers,
    },
    body: payload as string,
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

/** Posts bills as one batch with a fresh ingest key; returns their transaction ids, in order. */
export async function sendBills(runtime: TestRuntime, items: unknown[]): Promise<string[]> {
  const key = await mintKey(runtime, ['ingest'])
  const res = await postBatch(runtime, { bills: items }, { key })
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body.items.map((i: { transactionId: string }) => i.transactionId)
}

export async function getJson(runtime: TestRuntime, path: string, key?: string) {
  const res = await request(`${runtime.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
  return { status: res.statusCode, body: await res.body.json() as any }
}

export function bills(count: number, prefix = `T${Math.random().toString(36).slice(2, 8)}`, pdfBytes = 4096) {
  return Array.from({ length: count }, (_, index) => sampleBill({ index, prefix, pdfBytes }))
}

export function streamBody(batchId: string | undefined, items: Iterable<object>): Readable {
  return Readable.from(batchBody(batchId, items))
}

export async function countRows(runtime: TestRuntime, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await runtime.pool.query(sql, params)
  return Number(rows[0].n)
}

export async function deliverJobs(runtime: TestRuntime): Promise<number> {
  return countRows(runtime, `SELECT count(*) AS n FROM pgboss.job WHERE name LIKE 'deliver-bill/%'`)
}

export async function blobKeys(runtime: TestRuntime): Promise<string[]> {
  const keys: string[] = []
  for await (const info of runtime.blobs.listOlderThan(new Date(Date.now() + 3_600_000))) keys.push(info.key)
  return keys
}
