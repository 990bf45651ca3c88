const timestamp = { type: 'string', format: 'date-time' } as const

export const organizationBacklogSchema = {
  type: 'object',
  required: ['organizationId', 'organizationName', 'billsWaiting', 'queued', 'processing', 'requestsUsedToday', 'requestsLeftToday', 'dailyLimit', 'dailyResetAt', 'pausedUntil',
    'pacePerMinute', 'paceWindowSeconds', 'requestsPerBill', 'requestsPerBillMeasured', 'budgetPerMinute', 'eta', 'etaSeconds', 'etaBasis', 'limitedBy', 'quotaResets', 'requestsNeeded'],
  properties: {
    organizationId: { type: 'string', description: 'the Zoho Books organization the bills go to' },
    organizationName: { type: 'string', description: "the organization's name in ZOHO_ORGANIZATIONS (its `name`, else how billbridge labels the entry)" },
    billsWaiting: { type: 'integer', description: "the organization's bills not yet in Zoho: queued (retries scheduled included) and processing" },
    queued: { type: 'integer' },
    processing: { type: 'integer' },
    requestsUsedToday: { type: 'integer', description: "Zoho requests counted today (UTC day) against the organization's daily quota" },
    requestsLeftToday: { type: 'integer', description: 'requests the daily quota still allows today' },
    dailyLimit: { type: 'integer', description: "the organization's daily quota (its entry's plan or dailyLimit in ZOHO_ORGANIZATIONS, else ZOHO_PLAN / ZOHO_DAILY_LIMIT)" },
    dailyResetAt: { ...timestamp, description: 'when the daily counter starts again: the next UTC midnight' },
    pausedUntil: { anyOf: [timestamp, { type: 'null' }], description: "deliveries paused until then (after a 429, or the daily limit until the quota day's end), or null" },
    pacePerMinute: { type: 'number', description: 'bills delivered per minute over the last paceWindowSeconds (from the first delivery in it); 0 when none' },
    paceWindowSeconds: { type: 'integer' },
    requestsPerBill: { type: 'number', description: 'Zoho requests spent per bill delivered over the last hour (retries, lookups and failures included)' },
    requestsPerBillMeasured: { type: 'boolean', description: 'false when no bill was delivered in the last hour: requestsPerBill is then assumed to be 1' },
    budgetPerMinute: { type: 'number', description: 'requests per minute the rate bucket lets through (ZOHO_RATE_PER_MINUTE less its slack)' },
    eta: { anyOf: [timestamp, { type: 'null' }], description: 'when the last waiting bill should be in Zoho at this pace and quota; now when nothing waits; null beyond a year' },
    etaSeconds: { type: ['integer', 'null'], description: 'seconds from now to eta' },
    etaBasis: { type: 'string', enum: ['empty', 'pace', 'budget'], description: "empty: nothing waits; pace: at the pace measured now; budget: nothing was delivered lately (paused), so at the bucket's rate from the pause's end" },
    limitedBy: { type: ['string', 'null'], enum: ['pace', 'quota', null], description: "quota: today's quota runs out first and the rest waits for the next UTC midnight(s); pace: the pace alone sets the time" },
    quotaResets: { type: 'integer', description: 'UTC midnights the backlog waits through before it is all in Zoho (0: today)' },
    requestsNeeded: { type: 'integer', description: 'billsWaiting × requestsPerBill, rounded up' },
  },
} as const

export const backlogAnswerSchema = {
  type: 'object',
  required: ['measuredAt', 'organizations'],
  properties: {
    measuredAt: timestamp,
    organizations: { type: 'array', items: organizationBacklogSchema, description: 'one entry per Zoho organization billbridge delivers to (ZOHO_ORGANIZATIONS), in the order configured; each from its own bills, rate bucket, daily quota and deliveries' },
  },
} as const

export const exampleBacklog = {
  measuredAt: '2026-11-30T22:10:00.000Z',
  organizations: [{
    organizationId: '60012345678', organizationName: 'Acme US', billsWaiting: 900, queued: 895, processing: 5, requestsUsedToday: 9_400, requestsLeftToday: 600, dailyLimit: 10_000,
    dailyResetAt: '2026-12-01T00:00:00.000Z', pausedUntil: null, pacePerMinute: 48.5, paceWindowSeconds: 600, requestsPerBill: 1.1, requestsPerBillMeasured: true,
    budgetPerMinute: 98, eta: '2026-12-01T00:07:26.000Z', etaSeconds: 7646, etaBasis: 'pace', limitedBy: 'quota', quotaResets: 1, requestsNeeded: 990,
  }],
}
