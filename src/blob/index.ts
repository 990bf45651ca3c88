import type { BlobConfig } from '../config.ts'
import { createFsBlobStore } from './fs-store.ts'
import type { BlobStore } from './types.ts'

export type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'

export async function createBlobStore(config: BlobConfig): Promise<BlobStore> {
  if (config.kind === 'fs') return createFsBlobStore({ root: config.root })
  // The AWS SDK is loaded only by processes that use S3.
  const { createS3BlobStore } = await import('./s3-store.ts')
  return createS3BlobStore(config)
}
