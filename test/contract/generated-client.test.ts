import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import { request } from 'undici'
import { mintKey } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// The generated-client check: types from the served document (openapi-typescript), a strict client over them
// (openapi-fetch, test/contract/generated-client/client.ts) that must compile with tsc and then work against the service.
const runtime = await startTestRuntime(t, { ROLE: 'api' })
const run = promisify(execFile)
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-generated-client-'))
t.teardown(() => fs.rm(dir, { recursive: true, force: true }))

/** Every place the client would overrule the types instead of narrowing them. */
function escapes(source: string): string[] {
  const file = ts.createSourceFile('client.ts', source, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node) => {
    const constAssertion = ts.isAsExpression(node) && ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(file) === 'const'
    if ((ts.isAsExpression(node) && !constAssertion) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || node.kind === ts.SyntaxKind.AnyKeyword) {
      found.push(`line ${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}: ${node.getText(file).slice(0, 60)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  if (/@ts-(ignore|expect-error|nocheck)/.test(source)) found.push('a @ts- directive')
  return found
}

t.test('openapi-typescript turns the served document into types', async (t) => {
  const doc = await (await request(`${runtime.url}/docs/json`)).body.text()
  await fs.writeFile(path.join(dir, 'openapi.json'), doc)
  const cli = path.resolve('node_modules/openapi-typescript/bin/cli.js')
  const { stderr } = await run(process.execPath, [cli, path.join(dir, 'openapi.json'), '-o', path.join(dir, 'api.d.ts')])
  t.notMatch(stderr, /error|warn/i, `openapi-typescript: ${stderr}`)
  t.match(await fs.readFile(path.join(dir, 'api.d.ts'), 'utf8'), /BatchRejected/)
})

t.test('the strict client compiles against them with no cast', async (t) => {
  const source = await fs.readFile('test/contract/generated-client/client.ts', 'utf8')
  t.same(escapes(source), [], 'no `as` cast, no `<T>` assertion, no `!`, no any, no @ts- directive')
  await fs.writeFile(path.join(dir, 'client.ts'), source)
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  await fs.symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'))
  const project = JSON.parse(await fs.readFile('tsconfig.json', 'utf8')) as { compilerOptions: Record<string, unknown> }
  await fs.writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...project.compilerOptions, lib: ['es2024', 'dom'], skipLibCheck: false, exactOptionalPropertyTypes: true }, files: ['client.ts'] }))
  const tsc = path.resolve('node_modules/typescript/bin/tsc')
  const { stdout } = await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')]).catch((err: { stdout: string }) => err)
  t.equal(stdout, '', 'tsc --strict finds nothing')
})

t.test('and works against the service: every call answers as documented and every error is handled', async (t) => {
  const client = path.join(dir, 'client.ts')
  const { exercise } = (await import(client)) as { exercise: (s: unknown) => Promise<Array<{ step: string; status: number; code?: string; handling?: string; field?: string }>> }
  const outcomes = await exercise({
    baseUrl: runtime.url,
    key: await mintKey(runtime, ['ingest', 'read', 'admin']),
    readKey: await mintKey(runtime, ['read']),
    prefix: `GEN${Date.now()}`,
    fail: async (id: string) => void (await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED' WHERE id = $1`, [id])),
  })
  t.same(outcomes.map(({ step, status, code, field }) => ({ step, status, code, field })), [
    { step: 'send a batch', status: 202, code: undefined, field: undefined },
    { step: 'the rejected bill', status: 202, code: 'CURRENCY_INVALID', field: 'currency' },
    { step: 'send a batch of bad bills only', status: 422, code: 'BATCH_REJECTED', field: undefined },
    { step: 'read the transaction back', status: 200, code: undefined, field: undefined },
    { step: 'read an unknown transaction', status: 404, code: 'TRANSACTION_NOT_FOUND', field: undefined },
    { step: 'look the bills up', status: 200, code: undefined, field: undefined },
    { step: 'retry a bill that has not failed', status: 409, code: 'NOT_FAILED', field: undefined },
    { step: 'retry a failed bill', status: 202, code: undefined, field: undefined },
    { step: 'resolve with a blank note', status: 400, code: 'NOTE_REQUIRED', field: undefined },
    { step: 'resolve a failed bill', status: 200, code: undefined, field: undefined },
    { step: 'read without a key', status: 401, code: 'UNAUTHENTICATED', field: undefined },
    { step: 'send a bill with a read-only key', status: 403, code: 'FORBIDDEN', field: undefined },
  ])
  t.ok(outcomes.filter((o) => o.status >= 400).every((o) => o.handling), 'each error answer got a handling')
  t.match(outcomes.find((o) => o.code === 'BATCH_REJECTED')?.handling, /0: CURRENCY_INVALID \(currency\)/, 'the rejected batch told apart by its items')
})
