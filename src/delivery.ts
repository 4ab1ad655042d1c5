/**
 * Durable event delivery (issue 13): with an adapter that has an {@link EventOutbox}, every write
 * records its events in the same transaction, and this module delivers them at least once: a
 * first attempt right after the commit (what `awaitEvents` waits for), then a dispatcher that
 * claims due events with a lease, retries failures with bounded exponential backoff, moves an
 * event that keeps failing to `dead`, and applies retention. Without an outbox, events are
 * delivered once after the commit, as before.
 * @module
 */
import { randomUUID } from 'node:crypto'
import createDebug from 'debug'
import type { EventOutbox, OutboxEvent, OutboxEventInput, OutboxEventState, OutboxEvents } from './adapter'
import { deliverEvents, fromOutbox, toOutboxInput, type EventHandler, type ScimEvent } from './events'

const log = createDebug('scim:events')

/** Options of durable delivery (`eventDelivery` of `scimRouter`). Used only with an outbox adapter. */
export interface EventDeliveryOptions<Ctx = unknown> {
  /** Start the dispatcher with the router (default true). False: call `events.poll()` yourself, or let another instance deliver. */
  dispatcher?: boolean
  /** Milliseconds between the dispatcher's claims when there was nothing to do. Default 1000. */
  pollInterval?: number
  /** Most events one claim takes, and most deliveries in flight per router. Default 50. */
  batchSize?: number
  /** Milliseconds one `onEvent` call may take before the attempt counts as failed (it is retried). Default 30000. */
  handlerTimeout?: number
  /** Milliseconds a claim holds an event; a dead instance's events are claimable again after it. Must exceed `handlerTimeout`. Default `handlerTimeout` + 30000. */
  leaseMs?: number
  /** Attempts before an event moves to `dead` (retrievable with `events.list({ state: 'dead' })`, redeliverable). Default 10. */
  maxAttempts?: number
  /** Retry delay after attempt n: `min(maxMs, initialMs × 2^(n−1))`. Defaults 1000 and 300000 (5 min). */
  backoff?: { initialMs?: number; maxMs?: number }
  /**
   * Retention of delivered events (pending and dead events are always kept): delete those
   * delivered more than `maxAgeMs` ago, and beyond the newest `maxEvents` per tenant. Applied by
   * the dispatcher every `intervalMs` (default 60000) and by `events.prune()`. Defaults: 7 days,
   * 100000 events.
   */
  retention?: { maxAgeMs?: number; maxEvents?: number; intervalMs?: number }
  /** The `ctx` of an event delivered by a retry or after a restart (the request context is not stored). Default `{ tenant }`. */
  context?: (tenant: string | undefined) => Ctx
}

/** Resolved {@link EventDeliveryOptions}. */
export interface ResolvedDelivery {
  dispatcher: boolean
  pollInterval: number
  batchSize: number
  handlerTimeout: number
  leaseMs: number
  maxAttempts: number
  initialMs: number
  maxMs: number
  maxAgeMs: number
  maxEvents: number
  pruneInterval: number
  context: (tenant: string | undefined) => unknown
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new TypeError(`scimRouter options: eventDelivery.${name} must be a positive integer`)
  return value
}

