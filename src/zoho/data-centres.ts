/**
 * Zoho's data centres: the accounts server that grants tokens and the API domain of Books, per region
 * (Zoho Books API introduction; Zoho's multi-DC OAuth guide; see docs/zoho.md).
 */
export const DATA_CENTRES = {
  com: { accounts: 'https://accounts.zoho.com', api: 'https://www.zohoapis.com' },
  eu: { accounts: 'https://accounts.zoho.eu', api: 'https://www.zohoapis.eu' },
  in: { accounts: 'https://accounts.zoho.in', api: 'https://www.zohoapis.in' },
  'com.au': { accounts: 'https://accounts.zoho.com.au', api: 'https://www.zohoapis.com.au' },
  jp: { accounts: 'https://accounts.zoho.jp', api: 'https://www.zohoapis.jp' },
  ca: { accounts: 'https://accounts.zohocloud.ca', api: 'https://www.zohoapis.ca' },
  sa: { accounts: 'https://accounts.zoho.sa', api: 'https://www.zohoapis.sa' },
  'com.cn': { accounts: 'https://accounts.zoho.com.cn', api: 'https://www.zohoapis.com.cn' },
} as const

export type DataCentre = keyof typeof DATA_CENTRES

/**
 * The Zoho Books web app per data centre; a bill's page is <web>/app/<organization_id>#/bills/<bill_id>.
 * Not from an API reference: the URL pattern the Books web app shows in its address bar, per region.
 */
export const BOOKS_WEB: Record<DataCentre, string> = {
  com: 'https://books.zoho.com',
  eu: 'https://books.zoho.eu',
  in: 'https://books.zoho.in',
  'com.au': 'https://books.zoho.com.au',
  jp: 'https://books.zoho.jp',
  ca: 'https://books.zohocloud.ca',
  sa: 'https://books.zoho.sa',
  'com.cn': 'https://books.zoho.com.cn',
}

/** The data centre an accounts or API URL belongs to, if it is one of Zoho's. */
export function dataCentreOf(url: string): DataCentre | undefined {
  let host: string
  try {
    host = new URL(url).host
  } catch {
    return undefined
  }
  return (Object.keys(DATA_CENTRES) as DataCentre[]).find((dc) => [DATA_CENTRES[dc].accounts, DATA_CENTRES[dc].api].some((u) => new URL(u).host === host))
}

/**
 * Daily request quota and concurrent requests by Zoho Books plan: daily from Zoho Books KB "per day API
 * limit"; concurrency is not documented for Books (commonly quoted: 5 on Free, 10 on paid plans).
 */
export const PLANS = {
  free: { dailyLimit: 1_000, maxConcurrency: 5 },
  standard: { dailyLimit: 2_000, maxConcurrency: 10 },
  professional: { dailyLimit: 5_000, maxConcurrency: 10 },
  premium: { dailyLimit: 10_000, maxConcurrency: 10 },
  elite: { dailyLimit: 10_000, maxConcurrency: 10 },
  ultimate: { dailyLimit: 10_000, maxConcurrency: 10 },
} as const

export type Plan = keyof typeof PLANS
