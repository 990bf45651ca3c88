import { createHash, randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'

/** size pseudo-random bytes, produced chunk by chunk; expected() gives their SHA-256 once consumed. */
export function generatedStream(size: number, chunkSize = 256 * 1024) {
  const hash = createHash('sha256')
  const seed = randomBytes(chunkSize)
  let produced = 0
  let digest: string | undefined
  async function* chunks(): AsyncIterable<Uint8Array> {
    let n = 0
    while (produced < size) {
      const length = Math.min(chunkSize, size - produced)
      const chunk = Buffer.from(seed.subarray(0, length))
      chunk.writeUInt32LE(n++ >>> 0, 0)
      hash.update(chunk)
      produced += length
      yield chunk
    }
    digest = hash.digest('hex')
  }
  return { chunks: chunks(), expected: () => digest! }
}

export async function hashStream(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    hash.update(chunk as Buffer)
  }
  return { size, sha256: hash.digest('hex') }
}

export async function* failingAfter(bytes: number, error: Error): AsyncIterable<Uint8Array> {
  const chunk = Buffer.alloc(64 * 1024, 7)
  let sent = 0
  while (sent < bytes) {
    sent += chunk.length
    yield chunk
  }
  throw error
}