/** Apply defaults and validate `eventDelivery`; throws a TypeError naming the bad option. */
export function resolveDelivery(o: EventDeliveryOptions<unknown> | undefined): ResolvedDelivery {
  if (o !== undefined && (typeof o !== 'object' || o === null)) throw new TypeError('scimRouter options: eventDelivery must be an object')
  const opts = o ?? {}
  const handlerTimeout = positive('handlerTimeout', opts.handlerTimeout, 30_000)
  const leaseMs = positive('leaseMs', opts.leaseMs, handlerTimeout + 30_000)
  if (leaseMs <= handlerTimeout) throw new TypeError('scimRouter options: eventDelivery.leaseMs must exceed eventDelivery.handlerTimeout')
  const initialMs = positive('backoff.initialMs', opts.backoff?.initialMs, 1000)
  const maxMs = positive('backoff.maxMs', opts.backoff?.maxMs, 300_000)
  if (opts.context !== undefined && typeof opts.context !== 'function') throw new TypeError('scimRouter options: eventDelivery.context must be a function')
  return {
    dispatcher: opts.dispatcher !== false,
    pollInterval: positive('pollInterval', opts.pollInterval, 1000),
    batchSize: positive('batchSize', opts.batchSize, 50),
    handlerTimeout,
    leaseMs,
    maxAttempts: positive('maxAttempts', opts.maxAttempts, 10),
    initialMs,
    maxMs: Math.max(maxMs, initialMs),
    maxAgeMs: positive('retention.maxAgeMs', opts.retention?.maxAgeMs, 7 * 24 * 3600_000),
    maxEvents: positive('retention.maxEvents', opts.retention?.maxEvents, 100_000),
    pruneInterval: positive('retention.intervalMs', opts.retention?.intervalMs, 60_000),
    context: opts.context ?? ((tenant) => (tenant === undefined ? {} : { tenant })),
  }
}

/**
 * Delay before the attempt after attempt `attempts` failed: `min(maxMs, initialMs × 2^(attempts−1))`.
 * Pure, so the schedule is tested without clocks.
 */
export function retryDelay(attempts: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40))
}

/** A page of the event feed. */
export interface EventFeedPage {
  /** Events in commit order. */
  events: OutboxEvent[]
  /** Pass as `after` for the next page; absent when this page is empty (poll again later with the same cursor). */
  next?: string
}

/**
 * The event API of a router (`router.events`): the feed for apps that pull, dead-letter
 * redelivery, retention and the dispatcher's controls. Feed, redeliver and prune need an adapter
 * with an {@link EventOutbox}; without one they throw a TypeError.
 */
export interface ScimEvents<Ctx = unknown> {
  /** Whether events are recorded in the store and delivered at least once (the adapter has an outbox). */
  readonly durable: boolean
  /**
   * The tenant's events (the tenant `ctx` names, as for adapter calls) after the cursor `after`,
   * in commit order, at most `limit` (default 100, at most 1000); `state` filters (e.g. `dead`).
   * @example
   * ```ts
   * let cursor: string | undefined
   * const page = await router.events.list({ after: cursor }, { tenant: 'acme' })
   * for (const e of page.events) handle(e.id, e.type, e.payload)
   * cursor = page.next ?? cursor
   * ```
   */
  list(query: { after?: string; limit?: number; state?: OutboxEventState }, ctx: Ctx): Promise<EventFeedPage>
  /** Make dead (or delivered) events of the tenant pending again, due now; returns how many. */
  redeliver(ids: readonly string[], ctx: Ctx): Promise<number>
  /** Apply the retention now; returns how many events were deleted. */
  prune(): Promise<number>
  /** One dispatcher round now: claim due events and deliver them; resolves when those deliveries finished. Returns how many were claimed. */
  poll(): Promise<number>
  /** Start the dispatcher (started by the router unless `eventDelivery.dispatcher` is false). */
  start(): void
  /** Stop the dispatcher and wait for the deliveries in flight (each bounded by `handlerTimeout`). */
  stop(): Promise<void>
}

interface QueueItem {
  record: OutboxEvent
  event: ScimEvent<unknown>
  done: () => void
}

/** Collects the events of one write (see {@link EventDelivery.recorder}). */
export class Recorder {
  #build: ((result: never) => ScimEvent<unknown>[]) | undefined
  #recorded: ScimEvent<unknown>[] | undefined
  #inputs: OutboxEventInput[] | undefined
  readonly #delivery: EventDelivery

  constructor(delivery: EventDelivery) {
    this.#delivery = delivery
  }

