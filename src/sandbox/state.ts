import { randomBytes } from 'node:crypto'
import { DEFAULT_TAXES, EDITIONS, type Edition, type SeedTax, type SeedTaxGroup, type TaxRounding } from './tax.ts'

export type { Edition, SeedTax, SeedTaxGroup, TaxRounding } from './tax.ts'

export interface SandboxCurrency {
  currency_id: string
  currency_code: string
  currency_name: string
  is_base_currency: boolean
}

export interface SandboxContact {
  contact_id: string
  contact_name: string
  company_name: string
  contact_type: 'vendor' | 'customer'
  status: 'active' | 'inactive'
  currency_id: string
  currency_code: string
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

export interface SandboxTax {
  tax_id: string
  tax_name: string
  tax_percentage: number
  tax_type: 'tax' | 'compound_tax'
  tax_specific_type: string
  status: 'active' | 'inactive'
}

export interface SandboxTaxGroup {
  tax_group_id: string
  tax_group_name: string
  /** member tax ids */
  taxes: string[]
  status: 'active' | 'inactive'
}

export interface SandboxTagOption {
  tag_option_id: string
  tag_option_name: string
  parent_tag_option_id: string
  status: 'active' | 'inactive'
}

export interface SandboxTag {
  tag_id: string
  tag_name: string
  is_mandatory: boolean
  status: 'active' | 'inactive'
  options: SandboxTagOption[]
}

export interface SeedTag {
  name: string
  /** a bill line without an option of this tag is refused */
  mandatory?: boolean
  active?: boolean
  /** an option's parent is named by its parent's name, e.g. { name: 'EMEA', parent: 'Sales' } */
  options: Array<string | { name: string; parent?: string; active?: boolean }>
}

/** The organization profile and settings billbridge cannot change. */
export interface SandboxOrganizationProfile {
  edition: Edition
  taxRounding: TaxRounding
  /** India: the organization's state (destination_of_supply when a bill names none); Gulf: its emirate */
  homeState: string
  baseCurrency: string
  /**
   * Transaction locking (Zoho Books help "Transaction Locking"): no bill or vendor payment dated before this
   * date (YYYY-MM-DD) may be created, edited, voided or deleted. Unset: nothing is locked.
   */
  transactionLockDate?: string
}

export interface SandboxBillLine {
  line_item_id?: string
  account_id: string
  description?: string
  rate: number
  quantity: number
  item_total?: number
  tax_id?: string
  tax_name?: string
  tax_percentage?: number
  tax_type?: string
  tax_amount?: number
  tags?: Array<{ tag_id: string; tag_name: string; tag_option_id: string; tag_option_name: string }>
}

export interface SandboxBill {
  bill_id: string
  vendor_id: string
  bill_number: string
  /** Zoho's bill statuses the sandbox models; `overdue` (an open bill past its due date) is not modelled. */
  status: 'open' | 'partially_paid' | 'paid' | 'void'
  date: string
  due_date?: string
  reference_number?: string
  notes?: string
  currency_id: string
  currency_code: string
  exchange_rate: number
  line_items: SandboxBillLine[]
  custom_fields: Array<{ api_name: string; value: string }>
  /** present on bills with tax, adjustment or edition fields */
  is_inclusive_tax?: boolean
  sub_total?: number
  tax_total?: number
  adjustment?: number
  adjustment_description?: string
  taxes?: Array<{ tax_id: string; tax_name: string; tax_amount: number }>
  vat_treatment?: string
  vat_reg_no?: string
  gst_treatment?: string
  gst_no?: string
  source_of_supply?: string
  destination_of_supply?: string
  tax_treatment?: string
  place_of_supply?: string
  is_reverse_charge_applied?: boolean
  total: number
  attachments: SandboxAttachment[]
  created_time: string
  /** every change through the API or a state helper sets it (Zoho's format: 2026-12-06T03:05:00+0000) */
  last_modified_time: string
  /** the sum of the vendor payments applied to the bill; `balance` = total - payment_made */
  payment_made: number
}

/** A vendor payment (Books v3 Vendor Payments): an amount paid to a vendor, applied to some of its bills. */
export interface SandboxVendorPayment {
  payment_id: string
  vendor_id: string
  date: string
  amount: number
  bills: Array<{ bill_payment_id: string; bill_id: string; amount_applied: number }>
}

/** What a person may change on a bill in Zoho's own screens (state.editBill). */
export interface BillEdit {
  total?: number
  date?: string
  /** another existing contact */
  vendorId?: string
  /** a contact by name, created when there is none */
  vendorName?: string
  reference_number?: string
  custom_fields?: Array<{ api_name: string; value: string }>
}

export interface SandboxCounters {
  requestsByEndpoint: Record<string, number>
  booksRequests: number
  acceptedBooksRequests: number
  responses429: number
  /** 429s by Zoho code: 44 per-minute, 45 daily, 1070 concurrency */
  responses429ByCode: Record<string, number>
  responses5xx: number
  responses401: number
  tokensIssued: number
  refreshDenied: number
  tokensEvicted: number
  billsCreated: number
  /** bills created through the API per bill number (seeded bills are not counted) */
  billsByNumber: Record<string, number>
  vendorsCreated: number
  attachmentsAdded: number
  attachmentsDeleted: number
  billsUpdated: number
  billsVoided: number
  billsReopened: number
  billsDeleted: number
  paymentsRecorded: number
  maxRequestsInAnyWindow: number
  maxConcurrent: number
  faults: { dropped: number; timedOut: number; lostAnswers: number; errors: number }
}

/** What an organization holds before billbridge first talks to it. */
export interface SandboxSeed {
  /** total accounts in the chart; the first six are the ones sample bills use */
  accounts?: number
  /** extra vendors, e.g. two active vendors with one name */
  vendors?: Array<{ name: string; currency?: string; email?: string; status?: 'active' | 'inactive' }>
  /** bills already in Zoho, e.g. last year's bill with this year's number */
  bills?: Array<{ vendorName: string; billNumber: string; date: string; total: number; status?: SandboxBill['status']; attachment?: boolean
    /** amount already paid on it (default: the total when status is 'paid', else 0); status follows unless given */
    paid?: number }>
  /** the organization's edition (default 'us'): its country, base currency, bill fields and default taxes */
  edition?: Edition
  /** Zoho's tax rounding setting (default 'line') */
  taxRounding?: TaxRounding
  /** India: the organization's state code (default 'KA'); Gulf: its emirate (default 'DU'; '' for none) */
  homeState?: string
  /** replaces the edition's default taxes */
  taxes?: SeedTax[]
  /** replaces the edition's default tax groups */
  taxGroups?: SeedTaxGroup[]
  /** reporting tags (default none) */
  tags?: SeedTag[]
  /** the organization's transaction lock date (YYYY-MM-DD); see SandboxOrganizationProfile */
  lockDate?: string
}

export const SEED_ACCOUNTS: Array<[string, string, string]> = [
  ['6100', 'Office Supplies', 'Expense'],
  ['6200', 'Travel', 'Expense'],
  ['6300', 'Utilities', 'Expense'],
  ['6400', 'Software Subscriptions', 'Expense'],
  ['5000', 'Cost of Goods Sold', 'Cost Of Goods Sold'],
  ['6900', 'Miscellaneous', 'Expense'],
]

// Zoho lists only the currencies an organization has enabled; the base currency is always there.
const SEED_CURRENCIES: Array<[string, string]> = [['USD', 'US Dollar'], ['EUR', 'Euro'], ['GBP', 'Pound Sterling'], ['CAD', 'Canadian Dollar'], ['JPY', 'Japanese Yen']]

/** The base currency of the default (US) organization; an edition's organization has its own (state.organization.baseCurrency). */
export const BASE_CURRENCY = 'USD'
/** Month the organization's financial year starts (1 = January), as set in Zoho's organization profile. */
export const FISCAL_YEAR_START_MONTH = 1

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
    responses429ByCode: {},
    responses5xx: 0,
    responses401: 0,
    tokensIssued: 0,
    refreshDenied: 0,
    tokensEvicted: 0,
    billsCreated: 0,
    billsByNumber: {},
    vendorsCreated: 0,
    attachmentsAdded: 0,
    attachmentsDeleted: 0,
    billsUpdated: 0,
    billsVoided: 0,
    billsReopened: 0,
    billsDeleted: 0,
    paymentsRecorded: 0,
    maxRequestsInAnyWindow: 0,
    maxConcurrent: 0,
    faults: { dropped: 0, timedOut: 0, lostAnswers: 0, errors: 0 },
  }
}

