import { createFsBlobStore, type FsStoreOptions } from './fs-store.ts'
import type { S3StoreOptions } from './s3-store.ts'
import type { BlobStore } from './types.ts'

export type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'
export type { FsStoreOptions } from './fs-store.ts'
export type { S3StoreOptions } from './s3-store.ts'

export type BlobStoreConfig = ({ kind: 'fs' } & FsStoreOptions) | ({ kind: 's3' } & S3StoreOptions)

export async function createBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  if (config.kind === 'fs') return createFsBlobStore({ root: config.root })
  // The AWS SDK is loaded only by processes that use S3.
  const { createS3BlobStore } = await import('./s3-store.ts')
  return createS3BlobStore(config)
}