  /**
   * The `events` member of a write query: `{ events }` for an outbox adapter (the store calls it in
   * the transaction), `{}` otherwise. `build` derives the events from the write's result.
   */
  query<R>(build: (result: R) => ScimEvent<unknown>[]): { events?: OutboxEvents<R> } {
    this.#build = build as (result: never) => ScimEvent<unknown>[]
    this.#recorded = undefined
    this.#inputs = undefined
    if (!this.#delivery.durable) return {}
    const state = this.#delivery.hasHandler ? 'pending' : 'delivered'
    const delivery = this.#delivery
    return {
      events: (result: R) => {
        const events = build(result)
        const until = new Date(Date.now() + delivery.options.leaseMs)
        const inputs = events.map((e) => {
          const input = toOutboxInput(e, state)
          if (state === 'pending') input.lease = { owner: delivery.owner, until, granted: false }
          return input
        })
        this.#recorded = events
        this.#inputs = inputs
        return inputs
      },
    }
  }

  /** The write committed with `result`: deliver (first attempt), bounded by `awaitEvents`/`eventTimeout`. */
  async committed(result: unknown): Promise<void> {
    const d = this.#delivery
    if (!d.hasHandler || !this.#build) return
    if (d.durable && this.#recorded) return d.firstAttempt(this.#recorded, this.#inputs ?? [])
    if (d.durable) log('adapter has an outbox but did not record the events of a write; delivering them once, after the commit')
    let events: ScimEvent<unknown>[]
    try {
      events = this.#build(result as never)
    } catch (err) {
      /* c8 ignore next 2 */
      log('deriving events failed: %O', err)
      return
    }
    await deliverEvents(d.handler, events, d.wait)
  }
}

/** The router's event delivery: recorder factory, first attempts, dispatcher, feed. */
export class EventDelivery implements ScimEvents<unknown> {
  /** This router instance's lease owner id. */
  readonly owner = randomUUID()
  readonly handler: EventHandler<unknown> | undefined
  readonly outbox: EventOutbox<unknown> | undefined
  readonly options: ResolvedDelivery
  /** How long a response waits for the first attempt, or false. */
  readonly wait: number | false
  readonly #queues = new Map<string, QueueItem[]>()
  readonly #inFlight = new Map<string, Promise<void>>()
  #timer: NodeJS.Timeout | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  #running = false
  #ticking: Promise<void> | undefined

  constructor(outbox: EventOutbox<unknown> | undefined, handler: EventHandler<unknown> | undefined, options: ResolvedDelivery, wait: number | false) {
    this.outbox = outbox
    this.handler = handler
    this.options = options
    this.wait = wait
  }

  get durable(): boolean {
    return this.outbox !== undefined
  }

  get hasHandler(): boolean {
    return this.handler !== undefined
  }

  /** A recorder for one write. */
  recorder(): Recorder {
    return new Recorder(this)
  }

  #outbox(): EventOutbox<unknown> {
    if (!this.outbox) throw new TypeError('scim-router events: the adapter has no outbox (ScimAdapter.outbox), so events are not stored')
    return this.outbox
  }

  /**
   * The first attempt after a commit: claim exactly these events (per-resource order permitting)
   * and deliver them; the response waits at most `wait`. Never throws: the change is committed.
   */
  async firstAttempt(events: ScimEvent<unknown>[], inputs: readonly OutboxEventInput[]): Promise<void> {
    if (events.length === 0 || !this.handler) return
    const outbox = this.#outbox()
    const byId = new Map(events.map((e) => [e.eventId, e]))
    const work = (async () => {
      // Events the store recorded already claimed by us (OutboxEventInput.lease) need no claim.
      const granted = inputs.filter((i) => i.lease?.granted)
      let claimed: OutboxEvent[] = granted.map((i) => grantedRecord(i, inputs))
      const rest = inputs.filter((i) => !i.lease?.granted).map((i) => i.id)
      if (rest.length > 0) {
        try {
          claimed = [...claimed, ...(await outbox.claim({ owner: this.owner, leaseMs: this.options.leaseMs, limit: rest.length, ids: rest }))]
        } catch (err) {
          log('claiming new events failed (the dispatcher will deliver them): %O', err)
        }
      }
      const mine = new Set(claimed.map((r) => r.id))
      // Events this process already holds (the dispatcher claimed them first): wait for those too.
      const others = [...byId.keys()].filter((id) => !mine.has(id)).flatMap((id) => this.#inFlight.get(id) ?? [])
      await Promise.all([this.#deliver(claimed, (r) => ({ ...(byId.get(r.id) as ScimEvent<unknown>), attempt: r.attempts })), ...others])
    })()
    if (this.wait === false) return
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([
      work.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.wait as number)
        timer.unref()
      }),
    ])
    clearTimeout(timer)
    if (late) log('first delivery attempt still running after %d ms; answering, delivery continues', this.wait)
  }

  /** Queue claimed records per resource (commit order) and resolve when all of them are settled. */
  #deliver(records: OutboxEvent[], toEvent: (r: OutboxEvent) => ScimEvent<unknown>): Promise<void> {
    const settled: Promise<void>[] = []
    for (const record of [...records].sort((a, b) => compareSeq(a.seq, b.seq))) {
      // Keyed by the event's own tenant (as the router saw it), the same for granted and claimed records.
      const tenant = (record.payload as { tenant?: unknown }).tenant
      const key = `${typeof tenant === 'string' ? tenant : ''}\u0000${record.resourceType}\u0000${record.resourceId}`
      let done!: () => void
      const p = new Promise<void>((resolve) => (done = resolve))
      this.#inFlight.set(record.id, p)
      settled.push(p)
      let queue = this.#queues.get(key)
      const idle = !queue
      if (!queue) this.#queues.set(key, (queue = []))
      queue.push({ record, event: toEvent(record), done })
      if (idle) void this.#drain(key)
    }
    return Promise.all(settled).then(() => undefined)
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#queues.get(key) as QueueItem[]
    while (queue.length > 0) {
      // Deliver every queued event of the resource in order, then mark the delivered ones in one
      // statement (a crash in between redelivers them: at least once).
      const done: QueueItem[] = []
      let ok = true
      while (ok && queue.length > 0) {
        const item = queue.shift() as QueueItem
        ok = await this.#attempt(item)
        if (ok) done.push(item)
        else this.#settle(item)
      }
      if (done.length > 0) {
        await this.#outbox()
          .complete({ ids: done.map((i) => i.record.id), owner: this.owner })
          .catch((err: unknown) => log('marking events delivered failed (their lease will expire and they are redelivered): %O', err))
        for (const i of done) this.#settle(i)
      }
      if (!ok && queue.length > 0) {
        // Per-resource order: later events of this resource wait for the failed one's retry.
        const rest = queue.splice(0)
        await this.#outbox()
          .release({ ids: rest.map((i) => i.record.id), owner: this.owner })
          .catch((err: unknown) => log('releasing events failed (their lease will expire): %O', err))
        for (const i of rest) this.#settle(i)
      }
    }
    this.#queues.delete(key)
  }

  #settle(item: QueueItem): void {
    this.#inFlight.delete(item.record.id)
    item.done()
  }