/** A time as Zoho writes it in `created_time` and `last_modified_time`: 2026-12-06T03:05:00+0000. */
export function zohoTime(at: Date = new Date()): string {
  return `${at.toISOString().slice(0, 19)}+0000`
}

/** What is still owed on a bill: its total less the payments applied (nothing on a void bill). */
export function billBalance(bill: SandboxBill): number {
  return bill.status === 'void' ? 0 : Math.round((bill.total - bill.payment_made) * 1e6) / 1e6
}

/** A live bill's status from what has been paid on it: open, partially_paid or paid. */
export function paidStatus(bill: SandboxBill): SandboxBill['status'] {
  if (bill.payment_made <= 0) return 'open'
  return billBalance(bill) <= 0 ? 'paid' : 'partially_paid'
}

/** The financial year a date falls in, named by the calendar year it starts in. */
export function financialYear(date: string, startMonth = FISCAL_YEAR_START_MONTH): number {
  const [year, month] = date.split('-').map(Number) as [number, number]
  return month >= startMonth ? year : year - 1
}

/** One organization's Books data, kept in memory. */
export class BooksState {
  contacts = new Map<string, SandboxContact>()
  accounts = new Map<string, SandboxAccount>()
  currencies = new Map<string, SandboxCurrency>()
  bills = new Map<string, SandboxBill>()
  vendorPayments = new Map<string, SandboxVendorPayment>()
  taxes = new Map<string, SandboxTax>()
  taxGroups = new Map<string, SandboxTaxGroup>()
  tags = new Map<string, SandboxTag>()
  organization: SandboxOrganizationProfile = { edition: 'us', taxRounding: 'line', homeState: 'KA', baseCurrency: BASE_CURRENCY }
  counters = emptyCounters()
  private seedData: SandboxSeed

