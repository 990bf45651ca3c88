// The local Zoho sandbox on its own: npm run zoho-sandbox [-- --port 8787 --rate 100 --token-lifetime 3600 --seed existing]
// `--edition us|uk|india|gcc` and `--tax-rounding line|transaction` set the organization's edition (country, base
// currency, bill fields, default taxes) and tax rounding setting (docs/zoho.md, "Taxes, editions and reporting tags").
// Point billbridge at it with the environment lines it prints. `--seed existing` starts it as an organization
// that has been in use: 260 accounts, two active vendors named "Acme Supplies", and last year's bills.
// `--organizations N` serves N organizations (each its own data, limits and counters), spread over the data
// centres of `--data-centres com,eu` (each on its own port), and prints ZOHO_ORGANIZATIONS instead.
import { randomBytes } from 'node:crypto'
import { SANDBOX_CREDENTIALS, sandboxOrganizationsEnv, sandboxZohoEnv, startZohoSandbox, type SandboxClientCredentials, type SandboxOrganizationOptions, type ZohoSandbox } from '../src/sandbox/server.ts'
import type { Edition, SandboxSeed, TaxRounding } from '../src/sandbox/state.ts'
import { exitWithUsage, intOption, scriptArgs } from './lib/args.ts'

const USAGE = `usage: npm run zoho-sandbox -- [options]
Runs the local Zoho sandbox (accounts + Books v3) on its own and prints the environment that points billbridge at it.
  --port N               port to listen on (default: SANDBOX_PORT, else 8787)
  --rate N               Books requests per window (default 100)
  --window-seconds N     the rate window (default 60)
  --concurrency N        requests in flight at once (default 10)
  --daily N              requests per day (default 1000000)
  --token-lifetime N     access token lifetime in seconds (default 3600)
  --seed existing        start as an organization in use: 260 accounts, two "Acme Supplies", last year's bills
  --edition E            us, uk, india or gcc: the organization's country, base currency, bill fields and taxes (default us)
  --tax-rounding R       line or transaction: the organization's tax rounding setting (default line)
  --organizations N      serve N organizations, each with its own data, limits and counters (default 1); the first
                         takes every subsidiary ("*"), the others "Subsidiary 2", "Subsidiary 3" ...
  --data-centres LIST    data centre labels the organizations are spread over in turn, each on its own port
                         (--port, then the next ports; default com)
  --shared-client        the organizations of one data centre share one Zoho user's client (credentialsFrom)
  -h, --help             this text`

