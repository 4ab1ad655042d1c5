/**
 * The in-memory {@link EventOutbox} behind `MemoryAdapter`: events are appended in the same
 * synchronous step as the change they describe, so a write that fails records nothing. The
 * reference for the claim rules (leases, per-resource order) that SQL stores implement in SQL.
 * Nothing survives the process, so it gives retries and the feed, not restart durability.
 * @module
 */
import type { ClaimQuery, EventListQuery, EventOutbox, OutboxEvent, OutboxEventInput } from './adapter'

/** An event as kept here: the payload as JSON text. */
type Kept = Omit<OutboxEvent, 'payload'> & { payload: string }

const resourceKey = (e: Kept): string => `${e.tenant}\u0000${e.resourceType}\u0000${e.resourceId}`

/** An in-memory event outbox. `tenantOf` names the tenant of a context, as the adapter does. */
export class MemoryOutbox<Ctx = unknown> implements EventOutbox<Ctx> {
  /** Events by id, in `seq` order (Map insertion order); `payload` holds JSON text ({@link copy} parses it). */
  readonly #events = new Map<string, Kept>()
  /** Pending events only, by resource key (claims and the per-resource check touch only these). */
  readonly #pending = new Map<string, Set<Kept>>()
  readonly #tenantOf: (ctx: Ctx) => string
  #seq = 0

  constructor(tenantOf: (ctx: Ctx) => string) {
    this.#tenantOf = tenantOf
  }

  /** Record a committed write's events (called by the adapter inside the write's synchronous step). */
  record(tenant: string, events: readonly OutboxEventInput[]): void {
    const now = new Date()
    const texts = new Map<unknown, string>() // one serialisation of a resource several events carry
    for (const e of events) {
      const lease = e.state === 'pending' && e.lease && this.#free(tenant, e.resourceType, e.resourceId, e.lease.owner, now.getTime()) ? e.lease : undefined
      const stored: Kept = {
        id: e.id,
        tenant,
        seq: String(++this.#seq),
        type: e.type,
        resourceType: e.resourceType,
        resourceId: e.resourceId,
        // Kept as JSON text, as a SQL store keeps it: one serialisation per event, a copy per
        // read, and a long feed of full resources is a few strings for the collector to skip.
        payload: payloadText(e.payload, texts),
        state: e.state,
        attempts: lease ? 1 : 0,
        nextAttemptAt: now,
        leaseOwner: lease ? lease.owner : null,
        leaseUntil: lease ? lease.until : null,
        createdAt: now,
        deliveredAt: e.state === 'delivered' ? now : null,
        lastError: null,
      }
      this.#events.set(e.id, stored)
      if (stored.state === 'pending') this.#track(stored, true)
      if (lease) lease.granted = true
    }
  }

  /** No pending event of the resource that `owner` does not hold (per-resource order). */
  #free(tenant: string, resourceType: string, resourceId: string, owner: string, now: number): boolean {
    for (const e of this.#pendingOf(tenant, resourceType, resourceId)) {
      if (!(e.leaseOwner === owner && e.leaseUntil !== null && e.leaseUntil.getTime() > now)) return false
    }
    return true
  }

