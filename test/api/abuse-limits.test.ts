import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { CookieJar, csrfFrom, getPage, postForm } from '../helpers/admin.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { waitFor } from '../helpers/zoho.ts'

// TRUST_PROXY lets each test speak from its own client address (X-Forwarded-For), as it would behind a proxy.
// The default idle timeout (30 s) keeps the held uploads open however busy the machine is.
const runtime = await startTestRuntime(t, { ROLE: 'api', TRUST_PROXY: 'true', AUTH_FAILURES_PER_MINUTE: '5', MAX_UPLOADS_PER_KEY: '2' })
const key = await mintKey(runtime, ['ingest', 'read', 'admin'])
// A second service whose idle timeout is short, for the stalled upload.
const impatient = await startTestRuntime(t, { ROLE: 'api', REQUEST_IDLE_TIMEOUT_MS: '3000' })
const impatientKey = await mintKey(impatient, ['ingest'])

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

/** An upload that sends its headers and the start of a PDF, then nothing more. */
async function stalledUpload(apiKey: string, target = runtime): Promise<net.Socket> {
  const url = new URL(target.url)
  const socket = net.connect(Number(url.port), url.hostname)
  await new Promise((resolve) => socket.once('connect', resolve))
  const start = `{"bills":[{"externalId":"STALL","attachment":{"fileName":"a.pdf","contentBase64":"${Buffer.from('%PDF-1.4 '.repeat(2000)).toString('base64')}`
  socket.write(`POST /v1/vendor-bills/batches HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`)
  socket.write(`${Buffer.byteLength(start).toString(16)}\r\n${start}\r\n`)
  socket.on('error', () => undefined)
  return socket
}

/** Everything the server writes back on a socket until it closes it. */
function answerOf(socket: net.Socket): () => string {
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString() })
  return () => text
}

t.test('an upload that stops sending is answered 408 REQUEST_TIMEOUT after REQUEST_IDLE_TIMEOUT_MS, closed, and its temp file removed', async (t) => {
  const socket = await stalledUpload(impatientKey, impatient)
  const answer = answerOf(socket)
  const blobDir = impatient.config.blob.kind === 'fs' ? impatient.config.blob.root : ''
  await waitFor(async () => (await filesUnder(blobDir)).length > 0, 'the stalled upload to write its temp file')
  await waitFor(async () => socket.destroyed || socket.readableEnded, 'the server to close the idle upload')
  t.match(answer(), /^HTTP\/1\.1 408 /, 'an HTTP answer before the close, not a reset')
  t.match(answer(), /"code":"REQUEST_TIMEOUT"/)
  t.match(answer(), /connection: close/i)
  await waitFor(async () => (await filesUnder(blobDir)).length === 0, 'the temp file to be removed')
  t.pass('the idle upload was closed and left no file behind')
})

t.test('a JSON body that stops arriving on another route is answered 408 as well', async (t) => {
  const url = new URL(impatient.url)
  const socket = net.connect(Number(url.port), url.hostname)
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.on('error', () => undefined)
  const answer = answerOf(socket)
  const reader = await mintKey(impatient, ['read'])
  socket.write(`POST /v1/transactions/lookup HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${reader}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"externalIds": [`)
  await waitFor(async () => socket.destroyed || socket.readableEnded, 'the server to close the idle request')
  t.match(answer(), /^HTTP\/1\.1 408 /)
  t.match(answer(), /"code":"REQUEST_TIMEOUT"/)
})

t.test('past MAX_UPLOADS_PER_KEY concurrent uploads, a key gets 429 with Retry-After', async (t) => {
  const tempDir = path.join(runtime.config.blob.kind === 'fs' ? runtime.config.blob.root : '', '.tmp')
  const held: net.Socket[] = []
  for (const n of [1, 2]) {
    held.push(await stalledUpload(key))
    // An upload holds its slot from before its body is read: once its PDF's temp file exists, it is counted.
    await waitFor(async () => (await filesUnder(tempDir)).length >= n, `stalled upload ${n} to reach the store`)
  }
  const refused = await postBatch(runtime, { bills: bills(1) }, { key })
  t.equal(refused.status, 429)
  t.equal(refused.body.error.code, 'TOO_MANY_UPLOADS')
  t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After is set')
  const other = await mintKey(runtime, ['ingest'])
  t.equal((await postBatch(runtime, { bills: bills(1) }, { key: other })).status, 202, 'another key is not held up')
  for (const socket of held) socket.destroy()
  await waitFor(async () => (await postBatch(runtime, { bills: bills(1) }, { key })).status === 202, 'the slots to be given back')
  t.pass('slots come back when the uploads end')
})

t.test('failed API authentications from one address are throttled with Retry-After', async (t) => {
  const from = { 'x-forwarded-for': '203.0.113.7' }
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) {
    const res = await request(`${runtime.url}/v1/transactions?externalId=x`, { headers: { authorization: `Bearer bb_guess${i}`, ...from } })
    statuses.push(res.statusCode)
    if (i === 6) {
      t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set')
      t.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'AUTH_THROTTLED')
    } else await res.body.dump()
  }
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429])
  const good = await request(`${runtime.url}/v1/transactions?externalId=x`, { headers: { authorization: `Bearer ${key}`, ...from } })
  t.equal(good.statusCode, 429, 'while throttled, even a right key from that address waits')
  await good.body.dump()
  const elsewhere = await request(`${runtime.url}/v1/transactions?externalId=x`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': '198.51.100.9' } })
  t.equal(elsewhere.statusCode, 200, 'other addresses are not affected')
  await elsewhere.body.dump()
})

t.test('failed dashboard logins from one address are throttled with Retry-After', async (t) => {
  const from = { 'x-forwarded-for': '203.0.113.8' }
  const jar = new CookieJar()
  const statuses: number[] = []
  let last
  for (let i = 0; i < 6; i++) {
    const form = await getPage(runtime, jar, '/admin/login', from)
    last = await postForm(runtime, jar, '/admin/login', { _csrf: csrfFrom(form.html), apiKey: `bb_guess${i}` }, from)
    statuses.push(last.status)
  }
  t.same(statuses, [401, 401, 401, 401, 401, 429])
  t.ok(Number(last!.headers['retry-after']) > 0, 'Retry-After is set')
})
