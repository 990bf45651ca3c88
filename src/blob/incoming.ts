import { createHash } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import { AppError } from '../errors.ts'
import type { PutResult } from './types.ts'

export interface IncomingBody {
  /** the caller's chunks; an error they throw is remembered as the put's failure */
  source: AsyncIterable<Uint8Array>
  /** counts and hashes the bytes passing through; fails with BLOB_TOO_LARGE past maxBytes */
  meter: Transform
  /** the error put must reject with when the source or the size limit (not the store) ended it */
  failure(): { error: unknown } | undefined
  result(): PutResult
}

/** The bytes of one put on their way into a store, measured while they stream. */
export function incomingBody(body: AsyncIterable<Uint8Array>, maxBytes = Number.POSITIVE_INFINITY): IncomingBody {
  const hash = createHash('sha256')
  let size = 0
  let failure: { error: unknown } | undefined

  async function* source(): AsyncIterable<Uint8Array> {
    try {
      yield* body
    } catch (error) {
      failure ??= { error }
      throw error
    }
  }

  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > maxBytes) {
        const error = new AppError('BLOB_TOO_LARGE', `the object is larger than the ${maxBytes} bytes allowed`, 413, { maxBytes })
        failure ??= { error }
        callback(error)
        return
      }
      hash.update(chunk)
      callback(null, chunk)
    },
  })

  let digest: string | undefined
  return {
    source: source(),
    meter,
    failure: () => failure,
    result: () => ({ size, sha256: (digest ??= hash.digest('hex')) }),
  }
}

/** Closes a body that a failed put never got to read, so a stream behind it is not left waiting. */
export async function releaseBody(body: AsyncIterable<Uint8Array>): Promise<void> {
  // return() on an iterator that never started does not reach a stream, so streams are destroyed directly.
  if (body instanceof Readable) body.destroy()
  else await body[Symbol.asyncIterator]().return?.()?.catch(() => undefined)
}
