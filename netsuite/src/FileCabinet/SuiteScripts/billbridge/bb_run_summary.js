/**
 * What a run did, logged in the summarize stage: sent, rejected, left (and why), checked, errors.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/log', './bb_saved_search'], /** @param {typeof import('N/log')} log @param {any} savedSearch */ (log, savedSearch) => {
  const EXAMPLES = 20 // bill ids named per outcome in the log, the rest counted

  /** @param {import('N/types').EntryPoints.MapReduce.summarizeContext} summary */
  function tally(summary) {
    /** @type {Record<string, { count: number, examples: string[] }>} */
    const outcomes = {}
    summary.output.iterator().each((key, value) => {
      const outcome = outcomes[key] || (outcomes[key] = { count: 0, examples: [] })
      outcome.count++
      if (outcome.examples.length < EXAMPLES) outcome.examples.push(value)
      return true
    })
    return outcomes
  }

  /** @param {import('N/types').EntryPoints.MapReduce.summarizeContext} summary */
  function logErrors(summary) {
    if (summary.inputSummary.error) log.error({ title: 'billbridge: the bill search failed', details: summary.inputSummary.error })
    summary.mapSummary.errors.iterator().each((key, error) => {
      log.error({ title: `billbridge: bill input ${key} could not be read (left for the next run)`, details: error })
      return true
    })
    summary.reduceSummary.errors.iterator().each((key, error) => {
      log.error({ title: `billbridge: group ${key} stopped (its unsent bills are left for the next run)`, details: error })
      return true
    })
  }

  /** @param {import('N/types').EntryPoints.MapReduce.summarizeContext} summary */
  function logRun(summary) {
    logErrors(summary)
    const outcomes = tally(summary)
    const counts = Object.keys(outcomes).sort().map((key) => `${key} ${outcomes[key].count}`)
    log.audit({ title: 'billbridge run finished', details: counts.length ? counts.join(', ') : 'nothing to do' })
    for (const key of ['refused', 'rejected', 'left', 'stopped', 'unchecked', 'unwritten']) {
      if (outcomes[key]) log.audit({ title: `billbridge: ${key} ${outcomes[key].count}`, details: outcomes[key].examples.join('; ') })
    }
    return outcomes
  }

  /** @param {{ goLive: Date }} config */
  function ensureSavedSearch(config) {
    if (savedSearch.ensure(config)) log.audit({ title: 'billbridge', details: `saved search "${savedSearch.TITLE}" created (${savedSearch.ID})` })
  }

  return { log: logRun, ensureSavedSearch }
})
