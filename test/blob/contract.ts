import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { Test } from 'tap'
import type { BlobStore } from '../../src/blob/types.ts'
import { failingAfter, generatedStream, hashStream } from '../helpers/streams.ts'

const MB = 1024 * 1024
const EMPTY_SHA256 = createHash('sha256').digest('hex')

/** The behaviour every BlobStore must show, run against each implementation; keysLeft lists every key the store holds. */
export async function blobStoreContract(t: Test, store: BlobStore, keysLeft: () => Promise<string[]>): Promise<void> {
  const under = async (prefix: string) => (await keysLeft()).filter((k) => k.startsWith(prefix))

  await t.test('round-trips a 50 MB stream with its SHA-256 and size, in bounded memory', async (t) => {
    const key = 'bills/2026/11/25/large.pdf'
    // A multipart-sized round trip first, so modules and pools a store sets up on first use are not counted.
    await store.put('warm-up.pdf', generatedStream(9 * MB).chunks)
    await hashStream(await store.get('warm-up.pdf'))
    await store.delete('warm-up.pdf')

    const source = generatedStream(50 * MB)
    const rssBefore = process.memoryUsage().rss
    const put = await store.put(key, source.chunks, { contentType: 'application/pdf' })
    t.same(put, { size: 50 * MB, sha256: source.expected() }, 'put reports the size and SHA-256 of the bytes sent')
    const read = await hashStream(await store.get(key))
    t.same(read, { size: 50 * MB, sha256: source.expected() }, 'get returns the same bytes')
    const growth = process.memoryUsage().rss - rssBefore
    t.ok(growth < 100 * MB, `RSS grew ${(growth / MB).toFixed(1)} MB over the 50 MB round trip, under 100 MB`)
    t.equal((await store.head(key))?.size, 50 * MB)
  })

  await t.test('an empty body and a body of exactly maxBytes are stored', async (t) => {
    t.same(await store.put('small/empty.pdf', generatedStream(0).chunks), { size: 0, sha256: EMPTY_SHA256 })
    t.same(await hashStream(await store.get('small/empty.pdf')), { size: 0, sha256: EMPTY_SHA256 })
    const exact = generatedStream(1000)
    t.same(await store.put('small/exact.pdf', exact.chunks, { maxBytes: 1000 }), { size: 1000, sha256: exact.expected() })
  })

  await t.test('head, delete and listOlderThan', async (t) => {
    for (const key of ['sweep/a.pdf', 'sweep/sub/b.pdf', 'sweeper/c.pdf']) await store.put(key, generatedStream(1000).chunks)
    const info = await store.head('sweep/a.pdf')
    t.equal(info?.size, 1000)
    t.ok(info && Math.abs(info.lastModified.getTime() - Date.now()) < 60_000, 'lastModified is about now')
    t.equal(await store.head('sweep/missing.pdf'), null)

    const list = async (cutoff: Date, prefix?: string) => {
      const keys: string[] = []
      for await (const item of store.listOlderThan(cutoff, prefix)) keys.push(item.key)
      return keys.sort()
    }
    const future = new Date(Date.now() + 60_000)
    t.same(await list(future, 'sweep/'), ['sweep/a.pdf', 'sweep/sub/b.pdf'], 'a prefix ending in / lists that folder, nested keys included')
    t.same(await list(future, 'sweep/s'), ['sweep/sub/b.pdf'], 'a prefix is a plain string prefix')
    t.same(await list(future, 'sweep'), ['sweep/a.pdf', 'sweep/sub/b.pdf', 'sweeper/c.pdf'])
    t.same(await list(future, 'nowhere/'), [])
    t.same(await list(new Date(Date.now() - 60_000), 'sweep'), [], 'nothing is older than a minute ago')
    await t.rejects(list(future, '../'), { code: 'BLOB_KEY_INVALID' })

    await store.delete('sweep/a.pdf')
    await store.delete('sweep/a.pdf')
    t.equal(await store.head('sweep/a.pdf'), null, 'deleted, and deleting again is fine')
    await t.rejects(store.get('sweep/a.pdf'), { code: 'BLOB_NOT_FOUND', statusCode: 404 })
  })

  await t.test('a source that fails mid-stream leaves nothing', async (t) => {
    await t.rejects(store.put('broken/one.pdf', failingAfter(9 * MB, new Error('client went away'))), { message: 'client went away' })
    t.equal(await store.head('broken/one.pdf'), null)
    t.same(await under('broken/'), [], 'no object left')
    t.same(await under('.tmp/'), [], 'no temp file left')
  })

  await t.test('a failed put over an existing key leaves the earlier blob as it was', async (t) => {
    const first = await store.put('replace/one.pdf', generatedStream(2000).chunks)
    await t.rejects(store.put('replace/one.pdf', failingAfter(MB, new Error('client went away'))), { message: 'client went away' })
    t.same(await hashStream(await store.get('replace/one.pdf')), first)
  })

  await t.test('maxBytes stops the upload with BLOB_TOO_LARGE and leaves nothing', async (t) => {
    await t.rejects(store.put('big/one.pdf', generatedStream(3 * MB).chunks, { maxBytes: 2 * MB }), {
      code: 'BLOB_TOO_LARGE',
      statusCode: 413,
      message: /2097152 bytes/,
    })
    // Past the first part, so an S3 store has a multipart upload under way when the limit is hit.
    await t.rejects(store.put('big/two.pdf', generatedStream(20 * MB).chunks, { maxBytes: 12 * MB }), { code: 'BLOB_TOO_LARGE' })
    t.equal(await store.head('big/one.pdf'), null)
    t.equal(await store.head('big/two.pdf'), null)
    t.same(await under('big/'), [])
    t.same(await under('.tmp/'), [])
  })

  await t.test('keys are checked', async (t) => {
    for (const key of ['../escape.pdf', '/abs.pdf', 'a/../b.pdf', 'a/./b.pdf', 'a//b.pdf', 'trailing/', '', 'with space.pdf', 'ünï.pdf', 'back\\slash.pdf', 'x'.repeat(1025)]) {
      await t.rejects(store.put(key, generatedStream(10).chunks), { code: 'BLOB_KEY_INVALID', statusCode: 400 }, `put ${JSON.stringify(key.slice(0, 20))}`)
    }
    await t.rejects(store.head('/abs.pdf'), { code: 'BLOB_KEY_INVALID' })
    await t.rejects(store.get('../x.pdf'), { code: 'BLOB_KEY_INVALID' })
    await t.rejects(store.delete('a/../../x.pdf'), { code: 'BLOB_KEY_INVALID' })
    const body = Readable.from([Buffer.from('%PDF-')])
    await t.rejects(store.put('../escape.pdf', body), { code: 'BLOB_KEY_INVALID' })
    t.ok(body.destroyed, 'the refused body is closed, not left waiting')
  })

  await t.test('check() passes on a working store', async (t) => {
    await t.resolves(store.check())
  })
}
