/**
 * Request body reading: `application/scim+json` and `application/json` (any case, any charset
 * parameter, or no Content-Type at all), a byte limit enforced while reading, strict UTF-8
 * (RFC 7644 §3.8), and reuse of a body an upstream parser (express.json()) already parsed.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { InvalidSyntaxError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors'

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** True for JSON media types we accept; undefined means no Content-Type header. */
function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return type === 'application/json' || type === 'application/scim+json' || (type.startsWith('application/') && type.endsWith('+json'))
}

function tooLarge(limit: number, name?: string): PayloadTooLargeError {
  return new PayloadTooLargeError(
    name ? `The size of the bulk operation exceeds the ${name} (${limit}).` : `Request body exceeds the maximum size of ${limit} bytes`,
  )
}

/**
 * Read and parse the JSON body.
 * @returns the parsed JSON value, or `undefined` when the request has no body.
 * @throws UnsupportedMediaTypeError (415) for a non-JSON Content-Type.
 * @throws PayloadTooLargeError (413) above `limit` bytes.
 * @throws InvalidSyntaxError (400 invalidSyntax) for invalid UTF-8 or JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit: number, limitName?: string): Promise<unknown> {
  const upstream = req as IncomingMessage & { body?: unknown; _body?: boolean }
  const contentType = req.headers['content-type']
  // An upstream parser already consumed the stream.
  if (upstream._body === true || req.readableEnded) {
    const body = upstream.body
    if (Buffer.isBuffer(body)) return body.length === 0 ? undefined : parseText(decode(body), limit, body.length)
    if (typeof body === 'string') return parseText(body, limit, Buffer.byteLength(body))
    return body
  }
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) {
    req.resume()
    throw tooLarge(limit, limitName)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > limit) {
      req.resume()
      throw tooLarge(limit, limitName)
    }
    chunks.push(buf)
  }
  if (size === 0) return undefined
  if (!isJsonType(contentType)) throw new UnsupportedMediaTypeError(`Unsupported Content-Type '${contentType}'; use application/scim+json`)
  return parseText(decode(Buffer.concat(chunks, size)), limit, size, limitName)
}

function decode(buf: Buffer): string {
  try {
    return decoder.decode(buf)
  } catch {
    throw new InvalidSyntaxError('Request body is not valid UTF-8')
  }
}

function parseText(text: string, limit: number, bytes: number, limitName?: string): unknown {
  if (bytes > limit) throw tooLarge(limit, limitName)
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new InvalidSyntaxError('Request body is not valid JSON')
  }
}

/** Require a JSON object body (else 400 invalidSyntax, RFC 7644 §3.12). */
export function requireObject(body: unknown, what = 'Request body'): Record<string, unknown> {
  if (body === undefined) throw new InvalidSyntaxError(`${what} is required`)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidSyntaxError(`${what} must be a JSON object`)
  }
  return body as Record<string, unknown>
}
