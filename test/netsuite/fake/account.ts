import fs from 'node:fs'
import path from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import { SuiteScriptError } from './errors.ts'

/**
 * What a line carries besides its amount (netsuite/README.md, "How it is tested"): the legacy tax engine's tax code,
 * rate and amount on the line itself (`taxcode`, `taxrate1`, `tax1amt`); under SuiteTax the line only names its tax
 * details (`taxdetailsreference`) on the bill's `taxdetails` sublist; and the line's department, class and location.
 */
export interface LineExtras {
  tax?: { code: TaxCode; rate: number; amount: number }
  taxdetailsreference?: string
  department?: string
  class?: string
  location?: string
}
export interface ExpenseLine extends LineExtras { account: { id: string; name: string }; amount: number; memo?: string }
export interface ItemLine extends LineExtras { item: string; quantity: number; rate: number; amount: number; description?: string }
export interface TaxCode { id: string; name: string }
/** One row of SuiteTax's `taxdetails` sublist: one tax on one line, linked to the line by `taxdetailsreference`. */
export interface TaxDetail { taxdetailsreference: string; taxtype: { id: string; name: string }; taxcode: TaxCode; taxbasis: number; taxrate: number; taxamount: number }
/** A vendor as the bill search's vendor join returns it: legacy Tax Reg. Number and the billing address's country code. */
export interface Vendor { id: string; name: string; vatregnumber?: string; billcountrycode?: string }
/** A department, class or location; a child is shown under its parent as "Parent : Child". */
export interface Segment { id: string; name: string; parent?: string }
export type SegmentType = 'department' | 'class' | 'location'
/**
 * Item types as the item search's Type column returns them, with the account columns each type has (netsuite/README.md,
 * "Item lines"): inventory and assembly items an asset and a COGS account, non-inventory, service and other charge
 * items for purchase an expense account, discount and markup items an account, subtotal and description items none.
 */
export type ItemType = 'InvtPart' | 'Assembly' | 'NonInvtPart' | 'Service' | 'OthCharge' | 'Discount' | 'Markup' | 'Subtotal' | 'Description' | 'Group' | 'Kit'
export const ITEM_TYPE_TEXT: Record<ItemType, string> = {
  InvtPart: 'Inventory Item', Assembly: 'Assembly/Bill of Materials', NonInvtPart: 'Non-inventory Item', Service: 'Service', OthCharge: 'Other Charge',
  Discount: 'Discount', Markup: 'Markup', Subtotal: 'Subtotal', Description: 'Description', Group: 'Item Group', Kit: 'Kit/Package',
}
type AccountRef = { id: string; name: string }
export interface Item { id: string; name: string; type: ItemType; expenseaccount?: AccountRef; cogsaccount?: AccountRef; assetaccount?: AccountRef; account?: AccountRef }
export interface Currency { id: string; name: string; symbol: string }
export interface StoredFile { id: string; name: string; fileType: string; size: number; content: () => Buffer }

export interface VendorBill {
  id: string
  tranid: string
  vendor: { id: string; name: string }
  trandate: Date
  duedate?: Date
  currency: string
  exchangerate: number
  subsidiary?: { id: string; name: string }
  memo?: string
  usertotal: number
  department?: string
  class?: string
  location?: string
  /** SuiteTax: the bill's tax details sublist; under SuiteTax, the vendor's tax registration chosen on the bill. */
  taxdetails?: TaxDetail[]
  entitytaxregnum?: { id: string; number: string }
  expense: ExpenseLine[]
  item: ItemLine[]
  files: string[]
  custom: Record<string, string>
  lastmodified: Date
  /** Approval status (netsuite/README.md, "Approval routing"): '1' Pending Approval, '2' Approved, '3' Rejected. */
  approvalstatus?: ApprovalStatus
  /** The transaction status as a search's getValue and the record's statusRef give it (search filter value VendBill:A…F). */
  status?: BillStatus
  /** The Voided checkbox: set when the bill is voided (a void runs no user event of its own). */
  voided?: boolean
}

