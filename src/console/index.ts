/**
 * `scimConsole()`: a mountable provisioning console — one page (plain HTML and JavaScript, no
 * build step) and the JSON endpoints it calls: connections, the request log (live, failures
 * highlighted with their SCIM error), a user's or group's history, pending and failed event
 * deliveries, and hourly charts by IdP and by error type.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import type { EventOutbox, OutboxEvent } from '../adapter'
import type { ConnectionInfo } from '../connections'
import { historyEvent, resourceHistory } from '../request-log/history'
import type { RequestLog, RequestLogQuery } from '../request-log/types'
import { sendText } from '../http/respond'
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from './assets'

const log = createDebug('scim:console')

/** Options of {@link scimConsole}. */
export interface ScimConsoleOptions<Ctx = unknown> {
  /**
   * Decides whether a request to the console's JSON endpoints may read them (the page itself
   * holds no data and is served to anyone). Truthy: allowed; falsy: 401; a throw: 503. The page
   * sends what its sign-in form was given as `Authorization: Bearer <token>`.
   */
  authenticate: (req: IncomingMessage) => unknown
  /** The request log the router writes (`requestLog` option). */
  requestLog: RequestLog
  /** The connections to list (`Connections`, or anything with `list()`). */
  connections?: { list(): Promise<ConnectionInfo[]> }
  /** The adapter's event outbox (`adapter.outbox`): pending and failed deliveries, event history. */
  outbox?: EventOutbox<Ctx> | undefined
  /** The outbox context of a tenant. Default `{ tenant }`. */
  context?: (tenant: string) => Ctx
  /** The tenant whose deliveries are shown when no connection is selected. Default `'default'`. */
  defaultTenant?: string
}

/** The Content-Security-Policy of every console answer: nothing inline, nothing from elsewhere. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** Headers of every console answer. */
const SECURITY: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
}

function text(res: ServerResponse, status: number, type: string, body: string | undefined, extra: Record<string, string> = {}): void {
  sendText(res, status, type, body, { ...SECURITY, ...extra })
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  text(res, status, 'application/json; charset=utf-8', JSON.stringify(body), extra)
}

/** A query parameter as a string (at most 200 characters), or undefined. */
function param(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name)
  return v === null || v === '' ? undefined : v.slice(0, 200)
}

