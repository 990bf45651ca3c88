import { request } from 'undici'
import type { TestRuntime } from './runtime.ts'

function cookiesOf(headers: Record<string, string | string[] | undefined>): string[] {
  const set = headers['set-cookie']
  return (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(';')[0]!)
}

/** Logs in to /admin over HTTP as a browser would (CSRF token from the form); returns the Cookie header and a form token. */
export async function adminSession(runtime: TestRuntime, apiKey: string): Promise<{ cookie: string; csrf: () => Promise<string> }> {
  const form = await request(`${runtime.url}/admin/login`)
  const jar = new Map(cookiesOf(form.headers).map((c) => [c.split('=')[0]!, c]))
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.body.text())![1]!
  const login = await request(`${runtime.url}/admin/login`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...jar.values()].join('; ') },
    body: new URLSearchParams({ _csrf: token, apiKey }).toString(),
  })
  await login.body.dump()
  if (login.statusCode !== 303) throw new Error(`login answered ${login.statusCode}`)
  for (const c of cookiesOf(login.headers)) jar.set(c.split('=')[0]!, c)
  const cookie = [...jar.values()].join('; ')
  return {
    cookie,
    async csrf() {
      const page = await request(`${runtime.url}/admin/failed`, { headers: { cookie } })
      return /name="_csrf" value="([^"]+)"/.exec(await page.body.text())![1]!
    },
  }
}
