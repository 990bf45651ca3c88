// A reduced fault suite (small counts, a shorter Zoho window) so that CI guards the chaos scenarios.
import t from 'tap'
import { runChaos, type Scenario } from '../scripts/chaos/run.ts'

const runs: Array<[Scenario, Partial<Parameters<typeof runChaos>[0]>]> = [
  ['kill-worker', { bills: 120, workers: 2, kills: 2 }],
  ['zoho-flaky', { bills: 100, workers: 1, stormSeconds: 3, windowSeconds: 10 }],
  ['resend', { bills: 120, workers: 1 }],
  // Correctness only here: the healthy organizations' pace is measured by `npm run chaos -- org-outage` (60 s windows).
  ['org-outage', { bills: 240, workers: 2, rate: 300, windowSeconds: 10, outageSeconds: 10, pdfBytes: 8192 }],
]

for (const [scenario, options] of runs) {
  t.test(`chaos ${scenario} (reduced)`, async (t) => {
    const result = await runChaos({ scenario, bills: 100, workers: 1, rate: 3000, stormSeconds: 3, kills: 2, timeoutMs: 240_000, ...options })
    if (scenario !== 'org-outage') t.ok(result.pass, result.verdict)
    t.equal(result.figures['duplicates in Zoho'], 0, 'no bill twice in Zoho')
    t.equal(result.figures.delivered, result.figures['valid bills'], 'every valid bill delivered')
    t.equal(result.figures['wrong rejections'], 0, 'every invalid bill rejected with its code')
    t.equal(Number(result.figures['rows without a job']) + Number(result.figures['jobs without a row']), 0, 'rows = jobs')
    t.equal(result.figures['orphan PDFs'], 0, 'no orphan PDFs')
    if (scenario === 'zoho-flaky') t.ok(Number(result.figures['zoho 429s']) > 0, 'the storm happened')
    if (scenario === 'org-outage') {
      t.equal(result.figures['missing in Zoho'], 0, 'none lost')
      t.match(String(result.figures['72000000003 requests refused during the outage']), /^[1-9]\d* 5xx, [1-9]\d* code 45$/, 'the organization was down: 5xx, then its daily quota')
      t.ok(Number(result.figures['72000000003 bills delivered before its return']) < Number(result.figures['valid bills']) / 3, 'and some of its bills waited for its return')
    }
  })
}
