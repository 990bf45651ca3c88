// Worker thread entry: drains the backlog with https.post bridged to the main thread.
import { parentPort, workerData } from 'node:worker_threads'
import { syncTransport } from '../fake/http-bridge.ts'
import { drainBacklog, type BacklogOptions } from './scenario.ts'

const { options, port, signal } = workerData as { options: BacklogOptions; port: import('node:worker_threads').MessagePort; signal: SharedArrayBuffer }
const pause = new Int32Array(new SharedArrayBuffer(4))
const result = drainBacklog(syncTransport(port, new Int32Array(signal)), options, (ms) => Atomics.wait(pause, 0, 0, ms), (line) => parentPort!.postMessage({ progress: line }))
parentPort!.postMessage({ result })
