import fs from 'node:fs'
import path from 'node:path'
import type { ScriptEnv } from './env.ts'
import { createFileModule } from './n-file.ts'
import { createHttpsModule } from './n-https.ts'
import { createRecordModule } from './n-record.ts'
import { createSearchModule } from './n-search.ts'
import { createCryptoModule, createEncodeModule, createErrorModule, createFormatModule, createLogModule, createRuntimeModule } from './n-small.ts'

export const KIT_DIR = path.resolve(import.meta.dirname, '../../../netsuite/src/FileCabinet/SuiteScripts/billbridge')

/** SuiteScript's loader for the kit: define(deps, factory), N/ modules from the fake, ./ modules from the kit. */
export function createLoader(env: ScriptEnv) {
  const clock = env.clock
  // The scripts' Date reads the fake clock, so simulated waits (HTTP timeouts) count against stage time.
  const ScriptDate = class extends Date {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(clock.now())
      else super(...(args as [string]))
    }
    static override now(): number {
      return clock.now()
    }
  }
  const nModules: Record<string, unknown> = {
    'N/search': createSearchModule(env),
    'N/record': createRecordModule(env),
    'N/file': createFileModule(env),
    'N/https': createHttpsModule(env),
    'N/runtime': createRuntimeModule(env),
    'N/log': createLogModule(env),
    'N/format': createFormatModule(env),
    'N/error': createErrorModule(),
    'N/crypto': createCryptoModule(),
    'N/encode': createEncodeModule(),
  }
  const kit = new Map<string, unknown>()

  function load(name: string): any {
    if (name in nModules) return nModules[name]
    const file = path.basename(name).replace(/\.js$/, '')
    if (!kit.has(file)) {
      const source = fs.readFileSync(path.join(KIT_DIR, `${file}.js`), 'utf8')
      let exported: unknown
      const define = (deps: string[], factory: (...modules: unknown[]) => unknown) => {
        exported = factory(...deps.map((dep) => {
          if (!dep.startsWith('N/') && !dep.startsWith('./')) throw new Error(`${file}.js depends on ${dep}, which SuiteScript cannot load`)
          if (dep.startsWith('N/') && !(dep in nModules)) throw new Error(`${file}.js uses ${dep}, which the fake runtime does not model`)
          return load(dep)
        }))
      }
      new Function('define', 'Date', source)(define, ScriptDate)
      kit.set(file, exported)
    }
    return kit.get(file)
  }

  return { load }
}
