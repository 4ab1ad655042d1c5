/**
 * The request log's records, queries and store contract ({@link RequestLog}).
 * @module
 */

/** The identity provider a request came from, as detected by {@link detectIdp}. */
export type IdpName = 'okta' | 'entra' | 'google' | 'onelogin' | 'jumpcloud' | 'unknown'

/** One SCIM request as the log keeps it: redacted, bounded, without headers other than the User-Agent. */
export interface RequestLogEntry {
  /** A UUIDv7: sorts in time order. */
  id: string
  /** When the request arrived. */
  at: Date
  /** The tenant the request worked in; null when it was not authenticated (401). */
  tenant: string | null
  /** The connection the request came through (its principal, else the `/c/{id}` path segment), or null. */
  connectionId: string | null
  idp: IdpName
  method: string
  /** The original URL's path and query, with credentials in the query redacted. */
  path: string
  status: number
  /** The error's `scimType` (RFC 7644 §3.12), when there is one. */
  scimType: string | null
  /** The error's `detail`, when the answer was an error (redacted like the bodies). */
  detail: string | null
  /**
   * What the charts group errors by: the `scimType`, else the status (`"401"`, `"404"`, …) for an
   * error without one, else null (a success).
   */
  errorType: string | null
  /** Milliseconds from the request's arrival to its answer. */
  durationMs: number
  /** Ids of the resources the request touched (path, answer, Bulk operations, group members), at most 50. */
  resourceIds: string[]
  /** The `X-Request-Id` the client sent (when well-formed), else one generated; echoed as `X-Request-Id`. */
  correlationId: string
  /** The User-Agent header (at most 256 characters), or null. */
  userAgent: string | null
  /** The request body as redacted JSON text (bounded; truncated text ends with `…[truncated]`), or null. */
  requestBody: string | null
  /** The response body as redacted JSON text (bounded), or null. */
  responseBody: string | null
}

/** Which entries {@link RequestLog.query} returns. Every field narrows; absent fields do not. */
export interface RequestLogQuery {
  tenant?: string
  connectionId?: string
  /** Entries that touched this resource id. */
  resourceId?: string
  /** An exact status, or `'error'` for every status from 400 up. */
  status?: number | 'error'
  /** Entries at or after this instant. */
  since?: Date
  /** Entries before this instant. */
  until?: Date
  /** Page size (default 50, at most 500). */
  limit?: number
  /** The `next` cursor of the previous page. */
  cursor?: string
}

/** A page of entries, newest first. */
export interface RequestLogPage {
  entries: RequestLogEntry[]
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next?: string
}

/** One bar of the charts: requests in one hour, of one IdP and one error type (null: successes). */
export interface RequestLogBucket {
  /** Start of the hour (epoch ms). */
  hour: number
  idp: IdpName
  errorType: string | null
  count: number
}

/** What {@link RequestLog.stats} counts. */
export interface RequestLogStatsQuery {
  tenant?: string
  connectionId?: string
  since: Date
  until?: Date
}

/** What {@link RequestLog.prune} deletes: entries older than `before`, and all but the newest `keep`. */
export interface RequestLogPruneQuery {
  before?: Date
  keep?: number
}

/**
 * Where request-log entries are kept. Implementations: {@link MemoryRequestLog}, and
 * `kyselyRequestLog(db)` of `scim-router/kysely` (tables created by its `migrate()`).
 *
 * Rules for implementers: `append` takes entries already redacted and bounded; `query` returns
 * newest first (`at` descending, then `id` descending) with a cursor, served by an index on
 * every filter; `prune` is called now and then (never per request) and must not scan the whole
 * log (an index on `at`).
 */
export interface RequestLog {
  /** Store entries (a batch). */
  append(entries: readonly RequestLogEntry[]): Promise<void>
  /** Entries matching the query, newest first, paged. */
  query(q: RequestLogQuery): Promise<RequestLogPage>
  /** Request counts per hour, IdP and error type. */
  stats(q: RequestLogStatsQuery): Promise<RequestLogBucket[]>
  /** Delete old entries; returns how many were deleted. */
  prune(q: RequestLogPruneQuery): Promise<number>
}

/** The default and largest page sizes of {@link RequestLog.query}. */
export const PAGE = { default: 50, max: 500 } as const

/** The page size a query asks for, clamped. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return PAGE.default
  return Math.max(1, Math.min(PAGE.max, Math.floor(limit)))
}

/** Cursor of the entry a page ended on: `<at ms>.<id>`. */
export function encodeCursor(e: { at: Date; id: string }): string {
  return `${e.at.getTime()}.${e.id}`
}

/**
 * The position a cursor names, or undefined for a malformed one.
 */
export function decodeCursor(cursor: string | undefined): { at: number; id: string } | undefined {
  if (cursor === undefined) return undefined
  const m = /^(\d{1,15})\.([0-9a-f-]{1,64})$/.exec(cursor)
  if (!m) return undefined
  return { at: Number(m[1]), id: m[2] as string }
}

/** Whether an entry with status `status` matches a query's `status`. */
export function statusMatches(want: RequestLogQuery['status'], status: number): boolean {
  return want === undefined || (want === 'error' ? status >= 400 : status === want)
}
