/**
 * Every code an API answer can carry, with what it means: the Error schema's enum and the table in docs/api.md
 * come from here, and a test fails when the code throws one that is not listed.
 */
export const REQUEST_ERROR_CODES = {
  INVALID_REQUEST: [400, 'a parameter, query or body field breaks the documented schema; details lists each problem'],
  UNKNOWN_FIELD: [400, 'a body holds a key the contract does not name (details.field); nothing was done'],
  MALFORMED_JSON: [400, 'the body is not JSON; details.offset is the byte where it broke'],
  INVALID_ENVELOPE: [400, 'the batch is JSON but not {"batchId"?, "bills": [...]}, or batchId is not a string, too long, unstorable or given twice'],
  BATCH_ID_INVALID: [400, 'batchId is empty or only spaces; nothing was stored'],
  FILTER_INVALID: [400, 'a failed-list filter is not valid (e.g. an impossible date)'],
  NOTE_REQUIRED: [400, 'marking a bill resolved needs a note saying how it was settled'],
  NOTE_TOO_LONG: [400, 'the resolve note is longer than 2,000 characters'],
  UNAUTHENTICATED: [401, 'no API key, or an unknown or revoked one'],
  FORBIDDEN: [403, 'the key lacks the scope the endpoint needs'],
  NOT_FOUND: [404, 'no such route'],
  TRANSACTION_NOT_FOUND: [404, 'no transaction with that id'],
  BATCH_NOT_FOUND: [404, 'no batch with that id'],
  METHOD_NOT_ALLOWED: [405, 'the path exists but does not take that method; Allow lists the ones it takes'],
  REQUEST_TIMEOUT: [408, 'the body stopped arriving for REQUEST_IDLE_TIMEOUT_MS; nothing of it was kept and the connection is closed'],
  NOT_FAILED: [409, 'the action applies to failed bills only and this one is not failed'],
  BATCH_ID_REUSED: [409, 'batchId was first used with another body, or by another API key (details.firstUsedAt); nothing was stored: send new bills under a new batchId'],
  BODY_TOO_LARGE: [413, 'the body is over MAX_BODY_BYTES (1 MB on non-ingest routes)'],
  TOO_MANY_BILLS: [413, 'the batch holds more than MAX_BILLS_PER_BATCH bills; nothing was stored'],
  BATCH_TOO_LARGE: [413, "the bills' fields (PDFs aside) pass 16 MB in one request; nothing was stored"],
  URI_TOO_LONG: [414, 'a path parameter is longer than 256 characters'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'the body is not application/json'],
  UNSUPPORTED_CONTENT_ENCODING: [415, 'the body is compressed (Content-Encoding); send it uncompressed'],
  BATCH_REJECTED: [422, 'every bill of the batch was rejected and nothing was stored; items say why each one was'],
  CONTENT_UNSTORABLE: [422, 'the database refused a value of the request (a backstop: validation should have named it)'],
  RATE_LIMITED: [429, 'the key is over API_RATE_PER_MINUTE; wait Retry-After seconds'],
  TOO_MANY_UPLOADS: [429, 'the key already has MAX_UPLOADS_PER_KEY uploads in progress; wait Retry-After seconds'],
  AUTH_THROTTLED: [429, 'too many failed authentications from this address; wait Retry-After seconds'],
  INTERNAL_ERROR: [500, 'a fault of the service; the log has the details under the X-Request-Id'],
  DATABASE_UNAVAILABLE: [503, 'the database is down; nothing was stored, send again later'],
  BLOB_STORE_UNAVAILABLE: [503, 'the PDF store is down; nothing was stored, send again later'],
} as const satisfies Record<string, readonly [number, string]>

