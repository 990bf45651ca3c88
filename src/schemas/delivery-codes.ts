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
