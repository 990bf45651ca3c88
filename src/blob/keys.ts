import { AppError } from '../errors.ts'

const SEGMENT = /^[A-Za-z0-9._-]+$/
const MAX_KEY_LENGTH = 1024

/** Returns the key when it is relative path segments of [A-Za-z0-9._-], none of them '.' or '..'; else BLOB_KEY_INVALID. */
export function validateKey(key: string): string {
  const segments = key.split('/')
  if (key.length > MAX_KEY_LENGTH || !segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) {
    throw new AppError('BLOB_KEY_INVALID', `blob key ${JSON.stringify(key.slice(0, 200))} must be relative path segments of letters, digits, dot, dash and underscore (no "..")`, 400)
  }
  return key
}

/** A listing prefix is empty, a key, or a key followed by '/'. */
export function validatePrefix(prefix: string): string {
  if (prefix !== '') validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
  return prefix
}
