import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError } from '../errors.ts'
import type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'

const TMP = '.tmp'
const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/

export function validateKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new AppError('BLOB_KEY_INVALID', `blob key "${key}" must be relative path segments of letters, digits, dot, dash and underscore`, 400)
  }
}

/** Counts and hashes bytes on their way through; fails once more than maxBytes pass. */
export class HashingCounter extends Transform {
  readonly hash = createHash('sha256')
  size = 0
  private readonly maxBytes: number

  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    super()
    this.maxBytes = maxBytes
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null, data?: Buffer) => void): void {
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      callback(new AppError('BLOB_TOO_LARGE', `object is larger than the ${this.maxBytes} bytes allowed`, 413))
      return
    }
    this.hash.update(chunk)
    callback(null, chunk)
  }

  result(): PutResult {
    return { size: this.size, sha256: this.hash.digest('hex') }
  }
}

/**
 * PDFs on local disk. A put streams into `.tmp/`, fsyncs and renames into place, so a crash never leaves a
 * half-written file under the real name; temp files a crash leaves behind are listed by listOlderThan
 * (under their `.tmp/` key) so the orphan sweep removes them.
 */
export function createFsBlobStore(options: { root: string }): BlobStore {
  const root = path.resolve(options.root)
  const tmpDir = path.join(root, TMP)
  const fileOf = (key: string) => {
    validateKey(key)
    return path.join(root, key)
  }

  return {
    kind: 'fs',

    async put(key: string, body: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<PutResult> {
      const target = fileOf(key)
      await fs.mkdir(tmpDir, { recursive: true })
      const temp = path.join(tmpDir, `${randomUUID()}.part`)
      const counter = new HashingCounter(putOptions.maxBytes)
      try {
        // flush: the file is fsynced before it closes, so the rename publishes complete bytes.
        await pipeline(body, counter, createWriteStream(temp, { flags: 'wx', flush: true }))
        await fs.mkdir(path.dirname(target), { recursive: true })
        await fs.rename(temp, target)
      } catch (err) {
        await fs.rm(temp, { force: true })
        throw err
      }
      return counter.result()
    },

    async get(key: string): Promise<Readable> {
      const file = fileOf(key)
      const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new AppError('BLOB_NOT_FOUND', `no blob under key "${key}"`, 404)
        throw err
      })
      return createReadStream('', { fd: handle })
    },

    async head(key: string): Promise<BlobInfo | null> {
      const stat = await fs.stat(fileOf(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null
        throw err
      })
      return stat?.isFile() ? { key, size: stat.size, lastModified: stat.mtime } : null
    },

    async delete(key: string): Promise<void> {
      await fs.rm(fileOf(key), { force: true })
    },

    async *listOlderThan(cutoff: Date, prefix = ''): AsyncIterable<BlobInfo> {
      for await (const info of walk(root, '')) {
        if (info.key.startsWith(prefix) && info.lastModified < cutoff) yield info
      }
    },

    async check(): Promise<void> {
      await fs.mkdir(tmpDir, { recursive: true })
      const probe = path.join(tmpDir, `probe-${randomUUID()}`)
      await fs.writeFile(probe, 'ok')
      await fs.rm(probe, { force: true })
    },

    async close(): Promise<void> {},
  }
}

async function* walk(root: string, relative: string): AsyncIterable<BlobInfo> {
  const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  for (const entry of entries) {
    const key = relative ? `${relative}/${entry.name}` : entry.name
    if (entry.isDirectory()) yield* walk(root, key)
    else if (entry.isFile()) {
      const stat = await fs.stat(path.join(root, key)).catch(() => null)
      if (stat) yield { key, size: stat.size, lastModified: stat.mtime }
    }
  }
}
