// Several Zoho organizations for one billbridge: a sandbox serving them, and the environment whose
// ZOHO_ORGANIZATIONS routes subsidiaries to them, with the entries' own fields (name, plan, dailyLimit …).
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { SandboxOrganizationOptions } from '../../src/sandbox/organizations.ts'
import { sandboxOrganizationsEnv, startZohoSandbox, type SandboxOptions, type ZohoSandbox } from '../../src/sandbox/server.ts'

export interface TestOrganization extends SandboxOrganizationOptions {
  /** the NetSuite subsidiaries routed to it; ["*"] for every other bill */
  subsidiaries: string[]
  /** more fields of its ZOHO_ORGANIZATIONS entry: name, plan, dailyLimit, tags … */
  entry?: Record<string, unknown>
}

/** A sandbox of these organizations, and the environment of a billbridge delivering to them (as startSandbox's). */
export async function startOrganizations(t: Test, organizations: TestOrganization[], options: Partial<SandboxOptions> = {}): Promise<{ sandbox: ZohoSandbox; env: Record<string, string> }> {
  const sandbox = await startZohoSandbox({ ...options, organizations: organizations.map(({ subsidiaries: _s, entry: _e, ...o }) => o) })
  t.teardown(() => sandbox.close())
  const routes = Object.fromEntries(organizations.map((o) => [o.organizationId, o.subsidiaries]))
  const entries = (JSON.parse(sandboxOrganizationsEnv(sandbox, routes).ZOHO_ORGANIZATIONS) as Array<{ organizationId: string }>)
    .map((e) => ({ ...e, ...organizations.find((o) => o.organizationId === e.organizationId)?.entry }))
  return {
    sandbox,
    env: {
      ZOHO_ORGANIZATIONS: JSON.stringify(entries),
      // The single-organization settings must not be set beside ZOHO_ORGANIZATIONS (a child process inherits the runner's).
      ZOHO_CLIENT_ID: '', ZOHO_CLIENT_SECRET: '', ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '', ZOHO_ACCOUNTS_URL: '', ZOHO_API_URL: '', ZOHO_DC: '',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ZOHO_TIMEOUT_MS: '2000',
      DELIVERY_RETRY_DELAY_SECONDS: '1',
      WORKER_CONCURRENCY: '3',
    },
  }
}
