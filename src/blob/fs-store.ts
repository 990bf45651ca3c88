import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError, isAppError } from '../errors.ts'
import { incomingBody, releaseBody } from './incoming.ts'
import { validateKey, validatePrefix } from './keys.ts'
import type { BlobInfo, BlobStore, PutOptions, PutResult } from './types.ts'

export interface FsStoreOptions {
  root: string
}

const TEMP_DIR = '.tmp'
const TEMP_PREFIX = `${TEMP_DIR}/`

/**
 * PDFs on local disk under root. A put streams into root/.tmp (same filesystem), fsyncs, then renames into
 * place, so a crash never leaves a half-written file under a real key.
 * Temp files a crash leaves behind are listed by listOlderThan under their ".tmp/<name>" key, and delete
 * accepts those keys, so the orphan sweep removes them like any other unreferenced blob. A put in progress
 * keeps its temp file's mtime fresh, so only abandoned ones fall before a sweep's cutoff.
 */
export function createFsBlobStore(options: FsStoreOptions): BlobStore {
  const root = path.resolve(options.root)
  const tempDir = path.join(root, TEMP_DIR)
  const fileOf = (key: string) => path.join(root, validateKey(key))
  const unavailable = (err: unknown) => diskFailure(err, root)

  return {
    kind: 'fs',

    async put(key: string, body: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<PutResult> {
      const incoming = incomingBody(body, putOptions.maxBytes)
      const temp = path.join(tempDir, `${randomUUID()}.part`)
      try {
        if (key.startsWith(TEMP_PREFIX)) throw new AppError('BLOB_KEY_INVALID', `blob keys under "${TEMP_PREFIX}" are reserved for writes in progress`, 400)
        const target = fileOf(key)
        await fs.mkdir(tempDir, { recursive: true })
        // flush: the temp file is fsynced before it closes, so the rename only ever publishes complete bytes.
        await pipeline(incoming.source, incoming.meter, createWriteStream(temp, { flags: 'wx', flush: true }))
        await fs.mkdir(path.dirname(target), { recursive: true })
        await fs.rename(temp, target)
        await syncDirectory(path.dirname(target))
      } catch (err) {
        await fs.rm(temp, { force: true }).catch(() => undefined)
        await releaseBody(body)
        throw incoming.failure()?.error ?? unavailable(err)
      }
      return incoming.result()
    },

    async get(key: string): Promise<Readable> {
      const handle = await fs.open(fileOf(key), 'r').catch((err: unknown) => {
        throw isMissing(err) ? notFound(key) : unavailable(err)
      })
      // open() succeeds on a directory; only a regular file is a blob.
      const isFile = await handle.stat().then((stat) => stat.isFile(), () => false)
      if (!isFile) {
        await handle.close()
        throw notFound(key)
      }
      return handle.createReadStream()
    },

    async head(key: string): Promise<BlobInfo | null> {
      const stat = await fs.stat(fileOf(key)).catch((err: unknown) => {
        if (isMissing(err)) return null
        throw unavailable(err)
      })
      return stat?.isFile() ? { key, size: stat.size, lastModified: stat.mtime } : null
    },

    async delete(key: string): Promise<void> {
      await fs.unlink(fileOf(key)).catch((err: unknown) => {
        if (!isMissing(err) && errnoOf(err) !== 'EISDIR') throw unavailable(err)
      })
    },

    async *listOlderThan(cutoff: Date, prefix = ''): AsyncIterable<BlobInfo> {
      validatePrefix(prefix)
      const start = prefix.slice(0, Math.max(0, prefix.lastIndexOf('/')))
      try {
        for await (const info of walk(root, start)) {
          if (info.key.startsWith(prefix) && info.lastModified < cutoff) yield info
        }
      } catch (err) {
        throw unavailable(err)
      }
    },

    async check(): Promise<void> {
      const probe = path.join(tempDir, `probe-${randomUUID()}`)
      try {
        await fs.mkdir(tempDir, { recursive: true })
        await fs.writeFile(probe, 'ok', { flush: true })
      } catch (err) {
        throw unavailable(err)
      } finally {
        await fs.rm(probe, { force: true }).catch(() => undefined)
      }
    },

    async close(): Promise<void> {},
  }
}

/** Every regular file under root/relative, with its key; a missing folder holds nothing. */
async function* walk(root: string, relative: string): AsyncIterable<BlobInfo> {
  const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true }).catch((err: unknown) => {
    if (isMissing(err)) return []
    throw err
  })
  for (const entry of entries) {
    const key = relative ? `${relative}/${entry.name}` : entry.name
    if (entry.isDirectory()) yield* walk(root, key)
    else if (entry.isFile()) {
      // The file may be deleted between readdir and stat.
      const stat = await fs.stat(path.join(root, key)).catch(() => null)
      if (stat) yield { key, size: stat.size, lastModified: stat.mtime }
    }
  }
}

// A rename is durable only once the directory holding the new name is synced.
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function isMissing(err: unknown): boolean {
  const code = errnoOf(err)
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function notFound(key: string): AppError {
  return new AppError('BLOB_NOT_FOUND', `no blob under key "${key}"`, 404)
}

function diskFailure(err: unknown, root: string): unknown {
  if (isAppError(err)) return err
  const code = errnoOf(err)
  if (!code?.startsWith('E')) return err
  return new AppError('BLOB_STORE_UNAVAILABLE', `the PDF store at ${root} cannot be used: ${code}`, 503, { code })
}
