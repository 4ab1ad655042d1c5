/**
 * A resource's history: every logged request that touched one User or Group, and every event of
 * the durable stream about it (with its delivery state), in time order.
 * @module
 */
import type { EventOutbox, OutboxEvent, OutboxEventState } from '../adapter'
import type { RequestLog, RequestLogEntry } from './types'

/** An event of the durable stream as a history shows it (payload left out: it may hold PII). */
export interface HistoryEvent {
  id: string
  seq: string
  type: string
  resourceType: string
  resourceId: string
  /** `pending` (being delivered or retried), `delivered`, or `dead` (gave up: redeliver it). */
  state: OutboxEventState
  attempts: number
  createdAt: string
  deliveredAt: string | null
  /** When a pending event is next attempted. */
  nextAttemptAt: string | null
  lastError: string | null
  /** For `group.members.added` / `group.members.removed`. */
  memberIds?: string[]
}

/** One item of a history: a request, or an event. */
export type HistoryItem = { kind: 'request'; at: string; request: RequestLogEntry } | { kind: 'event'; at: string; event: HistoryEvent }

/** What {@link resourceHistory} returns. */
export interface ResourceHistory {
  tenant: string
  resourceId: string
  /** Oldest first. */
  items: HistoryItem[]
  /** False when more requests or events exist than the limit (the oldest are left out). */
  complete: boolean
}

/** Options of {@link resourceHistory}. */
export interface ResourceHistoryOptions<Ctx = unknown> {
  requestLog: RequestLog
  /** The adapter's event outbox (`adapter.outbox`), for the events; without it, requests only. */
  outbox?: EventOutbox<Ctx> | undefined
  /** The outbox context of a tenant. Default `{ tenant }`. */
  context?: (tenant: string) => Ctx
}

const FEED_SCAN = 10_000

/** The public view of an outbox event. */
export function historyEvent(e: OutboxEvent): HistoryEvent {
  const members = (e.payload as { memberIds?: unknown })['memberIds']
  return {
    id: e.id,
    seq: e.seq,
    type: e.type,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    state: e.state,
    attempts: e.attempts,
    createdAt: e.createdAt.toISOString(),
    deliveredAt: e.deliveredAt ? e.deliveredAt.toISOString() : null,
    nextAttemptAt: e.state === 'pending' ? e.nextAttemptAt.toISOString() : null,
    lastError: e.lastError,
    ...(Array.isArray(members) ? { memberIds: members.filter((m): m is string => typeof m === 'string') } : {}),
  }
}

async function eventsOf<Ctx>(outbox: EventOutbox<Ctx>, ctx: Ctx, resourceType: string, resourceId: string, limit: number): Promise<OutboxEvent[]> {
  if (outbox.listForResource) return outbox.listForResource({ resourceType, resourceId, limit }, ctx)
  // No index for it: scan the feed, bounded.
  const out: OutboxEvent[] = []
  let after: string | undefined
  for (let scanned = 0; scanned < FEED_SCAN; ) {
    const page = await outbox.list({ ...(after !== undefined ? { after } : {}), limit: 500 }, ctx)
    if (page.length === 0) break
    scanned += page.length
    for (const e of page) if (e.resourceType === resourceType && e.resourceId === resourceId) out.push(e)
    after = page[page.length - 1]?.seq
  }
  return out.reverse().slice(0, limit)
}

/**
 * The history of one resource in a tenant: the requests that touched it (the request log's
 * resource index: its path, its answer, Bulk operations, Group member values) and its events,
 * plus — for a User — the membership events of the Groups those requests touched that name it.
 * Oldest first, at most `limit` (default 200) requests and as many events.
 *
 * @example
 * ```ts
 * const h = await resourceHistory({ requestLog, outbox: adapter.outbox }, { tenant: 'acme', id: userId })
 * const failed = h.items.filter((i) => i.kind === 'request' && i.request.status >= 400)
 * ```
 */
export async function resourceHistory<Ctx = unknown>(
  options: ResourceHistoryOptions<Ctx>,
  q: { tenant: string; id: string; limit?: number },
): Promise<ResourceHistory> {
  const limit = Math.max(1, Math.min(1000, q.limit ?? 200))
  const requests: RequestLogEntry[] = []
  let cursor: string | undefined
  let complete = true
  while (requests.length < limit) {
    const page = await options.requestLog.query({ tenant: q.tenant, resourceId: q.id, limit: Math.min(500, limit - requests.length), ...(cursor ? { cursor } : {}) })
    requests.push(...page.entries)
    if (!page.next) break
    cursor = page.next
    if (requests.length >= limit) complete = false
  }
  const events: HistoryEvent[] = []
  if (options.outbox) {
    const ctx = (options.context ?? ((tenant: string) => ({ tenant }) as Ctx))(q.tenant)
    for (const type of ['User', 'Group']) {
      const own = await eventsOf(options.outbox, ctx, type, q.id, limit)
      if (own.length >= limit) complete = false
      events.push(...own.map(historyEvent))
    }
    // Membership changes are events of the Group: those of the Groups the requests touched that name this id.
    const groups = new Set<string>()
    for (const r of requests) if (/\/Groups(\/|\?|$)/i.test(r.path) || r.path.includes('/Bulk')) for (const g of r.resourceIds) if (g !== q.id) groups.add(g)
    for (const g of [...groups].slice(0, 20)) {
      for (const e of await eventsOf(options.outbox, ctx, 'Group', g, limit)) {
        const view = historyEvent(e)
        if (view.memberIds?.includes(q.id)) events.push(view)
      }
    }
  }
  const seen = new Set<string>()
  const items: HistoryItem[] = [
    ...requests.reverse().map((r): HistoryItem => ({ kind: 'request', at: r.at.toISOString(), request: r })),
    ...events.filter((e) => !seen.has(e.id) && seen.add(e.id)).map((e): HistoryItem => ({ kind: 'event', at: e.createdAt, event: e })),
  ]
  // Oldest first; at one instant a request comes before the events it caused, events in commit order.
  const rank = (i: HistoryItem): bigint => (i.kind === 'event' && /^\d+$/.test(i.event.seq) ? BigInt(i.event.seq) : 0n)
  items.sort((a, b) => {
    if (a.at !== b.at) return a.at < b.at ? -1 : 1
    if (a.kind !== b.kind) return a.kind === 'request' ? -1 : 1
    const d = rank(a) - rank(b)
    return d < 0n ? -1 : d > 0n ? 1 : 0
  })
  return { tenant: q.tenant, resourceId: q.id, items, complete }
}
