/**
 * The router's side of the request log: a {@link RequestTrace} per request collects what the
 * router learns (principal, context, body, answer); after the answer is sent, entries are built
 * (redacted, bounded) and written in batches off the request path, and retention runs now and
 * then. Logging never fails or delays a request beyond a few property writes.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { uuidv7 } from '../ids'
import { detectIdp } from './idp'
import { Redactor, bounded, boundedJson, scrub } from './redact'
import type { RequestLog, RequestLogEntry } from './types'

const log = createDebug('scim:request-log')

/** Options of the router's `requestLog` option. */
export interface RequestLogOptions<Ctx = unknown> {
  /** Where entries go: `new MemoryRequestLog()`, or `kyselyRequestLog(db)` of `scim-router/kysely`. */
  store: RequestLog
  /**
   * More attribute names never stored (beside `password`, tokens and other credentials, always
   * redacted): matched by their last name segment, case-insensitively, at any depth, in request
   * and response bodies, PATCH operations (`path` + `value`) and Bulk operations.
   */
  sensitiveAttributes?: string[]
  /** Most bytes of each body kept (after redaction; longer ones are cut and marked). Default 16384. */
  maxBodyBytes?: number
  /**
   * Retention, applied every `intervalMs` (default 60 000) after a batch is written, never per
   * request: entries older than `maxAgeMs` (default 30 days) and beyond the newest `maxEntries`
   * (default 100 000) are deleted. `false`: never prune.
   */
  retention?: { maxAgeMs?: number; maxEntries?: number; intervalMs?: number } | false
  /** The tenant of a request's context. Default: `ctx.tenant` when it is a string, else `'default'`. */
  tenantOf?: (ctx: Ctx) => string | undefined
  /**
   * Milliseconds entries wait in memory before they are written, so one transaction carries many
   * (a write per request would cost a commit each). Default 200; `flush()` writes at once.
   */
  flushIntervalMs?: number
  /**
   * Entries of requests that were not authenticated (401s, public discovery) kept per minute, in this
   * process; more are dropped (counted in `dropped`). Anyone can send those, and retention counts
   * entries of every tenant together: a flood of them must not push the tenants' own requests
   * out of the log. Default 60; 0 keeps none.
   */
  unauthenticatedPerMinute?: number
  /** The clock (epoch ms). Default `Date.now`; inject one in tests. */
  now?: () => number
}

/** What `router.requestLog` offers (with the `requestLog` option). */
export interface RequestLogControl {
  /** The store entries are written to. */
  readonly store: RequestLog
  /** Resolves when every entry recorded so far has been written (or failed to be). */
  flush(): Promise<void>
  /** Apply the retention now; returns how many entries were deleted. */
  prune(): Promise<number>
  /** Entries dropped because the write queue was full (the store was too slow). */
  readonly dropped: number
}

/** The request id header accepted and echoed. */
export const REQUEST_ID_HEADER = 'X-Request-Id'
const REQUEST_ID = /^[A-Za-z0-9._:@+/=-]{1,128}$/
const MAX_QUEUE = 10_000
/** Most body bytes waiting to be written (a slow store must not hold on to unbounded memory). */
const MAX_QUEUE_BYTES = 64 * 1024 * 1024
const BATCH = 500
const MAX_IDS = 50
/** Largest body JSON that is scrubbed and kept (cut to `maxBodyBytes`); larger ones are not kept. */
const MAX_SCRUBBED = 4 * 1024 * 1024

/** One request in flight; the router sets the fields it learns. */
export class RequestTrace {
  readonly startedAt: number
  readonly correlationId: string
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly #recorder: RequestRecorder
  principal: unknown = undefined
  ctx: unknown = undefined
  authenticated = false
  body: unknown = undefined
  segments: readonly string[] = []
  #done = false

