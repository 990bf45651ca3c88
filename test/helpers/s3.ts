import { fork } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface S3Server {
  endpoint: string
  bucket: string
  close(): Promise<void>
}

const PROCESS = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url))

/**
 * A real S3-protocol server (s3rver) on a free port of 127.0.0.1, keeping objects in a temp folder.
 * It runs in a child process because s3rver makes ListObjectsV2 continuation tokens with DES, which Node's
 * OpenSSL 3 offers only with --openssl-legacy-provider (without it every truncated listing is a 500);
 * a child also keeps s3rver's own memory out of the test's RSS measurements.
 */
export async function startS3Server(bucket = 'billbridge-test'): Promise<S3Server> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-s3-'))
  const child = fork(PROCESS, [directory, bucket], { execArgv: ['--openssl-legacy-provider'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port))
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`s3rver exited (${signal ?? code}) before listening`)))
  })
  // A test that never calls close() must not be kept alive by the server.
  child.unref()
  child.channel?.unref()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref()
        const exited = once(child, 'exit')
        child.send('close')
        await exited
      }
      await fs.rm(directory, { recursive: true, force: true })
    },
  }
}
