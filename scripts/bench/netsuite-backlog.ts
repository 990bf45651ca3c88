// npm run bench -- netsuite-backlog [--bills 5000] [--pdf-kb 300] [--refuse-every N] [--taxed [--suitetax]]: a NetSuite
// backlog drained by successive runs of the kit (fake SuiteScript runtime enforcing NetSuite's limits) into a real
// billbridge process; with --refuse-every N every Nth bill refuses every save (a closed period), so its state can never
// be written back; with --taxed every bill carries UK VAT (20% and 5% lines), a department and a total, from the
// legacy tax fields or, with --suitetax, from SuiteTax's tax details.
import { parseArgs } from 'node:util'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { runBacklog } from '../../test/netsuite/backlog/drive.ts'
import { startBacklogService } from '../../test/netsuite/backlog/service.ts'
import { backlogFigures, problemsAfterBacklog } from '../../test/netsuite/backlog/verify.ts'

const { values } = parseArgs({ args: process.argv.slice(3), options: { bills: { type: 'string', default: '5000' }, 'pdf-kb': { type: 'string', default: '300' }, 'refuse-every': { type: 'string', default: '0' }, taxed: { type: 'boolean', default: false }, suitetax: { type: 'boolean', default: false } } })
const taxed = values.taxed || values.suitetax ? (values.suitetax ? 'suitetax' : 'legacy') : undefined
const bills = Number(values.bills)
const pdfBytes = Number(values['pdf-kb']) * 1024
const database = await openBenchDatabase('netsuite-backlog')
const service = await startBacklogService(database.databaseUrl, database.pool)
const started = Date.now()
try {
  const result = await runBacklog({ bills, pdfBytes, apiKey: service.key, billbridgeUrl: service.url, maxRuns: 200, idleMs: 1000, refuseEvery: Number(values['refuse-every']), ...(taxed ? { taxed } : {}) }, (line) => process.stdout.write(`${line}\n`))
  const seconds = (Date.now() - started) / 1000
  const problems = await problemsAfterBacklog(database.pool, result, bills, { taxed: Boolean(taxed) })
  process.stdout.write(`\n${bills}${taxed ? ` taxed (${taxed})` : ''} bills × ${values['pdf-kb']} KB PDFs drained in ${seconds.toFixed(1)} s\n`)
  for (const line of backlogFigures(result)) process.stdout.write(`${line}\n`)
  process.stdout.write(problems.length ? `PROBLEMS:\n${problems.join('\n')}\n` : 'every bill reached billbridge once and every status field was written back\n')
  process.exitCode = problems.length ? 1 : 0
} finally {
  await service.stop()
  await database.close()
}
