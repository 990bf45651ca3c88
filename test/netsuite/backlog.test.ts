// The headline: a backlog drained by successive runs of the kit, in a fake SuiteScript runtime that enforces
// NetSuite's limits, into a real billbridge process; every bill arrives once and gets its state written back.
// The suite runs a smaller backlog (NETSUITE_BACKLOG_BILLS, NETSUITE_BACKLOG_PDF_KB); the full 5,000 × 300 KB
// case is `npm run bench -- netsuite-backlog` (figures in netsuite/README.md).
import t from 'tap'
import { createTestDatabase } from '../helpers/db.ts'
import { runBacklog } from './backlog/drive.ts'
import { startBacklogService } from './backlog/service.ts'
import { backlogFigures, problemsAfterBacklog } from './backlog/verify.ts'

const bills = Number(process.env.NETSUITE_BACKLOG_BILLS ?? 200)
const pdfKb = Number(process.env.NETSUITE_BACKLOG_PDF_KB ?? 300)
// A third of the backlog per run, so that it takes several runs as a real first run would.
const billsPerRun = Math.ceil(bills / 3)

t.test(`${bills} bills × ${pdfKb} KB drain through successive runs, each within NetSuite's limits`, async (t) => {
  const database = await createTestDatabase(t)
  const service = await startBacklogService(database.url, database.pool)
  t.teardown(() => service.stop())
  const result = await runBacklog({
    bills, pdfBytes: pdfKb * 1024, apiKey: service.key, billbridgeUrl: service.url, maxRuns: 400, idleMs: 500,
    parameters: { custscript_bb_bills_per_run: billsPerRun },
  })
  for (const line of backlogFigures(result)) t.comment(line)
  t.same(await problemsAfterBacklog(database.pool, result, bills), [], 'every bill reached billbridge once and every status field was written back')
  const sendingRuns = result.runs.filter((r) => r.outcomes.sent).length
  t.ok(sendingRuns >= 3, `the backlog took ${sendingRuns} runs to send`)
  t.ok(result.peakUnits.map <= 1000 && result.peakUnits.reduce <= 5000 && result.peakUnits.getInputData <= 10000, 'units within every stage limit')
  t.ok(result.peakValueBytes < 1_000_000, 'no value near even the 1 MB reading of the value limit')
  t.ok(result.peakRequestBytes <= 8_000_000, 'no request over 8 MB')
})
