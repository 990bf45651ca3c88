import type { ZohoLimits } from '../config.ts'
import type { ZohoTarget } from './stack.ts'

/** The subsidiary entry that takes every bill no other entry names (and bills with no subsidiary). */
export const DEFAULT_SUBSIDIARY = '*'

/**
 * One Zoho Books organization billbridge delivers to: an entry of ZOHO_ORGANIZATIONS, or the single
 * organization of the ZOHO_* variables (subsidiaries ["*"]).
 */
export interface OrganizationConfig {
  organizationId: string
  /** how messages name the entry: its `name`, else "ZOHO_ORGANIZATIONS[i]" (or "ZOHO_ORGANIZATION_ID") */
  label: string
  /** an operator's name for it, shown on the dashboard (e.g. "Acme UK") */
  name?: string
  /** NetSuite subsidiary names routed here, as configured; "*" takes the rest */
  subsidiaries: string[]
  /** where it lives and how billbridge signs in (entries sharing a Zoho user carry the same credentials) */
  target: ZohoTarget
  /** its budget and data settings: the entry's own values over the global ZOHO_* ones */
  limits: ZohoLimits
}

/** The key of a subsidiary name for routing: trimmed, one space between words, lower case. */
export function subsidiaryKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase()
}

const leafKey = (name: string) => subsidiaryKey(name.split(':').pop()!)

/**
 * The organization a bill of `subsidiary` belongs to: the entry naming it (exact, case-insensitive), else
 * the "*" entry, else none (the bill is rejected with SUBSIDIARY_UNKNOWN).
 *
 * NetSuite may give a OneWorld subsidiary by its hierarchical name ("Acme Group : Acme UK") or by its own
 * name ("Acme UK"), and Oracle does not document which a script's getText returns; so when no entry names
 * it exactly, the last level of both names is compared, and used only when exactly one entry matches. A
 * bill is never sent to the "*" entry because its name was written the other way.
 */
export function organizationFor(organizations: readonly OrganizationConfig[], subsidiary: string | undefined): OrganizationConfig | undefined {
  if (subsidiary !== undefined && subsidiary.trim() !== '') {
    const key = subsidiaryKey(subsidiary)
    const named = organizations.filter((o) => o.subsidiaries.some((s) => s !== DEFAULT_SUBSIDIARY && subsidiaryKey(s) === key))
    if (named.length === 1) return named[0]
    const leaf = leafKey(subsidiary)
    const byLeaf = organizations.filter((o) => o.subsidiaries.some((s) => s !== DEFAULT_SUBSIDIARY && leafKey(s) === leaf))
    if (byLeaf.length === 1) return byLeaf[0]
    if (byLeaf.length > 1) return undefined
  }
  return organizations.find((o) => o.subsidiaries.includes(DEFAULT_SUBSIDIARY))
}

/** Token cache key of an OAuth grant: one per client, data centre and refresh token, never the secrets themselves. */
export function grantKey(target: Pick<ZohoTarget, 'accountsUrl' | 'clientId' | 'refreshToken'>, hash: (text: string) => string): string {
  return `grant:${hash(`${target.accountsUrl}\n${target.clientId}\n${target.refreshToken}`)}`
}
