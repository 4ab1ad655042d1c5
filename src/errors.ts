/**
 * SCIM errors, RFC 7644 §3.12. One class per outcome, each with an HTTP `status`, an optional
 * `scimType` (Table 9, RFC 9865 Table 3) and a stable `code`. Check `err.code`, not `instanceof`:
 * the code survives two copies of the package in one process.
 * @module
 */

/** `scimType` keywords of RFC 7644 Table 9 and RFC 9865 Table 3. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount'

/** The JSON error envelope of RFC 7644 §3.12. `status` is a string on the wire. */
export interface ScimErrorEnvelope {
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error']
  status: string
  scimType?: ScimType
  detail: string
}

/**
 * Base class of every error the router answers with. `detail` is client-safe; put internal
 * information in `cause`, which is logged on `scim:error` but never sent.
 */
export class ScimError extends Error {
  /** HTTP status code. */
  readonly status: number
  /** SCIM detail error keyword, when Table 9 has one. */
  readonly scimType: ScimType | undefined
  /** Stable machine-readable code, e.g. `ERR_SCIM_INVALID_FILTER`. */
  readonly code: string
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>

  constructor(
    status: number,
    code: string,
    detail: string,
    scimType?: ScimType,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = status
    this.code = code
    this.scimType = scimType
    this.headers = options?.headers ?? {}
  }

  /** The client-facing message. */
  get detail(): string {
    return this.message
  }

  /** Render the RFC 7644 §3.12 envelope. */
  toErrorEnvelope(): ScimErrorEnvelope {
    const envelope: ScimErrorEnvelope = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(this.status),
      detail: this.message,
    }
    if (this.scimType) envelope.scimType = this.scimType
    return envelope
  }
}

type Opts = { cause?: unknown; headers?: Record<string, string> }

/** 400 invalidFilter: the filter is malformed or names something that cannot be compared. */
export class InvalidFilterError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_FILTER', detail, 'invalidFilter', options)
  }
}
/** 400 tooMany: the query would yield more results than the server is willing to process. */
export class TooManyError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_TOO_MANY', detail, 'tooMany', options)
  }
}
/** 400 invalidSyntax: the request body is not valid JSON or not the expected message structure. */
export class InvalidSyntaxError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_SYNTAX', detail, 'invalidSyntax', options)
  }
}
/** 400 invalidPath: a PATCH `path` is malformed or names an unknown attribute. */
export class InvalidPathError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_PATH', detail, 'invalidPath', options)
  }
}
/** 400 noTarget: a PATCH path selects nothing that can be operated on. */
export class NoTargetError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_NO_TARGET', detail, 'noTarget', options)
  }
}
/** 400 invalidValue: a required value is missing or a value has the wrong type. */
export class InvalidValueError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_VALUE', detail, 'invalidValue', options)
  }
}
/** 400 mutability: the change is not allowed by the attribute's mutability. */
export class MutabilityError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_MUTABILITY', detail, 'mutability', options)
  }
}
/** 400 invalidVers: unsupported SCIM protocol version (RFC 7644 §3.13). Not for ETag mismatches. */
export class InvalidVersionError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_VERSION', detail, 'invalidVers', options)
  }
}
/** 403 sensitive: the request must be sent with POST (RFC 7644 §7.5.2). */
export class SensitiveError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(403, 'ERR_SCIM_SENSITIVE', detail, 'sensitive', options)
  }
}
/**
 * 400 invalidCursor (RFC 9865 §2.1, Table 3): a cursor that is unknown, forged, malformed, issued
 * for another query or caller, or stamped in the future. Throw it from `listByCursor` for a cursor
 * your adapter cannot parse; keep the default detail, so that every kind of bad cursor reads alike
 * (RFC 9865 §5.2).
 */
