// What NetSuite enforces, with Oracle's help page for each figure. The fake runtime enforces these, and
// where Oracle's pages disagree it takes the stricter reading.

/** Usage units per invocation of each Map/Reduce stage ("SuiteScript Governance and Limits", Script Type Usage Unit Limits). */
export const STAGE_UNITS = { getInputData: 10_000, map: 1_000, reduce: 5_000, summarize: 10_000 } as const

/** Seconds per invocation ("Map/Reduce Governance": map 300 s, reduce 900 s; getInputData and summarize are not given there, 3,600 s assumed). */
export const STAGE_SECONDS = { getInputData: 3_600, map: 300, reduce: 900, summarize: 3_600 } as const

/** "Map/Reduce Governance": a key is at most 3,000 characters. */
export const MAX_KEY_CHARS = 3_000
/** A value is at most 10 MB ("Map/Reduce Governance"; the mapContext page says 1 MB — the kit stays under that too). */
export const MAX_VALUE_BYTES = 10_000_000
/** Total data persisted between stages ("Map/Reduce Governance": 200 MB, PERSISTED_DATA_LIMIT_FOR_MAPREDUCE_SCRIPT_EXCEEDED). */
export const MAX_PERSISTED_BYTES = 200_000_000
/** "File.getContents()": content held in memory is at most 10 MB (SSS_FILE_CONTENT_SIZE_EXCEEDED). */
export const MAX_FILE_CONTENT_BYTES = 10_000_000
/** "ResultSet.getRange(options)": at most 1,000 results per call. */
export const MAX_RANGE = 1_000
/** "N/https Module": 5 s to connect, 45 s to send the request; beyond, SSS_REQUEST_TIME_EXCEEDED. */
export const HTTPS_CONNECT_SECONDS = 5
export const HTTPS_SEND_SECONDS = 45

/** Unit cost of each call the kit makes ("SuiteScript 2.x API Governance", section_157072844224). */
export const COST = {
  recordLoad: { transaction: 10, other: 5, custom: 2 },
  recordSubmitFields: { transaction: 10, other: 5, custom: 2 },
  recordCreate: { transaction: 10, other: 5, custom: 2 },
  recordSave: { transaction: 20, other: 10, custom: 4 },
  recordDelete: { transaction: 20, other: 10, custom: 4 },
  searchLoad: 5,
  searchSave: 5,
  searchLookupFields: 1,
  resultSetGetRange: 10,
  fileLoad: 10,
  httpsPost: 10,
} as const

/** Record types the kit touches, by the governance page's categories. */
export const TRANSACTION_TYPES = new Set(['vendorbill'])
