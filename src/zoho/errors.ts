import { AppError } from '../errors.ts'

export type ZohoErrorKind = 'permanent' | 'retryable' | 'rate_limited' | 'unauthorized'

/** A Zoho outcome the delivery worker must act on; code is stable, zohoCode/message are Zoho's own. */
export class ZohoError extends AppError {
  readonly kind: ZohoErrorKind
  readonly httpStatus: number | null
  readonly zohoCode: number | null

  constructor(kind: ZohoErrorKind, code: string, message: string, httpStatus: number | null = null, zohoCode: number | null = null) {
    super(code, message, kind === 'permanent' ? 422 : 503)
    this.name = 'ZohoError'
    this.kind = kind
    this.httpStatus = httpStatus
    this.zohoCode = zohoCode
  }
}