  constructor(recorder: RequestRecorder, req: IncomingMessage, res: ServerResponse, now: number) {
    this.#recorder = recorder
    this.#req = req
    this.#res = res
    this.startedAt = now
    const sent = req.headers['x-request-id']
    this.correlationId = typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : uuidv7()
    if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, this.correlationId)
  }

  /** The answer was sent: queue the entry (built later, off the request path). */
  end(status: number, body: unknown): void {
    if (this.#done) return
    this.#done = true
    // What the queued entry holds on to until it is written: about the two bodies' sizes.
    const size = (Number(this.#req.headers['content-length']) || 0) + (Number(this.#res.getHeader('content-length')) || 0)
    this.#recorder.queue(this, this.#req, status, body, size)
  }
}

interface Pending {
  trace: RequestTrace
  req: IncomingMessage
  status: number
  body: unknown
  endedAt: number
  size: number
}

/** Collects traces and writes them. One per router. */
export class RequestRecorder implements RequestLogControl {
  readonly store: RequestLog
  readonly #redactor: Redactor
  readonly #maxBody: number
  readonly #retention: { maxAgeMs: number; maxEntries: number; intervalMs: number } | false
  readonly #tenantOf: (ctx: unknown) => string | undefined
  readonly #now: () => number
  #queue: Pending[] = []
  #writing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #delay: number
  #lastPrune = -Infinity
  #dropped = 0
  readonly #anonymousPerMinute: number
  /** Token bucket of {@link RequestLogOptions.unauthenticatedPerMinute}. */
  #anonymous: { tokens: number; at: number }
  #queuedBytes = 0

  constructor(options: RequestLogOptions<unknown>) {
    if (!options || typeof options.store?.append !== 'function') throw new TypeError('scimRouter options: requestLog.store must be a RequestLog')
    this.store = options.store
    this.#redactor = new Redactor(options.sensitiveAttributes ?? [])
    this.#maxBody = options.maxBodyBytes ?? 16_384
    if (!Number.isInteger(this.#maxBody) || this.#maxBody < 64) throw new TypeError('scimRouter options: requestLog.maxBodyBytes must be an integer of at least 64')
    const r = options.retention
    this.#retention = r === false ? false : { maxAgeMs: r?.maxAgeMs ?? 30 * 86_400_000, maxEntries: r?.maxEntries ?? 100_000, intervalMs: r?.intervalMs ?? 60_000 }
    if (this.#retention) {
      for (const [name, v] of Object.entries(this.#retention)) {
        if (!Number.isInteger(v) || v < (name === 'maxEntries' ? 0 : 1)) throw new TypeError(`scimRouter options: requestLog.retention.${name} must be a ${name === 'maxEntries' ? 'non-negative' : 'positive'} integer`)
      }
    }
    this.#tenantOf =
      options.tenantOf ??
      ((ctx: unknown) => {
        const t = (ctx as { tenant?: unknown } | null | undefined)?.tenant
        return typeof t === 'string' ? t : undefined
      })
    this.#now = options.now ?? Date.now
    const perMinute = options.unauthenticatedPerMinute ?? 60
    if (!Number.isInteger(perMinute) || perMinute < 0) throw new TypeError('scimRouter options: requestLog.unauthenticatedPerMinute must be a non-negative integer')
    this.#anonymousPerMinute = perMinute
    this.#anonymous = { tokens: perMinute, at: this.#now() }
    this.#delay = options.flushIntervalMs ?? 200
    if (!Number.isInteger(this.#delay) || this.#delay < 0) throw new TypeError('scimRouter options: requestLog.flushIntervalMs must be a non-negative integer')
  }

  get dropped(): number {
    return this.#dropped
  }

  /** A trace for a request that just arrived (sets `X-Request-Id` on the response). */
  begin(req: IncomingMessage, res: ServerResponse): RequestTrace {
    return new RequestTrace(this, req, res, this.#now())
  }

  /** One more entry of a request that was not authenticated may be kept now. */
  #anonymousAllowed(): boolean {
    const b = this.#anonymous
    const now = this.#now()
    b.tokens = Math.min(this.#anonymousPerMinute, b.tokens + ((now - b.at) / 60_000) * this.#anonymousPerMinute)
    b.at = now
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  queue(trace: RequestTrace, req: IncomingMessage, status: number, body: unknown, size = 0): void {
    if (!trace.authenticated && !this.#anonymousAllowed()) {
      this.#dropped++
      return
    }
    if (this.#queue.length >= MAX_QUEUE || this.#queuedBytes + size > MAX_QUEUE_BYTES) {
      this.#dropped++
      log('queue full: request log entry dropped (%d so far)', this.#dropped)
      return
    }
    this.#queuedBytes += size
    this.#queue.push({ trace, req, status, body, endedAt: this.#now(), size })
    this.#schedule()
  }

  /** Start a writer after `flushIntervalMs` (the answer is on its way first), unless one is due or runs. */
  #schedule(): void {
    if (this.#writing || this.#timer) return
    this.#timer = setTimeout(() => this.#start(), this.#delay)
    this.#timer.unref()
  }

  #start(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#writing) return
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined
      // Entries queued while the batch was written or retention ran: write them too.
      if (this.#queue.length > 0) this.#schedule()
    })
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, BATCH)
        for (const p of batch) this.#queuedBytes -= p.size
        const entries: RequestLogEntry[] = []
        for (const p of batch) {
          try {
            entries.push(this.#entry(p))
          } catch (err) {
            log('could not build a request log entry: %O', err)
          }
        }
        try {
          await this.store.append(entries)
        } catch (err) {
          log('request log write failed (%d entries lost): %O', entries.length, err)
        }
      }
      if (this.#retention && this.#now() - this.#lastPrune >= this.#retention.intervalMs) await this.prune()
    } catch (err) {
      /* c8 ignore next */ log('request log writer failed: %O', err)
    }
  }

  async flush(): Promise<void> {
    while (this.#writing || this.#timer || this.#queue.length > 0) {
      if (!this.#writing) this.#start()
      await this.#writing
    }
  }

  async prune(): Promise<number> {
    if (!this.#retention) return 0
    this.#lastPrune = this.#now()
    try {
      return await this.store.prune({ before: new Date(this.#now() - this.#retention.maxAgeMs), keep: this.#retention.maxEntries })
    } catch (err) {
      log('request log retention failed: %O', err)
      return 0
    }
  }

  #entry(p: Pending): RequestLogEntry {
    const { trace, req } = p
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/'
    const ua = req.headers['user-agent']
    const userAgent = typeof ua === 'string' ? ua.slice(0, 256) : null
    // Secrets to scrub from every stored string: the presented credential and each redacted value.
    const secrets: string[] = []
    const auth = req.headers.authorization
    if (typeof auth === 'string') {
      const credential = auth.replace(/^\s*\S+\s+/, '').trim()
      secrets.push(credential, auth.trim())
    }
    const redUrl = this.#redactor.redactUrl(url)
    const reqBody = this.#redactor.redact(trace.body)
    const resBody = this.#redactor.redact(p.body)
    secrets.push(...redUrl.removed, ...reqBody.removed, ...resBody.removed)
    // Scrubbed whole, then cut: a cut never leaves part of a secret behind.
    const text = (v: unknown): string | null => {
      const json = v === undefined ? null : boundedJson(v, MAX_SCRUBBED)
      if (json === null) return null
      if (json.endsWith('…[truncated]')) return `[body of more than ${MAX_SCRUBBED} bytes not kept]`
      return bounded(scrub(json, secrets), this.#maxBody)
    }
    const err = p.status >= 400 && p.body && typeof p.body === 'object' ? (p.body as { scimType?: unknown; detail?: unknown }) : undefined
    const scimType = typeof err?.scimType === 'string' ? err.scimType.slice(0, 64) : null
    const detail = typeof err?.detail === 'string' ? bounded(scrub(err.detail, secrets), 2048) : null
    const principal = trace.principal as { connectionId?: unknown } | null | undefined
    const fromPath = /\/c\/([^/?#]{1,64})(?=[/?#]|$)/.exec(url.split('?')[0] as string)?.[1]
    let connectionId = typeof principal?.connectionId === 'string' ? principal.connectionId : null
    if (connectionId === null && fromPath !== undefined) {
      try {
        connectionId = decodeURIComponent(fromPath)
      } catch {
        connectionId = null
      }
    }
    return {
      id: uuidv7(),
      at: new Date(trace.startedAt),
      tenant: trace.authenticated ? (this.#tenantOf(trace.ctx) ?? 'default') : null,
      connectionId,
      idp: detectIdp(userAgent ?? undefined, url, trace.body),
      method: (req.method ?? 'GET').toUpperCase().slice(0, 16),
      path: bounded(scrub(redUrl.url, secrets), 2048),
      status: p.status,
      scimType,
      detail,
      errorType: p.status >= 400 ? (scimType ?? String(p.status)) : null,
      durationMs: Math.max(0, p.endedAt - trace.startedAt),
      resourceIds: touched(trace.segments, url, trace.body, p.body),
      correlationId: trace.correlationId,
      userAgent: userAgent === null ? null : scrub(userAgent, secrets),
      requestBody: text(reqBody.value),
      responseBody: text(resBody.value),
    }
  }
}

/**
 * Ids of the resources a request touched: the id in its path, the id it answered with, the
 * resources of a filtered list of at most 10 (an IdP's lookup), Bulk operations' paths and
 * locations, and Group member values in its body (members arrays, PATCH `members` operations and
 * `members[value eq "…"]` paths). At most 50.
 */
export function touched(segments: readonly string[], url: string, reqBody: unknown, resBody: unknown): string[] {
  const ids = new Set<string>()
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.length > 0 && v.length <= 128 && ids.size < MAX_IDS) ids.add(v)
  }
  const head = segments[0]
  if (head !== undefined && head !== 'Bulk' && head !== 'Me' && !head.startsWith('.') && segments[1] !== undefined && !segments[1].startsWith('.')) add(segments[1])
  const res = resBody as { id?: unknown; Resources?: unknown; Operations?: unknown } | null | undefined
  if (res && typeof res === 'object') {
    if (typeof res.id === 'string' && !Array.isArray(res.Resources)) add(res.id)
    const filtered = /[?&]filter=/i.test(url) || typeof (reqBody as { filter?: unknown } | null | undefined)?.filter === 'string'
    if (Array.isArray(res.Resources) && filtered && res.Resources.length <= 10) for (const r of res.Resources) add((r as { id?: unknown })?.id)
    if (Array.isArray(res.Operations)) for (const op of res.Operations) add(lastSegment((op as { location?: unknown })?.location))
  }
  walkMembers(reqBody, add, 0)
  return [...ids]
}

function lastSegment(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const s = v.split('?')[0]?.replace(/\/+$/, '').split('/').pop()
  return s && !s.startsWith('bulkId:') ? s : undefined
}

function walkMembers(v: unknown, add: (id: unknown) => void, depth: number): void {
  if (depth > 8 || v === null || typeof v !== 'object') return
  if (Array.isArray(v)) {
    for (const x of v) walkMembers(x, add, depth + 1)
    return
  }
  const o = v as Record<string, unknown>
  for (const [k, x] of Object.entries(o)) {
    if (k.toLowerCase() === 'members' && Array.isArray(x)) for (const m of x) add((m as { value?: unknown })?.value)
  }
  if (typeof o['path'] === 'string') {
    const path = o['path']
    if (/^\/?[A-Za-z]+\/[^/]+$/.test(path)) add(lastSegment(path)) // a Bulk operation's `/Users/{id}`
    if (/^members\b/i.test(path)) {
      const value = o['value']
      for (const m of Array.isArray(value) ? value : [value]) add((m as { value?: unknown })?.value)
      const f = /value\s+eq\s+"([^"]{1,128})"/i.exec(path)
      if (f) add(f[1])
    }
  }
  for (const x of Object.values(o)) if (x !== null && typeof x === 'object') walkMembers(x, add, depth + 1)
}
