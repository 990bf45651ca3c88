// Runs the backlog scenario in a worker thread against a billbridge reachable over HTTP.
import { MessageChannel, Worker } from 'node:worker_threads'
import { serveBridge } from '../fake/http-bridge.ts'
import type { BacklogOptions, BacklogResult } from './scenario.ts'

export function runBacklog(options: BacklogOptions, onProgress: (line: string) => void = () => {}): Promise<BacklogResult> {
  const { port1, port2 } = new MessageChannel()
  const signal = new SharedArrayBuffer(4)
  serveBridge(port1, new Int32Array(signal))
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { options, port: port2, signal }, transferList: [port2] })
  return new Promise((resolve, reject) => {
    worker.on('message', (message: { progress?: string; result?: BacklogResult }) => {
      if (message.progress) onProgress(message.progress)
      if (message.result) {
        port1.close()
        resolve(message.result)
      }
    })
    worker.on('error', reject)
    worker.on('exit', (code) => reject(new Error(`backlog worker exited with ${code}`)))
  })
}