  /** One delivery attempt: the handler, bounded by `handlerTimeout`; a failure is scheduled for retry (or dead). */
  async #attempt(item: QueueItem): Promise<boolean> {
    const { record, event } = item
    const handler = this.handler as EventHandler<unknown>
    let timer: NodeJS.Timeout | undefined
    let error: string | undefined
    try {
      await Promise.race([
        Promise.resolve().then(() => handler(event)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`onEvent did not finish within ${this.options.handlerTimeout} ms`)), this.options.handlerTimeout)
          timer.unref()
        }),
      ])
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    } finally {
      clearTimeout(timer)
    }
    if (error === undefined) return true
    const outbox = this.#outbox()
    try {
      const dead = record.attempts >= this.options.maxAttempts
      const nextAttemptAt = dead ? null : new Date(Date.now() + retryDelay(record.attempts, this.options.initialMs, this.options.maxMs))
      log('onEvent failed for %s %s (attempt %d%s): %s', record.type, record.id, record.attempts, dead ? ', now dead' : '', error)
      await outbox.fail({ id: record.id, owner: this.owner, error: error.slice(0, 1000), nextAttemptAt })
    } catch (err) {
      log('recording the outcome of %s failed (its lease will expire and it is redelivered): %O', record.id, err)
    }
    return error === undefined
  }

  /** Claim due events and start delivering them; resolves with the deliveries' completion. */
  async #claimAndDeliver(): Promise<{ claimed: number; settled: Promise<void> }> {
    if (!this.handler) return { claimed: 0, settled: Promise.resolve() }
    const room = this.options.batchSize - this.#inFlight.size
    if (room <= 0) return { claimed: 0, settled: Promise.resolve() }
    const claimed = await this.#outbox().claim({ owner: this.owner, leaseMs: this.options.leaseMs, limit: room })
    const settled = this.#deliver(claimed, (r) => {
      const tenant = (r.payload as { tenant?: unknown }).tenant
      return fromOutbox(r, this.options.context(typeof tenant === 'string' ? tenant : undefined))
    })
    return { claimed: claimed.length, settled }
  }

  async poll(): Promise<number> {
    const { claimed, settled } = await this.#claimAndDeliver()
    await settled
    return claimed
  }

  start(): void {
    if (this.#running || !this.outbox) return
    this.#running = true
    // Without a handler there is nothing to deliver (events are recorded for the feed): retention only.
    if (this.handler) this.#schedule(0)
    const prune = (): void => {
      this.#pruneTimer = setTimeout(() => {
        this.prune()
          .catch((err: unknown) => log('event retention failed: %O', err))
          .finally(() => this.#running && prune())
      }, this.options.pruneInterval)
      this.#pruneTimer.unref()
    }
    prune()
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#ticking = this.#claimAndDeliver().then(
        ({ claimed }) => {
          if (this.#running) this.#schedule(claimed >= this.options.batchSize ? 0 : this.options.pollInterval)
        },
        (err: unknown) => {
          log('claiming events failed: %O', err)
          if (this.#running) this.#schedule(Math.min(this.options.pollInterval * 10, 30_000))
        },
      )
    }, ms)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    clearTimeout(this.#pruneTimer)
    await this.#ticking
    await Promise.all([...this.#inFlight.values()])
  }

  async list(query: { after?: string; limit?: number; state?: OutboxEventState }, ctx: unknown): Promise<EventFeedPage> {
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 100)), 1000)
    if (query.after !== undefined && !/^\d{1,19}$/.test(query.after)) throw new TypeError('scim-router events.list: after must be a cursor from a previous page')
    const events = await this.#outbox().list({ limit, ...(query.after !== undefined ? { after: query.after } : {}), ...(query.state ? { state: query.state } : {}) }, ctx)
    const last = events[events.length - 1]
    return last ? { events, next: last.seq } : { events }
  }

  redeliver(ids: readonly string[], ctx: unknown): Promise<number> {
    return this.#outbox().redeliver({ ids }, ctx)
  }

  prune(): Promise<number> {
    return this.#outbox().prune({ deliveredBefore: new Date(Date.now() - this.options.maxAgeMs), keep: this.options.maxEvents })
  }
}

/**
 * The record of an event the store granted us in the write's transaction: `seq` is not known
 * here, so the input order (the store's insert order) stands in for it (queues compare it only
 * among events of one write).
 */
function grantedRecord(input: OutboxEventInput, all: readonly OutboxEventInput[]): OutboxEvent {
  const lease = input.lease as NonNullable<OutboxEventInput['lease']>
  const now = new Date()
  return {
    id: input.id,
    tenant: '',
    seq: String(all.indexOf(input)),
    type: input.type,
    resourceType: input.resourceType,
    resourceId: input.resourceId,
    payload: input.payload,
    state: 'pending',
    attempts: 1,
    nextAttemptAt: now,
    leaseOwner: lease.owner,
    leaseUntil: lease.until,
    createdAt: now,
    deliveredAt: null,
    lastError: null,
  }
}

/** Compare two decimal `seq` strings numerically. */
export function compareSeq(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}