  #pendingOf(tenant: string, resourceType: string, resourceId: string): Iterable<Kept> {
    return this.#pending.get(`${tenant}\u0000${resourceType}\u0000${resourceId}`) ?? []
  }

  #track(e: Kept, pending: boolean): void {
    const key = resourceKey(e)
    let set = this.#pending.get(key)
    if (pending) {
      if (!set) this.#pending.set(key, (set = new Set()))
      set.add(e)
    } else if (set) {
      set.delete(e)
      if (set.size === 0) this.#pending.delete(key)
    }
  }

  async claim(q: ClaimQuery): Promise<OutboxEvent[]> {
    const now = Date.now()
    const only = q.ids ? new Set(q.ids) : undefined
    const blocked = new Set<string>()
    const out: OutboxEvent[] = []
    const pending = [...this.#pending.values()].flatMap((set) => [...set]).sort((a, b) => Number(a.seq) - Number(b.seq))
    for (const e of pending) {
      if (out.length >= q.limit) break
      const key = resourceKey(e)
      if (blocked.has(key)) continue
      const leased = e.leaseUntil !== null && e.leaseUntil.getTime() > now
      if (leased && e.leaseOwner === q.owner) continue // mine already: does not block later ones
      if (leased || e.nextAttemptAt.getTime() > now || (only && !only.has(e.id))) {
        blocked.add(key) // per-resource order: nothing later of this resource goes first
        continue
      }
      e.leaseOwner = q.owner
      e.leaseUntil = new Date(now + q.leaseMs)
      e.attempts += 1
      out.push(copy(e))
    }
    return out
  }

  async complete(q: { ids: readonly string[]; owner: string }): Promise<void> {
    for (const id of q.ids) {
      const e = this.#events.get(id)
      if (!e || e.state !== 'pending') continue
      this.#track(e, false)
      e.state = 'delivered'
      e.deliveredAt = new Date()
      e.leaseOwner = null
      e.leaseUntil = null
    }
  }

  async fail(q: { id: string; owner: string; error: string; nextAttemptAt: Date | null }): Promise<void> {
    const e = this.#events.get(q.id)
    if (!e || e.state !== 'pending' || e.leaseOwner !== q.owner) return
    e.lastError = q.error
    e.leaseOwner = null
    e.leaseUntil = null
    if (q.nextAttemptAt) e.nextAttemptAt = q.nextAttemptAt
    else {
      this.#track(e, false)
      e.state = 'dead'
    }
  }

  async release(q: { ids: readonly string[]; owner: string }): Promise<void> {
    for (const id of q.ids) {
      const e = this.#events.get(id)
      if (!e || e.state !== 'pending' || e.leaseOwner !== q.owner) continue
      e.leaseOwner = null
      e.leaseUntil = null
      e.attempts = Math.max(0, e.attempts - 1)
    }
  }

  async list(q: EventListQuery, ctx: Ctx): Promise<OutboxEvent[]> {
    const tenant = this.#tenantOf(ctx)
    const after = q.after === undefined ? 0 : Number(q.after)
    const out: OutboxEvent[] = []
    for (const e of this.#events.values()) {
      if (out.length >= q.limit) break
      if (e.tenant !== tenant || Number(e.seq) <= after || (q.state && e.state !== q.state)) continue
      out.push(copy(e))
    }
    return out
  }

  async redeliver(q: { ids: readonly string[] }, ctx: Ctx): Promise<number> {
    const tenant = this.#tenantOf(ctx)
    let n = 0
    for (const id of q.ids) {
      const e = this.#events.get(id)
      if (!e || e.tenant !== tenant || e.state === 'pending') continue
      Object.assign(e, { state: 'pending', attempts: 0, nextAttemptAt: new Date(), leaseOwner: null, leaseUntil: null, deliveredAt: null })
      this.#track(e, true)
      n++
    }
    return n
  }

  async listForResource(q: { resourceType: string; resourceId: string; limit: number }, ctx: Ctx): Promise<OutboxEvent[]> {
    const tenant = this.#tenantOf(ctx)
    const out: OutboxEvent[] = []
    for (const e of this.#events.values()) {
      if (e.tenant === tenant && e.resourceType === q.resourceType && e.resourceId === q.resourceId) out.push(copy(e))
    }
    return out.reverse().slice(0, q.limit)
  }

  async prune(q: { deliveredBefore?: Date; keep?: number }): Promise<number> {
    const cutoff = q.deliveredBefore?.getTime()
    const perTenant = new Map<string, Kept[]>()
    for (const e of this.#events.values()) {
      let list = perTenant.get(e.tenant)
      if (!list) perTenant.set(e.tenant, (list = []))
      list.push(e)
    }
    let n = 0
    for (const list of perTenant.values()) {
      const excess = q.keep === undefined ? 0 : list.length - q.keep
      list.forEach((e, i) => {
        if (e.state !== 'delivered') return
        if (i < excess || (cutoff !== undefined && (e.deliveredAt?.getTime() ?? 0) < cutoff)) {
          this.#events.delete(e.id)
          n++
        }
      })
    }
    return n
  }
}

/**
 * JSON text of a payload. The events of one write (`user.updated`, `user.deactivated`) carry the
 * same rendered `resource`: it is serialised once and spliced in.
 */
function payloadText(payload: Record<string, unknown>, texts: Map<unknown, string>): string {
  const resource = payload['resource']
  if (resource === null || typeof resource !== 'object') return JSON.stringify(payload)
  let text = texts.get(resource)
  if (text === undefined) texts.set(resource, (text = JSON.stringify(resource)))
  const { resource: _resource, ...rest } = payload
  const head = JSON.stringify(rest)
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"resource":${text}}`
}

function copy(e: Kept): OutboxEvent {
  return { ...e, payload: JSON.parse(e.payload) as Record<string, unknown> }
}