/** Why one bill was rejected: in a batch answer's item, or as the error of POST /v1/vendor-bills (422; 413; 400 for UNKNOWN_FIELD). */
export const BILL_REJECTION_CODES = {
  BILL_INVALID: 'the bill is not a JSON object',
  UNKNOWN_FIELD: 'the bill holds a key the contract does not name (field names it)',
  TEXT_INVALID: 'a text field holds a NUL character or a lone UTF-16 surrogate',
  EXTERNAL_ID_MISSING: 'externalId is missing, blank or over 128 characters',
  BILL_NUMBER_MISSING: 'billNumber is missing, blank or over 100 characters',
  VENDOR_MISSING: 'vendor is missing',
  VENDOR_INVALID: 'vendor is not an object, or vendor.externalId is over 128 characters',
  VENDOR_NAME_MISSING: 'vendor.name is missing, blank or over 200 characters',
  VENDOR_EMAIL_INVALID: 'vendor.email is not an email address',
  DATE_INVALID: 'date is missing or not a real YYYY-MM-DD date from 1900 on',
  DUE_DATE_INVALID: 'dueDate is not a real date, or is before date',
  CURRENCY_INVALID: 'currency is not an upper-case ISO 4217 code',
  REFERENCE_NUMBER_INVALID: 'referenceNumber is not a string of at most 100 characters',
  MEMO_INVALID: 'memo is not a string of at most 2000 characters',
  EXCHANGE_RATE_INVALID: 'exchangeRate is not a positive decimal with at most 10 decimals',
  SUBSIDIARY_INVALID: 'subsidiary is not a string of at most 200 characters',
  LINES_MISSING: 'lines is missing or empty',
  LINES_INVALID: 'more than 500 lines, a line is not an object, or quantity/rate are malformed or not given together',
  LINE_ACCOUNT_MISSING: 'a line has no account (or one over 200 characters)',
  LINE_DESCRIPTION_INVALID: 'a line description is not a string of at most 2000 characters',
  AMOUNT_INVALID: 'an amount is not a decimal with at most 2 decimals, is not quantity × rate, or the total is not positive',
  AMOUNT_OUT_OF_RANGE: "the bill's total is over 9999999999999999.99",
  ATTACHMENT_MISSING: 'attachment or attachment.contentBase64 is missing',
  ATTACHMENT_EMPTY: 'the PDF has no bytes',
  ATTACHMENT_BASE64_INVALID: 'contentBase64 is not valid base64',
  ATTACHMENT_NOT_PDF: 'the bytes do not start with %PDF-',
  ATTACHMENT_TOO_LARGE: 'the PDF is over MAX_ATTACHMENT_BYTES',
  ATTACHMENT_FILENAME_INVALID: 'fileName does not end in .pdf, or holds a folder separator or control character',
  ATTACHMENT_CONTENT_TYPE_INVALID: 'contentType is not application/pdf',
} as const

/** Codes only the operator dashboard (/admin) answers with: not part of the API's contract. */
export const DASHBOARD_ERROR_CODES = {
  CURSOR_INVALID: [400, 'a page cursor was not made by this service'],
  ZOHO_ID_INVALID: [400, 'a Zoho account_id or contact_id given on the Mappings page is not a number'],
  MAPPING_INVALID: [400, 'the NetSuite account or vendor of a mapping is empty'],
  ZOHO_ID_UNKNOWN: [400, 'a Zoho tax or reporting tag option picked on the Mappings page is not in the list billbridge read from Zoho'],
  CSRF_INVALID: [403, 'a dashboard form was stale or from another session'],
  BLOB_NOT_FOUND: [404, "a bill's PDF is missing from the store"],
  MAPPING_NOT_FOUND: [404, 'the dashboard was asked to map a NetSuite account or vendor billbridge has not seen'],
  ZOHO_UNREACHABLE: [409, 'the dashboard needs Zoho (to read the chart or vendors) and this process has no Zoho connection (ROLE=api with the sandbox)'],
} as const satisfies Record<string, readonly [number, string]>

/** The Error schema's enum: every code an API answer's error.code can carry (BATCH_REJECTED has its own schema). */
export const ERROR_CODES = [...new Set([...Object.keys(REQUEST_ERROR_CODES), ...Object.keys(BILL_REJECTION_CODES)])].filter((code) => code !== 'BATCH_REJECTED').sort()
