// The local Zoho sandbox on its own: npm run zoho-sandbox [-- --port 8787 --rate 100 --token-lifetime 3600 --seed existing]
// `--edition us|uk|india|gcc` and `--tax-rounding line|transaction` set the organization's edition (country, base
// currency, bill fields, default taxes) and tax rounding setting (docs/zoho.md, "Taxes, editions and reporting tags").
// Point billbridge at it with the environment lines it prints. `--seed existing` starts it as an organization
// that has been in use: 260 accounts, two active vendors named "Acme Supplies", and last year's bills.
import { parseArgs } from 'node:util'
import { sandboxZohoEnv, startZohoSandbox } from '../src/sandbox/server.ts'
import type { Edition, SandboxSeed, TaxRounding } from '../src/sandbox/state.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SANDBOX_PORT ?? '8787' },
    rate: { type: 'string', default: '100' },
    'window-seconds': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '10' },
    daily: { type: 'string', default: '1000000' },
    'token-lifetime': { type: 'string', default: '3600' },
    seed: { type: 'string' },
    edition: { type: 'string', default: 'us' },
    'tax-rounding': { type: 'string', default: 'line' },
  },
})
const lastYear = new Date().getUTCFullYear() - 1
const EXISTING: SandboxSeed = {
  accounts: 260,
  vendors: [{ name: 'Acme Supplies', email: 'billing@acme-east.test' }, { name: 'Euro Parts GmbH', currency: 'EUR' }],
  bills: Array.from({ length: 20 }, (_, i) => ({ vendorName: 'Globex Logistics', billNumber: `GL-${1000 + i}`, date: `${lastYear}-0${1 + (i % 9)}-15`, total: 100 + i, attachment: true })),
}
if (values.seed !== undefined && values.seed !== 'existing') {
  process.stderr.write('--seed takes one value: existing\n')
  process.exit(64)
}
if (!['us', 'uk', 'india', 'gcc'].includes(values.edition) || !['line', 'transaction'].includes(values['tax-rounding'])) {
  process.stderr.write('--edition takes us, uk, india or gcc; --tax-rounding takes line or transaction\n')
  process.exit(64)
}
const organization = { edition: values.edition as Edition, taxRounding: values['tax-rounding'] as TaxRounding }
const sandbox = await startZohoSandbox({
  port: Number(values.port),
  ratePerMinute: Number(values.rate),
  windowMs: Number(values['window-seconds']) * 1000,
  concurrency: Number(values.concurrency),
  dailyLimit: Number(values.daily),
  tokenLifetimeSeconds: Number(values['token-lifetime']),
  seed: { ...(values.seed ? EXISTING : {}), ...organization },
})
process.stdout.write(`Zoho sandbox listening at ${sandbox.url}\n${Object.entries(sandboxZohoEnv(sandbox)).map(([k, v]) => `${k}=${v}\n`).join('')}`)
const stop = async () => {
  await sandbox.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => {
  const c = sandbox.counters()
  process.stdout.write(`${new Date().toISOString()} books requests ${c.booksRequests} (accepted ${c.acceptedBooksRequests}, 429s ${c.responses429}), bills ${c.billsCreated}, tokens issued ${c.tokensIssued}, max in a window ${c.maxRequestsInAnyWindow}\n`)
}, 10_000).unref()
