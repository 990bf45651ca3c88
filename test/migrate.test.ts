import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { migrate, readMigrations } from '../src/db/migrate.ts'
import { createPool } from '../src/db/pool.ts'
import { createTestDatabase, silentLogger } from './helpers/db.ts'

t.test('migrations apply once and are idempotent', async (t) => {
  const { pool } = await createTestDatabase(t, { migrate: false })
  const files = await readMigrations()
  const first = await migrate(pool, silentLogger)
  t.same(first, files.map((m) => m.version), 'every file applied on an empty database')
  const second = await migrate(pool, silentLogger)
  t.same(second, [], 'nothing applied the second time')
  const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version')
  t.same(rows.map((r) => r.version), files.map((m) => m.version))
  const tables = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
  const names = tables.rows.map((r) => r.table_name)
  for (const table of ['batches', 'transactions', 'attempts']) t.ok(names.includes(table), `${table} exists`)
})

t.test('two migrators started at once apply each file exactly once', async (t) => {
  const { url, pool } = await createTestDatabase(t, { migrate: false })
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-migrations-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  // A slow migration widens the window in which a second migrator could run it again.
  await fs.writeFile(path.join(dir, '0001_slow.sql'), 'SELECT pg_sleep(0.5); CREATE TABLE counter (n integer);')
  await fs.writeFile(path.join(dir, '0002_count.sql'), 'INSERT INTO counter VALUES (1);')
  const other = createPool(url, silentLogger, 2)
  t.teardown(() => other.end())
  const [a, b] = await Promise.all([migrate(pool, silentLogger, dir), migrate(other, silentLogger, dir)])
  t.same([...a, ...b].sort(), [1, 2], 'each version applied by exactly one migrator')
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM counter')
  t.equal(rows[0].n, 1, 'the insert ran once')
})

t.test('a failing migration rolls back and names the file', async (t) => {
  const { pool } = await createTestDatabase(t, { migrate: false })
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-migrations-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  await fs.writeFile(path.join(dir, '0001_ok.sql'), 'CREATE TABLE a (n integer);')
  await fs.writeFile(path.join(dir, '0002_bad.sql'), 'CREATE TABLE b (n integer); SELECT no_such_function();')
  await t.rejects(migrate(pool, silentLogger, dir), /0002_bad failed/)
  const { rows } = await pool.query(`SELECT to_regclass('b') AS b, to_regclass('a') AS a`)
  t.equal(rows[0].b, null, 'the failed file left nothing behind')
  t.equal(rows[0].a, 'a', 'earlier files stay applied')
  const versions = await pool.query('SELECT version FROM schema_migrations')
  t.same(versions.rows.map((r) => r.version), [1])
})
