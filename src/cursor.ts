/**
 * RFC 9865 cursor tokens. The adapter's own keyset cursor is wrapped in a token that is opaque to
 * clients, made only of unreserved characters, and signed (HMAC-SHA256) together with the query it
 * belongs to, the page size, the caller it was issued to and its issue time. A forged, truncated,
 * malformed, foreign (other tenant or principal), mismatched or future-stamped token is
 * `invalidCursor`; an old one is `expiredCursor`; another `count` is `invalidCount`.
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { InvalidCursorError, ScimError } from './errors'

/** 400 with a RFC 9865 Table 3 scimType. */
export function cursorError(scimType: 'invalidCursor' | 'expiredCursor' | 'invalidCount', detail: string): ScimError {
  if (scimType === 'invalidCursor') return new InvalidCursorError(detail)
  const code = { expiredCursor: 'ERR_SCIM_EXPIRED_CURSOR', invalidCount: 'ERR_SCIM_INVALID_COUNT' }[scimType]
  return new ScimError(400, code, detail, scimType)
}

/**
 * How far in the future an issue time may lie: the clock skew tolerated between instances that
 * share `cursorSecret`. Beyond it a token is invalid, or it would outlive `cursorTimeout`.
 */
const FUTURE_SKEW_MS = 60_000

/** Claims of a JWT that change when the same caller renews its token (RFC 7519 §4.1, RFC 9068 §2.2). */
const PER_TOKEN_CLAIMS = new Set(['iat', 'exp', 'nbf', 'jti', 'auth_time'])

/**
 * The stable identity of a principal, which cursors are bound to (RFC 9865 §5.2): for a
 * principal with JWT `claims` (as `jwtBearer` returns) its issuer and subject, or without a
 * subject its claims minus the per-token ones, so that a renewed token keeps its cursors; for
 * a `connectionAuth` principal its connection id (a rotated token or changed settings keep its
 * cursors); any other principal as it is.
 */
export function principalIdentity(principal: unknown): unknown {
  // A connection's principal (connectionAuth) is the connection: its settings may change between pages.
  const connectionId = principal !== null && typeof principal === 'object' ? (principal as { connectionId?: unknown }).connectionId : undefined
  if (typeof connectionId === 'string') return { connectionId }
  const claims = principal !== null && typeof principal === 'object' ? (principal as { claims?: unknown }).claims : undefined
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return principal ?? null
  const c = claims as Record<string, unknown>
  if (typeof c['sub'] === 'string') return { iss: c['iss'] ?? null, sub: c['sub'] }
  return Object.fromEntries(Object.entries(c).filter(([k]) => !PER_TOKEN_CLAIMS.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
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
   * Verify a token for a request. Identical detail for every kind of forgery.
   * @throws ScimError invalidCursor, expiredCursor or invalidCount.
   */
  decode(token: string, expect: Omit<CursorClaims, 'inner'>, now = Date.now()): string {
    const invalid = (): ScimError => new InvalidCursorError()
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
    // A valid signature proves who made a token, not that it is well formed: it may come from
    // another version of this code, or from anyone holding the secret.
    if (!Array.isArray(fields) || fields.length !== 5) throw invalid()
    const [inner, query, count, caller, issued] = fields as unknown[]
    if (typeof inner !== 'string' || typeof query !== 'string' || typeof caller !== 'string') throw invalid()
    if (!Number.isSafeInteger(count) || (count as number) < 0 || !Number.isSafeInteger(issued)) throw invalid()
    if (caller !== expect.caller || query !== expect.query) throw invalid()
    if ((issued as number) - now > FUTURE_SKEW_MS) throw invalid()
    if (now - (issued as number) > this.#timeoutMs) throw cursorError('expiredCursor', 'Cursor has expired. Request the first page again.')
    if (count !== expect.count) {
      throw cursorError('invalidCount', `Count value must equal the count of the initial query (${count as number})`)
    }
    return inner
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url')
  }
}
