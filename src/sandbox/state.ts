import { randomBytes } from 'node:crypto'

export interface SandboxContact {
  contact_id: string
  contact_name: string
  company_name: string
  contact_type: 'vendor' | 'customer'
  email?: string
}

export interface SandboxAccount {
  account_id: string
  account_name: string
  account_code: string
  account_type: string
  is_active: boolean
}

export interface SandboxAttachment {
  file_name: string
  size: number
  sha256: string
}

export interface SandboxBill {
  bill_id: string
  vendor_id: string
  bill_number: string
  date?: string
  due_date?: string
  reference_number?: string
  notes?: string
  line_items: Array<{ account_id: string; description?: string; rate: number; quantity: number }>
  custom_fields: Array<{ api_name: string; value: string }>
  total: number
  attachments: SandboxAttachment[]
  created_time: string
}

export interface SandboxCounters {
  requestsByEndpoint: Record<string, number>
  booksRequests: number
  acceptedBooksRequests: number
  responses429: number
  responses5xx: number
  tokensIssued: number
  refreshDenied: number
  billsCreated: number
  billsByNumber: Record<string, number>
  maxRequestsInAnyWindow: number
  maxConcurrent: number
  faults: { dropped: number; timedOut: number; lostAnswers: number; errors: number }
}

export const SEED_ACCOUNTS: Array<[string, string, string]> = [
  ['6100', 'Office Supplies', 'Expense'],
  ['6200', 'Travel', 'Expense'],
  ['6300', 'Utilities', 'Expense'],
  ['6400', 'Software Subscriptions', 'Expense'],
  ['5000', 'Cost of Goods Sold', 'Cost Of Goods Sold'],
  ['6900', 'Miscellaneous', 'Expense'],
]

export function newId(): string {
  // Zoho ids are long decimal strings.
  return `460000${BigInt(`0x${randomBytes(6).toString('hex')}`).toString().padStart(13, '0')}`
}

export function emptyCounters(): SandboxCounters {
  return {
    requestsByEndpoint: {},
    booksRequests: 0,
    acceptedBooksRequests: 0,
    responses429: 0,
    responses5xx: 0,
    tokensIssued: 0,
    refreshDenied: 0,
    billsCreated: 0,
    billsByNumber: {},
    maxRequestsInAnyWindow: 0,
    maxConcurrent: 0,
    faults: { dropped: 0, timedOut: 0, lostAnswers: 0, errors: 0 },
  }
}

/** One organization's Books data, kept in memory. */
export class BooksState {
  contacts = new Map<string, SandboxContact>()
  accounts = new Map<string, SandboxAccount>()
  bills = new Map<string, SandboxBill>()
  counters = emptyCounters()

  constructor() {
    this.seed()
  }

  seed(): void {
    this.contacts.clear()
    this.accounts.clear()
    this.bills.clear()
    for (const [code, name, type] of SEED_ACCOUNTS) {
      const id = newId()
      this.accounts.set(id, { account_id: id, account_name: name, account_code: code, account_type: type, is_active: true })
    }
    const vendorId = newId()
    this.contacts.set(vendorId, { contact_id: vendorId, contact_name: 'Acme Supplies', company_name: 'Acme Supplies', contact_type: 'vendor', email: 'ap@acme.test' })
  }

  contactByName(name: string): SandboxContact | undefined {
    const wanted = name.trim().toLowerCase()
    return [...this.contacts.values()].find((c) => c.contact_name.trim().toLowerCase() === wanted)
  }

  billsFor(billNumber: string | undefined, vendorId: string | undefined): SandboxBill[] {
    return [...this.bills.values()].filter((b) => (billNumber === undefined || b.bill_number === billNumber) && (vendorId === undefined || b.vendor_id === vendorId))
  }

  recordBill(bill: SandboxBill): void {
    this.bills.set(bill.bill_id, bill)
    this.counters.billsCreated++
    this.counters.billsByNumber[bill.bill_number] = (this.counters.billsByNumber[bill.bill_number] ?? 0) + 1
  }
}