  constructor(seed: SandboxSeed = {}) {
    this.seedData = seed
    this.seed()
  }

  seed(): void {
    this.contacts.clear()
    this.accounts.clear()
    this.currencies.clear()
    this.bills.clear()
    this.vendorPayments.clear()
    this.taxes.clear()
    this.taxGroups.clear()
    this.tags.clear()
    const edition = this.seedData.edition ?? 'us'
    const profile = EDITIONS[edition]
    this.organization = { edition, taxRounding: this.seedData.taxRounding ?? 'line', homeState: this.seedData.homeState ?? (edition === 'gcc' ? 'DU' : 'KA'), baseCurrency: profile.currency,
      ...(this.seedData.lockDate ? { transactionLockDate: this.seedData.lockDate } : {}) }
    const currencies = SEED_CURRENCIES.some(([code]) => code === profile.currency) ? SEED_CURRENCIES : [[profile.currency, profile.currencyName] as [string, string], ...SEED_CURRENCIES]
    for (const [code, name] of currencies) {
      const id = newId()
      this.currencies.set(id, { currency_id: id, currency_code: code, currency_name: name, is_base_currency: code === profile.currency })
    }
    this.seedTaxes(this.seedData.taxes ?? DEFAULT_TAXES[edition].taxes, this.seedData.taxGroups ?? (this.seedData.taxes ? [] : DEFAULT_TAXES[edition].groups))
    for (const tag of this.seedData.tags ?? []) this.addTag(tag)
    const total = Math.max(this.seedData.accounts ?? SEED_ACCOUNTS.length, SEED_ACCOUNTS.length)
    for (let i = 0; i < total; i++) {
      const [code, name, type] = SEED_ACCOUNTS[i] ?? [String(7000 + i), `Operating Expense ${String(i).padStart(3, '0')}`, 'Expense']
      const id = newId()
      this.accounts.set(id, { account_id: id, account_name: name, account_code: code, account_type: type, is_active: true })
    }
    this.addContact({ name: 'Acme Supplies', email: 'ap@acme.test' })
    for (const vendor of this.seedData.vendors ?? []) this.addContact(vendor)
    for (const bill of this.seedData.bills ?? []) {
      const vendor = [...this.contacts.values()].find((c) => c.contact_name === bill.vendorName) ?? this.addContact({ name: bill.vendorName })
      const paid = bill.paid ?? (bill.status === 'paid' ? bill.total : 0)
      this.recordBill({
        bill_id: newId(), vendor_id: vendor.contact_id, bill_number: bill.billNumber, status: bill.status ?? (paid <= 0 ? 'open' : paid >= bill.total ? 'paid' : 'partially_paid'), date: bill.date,
        currency_id: vendor.currency_id, currency_code: vendor.currency_code, exchange_rate: 1,
        line_items: [{ account_id: this.accounts.keys().next().value!, rate: bill.total, quantity: 1 }], custom_fields: [], total: bill.total,
        attachments: bill.attachment ? [{ file_name: `${bill.billNumber}.pdf`, size: 1000, sha256: 'seeded' }] : [], created_time: new Date(bill.date).toISOString(),
        last_modified_time: zohoTime(new Date(bill.date)), payment_made: paid,
      }, false)
    }
  }