export type ApprovalStatus = '1' | '2' | '3'
export type BillStatus = 'open' | 'paidInFull' | 'cancelled' | 'pendingApproval' | 'rejected' | 'paymentInTransit'
/** Transaction statuses as search filters name them ("Bill:Open" is VendBill:A …). */
export const BILL_STATUS_FILTER: Record<BillStatus, string> = {
  open: 'VendBill:A', paidInFull: 'VendBill:B', cancelled: 'VendBill:C', pendingApproval: 'VendBill:D', rejected: 'VendBill:E', paymentInTransit: 'VendBill:F',
}
export const BILL_STATUS_TEXT: Record<BillStatus, string> = {
  open: 'Open', paidInFull: 'Paid In Full', cancelled: 'Cancelled', pendingApproval: 'Pending Approval', rejected: 'Rejected', paymentInTransit: 'Payment In-Transit',
}
/** A user event's type for a save: 'edit' from a form, 'xedit' from submitFields or inline edit, 'delete'. */
export type SaveType = 'edit' | 'xedit' | 'delete'
/** The record a user event sees as oldRecord (and, on delete, newRecord). */
export interface BillSnapshot { id: string; custom: Record<string, string> }

export interface CustomField { scriptid: string; fieldtype: string; maxlength?: number }
/** A custom record as a script sees it: its type's scriptid, internal id, name and custom fields. */
export interface CustomRecord { type: string; id: string; name: string; fields: Record<string, string> }

const OBJECTS = path.resolve(import.meta.dirname, '../../../netsuite/src/Objects')

/** The custom body fields the SDF project creates: writing any other field fails, as it would in an account. */
export function customBodyFields(): Map<string, CustomField> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' })
  const fields = new Map<string, CustomField>()
  for (const name of fs.readdirSync(OBJECTS).filter((n) => n.startsWith('custbody_'))) {
    const field = parser.parse(fs.readFileSync(path.join(OBJECTS, name), 'utf8')).transactionbodycustomfield
    fields.set(field.scriptid, { scriptid: field.scriptid, fieldtype: field.fieldtype, ...(field.maxlength ? { maxlength: Number(field.maxlength) } : {}) })
  }
  return fields
}

/** The custom record types the SDF project creates, each with its custom fields: other types do not exist. */
export function customRecordTypes(): Map<string, Set<string>> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'customrecordcustomfield' })
  const types = new Map<string, Set<string>>()
  for (const name of fs.readdirSync(OBJECTS).filter((n) => n.startsWith('customrecord_'))) {
    const type = parser.parse(fs.readFileSync(path.join(OBJECTS, name), 'utf8')).customrecordtype
    types.set(type.scriptid, new Set((type.customrecordcustomfields?.customrecordcustomfield ?? []).map((f: { scriptid: string }) => f.scriptid)))
  }
  return types
}

/** The NetSuite account's data as scripts see it: vendor bills, their files, currencies, items, secrets. */
export class FakeAccount {
  readonly bills = new Map<string, VendorBill>()
  readonly files = new Map<string, StoredFile>()
  readonly currencies = new Map<string, Currency>()
  readonly items = new Map<string, Item>()
  readonly vendors = new Map<string, Vendor>()
  readonly segments: Record<SegmentType, Map<string, Segment>> = { department: new Map(), class: new Map(), location: new Map() }
  /** The SuiteTax feature (`tax_overhauling`): lines carry no tax fields of their own, the `taxdetails` sublist does. */
  suiteTax = false
  readonly secrets = new Map<string, string>()
  readonly savedSearches = new Map<string, unknown>()
  readonly fields = customBodyFields()
  /** Custom records by internal id (the SDF project's custom record types, customRecordTypes()). */
  readonly customRecords = new Map<string, CustomRecord>()
  readonly customRecordTypes = customRecordTypes()
  /**
   * Saves of a bill that the account refuses, as NetSuite does for a bill in a closed period or one whose
   * beforeSubmit (another script) throws: record.submitFields throws the error and nothing is saved.
   */
  refuseSave: ((bill: VendorBill) => SuiteScriptError | undefined) | null = null
  /** The user's date format preference; search filter dates and format.format use it. */
  dateFormat: 'D/M/YYYY' | 'M/D/YYYY' = 'D/M/YYYY'
  /** Called with (bill, type, context) before a bill is saved: the deployed User Event script. */
  beforeSubmit: ((bill: VendorBill, changes: Record<string, string>, executionContext: string, type: SaveType) => Record<string, string>) | null = null
  /** Called after a bill was deleted, with the bill as it was: the User Event's afterSubmit (type delete). */
  afterDelete: ((bill: BillSnapshot, executionContext: string) => void) | null = null
  /**
   * Setup > Accounting > Accounting Preferences > Approval Routing > Vendor Bills (preference CUSTOMAPPROVALVENDORBILL).
   * With it on, a new bill starts Pending Approval; with it off, Approved (netsuite/README.md, "Approval routing").
   */
  approvalRouting = false
  private nextId = 1000

