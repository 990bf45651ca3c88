import t from 'tap'
import { createS3BlobStore } from '../../src/blob/s3-store.ts'
import { startS3Server } from '../helpers/s3.ts'
import { blobStoreContract } from './contract.ts'

const server = await startS3Server()
const store = createS3BlobStore({
  bucket: server.bucket,
  endpoint: server.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  partSizeBytes: 5 * 1024 * 1024,
})
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

t.test('check() fails with BLOB_STORE_UNAVAILABLE for a missing bucket', async (t) => {
  const other = createS3BlobStore({ bucket: 'no-such-bucket', endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
  await t.rejects(other.check(), { code: 'BLOB_STORE_UNAVAILABLE' })
  await other.close()
})