  private seedTaxes(taxes: SeedTax[], groups: SeedTaxGroup[]): void {
    for (const t of taxes) {
      const id = newId()
      this.taxes.set(id, { tax_id: id, tax_name: t.name, tax_percentage: t.percentage, tax_type: t.type ?? 'tax', tax_specific_type: t.specificType ?? '', status: t.active === false ? 'inactive' : 'active' })
    }
    for (const g of groups) {
      const members = g.taxes.map((name) => {
        const tax = this.taxByName(name)
        if (!tax || 'tax_group_id' in tax) throw new Error(`seed tax group ${g.name}: no tax named ${name}`)
        return tax.tax_id
      })
      const id = newId()
      this.taxGroups.set(id, { tax_group_id: id, tax_group_name: g.name, taxes: members, status: g.active === false ? 'inactive' : 'active' })
    }
  }

  /** Adds a reporting tag with its options (tests may add one after start). */
  addTag(seed: SeedTag): SandboxTag {
    const tag: SandboxTag = { tag_id: newId(), tag_name: seed.name, is_mandatory: seed.mandatory ?? false, status: seed.active === false ? 'inactive' : 'active', options: [] }
    for (const raw of seed.options) {
      const o = typeof raw === 'string' ? { name: raw } : raw
      const parent = o.parent === undefined ? undefined : tag.options.find((p) => p.tag_option_name === o.parent)
      if (o.parent !== undefined && !parent) throw new Error(`seed tag ${seed.name}: option ${o.name} names an unknown parent ${o.parent}`)
      tag.options.push({ tag_option_id: newId(), tag_option_name: o.name, parent_tag_option_id: parent?.tag_option_id ?? '', status: o.active === false ? 'inactive' : 'active' })
    }
    this.tags.set(tag.tag_id, tag)
    return tag
  }

  /** A tax or tax group by name, to find seeded ids in tests. */
  taxByName(name: string): SandboxTax | SandboxTaxGroup | undefined {
    return [...this.taxes.values()].find((t) => t.tax_name === name) ?? [...this.taxGroups.values()].find((g) => g.tax_group_name === name)
  }

  tagByName(name: string): SandboxTag | undefined {
    return [...this.tags.values()].find((t) => t.tag_name === name)
  }

  addContact(input: { name: string; currency?: string; email?: string; status?: 'active' | 'inactive' }): SandboxContact {
    const currency = this.currencyByCode(input.currency ?? this.organization.baseCurrency)
    if (!currency) throw new Error(`seed currency ${input.currency} is not enabled`)
    const id = newId()
    const contact: SandboxContact = {
      contact_id: id, contact_name: input.name, company_name: input.name, contact_type: 'vendor', status: input.status ?? 'active',
      currency_id: currency.currency_id, currency_code: currency.currency_code, ...(input.email ? { email: input.email } : {}),
    }
    this.contacts.set(id, contact)
    return contact
  }

  currencyByCode(code: string): SandboxCurrency | undefined {
    return [...this.currencies.values()].find((c) => c.currency_code === code)
  }

  billsFor(billNumber: string | undefined, vendorId: string | undefined): SandboxBill[] {
    return [...this.bills.values()].filter((b) => (billNumber === undefined || b.bill_number === billNumber) && (vendorId === undefined || b.vendor_id === vendorId))
  }

  /** Another live bill of this vendor with this number in the same financial year, if any. */
  numberTaken(vendorId: string, billNumber: string, date: string, except?: string): SandboxBill | undefined {
    const year = financialYear(date)
    return this.billsFor(billNumber, vendorId).find((b) => b.bill_id !== except && b.status !== 'void' && financialYear(b.date) === year)
  }

  /** True when the organization's transaction lock covers this date (Zoho locks what is dated before the lock date). */
  isLocked(date: string): boolean {
    const lock = this.organization.transactionLockDate
    return lock !== undefined && date < lock
  }

  /** Sets (or, with undefined, lifts) the organization's transaction lock date, as an admin does in Settings. */
  setLockDate(date: string | undefined): void {
    if (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`lock date ${date}: expected YYYY-MM-DD`)
    if (date === undefined) delete this.organization.transactionLockDate
    else this.organization.transactionLockDate = date
  }

  /** Marks a bill changed now; a later change always gets a later time than the one before. */
  touch(bill: SandboxBill): void {
    const now = zohoTime()
    bill.last_modified_time = now > bill.last_modified_time ? now : zohoTime(new Date(Date.parse(bill.last_modified_time.replace('+0000', 'Z')) + 1000))
  }

