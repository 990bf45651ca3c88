// Reconciliation benchmark: 10,000 delivered bills, seeded straight into the Zoho sandbox and the database (as
// if billbridge had delivered them), then one reconciliation run through the workers' Zoho stack (token,
// rate bucket at Zoho's 100 requests a minute, concurrency slots). Prints the Zoho requests it made and its time.
//   DATABASE_URL=postgres://… npm run bench -- reconcile [--bills 10000] [--daily-limit 1000] [--share 0.05]
import { defaultOrganization } from '../../src/zoho/organizations.ts'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../src/config.ts'
import { createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'
import { reconcile } from '../../src/reconcile/run.ts'
import { newId, zohoTime } from '../../src/sandbox/state.ts'
import { sandboxZohoEnv, startZohoSandbox } from '../../src/sandbox/server.ts'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { openZohoSession } from '../lib/zoho-session.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'reconcile'),
  options: { bills: { type: 'string', default: '10000' }, 'daily-limit': { type: 'string', default: '1000' }, share: { type: 'string', default: '0.05' } },
})
const count = Number(values.bills)
const logger = createLogger('warn', process.stderr)
const bench = await openBenchDatabase('reconcile')
const sandbox = await startZohoSandbox({ port: 0 })
const config = loadConfig({ ...sandboxZohoEnv(sandbox), DATABASE_URL: bench.databaseUrl, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ZOHO_UNIQUE_FIELD: 'cf_netsuite_id', ZOHO_DAILY_LIMIT: values['daily-limit'] })
if (config.zoho.mode !== 'remote') throw new Error('the sandbox stands for a remote organization here')
const pool = createPool(bench.databaseUrl, logger, 8)
try {
  const vendor = [...sandbox.state.contacts.values()][0]!
  const account = sandbox.state.accounts.keys().next().value!
  const rows = { externalId: [] as string[], billNumber: [] as string[], amount: [] as string[], date: [] as string[], zohoId: [] as string[] }
  for (let i = 0; i < count; i++) {
    const id = newId()
    const date = `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`
    const total = 10 + (i % 9000) / 100
    const externalId = `BENCH-${i + 1}`
    sandbox.state.recordBill({
      bill_id: id, vendor_id: vendor.contact_id, bill_number: `BENCH-INV-${i + 1}`, status: 'open', date, currency_id: vendor.currency_id, currency_code: vendor.currency_code, exchange_rate: 1,
      line_items: [{ account_id: account, rate: total, quantity: 1 }], custom_fields: [{ api_name: 'cf_netsuite_id', value: externalId }], total, attachments: [],
      created_time: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(), last_modified_time: zohoTime(), payment_made: 0,
    }, false)
    rows.externalId.push(externalId); rows.billNumber.push(`BENCH-INV-${i + 1}`); rows.amount.push(total.toFixed(2)); rows.date.push(date); rows.zohoId.push(id)
  }
  const organization = defaultOrganization(config.organizations)
  // Delivered bills of the organization: a run reads only its own organization's bills.
  await pool.query(
    `INSERT INTO transactions (external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, blob_key, file_name, sha256, size_bytes, zoho_bill_id, zoho_attachment, zoho_vendor_id, zoho_vendor_name, delivered_at, organization_id)
     SELECT e, n, $6, jsonb_build_object('name', $6::text), jsonb_build_object('date', d, 'currency', 'USD'), a::numeric, 'USD', 'delivered', 'bench/' || e, n || '.pdf', 'bench', 1000, z, true, $7, $6, now(), $8
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(e, n, a, d, z)`,
    [rows.externalId, rows.billNumber, rows.amount, rows.date, rows.zohoId, vendor.contact_name, vendor.contact_id, organization.organizationId])
  const session = openZohoSession({ pool, limits: organization.limits, target: organization.target, encryptionKey: config.tokenEncryptionKey, logger })
  const started = Date.now()
  const result = await reconcile({ pool, books: session.stack.books, organizationId: organization.organizationId, uniqueField: 'cf_netsuite_id', dailyLimit: organization.limits.dailyLimit, maxDailyShare: Number(values.share), logger }, 'bench')
  const seconds = (Date.now() - started) / 1000
  const byPath = session.requests.byPath()
  await session.close()
  process.stdout.write(`reconciliation of ${count} delivered bills: ${result.state}${result.note ? ` (${result.note})` : ''}\n`)
  process.stdout.write(`Zoho Books requests: ${result.requests} (${Math.ceil(count / 200)} pages of 200 expected); HTTP requests made, token grant included: ${JSON.stringify(byPath)}\n`)
  process.stdout.write(`daily share: ${Math.floor(config.zoho.dailyLimit * Number(values.share))} requests (ZOHO_DAILY_LIMIT ${config.zoho.dailyLimit} × RECONCILE_MAX_DAILY_SHARE ${values.share})\n`)
  process.stdout.write(`time: ${seconds.toFixed(1)} s at ${config.zoho.ratePerMinute} requests a minute; open differences: ${Object.values(result.open).reduce((a, b) => a + b, 0)}\n`)
} finally {
  await pool.end()
  await sandbox.close()
  await bench.close()
}