  /** A segment value as NetSuite shows it: its parents' names first, joined by " : " (e.g. "Sales : EMEA"). */
  segmentText(type: SegmentType, id: string | undefined): string {
    const names: string[] = []
    for (let at = id ? this.segments[type].get(id) : undefined; at; at = at.parent ? this.segments[type].get(at.parent) : undefined) names.unshift(at.name)
    return names.join(' : ')
  }

  newId(): string {
    return String(this.nextId++)
  }

  bill(id: string): VendorBill {
    const bill = this.bills.get(String(id))
    if (!bill) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. vendorbill ${id}`)
    return bill
  }

  /** A save of the bill: the User Event sees it first, then the values land and the bill is modified now. */
  save(id: string, changes: Record<string, string>, executionContext: string, type: SaveType = executionContext === 'MAPREDUCE' ? 'xedit' : 'edit'): void {
    const bill = this.bill(id)
    const refusal = this.refuseSave?.(bill)
    if (refusal) throw refusal
    const final = this.beforeSubmit ? this.beforeSubmit(bill, changes, executionContext, type) : changes
    for (const [fieldId, value] of Object.entries(final)) {
      if (fieldId.startsWith('custbody_')) bill.custom[fieldId] = value
      else (bill as unknown as Record<string, unknown>)[fieldId] = value
    }
    bill.lastmodified = new Date(Math.max(Date.now(), bill.lastmodified.getTime() + 1000))
  }

  /** An AP clerk edits the bill in the browser (e.g. corrects its number, or an amount: `usertotal` and `expense`). */
  editByUser(id: string, changes: Record<string, unknown> = {}): void {
    this.save(id, changes as Record<string, string>, 'USERINTERFACE')
  }

  /** The approver approves (approvalstatus 2, status Open) or rejects (3, Rejected) the bill: an edit of the bill. */
  approve(id: string, approved = true): void {
    this.save(id, approved ? { approvalstatus: '2', status: 'open' } : { approvalstatus: '3', status: 'rejected' }, 'USERINTERFACE')
  }

  /** A bill not yet approved is cancelled (status Cancelled, VendBill:C). */
  cancel(id: string): void {
    this.save(id, { status: 'cancelled' }, 'USERINTERFACE')
  }

  /**
   * A person voids the bill: the Voided box is set and its amounts become zero. Oracle: there is no VOID user event
   * type; scripts deployed on EDIT "might still trigger" (context.UserEventType), so `withEditEvent` picks either.
   */
  void(id: string, withEditEvent: boolean): void {
    const bill = this.bill(id)
    const changes = { voided: true, usertotal: 0, memo: 'VOID' } as unknown as Record<string, string>
    if (withEditEvent) {
      this.save(id, changes, 'USERINTERFACE')
      return
    }
    Object.assign(bill, changes)
    bill.lastmodified = new Date(Math.max(Date.now(), bill.lastmodified.getTime() + 1000))
  }

  /** A person deletes the bill: it is gone from loads and searches; afterSubmit (type delete) sees it as it was. */
  deleteByUser(id: string): void {
    const bill = this.bill(id)
    const refusal = this.refuseSave?.(bill)
    if (refusal) throw refusal
    this.bills.delete(bill.id)
    this.afterDelete?.({ id: bill.id, custom: { ...bill.custom } }, 'USERINTERFACE')
  }

  formatDate(date: Date): string {
    const [d, m, y] = [date.getDate(), date.getMonth() + 1, date.getFullYear()]
    return this.dateFormat === 'D/M/YYYY' ? `${d}/${m}/${y}` : `${m}/${d}/${y}`
  }

  parseDate(text: string): Date {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text)
    if (!match) throw new SuiteScriptError('INVALID_FLD_VALUE', `"${text}" is not a date in the user's format ${this.dateFormat}`)
    const [a, b, y] = [Number(match[1]), Number(match[2]), Number(match[3])]
    const [d, m] = this.dateFormat === 'D/M/YYYY' ? [a, b] : [b, a]
    if (m > 12 || d > 31) throw new SuiteScriptError('INVALID_FLD_VALUE', `"${text}" is not a date in the user's format ${this.dateFormat}`)
    return new Date(y, m - 1, d)
  }
}
