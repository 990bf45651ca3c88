// The kit type-checks against @hitc/netsuite-types and passes eslint-plugin-suitescript, and both catch a
// planted mistake (so a pass means something).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'

const ROOT = path.resolve(import.meta.dirname, '../..')
const KIT = path.join(ROOT, 'netsuite/src/FileCabinet/SuiteScripts/billbridge')
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')
const ESLINT = path.join(ROOT, 'node_modules/eslint/bin/eslint.js')

type LintResult = { filePath: string; messages: Array<{ ruleId: string; line: number; message: string }> }

/** eslint 8 with the kit's config, JSON out; `source` lints that text as if it were a kit file. */
function eslint(target: string, source?: string): LintResult[] {
  const args = ['--no-eslintrc', '-c', 'netsuite/.eslintrc.json', '--format', 'json', ...(source === undefined ? [target] : ['--stdin', '--stdin-filename', target])]
  const run = spawnSync(process.execPath, [ESLINT, ...args], { cwd: ROOT, encoding: 'utf8', input: source, env: { ...process.env, ESLINT_USE_FLAT_CONFIG: 'false' } })
  return JSON.parse(run.stdout) as LintResult[]
}

function tsc(project: string) {
  const run = spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

t.test('the scripts type-check against @hitc/netsuite-types', async (t) => {
  const clean = tsc(path.join(ROOT, 'netsuite/tsconfig.json'))
  t.equal(clean.status, 0, clean.output)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-tsc-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const file of fs.readdirSync(KIT)) fs.copyFileSync(path.join(KIT, file), path.join(dir, file))
  fs.writeFileSync(path.join(dir, 'bb_send.js'), fs.readFileSync(path.join(KIT, 'bb_send.js'), 'utf8').replace('getContents()', 'getContent()'))
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: path.join(ROOT, 'netsuite/tsconfig.json'), include: [path.join(ROOT, 'netsuite/types/*.d.ts'), '*.js'] }))
  const planted = tsc(path.join(dir, 'tsconfig.json'))
  t.not(planted.status, 0, 'a call NetSuite does not have (File.getContent) fails the check')
  t.match(planted.output, /Property 'getContent' does not exist on type 'File'/)
})

t.test('the scripts pass eslint-plugin-suitescript', async (t) => {
  const problems = eslint('netsuite/src/FileCabinet').flatMap((r) => r.messages.map((m) => `${path.basename(r.filePath)}:${m.line} ${m.ruleId} ${m.message}`))
  t.same(problems, [])
  const entry = fs.readFileSync(path.join(KIT, 'bb_sender_mr.js'), 'utf8')
  const [planted] = eslint(path.join(KIT, 'planted.js'), entry.replace('@NApiVersion 2.1', '@NApiVersion 3.0').replace("'N/record'", "'N/recordz'"))
  t.match(planted!.messages.map((m) => m.ruleId).sort(), ['suitescript/api-version', 'suitescript/no-invalid-modules'], 'an unknown @NApiVersion and an unknown N/ module are caught')
})
