// Realistic vendor bills with real (small, valid) PDFs, for the sample sender, benchmarks and tests.
import { randomBytes } from 'node:crypto'

const VENDORS = ['Acme Supplies', 'Globex Logistics', 'Initech Office', 'Umbrella Facilities', 'Stark Hardware', 'Wayne Catering', 'Hooli Cloud', 'Vandelay Imports']
const ACCOUNTS = ['6100 Office Supplies', '6200 Travel', '6300 Utilities', '5000 Cost of Goods Sold', '6400 Software Subscriptions']

/** A valid single-page PDF naming the bill, padded with a binary stream object to about size bytes. */
export function samplePdf(title: string, size = 2048): Buffer {
  const text = `BT /F1 18 Tf 72 720 Td (${title.replace(/[()\\]/g, '')}) Tj ET`
  const padLength = Math.max(0, size - 900)
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n', 'latin1')]
  const offsets: number[] = []
  let length = parts[0]!.length
  const add = (buffer: Buffer) => {
    parts.push(buffer)
    length += buffer.length
  }
  objects.forEach((body, i) => {
    offsets.push(length)
    add(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1'))
  })
  offsets.push(length)
  add(Buffer.from(`6 0 obj\n<< /Length ${padLength} >>\nstream\n`, 'latin1'))
  add(randomBytes(padLength))
  add(Buffer.from('\nendstream\nendobj\n', 'latin1'))
  const xref = length
  const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')
  add(Buffer.from(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n${rows}trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`, 'latin1'))
  return Buffer.concat(parts)
}

export interface SampleBillOptions {
  index: number
  prefix: string
  pdfBytes: number
  vendorCount?: number
}

export function sampleBill({ index, prefix, pdfBytes, vendorCount = VENDORS.length }: SampleBillOptions) {
  const vendorIndex = index % Math.min(vendorCount, VENDORS.length)
  const vendor = VENDORS[vendorIndex]!
  const billNumber = `${prefix}-INV-${String(index + 1).padStart(5, '0')}`
  const lineCount = 1 + (index % 3)
  const lines = Array.from({ length: lineCount }, (_, i) => ({
    account: ACCOUNTS[(index + i) % ACCOUNTS.length]!,
    amount: ((index * 37 + i * 101) % 90_000 / 100 + 10).toFixed(2),
    description: `Line ${i + 1} of ${billNumber}`,
  }))
  const day = 1 + (index % 28)
  return {
    externalId: `${prefix}-${index + 1}`,
    billNumber,
    vendor: { externalId: `V-${100 + vendorIndex}`, name: vendor, email: `ap@${vendor.split(' ')[0]!.toLowerCase()}.test` },
    date: `2026-11-${String(day).padStart(2, '0')}`,
    dueDate: `2026-12-${String(day).padStart(2, '0')}`,
    currency: 'USD',
    referenceNumber: `PO-${1000 + index}`,
    memo: `Sample bill ${index + 1}`,
    lines,
    attachment: { fileName: `${billNumber}.pdf`, contentType: 'application/pdf', contentBase64: samplePdf(billNumber, pdfBytes).toString('base64') },
  }
}

export type SampleBill = ReturnType<typeof sampleBill>

/** A batch body as a stream of chunks: each bill is serialised on its own, never the whole body at once. */
export async function* batchBody(batchId: string | undefined, bills: Iterable<object>): AsyncIterable<Buffer> {
  yield Buffer.from(`{${batchId === undefined ? '' : `"batchId":${JSON.stringify(batchId)},`}"bills":[`)
  let first = true
  for (const bill of bills) {
    yield Buffer.from((first ? '' : ',') + JSON.stringify(bill))
    first = false
  }
  yield Buffer.from(']}')
}

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(text.trim())
  if (!match) throw new Error(`size "${text}" must look like 300kb or 2mb`)
  return Math.round(Number(match[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[(match[2] ?? 'b').toLowerCase() as 'b'])
}
