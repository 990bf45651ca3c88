// Example values shared by the OpenAPI document's request and response examples (and so by docs/api.md).
export const exampleBill = {
  externalId: 'NS-48213',
  billNumber: 'INV-2026-0042',
  vendor: { externalId: 'V-77', name: 'Acme Supplies', email: 'ap@acme.test' },
  date: '2026-11-01',
  dueDate: '2026-12-01',
  currency: 'USD',
  referenceNumber: 'PO-1234',
  memo: 'November office supplies',
  lines: [{ account: '6100 Office Supplies', amount: '100.00', description: 'Paper and toner' }],
  attachment: { fileName: 'INV-2026-0042.pdf', contentType: 'application/pdf', contentBase64: 'JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoK' },
}

export const exampleBatchAnswer = {
  batchId: 'ns-2026-11-01-run-7',
  accepted: 1,
  rejected: 1,
  items: [
    { index: 0, externalId: 'NS-48213', transactionId: '5f0c6a1e-8d3b-4a51-9a4e-2f3c1b7d9e10', status: 'queued' },
    { index: 1, externalId: 'NS-48214', status: 'rejected', error: { code: 'ATTACHMENT_NOT_PDF', message: 'attachment is not a PDF (no %PDF- header)', details: { field: 'attachment.contentBase64' } } },
  ],
}

export const exampleTransaction = {
  id: '5f0c6a1e-8d3b-4a51-9a4e-2f3c1b7d9e10',
  batchId: '0b7e2c44-1f3a-4d5e-8a9b-6c7d8e9f0a1b',
  externalId: 'NS-48213',
  billNumber: 'INV-2026-0042',
  vendor: { externalId: 'V-77', name: 'Acme Supplies', email: 'ap@acme.test' },
  amount: '100.00',
  currency: 'USD',
  status: 'delivered',
  attempts: 1,
  zohoBillId: '460000000012345',
  zohoVendor: { id: '460000000000123', name: 'Acme Supplies' },
  lastError: null,
  attachment: { fileName: 'INV-2026-0042.pdf', sizeBytes: 48213, sha256: '9f2c1d7e4b0a5c3e8d6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d' },
  createdAt: '2026-11-01T09:30:00.000Z',
  updatedAt: '2026-11-01T09:30:02.000Z',
  deliveredAt: '2026-11-01T09:30:02.000Z',
  organization: { id: '60012345678', name: 'Acme US' },
  attemptLog: [{ startedAt: '2026-11-01T09:30:01.000Z', finishedAt: '2026-11-01T09:30:02.000Z', outcome: 'delivered', httpStatus: 201, zohoCode: 0, errorCode: null, message: null, durationMs: 912 }],
}
