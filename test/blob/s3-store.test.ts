import net from 'node:net'
import t from 'tap'
import { createBlobStore } from '../../src/blob/index.ts'
import { createS3BlobStore } from '../../src/blob/s3-store.ts'
import { startS3Server } from '../helpers/s3.ts'
import { generatedStream } from '../helpers/streams.ts'
import { blobStoreContract } from './contract.ts'

const MB = 1024 * 1024
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

const server = await startS3Server()
// Default part size (8 MB) and queue size (2), as in production.
const store = await createBlobStore({ kind: 's3', bucket: server.bucket, endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
t.equal(store.kind, 's3')
t.teardown(async () => {
  await store.close()
  await server.close()
})

async function keysLeft(): Promise<string[]> {
  const keys: string[] = []
  for await (const info of store.listOlderThan(new Date(Date.now() + 3_600_000))) keys.push(info.key)
  return keys
}

await blobStoreContract(t, store, keysLeft)

t.test('listOlderThan follows continuation tokens past one page of 1000 keys', async (t) => {
  const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}.pdf`)
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, generatedStream(10).chunks)))
  }
  const listed: string[] = []
  for await (const info of store.listOlderThan(new Date(Date.now() + 60_000), 'many/')) listed.push(info.key)
  t.same(listed.sort(), keys)
})

t.test('a part size under the S3 minimum is refused when the store is made', async (t) => {
  t.throws(() => createS3BlobStore({ bucket: server.bucket, endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, partSizeBytes: MB }), /at least 5 MB/)
})

t.test('check() fails with BLOB_STORE_UNAVAILABLE for a missing bucket', async (t) => {
  const other = createS3BlobStore({ bucket: 'no-such-bucket', endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
  t.teardown(() => other.close())
  await t.rejects(other.check(), { code: 'BLOB_STORE_UNAVAILABLE', statusCode: 503, message: /no-such-bucket/ })
})

t.test('an unreachable S3 gives BLOB_STORE_UNAVAILABLE, and a put does not hang on it', async (t) => {
  const endpoint = await closedPortEndpoint()
  const down = createS3BlobStore({ bucket: server.bucket, endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
  t.teardown(() => down.close())
  const expected = { code: 'BLOB_STORE_UNAVAILABLE', statusCode: 503 }
  await t.rejects(down.check(), expected)
  await t.rejects(down.head('a.pdf'), expected)
  await t.rejects(down.get('a.pdf'), expected)
  // Bigger than a part and than the queue can hold: the source must be released when the upload fails.
  await t.rejects(down.put('a.pdf', generatedStream(40 * MB).chunks), expected)
  await t.rejects(down.put('b.pdf', generatedStream(1000).chunks), expected)
  const listing = (async () => {
    for await (const info of down.listOlderThan(new Date())) t.fail(`listed ${info.key}`)
  })()
  await t.rejects(listing, expected)
})

async function closedPortEndpoint(): Promise<string> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as net.AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return `http://127.0.0.1:${port}`
}
