import type pg from 'pg'
import type { Logger } from '../logger.ts'
import { booksRootFor } from '../zoho/books-client.ts'
import type { TokenCache } from '../zoho/token-cache.ts'
import type { OrganizationConfig } from '../zoho/organizations.ts'
import type { Alerter } from './alerts.ts'

/** Zoho's daily quota is spent: one alert for the whole fleet, with how many bills now wait for tomorrow. */
export async function dailyQuotaSpent(pool: pg.Pool, alerts: Alerter, logger: Logger, until: Date, organization: Pick<OrganizationConfig, 'organizationId' | 'label' | 'name'>): Promise<void> {
  try {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status IN ('queued', 'processing') AND organization_id = $1`, [organization.organizationId])
    const waiting = rows[0]?.n ?? 0
    const named = `${organization.name ?? organization.label} (Zoho organization ${organization.organizationId})`
    const message = `Zoho's daily request quota for ${named} is spent; its ${waiting} bills wait until ${until.toISOString()} (other organizations go on). Raise the plan's limit with Zoho support or set the organization's plan / dailyLimit (ZOHO_PLAN / ZOHO_DAILY_LIMIT with one organization) to the plan in force.`
    logger.warn({ waiting, until, organizationId: organization.organizationId }, 'Zoho daily quota spent')
    await alerts.notify({ transactionId: '', code: 'ZOHO_DAILY_LIMIT', message, count: waiting, organizationId: organization.organizationId })
  } catch (err) {
    logger.warn({ err }, 'could not raise the daily quota alert')
  }
}

/** ZOHO_API_URL overrides the api_domain Zoho names for the organization: say so at start when they differ. */
export async function warnOnDataCentreMismatch(tokens: TokenCache, apiUrl: string, logger: Logger): Promise<void> {
  try {
    const token = await tokens.get()
    if (token.apiDomain && booksRootFor(token.apiDomain) !== apiUrl.replace(/\/+$/, '')) {
      logger.warn({ apiUrl, apiDomain: token.apiDomain }, `ZOHO_API_URL ${apiUrl} differs from the api_domain ${token.apiDomain} that Zoho names for this organization; requests go to ZOHO_API_URL. Unset it, or set ZOHO_DC, unless this is intended.`)
    }
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not check the Zoho data centre at start')
  }
}
