import { request } from 'undici'
import type { TestRuntime } from './runtime.ts'

/** A browser's cookies for one origin, kept from Set-Cookie answers. */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  readonly raw: string[] = []

  take(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      this.raw.push(line)
      const [pair] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at).trim()
      const value = pair!.slice(at + 1).trim()
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('no CSRF token on the page')
  return match[1]!
}

/** GET a dashboard page with the jar's cookies; returns the status, headers and HTML. */
export async function getPage(runtime: TestRuntime, jar: CookieJar, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${runtime.url}${path}`, { headers: { cookie: jar.header(), ...headers } })
  jar.take(res.headers['set-cookie'])
  return { status: res.statusCode, headers: res.headers, html: await res.body.text() }
}

/** POST a dashboard form (url-encoded) with the jar's cookies. */
export async function postForm(runtime: TestRuntime, jar: CookieJar, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await request(`${runtime.url}${path}`, {
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  })
  jar.take(res.headers['set-cookie'])
  return { status: res.statusCode, headers: res.headers, html: await res.body.text() }
}

/** Logs in through the login form as a browser would; the jar then holds the session cookie. */
export async function logIn(runtime: TestRuntime, jar: CookieJar, apiKey: string, headers: Record<string, string> = {}) {
  const form = await getPage(runtime, jar, '/admin/login', headers)
  return postForm(runtime, jar, '/admin/login', { _csrf: csrfFrom(form.html), apiKey }, headers)
}

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
