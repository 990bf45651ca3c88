import type { Config } from '../../config.ts'
import { BOOKS_WEB, dataCentreOf } from '../../zoho/data-centres.ts'
import { defaultOrganization, type OrganizationConfig } from '../../zoho/organizations.ts'

/** A delivered bill's page in Zoho Books for the organization's data centre; none for the local sandbox. */
export function zohoBillLink(deps: { config: Config; organizations: readonly OrganizationConfig[] }, zohoBillId: string | null, organizationId?: string | null): string | null {
  if (!zohoBillId || deps.config.zoho.mode !== 'remote' || !/^\d+$/.test(zohoBillId)) return null
  const organization = organizationId ? deps.organizations.find((o) => o.organizationId === organizationId) : defaultOrganization(deps.organizations)
  if (!organization) return null
  // Signing in anywhere but one of Zoho's accounts servers means a sandbox: there is no Books page to open.
  const dc = dataCentreOf(organization.target.accountsUrl)
  if (!dc) return null
  return `${BOOKS_WEB[dc]}/app/${encodeURIComponent(organization.organizationId)}#/bills/${zohoBillId}`
}
