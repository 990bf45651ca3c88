import type { Readable } from 'node:stream'

export interface PutResult {
  size: number
  /** lower-case hex SHA-256 of the bytes stored */
  sha256: string
}

export interface BlobInfo {
  key: string
  size: number
  lastModified: Date
}

export interface PutOptions {
  contentType?: string
  /** Reject with BLOB_TOO_LARGE (and store nothing) once more than this many bytes arrive. */
  maxBytes?: number
}

/**
 * Where PDFs live. Every method streams: no implementation may hold a whole object in memory.
 * Keys are relative paths made of [A-Za-z0-9._/-] segments, never starting with '/' or containing '..'.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3'
  /** Stores the stream under key. If the source errors, rejects with that error and leaves nothing under key. */
  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>
  /** Rejects with AppError code BLOB_NOT_FOUND (404) when absent. */
  get(key: string): Promise<Readable>
  head(key: string): Promise<BlobInfo | null>
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Every blob last modified before cutoff, for the orphan sweep. */
  listOlderThan(cutoff: Date, prefix?: string): AsyncIterable<BlobInfo>
  /** Throws when the store cannot be reached or written (readiness probe). */
  check(): Promise<void>
  close(): Promise<void>
}
