import type { Test } from 'tap'
import type { BlobStore } from '../../src/blob/types.ts'
import { failingAfter, generatedStream, hashStream } from '../helpers/streams.ts'

const MB = 1024 * 1024

/** The behaviour every BlobStore must show, run against each implementation. */
export async function blobStoreContract(t: Test, store: BlobStore, keysLeft: () => Promise<string[]>): Promise<void> {
  await t.test('round-trips a 50 MB stream with its SHA-256 and size, in bounded memory', async (t) => {
    const source = generatedStream(50 * MB)
    const rssBefore = process.memoryUsage().rss
    const put = await store.put('bills/2026/11/25/large.pdf', source.chunks, { contentType: 'application/pdf' })
    t.equal(put.size, 50 * MB)
    t.equal(put.sha256, source.expected())
    const read = await hashStream(await store.get('bills/2026/11/25/large.pdf'))
    t.same(read, { size: 50 * MB, sha256: source.expected() }, 'get returns the same bytes')
    const growth = process.memoryUsage().rss - rssBefore
    t.ok(growth < 100 * MB, `RSS grew ${(growth / MB).toFixed(1)} MB, under 100 MB`)
    const head = await store.head('bills/2026/11/25/large.pdf')
    t.equal(head?.size, 50 * MB)
  })

  await t.test('head, delete and listOlderThan', async (t) => {
    await store.put('sweep/a.pdf', generatedStream(1000).chunks)
    t.equal(await store.head('sweep/missing.pdf'), null)
    const future = new Date(Date.now() + 60_000)
    const listed: string[] = []
    for await (const info of store.listOlderThan(future, 'sweep/')) listed.push(info.key)
    t.same(listed, ['sweep/a.pdf'])
    const none: string[] = []
    for await (const info of store.listOlderThan(new Date(Date.now() - 60_000), 'sweep/')) none.push(info.key)
    t.same(none, [], 'nothing is older than a minute ago')
    await store.delete('sweep/a.pdf')
    await store.delete('sweep/a.pdf')
    t.equal(await store.head('sweep/a.pdf'), null, 'deleted, and deleting again is fine')
    await t.rejects(store.get('sweep/a.pdf'), { code: 'BLOB_NOT_FOUND' })
  })

  await t.test('a source that fails mid-stream leaves nothing', async (t) => {
    await t.rejects(store.put('broken/one.pdf', failingAfter(9 * MB, new Error('client went away'))), /client went away/)
    t.equal(await store.head('broken/one.pdf'), null)
    t.same((await keysLeft()).filter((k) => k.startsWith('broken/') || k.startsWith('.tmp/')), [], 'no object or temp file left')
  })

  await t.test('maxBytes stops the upload with BLOB_TOO_LARGE and leaves nothing', async (t) => {
    await t.rejects(store.put('big/one.pdf', generatedStream(3 * MB).chunks, { maxBytes: 2 * MB }), { code: 'BLOB_TOO_LARGE' })
    t.equal(await store.head('big/one.pdf'), null)
  })

  await t.test('keys are checked', async (t) => {
    await t.rejects(store.put('../escape.pdf', generatedStream(10).chunks), { code: 'BLOB_KEY_INVALID' })
    await t.rejects(store.head('/abs.pdf'), { code: 'BLOB_KEY_INVALID' })
  })

  await t.test('check() passes on a working store', async (t) => {
    await t.resolves(store.check())
  })
}