const { values } = scriptArgs(USAGE, {
  port: { type: 'string', default: process.env.SANDBOX_PORT ?? '8787' },
  rate: { type: 'string', default: '100' },
  'window-seconds': { type: 'string', default: '60' },
  concurrency: { type: 'string', default: '10' },
  daily: { type: 'string', default: '1000000' },
  'token-lifetime': { type: 'string', default: '3600' },
  seed: { type: 'string' },
  edition: { type: 'string', default: 'us' },
  'tax-rounding': { type: 'string', default: 'line' },
  organizations: { type: 'string', default: '1' },
  'data-centres': { type: 'string', default: 'com' },
  'shared-client': { type: 'boolean', default: false },
})
const port = intOption('port', values.port, 0, 65535, USAGE)
const rate = intOption('rate', values.rate, 1, 1_000_000, USAGE)
const windowSeconds = intOption('window-seconds', values['window-seconds'], 1, 86_400, USAGE)
const concurrency = intOption('concurrency', values.concurrency, 1, 1000, USAGE)
const daily = intOption('daily', values.daily, 1, 1_000_000_000, USAGE)
const tokenLifetime = intOption('token-lifetime', values['token-lifetime'], 1, 86_400, USAGE)
const orgCount = intOption('organizations', values.organizations, 1, 50, USAGE)
const centres = values['data-centres'].split(',').map((dc) => dc.trim())
if (centres.some((dc) => !/^[a-z0-9][a-z0-9.-]*$/i.test(dc)) || new Set(centres).size !== centres.length) exitWithUsage(`--data-centres takes distinct labels separated by commas, e.g. com,eu (got "${values['data-centres']}")`, USAGE)
if (port !== 0 && port + centres.length - 1 > 65535) exitWithUsage(`--port ${port} leaves no room for ${centres.length} data centres`, USAGE)
if (values.seed !== undefined && values.seed !== 'existing') exitWithUsage(`--seed takes one value: existing (got "${values.seed}")`, USAGE)
const lastYear = new Date().getUTCFullYear() - 1
const EXISTING: SandboxSeed = {
  accounts: 260,
  vendors: [{ name: 'Acme Supplies', email: 'billing@acme-east.test' }, { name: 'Euro Parts GmbH', currency: 'EUR' }],
  bills: Array.from({ length: 20 }, (_, i) => ({ vendorName: 'Globex Logistics', billNumber: `GL-${1000 + i}`, date: `${lastYear}-0${1 + (i % 9)}-15`, total: 100 + i, attachment: true })),
}
if (!['us', 'uk', 'india', 'gcc'].includes(values.edition)) exitWithUsage(`--edition takes us, uk, india or gcc (got "${values.edition}")`, USAGE)
if (!['line', 'transaction'].includes(values['tax-rounding'])) exitWithUsage(`--tax-rounding takes line or transaction (got "${values['tax-rounding']}")`, USAGE)
const several = orgCount > 1
const firstId = Number(SANDBOX_CREDENTIALS.organizationId)
const sharedClients = new Map<string, SandboxClientCredentials>()
const organizations: SandboxOrganizationOptions[] = Array.from({ length: orgCount }, (_, i) => {
  const organizationId = String(firstId + i)
  const dataCentre = centres[i % centres.length]!
  if (values['shared-client'] && !sharedClients.has(dataCentre)) {
    sharedClients.set(dataCentre, i === 0 ? { clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret, refreshToken: SANDBOX_CREDENTIALS.refreshToken }
      : { clientId: `1000.BILLBRIDGESANDBOX${dataCentre.toUpperCase().replace(/[^A-Z0-9]/g, '')}`, clientSecret: `sandbox-client-secret-${dataCentre}`, refreshToken: `1000.sandbox.refresh-token.${dataCentre}` })
  }
  return { organizationId, dataCentre, ...(values['shared-client'] ? { client: sharedClients.get(dataCentre)! } : {}) }
})
const sandbox = await startZohoSandbox({
  ...(several ? { organizations, dataCentres: Object.fromEntries(centres.map((dc, i) => [dc, { port: port === 0 ? 0 : port + i }])) } : {}),
  port,
  ratePerMinute: rate,
  windowMs: windowSeconds * 1000,
  concurrency,
  dailyLimit: daily,
  tokenLifetimeSeconds: tokenLifetime,
  seed: { ...(values.seed ? EXISTING : {}), edition: values.edition as Edition, taxRounding: values['tax-rounding'] as TaxRounding },
})
// With Zoho credentials set, billbridge requires a key for the token it caches: a fresh one is printed with them.
const common = { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ZOHO_RATE_PER_MINUTE: String(rate), ZOHO_RATE_WINDOW_SECONDS: String(windowSeconds) }
if (several) printOrganizations(sandbox)
else {
  const env = { ...sandboxZohoEnv(sandbox), ...common }
  process.stdout.write(`Zoho sandbox listening at ${sandbox.url}\npoint billbridge at it with this environment (e.g. paste before npm start):\n${Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('')}`)
}

function printOrganizations(sandbox: ZohoSandbox): void {
  const routes = Object.fromEntries(sandbox.organizations().map((o, i) => [o.organizationId, i === 0 ? ['*'] : [`Subsidiary ${i + 1}`]]))
  const lines = sandbox.organizations().map((o) => `  ${o.organizationId}  data centre ${o.dataCentre} at ${o.url}  subsidiaries ${routes[o.organizationId]!.join(', ')}\n`)
  // The JSON is single-quoted so that the line pastes into a shell as it is.
  const env = { ZOHO_ORGANIZATIONS: `'${sandboxOrganizationsEnv(sandbox, routes).ZOHO_ORGANIZATIONS}'`, ...common }
  process.stdout.write(`Zoho sandbox serving ${sandbox.organizations().length} organizations:\n${lines.join('')}point billbridge at it with this environment (e.g. paste before npm start):\n${Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('')}`)
}

const stop = async () => {
  await sandbox.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => {
  for (const o of sandbox.organizations()) {
    const c = o.counters()
    process.stdout.write(`${new Date().toISOString()} ${several ? `${o.organizationId}: ` : ''}books requests ${c.booksRequests} (accepted ${c.acceptedBooksRequests}, 429s ${c.responses429}), bills ${c.billsCreated}, tokens issued ${c.tokensIssued}, max in a window ${c.maxRequestsInAnyWindow}\n`)
  }
}, 10_000).unref()
