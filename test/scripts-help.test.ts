import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import readline from 'node:readline'
import t from 'tap'
import { loadConfig } from '../src/config.ts'
import { reachableTempDir } from './helpers/embedded.ts'

const SCRIPTS = ['scripts/cli.ts', 'scripts/send-sample.ts', 'scripts/zoho-sandbox.ts', 'scripts/seed-demo.ts', 'scripts/zoho-contract.ts', 'scripts/migrate.ts', 'scripts/bench/index.ts', 'scripts/chaos/index.ts']

// No database and an empty DATA_DIR: --help and a bad option must be answered before either is needed.
const dataDir = await reachableTempDir(t, 'bb-help-')

function run(script: string, args: string[]) {
  const result = spawnSync(process.execPath, [script, ...args], { env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir }, encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, out: result.stdout, err: result.stderr }
}

t.test('every script answers --help with its usage on stdout, exit 0', async (t) => {
  for (const script of SCRIPTS) {
    const help = run(script, ['--help'])
    t.equal(help.code, 0, `${script} --help exits 0`, { err: help.err })
    t.match(help.out, /^usage: npm run /, `${script} prints its usage`)
    t.equal(help.err, '', `${script} writes nothing to stderr`)
  }
  t.same(await fs.readdir(dataDir), [], 'nothing was made under DATA_DIR')
  t.match(run('scripts/send-sample.ts', ['--help']).out, /--bills N[\s\S]*--size SIZE[\s\S]*--key KEY/, 'send-sample lists its options')
  t.match(run('scripts/zoho-sandbox.ts', ['--help']).out, /--port N[\s\S]*--seed existing/, 'zoho-sandbox lists its options')
})

t.test('an unknown option: one line naming it, then the usage, exit 2, no stack', async (t) => {
  for (const script of SCRIPTS) {
    const bad = run(script, ['--no-such-option'])
    t.equal(bad.code, 2, `${script} exits 2`, { err: bad.err })
    const lines = bad.err.split('\n')
    t.equal(lines[0], 'error: unknown option --no-such-option', `${script} names the option`)
    t.match(lines[1], /^usage: /, `${script} follows it with the usage`)
    t.notMatch(bad.err, /^\s+at /m, `${script} prints no stack`)
  }
  const value = run('scripts/send-sample.ts', ['--bills', 'many'])
  t.equal(value.code, 2)
  t.match(value.err, /^error: --bills must be a whole number/)
})

t.test('zoho-sandbox prints every variable billbridge needs to use it, TOKEN_ENCRYPTION_KEY included', async (t) => {
  const child = spawn(process.execPath, ['scripts/zoho-sandbox.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    child.kill('SIGTERM')
  })
  const env: Record<string, string> = {}
  const printed = await new Promise<boolean>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`zoho-sandbox exited with ${code}`)))
    const lines = readline.createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      const match = /^([A-Z_]+)=(.*)$/.exec(line)
      if (match) env[match[1]!] = match[2]!
    })
    // The environment is printed in one write once the sandbox listens; its counters follow only after 10 s.
    lines.on('line', (line) => line.startsWith('ZOHO_') && setImmediate(() => resolve(true)))
  })
  t.ok(printed)
  t.match(env.TOKEN_ENCRYPTION_KEY, /^[0-9a-f]{64}$/)
  const config = loadConfig(env)
  t.equal(config.zoho.mode, 'remote', 'the printed environment alone is a valid configuration pointing at the sandbox')
})
