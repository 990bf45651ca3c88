import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError, isAppError } from '../errors.ts'
import { incomingBody, releaseBody } from './incoming.ts'
import { validateKey, validatePrefix } from './keys.ts'
import type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'

export interface S3StoreOptions {
  bucket: string
  endpoint?: string
  region: string
  forcePathStyle: boolean
  credentials?: { accessKeyId: string; secretAccessKey: string }
  /** multipart part size, at least 5 MB (default 8 MB); a put holds about partSizeBytes × (queueSize + 1) */
  partSizeBytes?: number
  /** parts uploaded at once (default 2) */
  queueSize?: number
}

const MB = 1024 * 1024
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])

interface S3ErrorShape {
  name?: string
  code?: string
  $metadata?: { httpStatusCode?: number }
}

/** PDFs in any S3-compatible bucket; a put streams through lib-storage (one PUT, or a multipart upload), hashed on the way. */
export function createS3BlobStore(options: S3StoreOptions): BlobStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The SDK's default CRC32 checksums (aws-chunked bodies) are rejected, or stored verbatim, by many S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A stalled S3 must fail a put or a readiness probe, not hang it (requestTimeout is per idle socket, not per object).
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  })
  const bucket = options.bucket
  const partSize = options.partSizeBytes ?? 8 * MB
  const queueSize = options.queueSize ?? 2
  if (partSize < 5 * MB) throw new Error(`partSizeBytes must be at least 5 MB, the smallest part S3 accepts (got ${partSize})`)
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new Error(`queueSize must be a positive integer (got ${queueSize})`)
  const unavailable = (err: unknown) => storeFailure(err, bucket)

  return {
    kind: 's3',

    async put(key: string, body: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<PutResult> {
      const incoming = incomingBody(body, putOptions.maxBytes)
      let upload: Upload
      try {
        upload = new Upload({
          client,
          params: { Bucket: bucket, Key: validateKey(key), Body: incoming.meter, ContentType: putOptions.contentType ?? 'application/octet-stream' },
          partSize,
          queueSize,
          leavePartsOnError: false,
        })
      } catch (err) {
        await releaseBody(body)
        throw err
      }
      // When the body fails, lib-storage aborts its multipart upload itself before done() rejects; upload.abort() would reject first.
      let uploadError: { error: unknown } | undefined
      const uploading = upload.done().then(
        () => undefined,
        (error: unknown) => {
          uploadError = { error }
          incoming.meter.destroy()
        },
      )
      const feeding = pipeline(incoming.source, incoming.meter).catch(() => undefined)
      await Promise.all([uploading, feeding])
      const failure = incoming.failure() ?? (uploadError && { error: unavailable(uploadError.error) })
      if (failure) throw failure.error
      return incoming.result()
    },

    async get(key: string): Promise<Readable> {
      validateKey(key)
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        if (!(Body instanceof Readable)) throw new Error(`GetObject returned no readable body for "${key}"`)
        return Body
      } catch (err) {
        throw isMissingObject(err) ? new AppError('BLOB_NOT_FOUND', `no blob under key "${key}"`, 404) : unavailable(err)
      }
    },

    async head(key: string): Promise<BlobInfo | null> {
      validateKey(key)
      try {
        const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
        return { key, size: result.ContentLength ?? 0, lastModified: result.LastModified ?? new Date(0) }
      } catch (err) {
        if (isMissingObject(err)) return null
        throw unavailable(err)
      }
    },

    async delete(key: string): Promise<void> {
      validateKey(key)
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
      } catch (err) {
        if (!isMissingObject(err)) throw unavailable(err)
      }
    },

    async *listOlderThan(cutoff: Date, prefix = ''): AsyncIterable<BlobInfo> {
      validatePrefix(prefix)
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token })).catch((err: unknown) => {
          throw unavailable(err)
        })
        for (const item of page.Contents ?? []) {
          if (item.Key && item.LastModified && item.LastModified < cutoff) yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    },

    async check(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }))
      } catch (err) {
        const failure = unavailable(err)
        // Whatever stops HeadBucket (a wrong bucket name, credentials, a 4xx) means the store is not ready.
        throw isAppError(failure) ? failure : new AppError('BLOB_STORE_UNAVAILABLE', `S3 bucket "${bucket}" cannot be used: ${describe(err)}`, 503, details(err))
      }
    },

    async close(): Promise<void> {
      client.destroy()
    },
  }
}

function isMissingObject(err: unknown): boolean {
  const e = err as S3ErrorShape | null
  if (e?.name === 'NoSuchBucket') return false
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404
}

/** Connectivity, server-side, credential and missing-bucket failures become BLOB_STORE_UNAVAILABLE; other errors pass through. */
function storeFailure(err: unknown, bucket: string): unknown {
  if (isAppError(err)) return err
  const e = err as S3ErrorShape | null
  const status = e?.$metadata?.httpStatusCode
  const down =
    (e?.code !== undefined && NETWORK_ERRORS.has(e.code)) ||
    e?.name === 'TimeoutError' ||
    e?.name === 'NoSuchBucket' ||
    (status !== undefined && (status >= 500 || status === 403))
  if (!down) return err
  return new AppError('BLOB_STORE_UNAVAILABLE', `the S3 PDF store (bucket "${bucket}") is unavailable: ${describe(err)}`, 503, details(err))
}

function describe(err: unknown): string {
  const e = err as S3ErrorShape | null
  const status = e?.$metadata?.httpStatusCode
  return [e?.name, e?.code, status && `HTTP ${status}`].filter(Boolean).join(' ') || 'unknown error'
}

function details(err: unknown): { name?: string; code?: string; status?: number } {
  const e = err as S3ErrorShape | null
  return { name: e?.name, code: e?.code, status: e?.$metadata?.httpStatusCode }
}