export class InvalidCursorError extends ScimError {
  constructor(detail = 'Cursor value is invalid. Send an empty cursor to request the first page.', options?: Opts) {
    super(400, 'ERR_SCIM_INVALID_CURSOR', detail, 'invalidCursor', options)
  }
}
/** 401: missing or invalid credentials. Carries `WWW-Authenticate` (RFC 7235 §4.1). */
export class UnauthorizedError extends ScimError {
  constructor(detail = 'Authorization failure. The authorization header is invalid or missing.', options?: Opts) {
    super(401, 'ERR_SCIM_UNAUTHORIZED', detail, undefined, {
      ...options,
      headers: { 'WWW-Authenticate': 'Bearer realm="scim"', ...options?.headers },
    })
  }
}
/** 403: authenticated, but not allowed to do this. */
export class ForbiddenError extends ScimError {
  constructor(detail = 'Operation is not permitted based on the supplied authorization.', options?: Opts) {
    super(403, 'ERR_SCIM_FORBIDDEN', detail, undefined, options)
  }
}
/** 404: the resource or endpoint does not exist. */
export class NotFoundError extends ScimError {
  constructor(detail = 'Resource not found', options?: Opts) {
    super(404, 'ERR_SCIM_NOT_FOUND', detail, undefined, options)
  }
}
/** 405: the endpoint exists but HTTP does not apply this method to it. Carries `Allow`. */
export class MethodNotAllowedError extends ScimError {
  constructor(allow: string, detail = 'Method not allowed on this endpoint', options?: Opts) {
    super(405, 'ERR_SCIM_METHOD_NOT_ALLOWED', detail, undefined, { ...options, headers: { Allow: allow, ...options?.headers } })
  }
}
/** 409 uniqueness: a unique attribute value is already in use (RFC 7644 §3.3). */
export class UniquenessError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(409, 'ERR_SCIM_UNIQUENESS', detail, 'uniqueness', options)
  }
}
/** 412: the resource changed since the version the client or router expected (RFC 7644 §3.14). No scimType. */
export class PreconditionFailedError extends ScimError {
  constructor(detail = 'Failed to update. Resource has changed on the server.', options?: Opts) {
    super(412, 'ERR_SCIM_PRECONDITION_FAILED', detail, undefined, options)
  }
}
/** 413: the request body is larger than the configured limit. */
export class PayloadTooLargeError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(413, 'ERR_SCIM_PAYLOAD_TOO_LARGE', detail, undefined, options)
  }
}
/** 415: the request body has a content type that is not JSON. */
export class UnsupportedMediaTypeError extends ScimError {
  constructor(detail: string, options?: Opts) {
    super(415, 'ERR_SCIM_UNSUPPORTED_MEDIA_TYPE', detail, undefined, options)
  }
}
/** 429: the adapter (or host) is throttling; carries `Retry-After` in seconds (RFC 6585 §4). */
export class TooManyRequestsError extends ScimError {
  constructor(retryAfterSeconds = 1, detail = 'Too many requests; retry later', options?: Opts) {
    super(429, 'ERR_SCIM_TOO_MANY_REQUESTS', detail, undefined, { ...options, headers: { 'Retry-After': String(retryAfterSeconds), ...options?.headers } })
  }
}
/** 503: storage is unavailable or did not answer in time; carries `Retry-After` (RFC 7231 §6.6.4). */
export class ServiceUnavailableError extends ScimError {
  constructor(retryAfterSeconds = 5, detail = 'The service is temporarily unavailable; retry later', options?: Opts) {
    super(503, 'ERR_SCIM_UNAVAILABLE', detail, undefined, { ...options, headers: { 'Retry-After': String(retryAfterSeconds), ...options?.headers } })
  }
}
/** 500: an unexpected failure. The detail is generic; the cause is logged, never sent. */
export class InternalServerError extends ScimError {
  constructor(detail = 'Internal server error', options?: Opts) {
    super(500, 'ERR_SCIM_INTERNAL', detail, undefined, options)
  }
}
/** 501: the service provider does not support this operation. */
export class NotImplementedError extends ScimError {
  constructor(detail = 'Operation not implemented', options?: Opts) {
    super(501, 'ERR_SCIM_NOT_IMPLEMENTED', detail, undefined, options)
  }
}

/** True when `err` is a {@link ScimError}, including one from another copy of this package. */
export function isScimError(err: unknown): err is ScimError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code.startsWith('ERR_SCIM_') &&
    typeof (err as { status?: unknown }).status === 'number' &&
    typeof (err as { toErrorEnvelope?: unknown }).toErrorEnvelope === 'function'
  )
}
