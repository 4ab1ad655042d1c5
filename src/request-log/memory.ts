/**
 * `MemoryRequestLog`: the request log in memory (tests, single-process apps; lost on restart).
 * @module
 */
import {
  decodeCursor,
  encodeCursor,
  pageSize,
  statusMatches,
  type RequestLog,
  type RequestLogBucket,
  type RequestLogEntry,
  type RequestLogPage,
  type RequestLogPruneQuery,
  type RequestLogQuery,
  type RequestLogStatsQuery,
} from './types'

const HOUR = 3_600_000

/** Newer first: `at` descending, then `id` descending. */
const newer = (a: { at: number; id: string }, b: { at: number; id: string }): boolean => a.at > b.at || (a.at === b.at && a.id > b.id)

const copy = (e: RequestLogEntry): RequestLogEntry => ({ ...e, at: new Date(e.at.getTime()), resourceIds: [...e.resourceIds] })

/**
 * A {@link RequestLog} in memory: entries in time order in an array (pruning drops a prefix),
 * with an index by resource id; other filters scan newest first (fine for tests and one process;
 * use `kyselyRequestLog` for indexes and persistence).
 *
 * @example
 * ```ts
 * const requestLog = new MemoryRequestLog()
 * app.use('/scim/v2', scimRouter(adapter, { authenticate, requestLog }))
 * ```
 */
export class MemoryRequestLog implements RequestLog {
  /** Oldest first. */
  #entries: RequestLogEntry[] = []
  readonly #byResource = new Map<string, RequestLogEntry[]>()

  async append(entries: readonly RequestLogEntry[]): Promise<void> {
    for (const raw of entries) {
      const e = copy(raw)
      // Keep time order (entries of one batch may finish out of order).
      let i = this.#entries.length
      while (i > 0 && newer(key(this.#entries[i - 1] as RequestLogEntry), key(e))) i--
      this.#entries.splice(i, 0, e)
      for (const id of new Set(e.resourceIds)) {
        let list = this.#byResource.get(id)
        if (!list) this.#byResource.set(id, (list = []))
        list.push(e)
      }
    }
  }

  async query(q: RequestLogQuery): Promise<RequestLogPage> {
    const limit = pageSize(q.limit)
    const after = decodeCursor(q.cursor)
    const source = q.resourceId !== undefined ? [...(this.#byResource.get(q.resourceId) ?? [])].sort((a, b) => (newer(key(a), key(b)) ? 1 : -1)) : this.#entries
    const out: RequestLogEntry[] = []
    for (let i = source.length - 1; i >= 0 && out.length <= limit; i--) {
      const e = source[i] as RequestLogEntry
      if (after && !newer(after, key(e))) continue
      if (!matches(e, q)) continue
      out.push(e)
    }
    const page = out.slice(0, limit).map(copy)
    const last = page[page.length - 1]
    return out.length > limit && last ? { entries: page, next: encodeCursor(last) } : { entries: page }
  }

  async stats(q: RequestLogStatsQuery): Promise<RequestLogBucket[]> {
    const buckets = new Map<string, RequestLogBucket>()
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i] as RequestLogEntry
      if (e.at < q.since) break
      if ((q.until && e.at >= q.until) || (q.tenant !== undefined && e.tenant !== q.tenant) || (q.connectionId !== undefined && e.connectionId !== q.connectionId)) continue
      const hour = Math.floor(e.at.getTime() / HOUR) * HOUR
      const k = `${hour}\u0000${e.idp}\u0000${e.errorType ?? ''}`
      const b = buckets.get(k)
      if (b) b.count++
      else buckets.set(k, { hour, idp: e.idp, errorType: e.errorType, count: 1 })
    }
    return [...buckets.values()].sort((a, b) => a.hour - b.hour)
  }

  async prune(q: RequestLogPruneQuery): Promise<number> {
    let drop = 0
    if (q.before) {
      const cutoff = q.before.getTime()
      while (drop < this.#entries.length && (this.#entries[drop] as RequestLogEntry).at.getTime() < cutoff) drop++
    }
    if (q.keep !== undefined) drop = Math.max(drop, this.#entries.length - Math.max(0, q.keep))
    if (drop === 0) return 0
    const gone = this.#entries.slice(0, drop)
    this.#entries = this.#entries.slice(drop)
    const ids = new Set(gone.map((e) => e.id))
    for (const rid of new Set(gone.flatMap((e) => e.resourceIds))) {
      const list = (this.#byResource.get(rid) ?? []).filter((e) => !ids.has(e.id))
      if (list.length === 0) this.#byResource.delete(rid)
      else this.#byResource.set(rid, list)
    }
    return drop
  }
}

function key(e: RequestLogEntry): { at: number; id: string } {
  return { at: e.at.getTime(), id: e.id }
}

function matches(e: RequestLogEntry, q: RequestLogQuery): boolean {
  if (q.tenant !== undefined && e.tenant !== q.tenant) return false
  if (q.connectionId !== undefined && e.connectionId !== q.connectionId) return false
  if (q.resourceId !== undefined && !e.resourceIds.includes(q.resourceId)) return false
  if (!statusMatches(q.status, e.status)) return false
  if (q.since && e.at < q.since) return false
  if (q.until && e.at >= q.until) return false
  return true
}
