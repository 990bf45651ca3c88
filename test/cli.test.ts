import { spawnSync } from 'node:child_process'
import t from 'tap'
import { createApiKeyRepository } from '../src/auth/api-keys.ts'
import { createTestDatabase } from './helpers/db.ts'

const { url, db, pool } = await createTestDatabase(t)

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/cli.ts', ...args], { env: { ...process.env, DATABASE_URL: url, ZOHO_ORGANIZATION_ID: '' }, encoding: 'utf8' })
  return { code: result.status, out: result.stdout, err: result.stderr }
}

t.test('keys create prints the key last, stores only its hash; list and revoke', async (t) => {
  const created = cli('keys', 'create', '--name', 'netsuite-prod', '--scopes', 'ingest,read')
  t.equal(created.code, 0, created.err)
  const key = created.out.trim().split('\n').at(-1)!
  t.match(key, /^bb_[A-Za-z0-9_-]{40,}$/, 'the last line is the key')
  const identity = await createApiKeyRepository(db).authenticate(key)
  t.same(identity?.scopes, ['ingest', 'read'])
  const { rows } = await pool.query('SELECT key_hash FROM api_keys')
  t.notOk(rows.some((r) => String(r.key_hash).includes(key)), 'not stored in clear')
  const list = cli('keys', 'list')
  t.match(list.out, /netsuite-prod\tbb_.{7}…\tingest,read\tactive/)
  t.notOk(list.out.includes(key), 'list never shows the key')
  t.equal(cli('keys', 'create', '--name', 'netsuite-prod', '--scopes', 'read').code, 1, 'names are unique')
  t.match(cli('keys', 'create', '--name', 'x', '--scopes', 'ingest,superuser').err, /unknown: superuser/)
  t.equal(cli('keys', 'revoke', 'netsuite-prod').code, 0)
  t.equal(await createApiKeyRepository(db).authenticate(key), null, 'revoked keys no longer authenticate')
  t.equal(cli('keys', 'revoke', 'netsuite-prod').code, 1, 'revoking twice says so')
  t.equal(cli('nonsense').code, 64, 'usage for an unknown command')
  const audit = await pool.query(`SELECT action, subject FROM operator_audit WHERE action LIKE 'key_%' ORDER BY id`)
  t.same(audit.rows, [{ action: 'key_created', subject: 'netsuite-prod' }, { action: 'key_revoked', subject: 'netsuite-prod' }], 'key created and revoked are in the audit trail, once each')
})

t.test('map account and retry', async (t) => {
  const mapped = cli('map', 'account', '7777 Consulting Fees', '460000123')
  t.equal(mapped.code, 0, mapped.err)
  t.match(cli('map', 'list').out, /7777 consulting fees\t460000123\toperator/)
  const audit = await pool.query(`SELECT actor, subject, detail FROM operator_audit WHERE action = 'map_account'`)
  t.match(audit.rows[0], { actor: /^cli:/, subject: '7777 Consulting Fees', detail: { old: null, new: '460000123' } }, 'the same path as the mappings page: recorded old → new')
  t.match(cli('map', 'account', 'x', 'not-a-number').err, /numeric Zoho account_id/)
  const retried = cli('retry', '00000000-0000-0000-0000-000000000000')
  t.equal(retried.code, 0, retried.err)
  t.match(retried.out, /requeued 0; skipped 1/)
})
