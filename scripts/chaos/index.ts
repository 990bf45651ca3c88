// npm run chaos -- <scenario> [--bills 2000] [--outage-seconds 120] [--workers 2] [--rate 3000] [--storm-seconds 120] [--kills 4] [--phases 1,2,4]
// scale-out measures Zoho's pace, so its budget defaults to 600 per minute and its token lifetime to 120 s.
import { exitWithUsage, intOption, scriptArgs } from '../lib/args.ts'
import { runChaos, SCENARIOS, type Scenario } from './run.ts'

const USAGE = `usage: npm run chaos -- <${SCENARIOS.join('|')}> [options]
Runs one fault scenario through real service processes and checks the end state (docs/reliability.md).
  --bills N              bills in the month-end load (default 2000)
  --workers N            worker processes (default 2)
  --rate N               the sandbox's Zoho budget per window (default 3000; scale-out 600)
  --phases LIST          scale-out: worker counts per phase (default 1,2,4)
  --token-lifetime N     access token lifetime in seconds (default 3600; scale-out 120)
  --storm-seconds N      zoho-flaky: length of the 429 storm (default 120)
  --window-seconds N     the sandbox's rate window (default 60)
  --kills N              kill-worker: workers killed (default 4)
  --outage-seconds N     restart-db: database outage (default 20); org-outage: the organization's outage (default 120)
  --timeout-minutes N    give up after (default 30)
  -h, --help             this text`

const { values, positionals } = scriptArgs(USAGE, {
  bills: { type: 'string', default: '2000' },
  workers: { type: 'string', default: '2' },
  rate: { type: 'string' },
  phases: { type: 'string', default: '1,2,4' },
  'token-lifetime': { type: 'string' },
  'storm-seconds': { type: 'string', default: '120' },
  'window-seconds': { type: 'string', default: '60' },
  kills: { type: 'string', default: '4' },
  'outage-seconds': { type: 'string' },
  'timeout-minutes': { type: 'string', default: '30' },
}, { allowPositionals: true })
const scenario = positionals[0] as Scenario
if (!SCENARIOS.includes(scenario)) exitWithUsage(scenario ? `unknown scenario "${scenario}"` : 'no scenario named', USAGE)
if (positionals.length > 1) exitWithUsage(`unexpected argument "${positionals[1]}"`, USAGE)
for (const [name, raw] of Object.entries(values)) {
  if (name !== 'phases' && raw !== undefined) intOption(name, raw as string, 1, 10_000_000, USAGE)
}
if (!/^\d+(,\d+)*$/.test(values.phases)) exitWithUsage(`--phases must be worker counts like 1,2,4, got "${values.phases}"`, USAGE)
const started = Date.now()
const result = await runChaos({
  scenario,
  bills: Number(values.bills),
  workers: Number(values.workers),
  rate: Number(values.rate ?? (scenario === 'scale-out' ? 600 : 3000)),
  phases: values.phases.split(',').map(Number),
  tokenLifetimeSeconds: Number(values['token-lifetime'] ?? (scenario === 'scale-out' ? 120 : 3600)),
  stormSeconds: Number(values['storm-seconds']),
  windowSeconds: Number(values['window-seconds']),
  kills: Number(values.kills),
  outageSeconds: Number(values['outage-seconds'] ?? (scenario === 'org-outage' ? 120 : 20)),
  timeoutMs: Number(values['timeout-minutes']) * 60_000,
  log: (line) => process.stderr.write(`${line}\n`),
})
for (const [name, value] of Object.entries(result.figures)) process.stdout.write(`  ${name}: ${value}\n`)
process.stdout.write(`  wall time: ${Math.round((Date.now() - started) / 1000)} s\n${result.verdict}\n`)
process.exitCode = result.pass ? 0 : 1
