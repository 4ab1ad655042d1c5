/**
 * The only place responses are written (CONVENTIONS §6.7). Every body is
 * `application/scim+json; charset=utf-8` (RFC 7644 §3.1), whatever the request's
 * `Accept` (RFC 7644 §3.8).
 * @module
 */
import type { ServerResponse } from 'node:http'

/** The media type of every response body (RFC 7644 §3.1). */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

/** Send a JSON body (or none, for 204/304) with extra headers. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.statusCode = status
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string)
  if (body === undefined || status === 204 || status === 304) {
    res.end()
    return
  }
  // Encoded once: Buffer.byteLength(text) and then res.end(text) walked a 100-resource page twice.
  const bytes = Buffer.from(JSON.stringify(body), 'utf8')
  res.setHeader('Content-Type', SCIM_CONTENT_TYPE)
  res.setHeader('Content-Length', bytes.length)
  res.end(bytes)
}

/**
 * Send a non-SCIM body (the console's page, script, stylesheet and JSON) with its media type and
 * extra headers, or none (`body` undefined).
 */
export function sendText(res: ServerResponse, status: number, type: string, body: string | undefined, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.statusCode = status
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string)
  res.setHeader('Content-Type', type)
  if (body === undefined) {
    res.end()
    return
  }
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}
