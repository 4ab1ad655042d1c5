/**
 * RFC 9865 cursor tokens. The adapter's own keyset cursor is wrapped in a token that is opaque to
 * clients, made only of unreserved characters, and signed (HMAC-SHA256) together with the query it
 * belongs to, the page size, the caller it was issued to and its issue time. A forged, truncated,
 * foreign (other tenant or principal) or mismatched token is `invalidCursor`; an old one is
 * `expiredCursor`; another `count` is `invalidCount` (LST-081, LST-082).
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { ScimError } from './errors'

/** 400 with a RFC 9865 Table 3 scimType. */
export function cursorError(scimType: 'invalidCursor' | 'expiredCursor' | 'invalidCount', detail: string): ScimError {
  const code = { invalidCursor: 'ERR_SCIM_INVALID_CURSOR', expiredCursor: 'ERR_SCIM_EXPIRED_CURSOR', invalidCount: 'ERR_SCIM_INVALID_COUNT' }[scimType]
  return new ScimError(400, code, detail, scimType)
}

/** What a token binds together. */
export interface CursorClaims {
  /** The adapter's cursor. */
  inner: string
  /** Hash of the query (resource type, filter, sort, projection). */
  query: string
  /** Page size of the first request. */
  count: number
  /** Hash of the caller (tenant, principal). */
  caller: string
}

/** Signs and verifies cursor tokens for one router. */
export class CursorCodec {
  readonly #key: Buffer
  readonly #timeoutMs: number

  /** @param secret - shared by every instance behind one load balancer; random when omitted. */
  constructor(secret: string | Buffer | undefined, timeoutSeconds: number) {
    this.#key = secret === undefined ? randomBytes(32) : createHash('sha256').update(secret).digest()
    this.#timeoutMs = timeoutSeconds * 1000
  }

  /** Hash parts into a short binding value. */
  static digest(parts: readonly unknown[]): string {
    let text: string
    try {
      text = JSON.stringify(parts)
    } catch {
      text = String(parts)
    }
    return createHash('sha256').update(text).digest('base64url').slice(0, 22)
  }

  /** Issue a token. */
  encode(claims: CursorClaims, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify([claims.inner, claims.query, claims.count, claims.caller, now])).toString('base64url')
    return `${payload}.${this.#sign(payload)}`
  }

  /**
   * Verify a token for a request. Identical detail for every kind of forgery (LST-082).
   * @throws ScimError invalidCursor, expiredCursor or invalidCount.
   */
  decode(token: string, expect: Omit<CursorClaims, 'inner'>, now = Date.now()): string {
    const invalid = (): ScimError => cursorError('invalidCursor', 'Cursor value is invalid. Send an empty cursor to request the first page.')
    const dot = token.indexOf('.')
    if (dot <= 0 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw invalid()
    const payload = token.slice(0, dot)
    const mac = Buffer.from(token.slice(dot + 1), 'base64url')
    const want = Buffer.from(this.#sign(payload), 'base64url')
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) throw invalid()
    let fields: unknown
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    } catch {
      throw invalid()
    }
    if (!Array.isArray(fields) || fields.length !== 5) throw invalid()
    const [inner, query, count, caller, issued] = fields as [string, string, number, string, number]
    if (caller !== expect.caller || query !== expect.query) throw invalid()
    if (now - issued > this.#timeoutMs) throw cursorError('expiredCursor', 'Cursor has expired. Request the first page again.')
    if (count !== expect.count) {
      throw cursorError('invalidCount', `Count value must equal the count of the initial query (${count})`)
    }
    return inner
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url')
  }
}
