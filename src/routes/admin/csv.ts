import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'

/** One CSV field: quoted when it must be, and a leading =+-@ defused so a spreadsheet does not run it. */
export function csvField(value: unknown): string {
  let text = value instanceof Date ? value.toISOString() : String(value ?? '')
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * Streams a CSV built page by page: `next(cursor)` reads one keyset page, so memory holds one page however
 * many rows the export has, and the socket's back-pressure paces the reads.
 */
export function sendCsv<T>(reply: FastifyReply, fileName: string, header: string[], toFields: (row: T) => unknown[],
  next: (cursor: string | undefined) => Promise<{ rows: T[]; next: string | null }>): FastifyReply {
  async function* lines() {
    yield `${header.join(',')}\r\n`
    let cursor: string | undefined
    do {
      const page = await next(cursor)
      if (page.rows.length) yield page.rows.map((row) => `${toFields(row).map(csvField).join(',')}\r\n`).join('')
      cursor = page.next ?? undefined
    } while (cursor)
  }
  return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${fileName}"`).send(Readable.from(lines()))
}