  private liveBill(id: string): SandboxBill {
    const bill = this.bills.get(id)
    if (!bill) throw new Error(`no bill ${id} in the sandbox`)
    return bill
  }

  /**
   * Records a vendor payment of `amount` on one bill, as a person does with "Record Payment" (test-side: no
   * lock check). Refuses what Zoho refuses: a void bill, more than the balance.
   */
  payBill(id: string, amount: number, date = new Date().toISOString().slice(0, 10)): SandboxVendorPayment {
    const bill = this.liveBill(id)
    if (bill.status === 'void') throw new Error(`bill ${id} is void: it cannot be paid`)
    if (!(amount > 0) || amount > billBalance(bill) + 1e-9) throw new Error(`payment ${amount} on bill ${id}: must be above 0 and at most its balance ${billBalance(bill)}`)
    const payment: SandboxVendorPayment = { payment_id: newId(), vendor_id: bill.vendor_id, date, amount, bills: [{ bill_payment_id: newId(), bill_id: id, amount_applied: amount }] }
    this.applyPayment(payment)
    return payment
  }

  /** Applies a payment's amounts to its bills (checked by the caller). */
  applyPayment(payment: SandboxVendorPayment): void {
    this.vendorPayments.set(payment.payment_id, payment)
    for (const applied of payment.bills) {
      const bill = this.liveBill(applied.bill_id)
      bill.payment_made = Math.round((bill.payment_made + applied.amount_applied) * 1e6) / 1e6
      bill.status = paidStatus(bill)
      this.touch(bill)
    }
    this.counters.paymentsRecorded++
  }

  /**
   * A person's edit in Zoho's bill screen (test-side: no lock check). A new total replaces the lines with one
   * line of that amount and drops tax and adjustment; a total below what was paid is refused, as Zoho does.
   */
  editBill(id: string, changes: BillEdit): SandboxBill {
    const bill = this.liveBill(id)
    if (bill.status === 'void') throw new Error(`bill ${id} is void: Zoho does not edit a void bill`)
    if (changes.total !== undefined) {
      if (changes.total < bill.payment_made) throw new Error(`bill ${id}: total ${changes.total} is below the ${bill.payment_made} paid on it`)
      const account = bill.line_items[0]?.account_id ?? this.accounts.keys().next().value!
      for (const key of ['is_inclusive_tax', 'sub_total', 'tax_total', 'adjustment', 'adjustment_description', 'taxes'] as const) delete bill[key]
      bill.line_items = [{ line_item_id: newId(), account_id: account, rate: changes.total, quantity: 1, item_total: changes.total }]
      bill.total = changes.total
    }
    if (changes.date !== undefined) bill.date = changes.date
    const vendor = changes.vendorId !== undefined
      ? this.contacts.get(changes.vendorId)
      : changes.vendorName !== undefined ? ([...this.contacts.values()].find((c) => c.contact_name === changes.vendorName) ?? this.addContact({ name: changes.vendorName })) : undefined
    if ((changes.vendorId !== undefined || changes.vendorName !== undefined) && !vendor) throw new Error(`no contact ${changes.vendorId}`)
    if (vendor) Object.assign(bill, { vendor_id: vendor.contact_id, currency_id: vendor.currency_id, currency_code: vendor.currency_code })
    if (changes.reference_number !== undefined) bill.reference_number = changes.reference_number
    if (changes.custom_fields !== undefined) bill.custom_fields = changes.custom_fields
    bill.status = paidStatus(bill)
    this.touch(bill)
    return bill
  }

  /** A person voids a bill in Zoho (test-side: no lock check); refused while payments are applied, as Zoho does. */
  voidBill(id: string): SandboxBill {
    const bill = this.liveBill(id)
    if (bill.payment_made > 0) throw new Error(`bill ${id} has payments applied: Zoho does not void it`)
    bill.status = 'void'
    this.touch(bill)
    return bill
  }

  /** A person deletes a bill in Zoho (test-side: no lock check); it is gone: GET answers 404. */
  deleteBill(id: string): void {
    const bill = this.liveBill(id)
    if (bill.payment_made > 0) throw new Error(`bill ${id} has payments applied: Zoho does not delete it`)
    this.bills.delete(id)
  }

  recordBill(bill: SandboxBill, count = true): void {
    this.bills.set(bill.bill_id, bill)
    if (!count) return
    this.counters.billsCreated++
    this.counters.billsByNumber[bill.bill_number] = (this.counters.billsByNumber[bill.bill_number] ?? 0) + 1
  }
}
