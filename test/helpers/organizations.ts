// Two Zoho organizations for one billbridge, from sandboxes of one organization each. Every sandbox serves
// the same organization id, so the second one is reached through a small proxy that gives it another id:
// Books requests have the proxy's id swapped for the sandbox's on the way in, and back on the way out.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { startZohoSandbox, type SandboxOptions, type ZohoSandbox } from '../../src/sandbox/server.ts'

export interface OrganizationSandbox {
  sandbox: ZohoSandbox
  /** the id billbridge knows the organization by */
  organizationId: string
  accountsUrl: string
  apiUrl: string
}

/** A proxy that shows a sandbox's one organization as `organizationId`; its sandbox is attached once started. */
async function startProxy(t: Test, organizationId: string): Promise<{ url: string; attach: (sandbox: ZohoSandbox) => void }> {
  let target = ''
  let own = ''
  const swapIn = (text: string) => text.split(`organization_id=${organizationId}`).join(`organization_id=${own}`).split(`/organizations/${organizationId}`).join(`/organizations/${own}`)
  const proxy = http.createServer((req, res) => {
    const upstream = http.request(`${target}${swapIn(req.url ?? '/')}`, {
      method: req.method,
      headers: { ...req.headers, host: new URL(target).host, ...(req.headers['x-com-zoho-books-organizationid'] === organizationId ? { 'x-com-zoho-books-organizationid': own } : {}) },
    }, (answer) => {
      const json = String(answer.headers['content-type'] ?? '').includes('json')
      if (!json) {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        return
      }
      const chunks: Buffer[] = []
      answer.on('data', (chunk: Buffer) => chunks.push(chunk))
      answer.on('end', () => {
        const body = Buffer.from(Buffer.concat(chunks).toString('utf8').split(`"${own}"`).join(`"${organizationId}"`))
        const headers = { ...answer.headers, 'content-length': String(body.length) }
        delete headers['transfer-encoding']
        res.writeHead(answer.statusCode ?? 502, headers)
        res.end(body)
      })
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    attach(sandbox) {
      target = sandbox.url
      own = sandbox.organizationId
    },
  }
}

/** A sandbox billbridge reaches as the organization `organizationId` (the sandbox's own id works too, unchanged). */
export async function startOrganizationSandbox(t: Test, organizationId: string, options: Partial<SandboxOptions> = {}): Promise<OrganizationSandbox> {
  const proxy = await startProxy(t, organizationId)
  // The token grant names the proxy as the organization's api_domain, as Zoho names the organization's data centre.
  const sandbox = await startZohoSandbox({ ...options, apiDomain: proxy.url })
  t.teardown(() => sandbox.close())
  proxy.attach(sandbox)
  return { sandbox, organizationId, accountsUrl: `${proxy.url}/accounts`, apiUrl: `${proxy.url}/books/v3` }
}

/**
 * Another organization of the same Zoho user as `of`: one grant reaches both, as when one user is a member of
 * several organizations of a data centre. Its data is `of`'s sandbox's; its Books requests go through its own
 * address (an entry's apiUrl), since the grant names `of`'s.
 */
export async function sameUserOrganization(t: Test, of: OrganizationSandbox, organizationId: string): Promise<OrganizationSandbox> {
  const proxy = await startProxy(t, organizationId)
  proxy.attach(of.sandbox)
  return { sandbox: of.sandbox, organizationId, accountsUrl: of.accountsUrl, apiUrl: `${proxy.url}/books/v3` }
}

/** One ZOHO_ORGANIZATIONS entry for a sandbox. */
export function organizationEntry(org: OrganizationSandbox, subsidiaries: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { organizationId: org.organizationId, subsidiaries, accountsUrl: org.accountsUrl, clientId: org.sandbox.clientId, clientSecret: org.sandbox.clientSecret, refreshToken: org.sandbox.refreshToken, ...extra }
}

/** The environment of a billbridge delivering to these organizations (as startSandbox's, with ZOHO_ORGANIZATIONS for the ZOHO_* credentials). */
export function organizationsEnv(entries: Array<Record<string, unknown>>): Record<string, string> {
  return {
    ZOHO_ORGANIZATIONS: JSON.stringify(entries),
    ZOHO_CLIENT_ID: '', ZOHO_CLIENT_SECRET: '', ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '', ZOHO_ACCOUNTS_URL: '', ZOHO_API_URL: '', ZOHO_DC: '',
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ZOHO_TIMEOUT_MS: '2000',
    DELIVERY_RETRY_DELAY_SECONDS: '1',
    WORKER_CONCURRENCY: '3',
  }
}
