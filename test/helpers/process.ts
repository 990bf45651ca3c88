import { spawn, type ChildProcess } from 'node:child_process'
import readline from 'node:readline'
import type { Test } from 'tap'

export interface ServiceProcess {
  child: ChildProcess
  /** empty for ROLE=worker, which does not listen */
  url: string
  logs: Array<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Spawns a service process and resolves once its start banner names the URL it listens on. */
export async function spawnService(t: Test, script: string, env: Record<string, string>, timeoutMs = 60_000, options: { cwd?: string; uid?: number; gid?: number; inheritEnv?: boolean; detached?: boolean } = {}): Promise<ServiceProcess> {
  const base = options.inheritEnv === false ? {} : process.env
  const { inheritEnv: _inherit, ...spawnOptions } = options
  const child = spawn(process.execPath, [script], { ...spawnOptions, env: { ...base, LOG_LEVEL: 'info', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line)
      } catch {
        return
      }
      logs.push(entry)
      if (entry.msg === 'billbridge started') {
        clearTimeout(timer)
        resolve(typeof entry.url === 'string' ? entry.url : '')
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`service exited with ${code} before starting; stderr: ${stderr}`))
    })
  })
  return { child, url, logs, exited }
}

/** Runs a script to its end without blocking this process (a sandbox in it must keep answering). */
export async function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk) => (out += chunk))
  child.stderr!.on('data', (chunk) => (err += chunk))
  const code = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)))
  return { code, out, err }
}