function date(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined
  const d = new Date(/^\d+$/.test(v) ? Number(v) : v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** The request log query of `/api/requests` (and `GET /app/connections/{id}/requests`-style endpoints). */
export function requestLogQuery(q: URLSearchParams): RequestLogQuery {
  const out: RequestLogQuery = {}
  const tenant = param(q, 'tenant')
  const connectionId = param(q, 'connectionId')
  const resourceId = param(q, 'resourceId')
  const status = param(q, 'status')
  const since = date(param(q, 'since'))
  const until = date(param(q, 'until'))
  const limit = param(q, 'limit')
  const cursor = param(q, 'cursor')
  if (tenant !== undefined) out.tenant = tenant
  if (connectionId !== undefined) out.connectionId = connectionId
  if (resourceId !== undefined) out.resourceId = resourceId
  if (status === 'error') out.status = 'error'
  else if (status !== undefined && /^\d{3}$/.test(status)) out.status = Number(status)
  if (since) out.since = since
  if (until) out.until = until
  if (limit !== undefined && /^\d{1,4}$/.test(limit)) out.limit = Number(limit)
  if (cursor !== undefined) out.cursor = cursor
  return out
}

/**
 * The console as a `(req, res, next)` middleware for Express 4, Express 5 or Connect. Mount it
 * at any path; it serves `GET /` (the page), `/console.js`, `/console.css` and, behind
 * `authenticate`, `GET /api/connections`, `/api/requests` (query: tenant, connectionId,
 * resourceId, status — a code or `error` —, since, until, limit, cursor), `/api/history` (tenant,
 * id), `/api/deliveries` (tenant) and `/api/stats` (tenant, connectionId, hours). Every answer
 * has a strict Content-Security-Policy ({@link CONSOLE_CSP}); the page renders every value as
 * text. Other paths and methods go to `next()`.
 *
 * @example
 * ```ts
 * const requestLog = new MemoryRequestLog()
 * app.use('/scim/v2', scimRouter(adapter, { authenticate, requestLog }))
 * app.use('/admin/scim', scimConsole({ requestLog, connections, outbox: adapter.outbox, authenticate: isAdmin }))
 * ```
 */
export function scimConsole<Ctx = unknown>(options: ScimConsoleOptions<Ctx>): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  if (typeof options?.authenticate !== 'function') throw new TypeError('scimConsole(): authenticate must be a function')
  if (typeof options.requestLog?.query !== 'function') throw new TypeError('scimConsole(): requestLog must be a RequestLog')
  const context = options.context ?? ((tenant: string) => ({ tenant }) as Ctx)
  const defaultTenant = options.defaultTenant ?? 'default'

  const api = async (name: string, q: URLSearchParams): Promise<unknown> => {
    switch (name) {
      case 'connections':
        return options.connections ? await options.connections.list() : []
      case 'requests':
        return options.requestLog.query(requestLogQuery(q))
      case 'history': {
        const id = param(q, 'id')
        if (id === undefined) return undefined
        return resourceHistory({ requestLog: options.requestLog, outbox: options.outbox, context }, { tenant: param(q, 'tenant') ?? defaultTenant, id })
      }
      case 'deliveries': {
        if (!options.outbox) return []
        const ctx = context(param(q, 'tenant') ?? defaultTenant)
        const pending = await options.outbox.list({ state: 'pending', limit: 200 }, ctx)
        const dead = await options.outbox.list({ state: 'dead', limit: 200 }, ctx)
        const order = (a: OutboxEvent, b: OutboxEvent) => b.createdAt.getTime() - a.createdAt.getTime()
        return [...dead.sort(order), ...pending.sort(order)].map(historyEvent)
      }
      case 'stats': {
        const hours = Math.max(1, Math.min(24 * 14, Number(param(q, 'hours') ?? 24) || 24))
        const tenant = param(q, 'tenant')
        const connectionId = param(q, 'connectionId')
        return options.requestLog.stats({ since: new Date(Date.now() - hours * 3_600_000), ...(tenant !== undefined ? { tenant } : {}), ...(connectionId !== undefined ? { connectionId } : {}) })
      }
      default:
        return undefined
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): Promise<void> => {
    const url = req.url ?? '/'
    const qi = url.indexOf('?')
    const path = (qi < 0 ? url : url.slice(0, qi)).replace(/\/+$/, '') || '/'
    const method = (req.method ?? 'GET').toUpperCase()
    if (method !== 'GET' && method !== 'HEAD') return next()
    if (path === '/' || path === '/index.html') {
      // Relative asset URLs need the trailing slash: redirect `/console` to `/console/`.
      const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? url
      const originalPath = original.split('?')[0] as string
      if (path === '/' && !originalPath.endsWith('/')) return text(res, 308, 'text/plain; charset=utf-8', undefined, { Location: `${originalPath.split('/').pop() || '.'}/` })
      return text(res, 200, 'text/html; charset=utf-8', CONSOLE_HTML)
    }
    if (path === '/console.js') return text(res, 200, 'text/javascript; charset=utf-8', CONSOLE_JS)
    if (path === '/console.css') return text(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS)
    const m = /^\/api\/([a-z]+)$/.exec(path)
    if (!m) return next()
    let allowed: unknown
    try {
      allowed = await options.authenticate(req)
    } catch (err) {
      log('authenticate failed: %O', err)
      return json(res, 503, { error: 'authentication is unavailable' }, { 'Retry-After': '5' })
    }
    if (!allowed) {
      return json(res, 401, { error: 'not authorised' }, { 'WWW-Authenticate': 'Bearer realm="scim-console"' })
    }
    const body = await api(m[1] as string, new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1)))
    if (body === undefined) return json(res, m[1] === 'history' ? 400 : 404, { error: m[1] === 'history' ? 'id is required' : 'unknown endpoint' })
    json(res, 200, body)
  }

  return (req, res, next) => {
    handle(req, res, next).catch((err: unknown) => {
      log('console request failed: %O', err)
      json(res, 500, { error: 'internal error' })
    })
  }
}
