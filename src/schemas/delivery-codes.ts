import { fixFor } from '../delivery/alerts.ts'

/**
 * Why a delivery to Zoho Books failed: a transaction's lastError.code, an attempt's errorCode, the lookup's
 * lastErrorCode and the retry filter's errorCode. The fix for each is the one the failure alert gives.
 */
const MEANINGS = {
  ACCOUNT_UNMAPPED: 'a line\'s NetSuite account has no Zoho account mapped to it',
  VENDOR_AMBIGUOUS: 'Zoho has several vendors with the bill\'s vendor name',
  VENDOR_NOT_FOUND: 'no Zoho vendor matches the bill\'s vendor and none could be created',
  CURRENCY_MISMATCH: 'the Zoho vendor books in another currency than the bill',
  CURRENCY_NOT_ENABLED: 'the bill\'s currency is not enabled in the Zoho organization',
  BILL_NUMBER_TAKEN: 'another bill of this vendor has this bill number in Zoho in the same financial year',
  ATTACHMENT_TOO_LARGE_FOR_ZOHO: 'the PDF is over the size Zoho accepts (ZOHO_MAX_ATTACHMENT_BYTES)',
  ZOHO_REJECTED: 'Zoho refused the bill for a reason billbridge has no code for; the message quotes Zoho',
  ZOHO_UNAUTHORIZED: 'Zoho refused a freshly issued access token',
  ZOHO_ORGANIZATION_UNKNOWN: "Zoho does not know the bill's organization in that data centre, or the refresh token's user is not a member of it (code 6041)",
  ZOHO_CREDENTIALS_INVALID: 'Zoho rejected the OAuth client id, secret or refresh token',
  ZOHO_DAILY_LIMIT: 'the organization\'s daily Zoho API quota is spent',
  ZOHO_RATE_LIMITED: 'Zoho answered 429; the bill waits without spending an attempt',
  ZOHO_SERVER_ERROR: 'Zoho answered a server error or an incomplete success',
  ZOHO_UNREACHABLE: 'no answer from Zoho Books',
  ZOHO_TOKEN_UNREACHABLE: 'no usable answer from the Zoho accounts server',
  ZOHO_TOKEN_THROTTLED: 'Zoho refused to issue an access token for now',
  ZOHO_CHART_TOO_LONG: 'the chart of accounts is longer than billbridge reads',
  DELIVERY_ABORTED: 'the worker stopped while the bill waited for Zoho',
  DELIVERY_ERROR: 'a fault inside billbridge; the log has it under the transaction id',
  RETRIES_EXHAUSTED: 'transient failures went on until the retry window was spent',
  TAX_UNMAPPED: 'a line\'s NetSuite tax code maps to no Zoho tax: none, or several, have its rate and kind',
  TAG_UNMAPPED: 'a line\'s department, class or location matches no option of the Zoho reporting tag ZOHO_TAGS names for it',
  TAG_REQUIRED: 'Zoho requires a reporting tag on every line and the bill gives no value for it',
  ZOHO_TAXES_TOO_LONG: 'the organization\'s list of taxes is longer than billbridge reads',
  TAX_DIFFERS: "Zoho's total for the bill, computed from its own tax rates, differs from NetSuite's by more than TAX_ROUNDING_TOLERANCE (the message names both); no bill is left open in Zoho",
  VENDOR_COUNTRY_REQUIRED: "the Zoho edition (UK, India, Gulf) chooses the bill's tax treatment from the vendor's country, and NetSuite sent none",
  VENDOR_TAX_ID_REQUIRED: "the Zoho edition needs the vendor's tax number (an Indian vendor's GSTIN; an EU or GCC vendor's VAT number under reverse charge), and NetSuite sent none or not a valid one",
  VENDOR_STATE_REQUIRED: "Zoho's India edition needs the vendor's state (source_of_supply), read from its GSTIN, and NetSuite sent no GSTIN",
  UPDATE_REFUSED: "Zoho refused to update a delivered bill to NetSuite's newer version (a paid or partly paid bill whose total would fall below what was paid, a locked period, a void bill); the message quotes Zoho's reason, and Zoho keeps the last version it accepted",
  VOID_REFUSED: "Zoho refused to void a bill NetSuite cancelled (payments applied, a locked period); the message quotes Zoho's reason",
  PLACE_OF_SUPPLY_REQUIRED: "Zoho's Gulf edition needs the bill's place of supply, taken from the emirate in the organization's profile, which names none",
} as const

export type DeliveryErrorCode = keyof typeof MEANINGS

export const DELIVERY_ERROR_CODES: Record<DeliveryErrorCode, { meaning: string; fix: string }> =
  Object.fromEntries(Object.entries(MEANINGS).map(([code, meaning]) => [code, { meaning, fix: fixFor(code) }])) as Record<DeliveryErrorCode, { meaning: string; fix: string }>

export const deliveryErrorCodeSchema = {
  $id: 'DeliveryErrorCode',
  type: 'string',
  enum: Object.keys(MEANINGS),
  description: 'why a delivery to Zoho Books failed; docs/api.md has the table with the fix for each',
} as const
