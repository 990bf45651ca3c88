import type { Config } from '../../config.ts'
import { BOOKS_WEB, dataCentreOf } from '../../zoho/data-centres.ts'

/** A delivered bill's page in Zoho Books for the organization's data centre; none for the local sandbox. */
export function zohoBillLink(deps: { config: Config }, zohoBillId: string | null): string | null {
  const zoho = deps.config.zoho
  if (!zohoBillId || zoho.mode !== 'remote' || !/^\d+$/.test(zohoBillId)) return null
  // Signing in anywhere but one of Zoho's accounts servers means a sandbox: there is no Books page to open.
  const dc = dataCentreOf(zoho.accountsUrl)
  if (!dc) return null
  return `${BOOKS_WEB[dc]}/app/${encodeURIComponent(zoho.organizationId)}#/bills/${zohoBillId}`
}
