import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError, isAppError } from '../errors.ts'
import { HashingCounter, validateKey } from './fs-store.ts'
import type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'

export interface S3StoreOptions {
  bucket: string
  endpoint?: string
  region: string
  forcePathStyle: boolean
  credentials?: { accessKeyId: string; secretAccessKey: string }
  /** multipart part size; memory in flight stays near partSizeBytes × queueSize */
  partSizeBytes?: number
  queueSize?: number
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'])

function unavailable(err: unknown): unknown {
  if (isAppError(err)) return err
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } }
  const status = e?.$metadata?.httpStatusCode
  if ((e?.code && NETWORK_ERRORS.has(e.code)) || (e?.name && NETWORK_ERRORS.has(e.name)) || (status !== undefined && status >= 500)) {
    return new AppError('BLOB_STORE_UNAVAILABLE', 'the S3 PDF store is unavailable', 503)
  }
  return err
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404
}

/** PDFs in any S3-compatible bucket; uploads stream through a multipart upload, hashed on the way. */
export function createS3BlobStore(options: S3StoreOptions): BlobStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Many S3-compatible servers reject the SDK's default CRC32 checksum headers; ask for them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  const bucket = options.bucket

  return {
    kind: 's3',

    async put(key: string, body: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<PutResult> {
      validateKey(key)
      const counter = new HashingCounter(putOptions.maxBytes)
      // lib-storage sizes a Transform body wrongly and then expects a different part count; a PassThrough it reads as a plain stream.
      const bodyStream = new PassThrough()
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: bodyStream, ContentType: putOptions.contentType ?? 'application/octet-stream' },
        partSize: options.partSizeBytes ?? 8 * 1024 * 1024,
        queueSize: options.queueSize ?? 2,
        leavePartsOnError: false,
      })
      const feeding = pipeline(Readable.from(body, { objectMode: false }), counter, bodyStream).catch(async (err: unknown) => {

        await upload.abort().catch(() => undefined)
        throw err
      })
      try {
        await Promise.all([upload.done(), feeding])
      } catch (err) {
        // The source's own error explains the failure better than the aborted upload's.
        const sourceError = await feeding.then(() => null, (e: unknown) => e)
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined)
        throw unavailable(sourceError ?? err)
      }
      return counter.result()
    },

    async get(key: string): Promise<Readable> {
      validateKey(key)
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        return result.Body as Readable
      } catch (err) {
        if (isNotFound(err)) throw new AppError('BLOB_NOT_FOUND', `no blob under key "${key}"`, 404)
        throw unavailable(err)
      }
    },

    async head(key: string): Promise<BlobInfo | null> {
      validateKey(key)
      try {
        const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
        return { key, size: result.ContentLength ?? 0, lastModified: result.LastModified ?? new Date(0) }
      } catch (err) {
        if (isNotFound(err)) return null
        throw unavailable(err)
      }
    },

    async delete(key: string): Promise<void> {
      validateKey(key)
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
        if (!isNotFound(err)) throw unavailable(err)
      })
    },

    async *listOlderThan(cutoff: Date, prefix = ''): AsyncIterable<BlobInfo> {
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }))
        for (const item of page.Contents ?? []) {
          if (item.Key && item.LastModified && item.LastModified < cutoff) yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    },

    async check(): Promise<void> {
      await client.send(new HeadBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
        throw unavailable(err) instanceof AppError ? unavailable(err) : new AppError('BLOB_STORE_UNAVAILABLE', `S3 bucket "${bucket}" is not reachable: ${(err as Error).name ?? 'error'}`, 503)
      })
    },

    async close(): Promise<void> {
      client.destroy()
    },
  }
}
