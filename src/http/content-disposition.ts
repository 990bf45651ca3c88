/**
 * A Content-Disposition header any file name survives (RFC 6266): an ASCII fallback for old clients and the
 * exact name as RFC 5987 `filename*=UTF-8''…`. A non-Latin-1 name in a plain header makes Node throw after
 * Content-Length went out, which desynchronises a keep-alive connection.
 */
export function contentDisposition(type: 'inline' | 'attachment', fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
