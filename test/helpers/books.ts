import { FormData, request } from 'undici'
import type { ZohoSandbox } from '../../src/sandbox/server.ts'

/** A token straight from the sandbox's accounts server, as any Zoho client would get one. */
export async function grantToken(sandbox: ZohoSandbox, overrides: Record<string, string> = {}) {
  const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: sandbox.clientId, client_secret: sandbox.clientSecret, refresh_token: sandbox.refreshToken, ...overrides })
  const res = await request(`${sandbox.accountsUrl}/oauth/v2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> }
}

export interface BooksCall {
  json?: unknown
  query?: Record<string, string>
  headers?: Record<string, string>
  multipart?: { json: unknown; file: Buffer; fileName: string }
}

/** One Books v3 request to the sandbox, with the organization and the Zoho-oauthtoken header. */
export async function booksRequest(sandbox: ZohoSandbox, accessToken: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: BooksCall = {}) {
  const url = new URL(sandbox.apiUrl + path)
  url.searchParams.set('organization_id', sandbox.organizationId)
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v)
  let body: string | FormData | undefined
  const headers: Record<string, string> = { authorization: `Zoho-oauthtoken ${accessToken}`, ...options.headers }
  if (options.multipart) {
    const form = new FormData()
    form.set('JSONString', JSON.stringify(options.multipart.json))
    form.set('attachment', new Blob([options.multipart.file], { type: 'application/pdf' }), options.multipart.fileName)
    body = form
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  }
  const res = await request(url, { method, headers, body })
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, any> }
}
