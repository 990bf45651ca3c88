import http from 'node:http'
import type { Test } from 'tap'

/** A webhook that keeps every alert POSTed to it, closed at teardown. */
export async function startAlertReceiver(t: Test): Promise<{ url: string; alerts: any[] }> {
  const alerts: any[] = []
  const receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      alerts.push(JSON.parse(body))
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
  const port = (receiver.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}/alerts`, alerts }
}
