import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * DATA_DIR/service.json: where a running development service answers, so the scripts run beside it
 * (send-sample, cli) find it without being told its PORT or the address of its in-process Zoho sandbox.
 */
export interface ServiceFile {
  pid: number
  url?: string
  zohoSandboxUrl?: string
}

const fileOf = (dataDir: string) => path.join(dataDir, 'service.json')

export async function writeServiceFile(dataDir: string, content: ServiceFile): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true })
  await fs.writeFile(fileOf(dataDir), `${JSON.stringify(content)}\n`)
}

/** Removes the file only when it is this process's (another service may have started since). */
export async function removeServiceFile(dataDir: string, pid = process.pid): Promise<void> {
  const found = await readServiceFile(dataDir, false)
  if (found?.pid === pid) await fs.rm(fileOf(dataDir), { force: true })
}

/** The file of a live service under dataDir; null when there is none or its process has gone. */
export async function readServiceFile(dataDir: string, aliveOnly = true): Promise<ServiceFile | null> {
  const text = await fs.readFile(fileOf(dataDir), 'utf8').catch(() => null)
  if (!text) return null
  let parsed: ServiceFile
  try {
    parsed = JSON.parse(text) as ServiceFile
  } catch {
    return null
  }
  if (!Number.isInteger(parsed.pid) || parsed.pid <= 0) return null
  if (aliveOnly && !isAlive(parsed.pid)) return null
  return parsed
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}
