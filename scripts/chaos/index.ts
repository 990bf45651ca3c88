// npm run chaos -- <scenario> [--bills 2000] [--workers 2] [--rate 3000] [--storm-seconds 120] [--kills 4] [--phases 1,2,4]
// scale-out measures Zoho's pace, so its budget defaults to 600 per minute and its token lifetime to 120 s.
import { parseArgs } from 'node:util'
import { runChaos, SCENARIOS, type Scenario } from './run.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bills: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
    rate: { type: 'string' },
    phases: { type: 'string', default: '1,2,4' },
    'token-lifetime': { type: 'string' },
    'storm-seconds': { type: 'string', default: '120' },
    'window-seconds': { type: 'string', default: '60' },
    kills: { type: 'string', default: '4' },
    'outage-seconds': { type: 'string', default: '20' },
    'timeout-minutes': { type: 'string', default: '30' },
  },
})
const scenario = positionals[0] as Scenario
if (!SCENARIOS.includes(scenario)) {
  process.stderr.write(`usage: npm run chaos -- <${SCENARIOS.join('|')}> [options]\n`)
  process.exit(64)
}
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
  outageSeconds: Number(values['outage-seconds']),
  timeoutMs: Number(values['timeout-minutes']) * 60_000,
  log: (line) => process.stderr.write(`${line}\n`),
})
for (const [name, value] of Object.entries(result.figures)) process.stdout.write(`  ${name}: ${value}\n`)
process.stdout.write(`  wall time: ${Math.round((Date.now() - started) / 1000)} s\n${result.verdict}\n`)
process.exitCode = result.pass ? 0 : 1
