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
