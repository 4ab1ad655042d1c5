/**
 * The example application: an Express 5 app with its own (toy) login sessions and the SCIM
 * router at /scim/v2. It shows the one thing every app must do with SCIM: when the IdP
 * deprovisions a user — deactivation by PATCH or PUT in any dialect, or a delete — end that
 * user's sessions before the IdP hears "done" (`onEvent` + `awaitEvents`, the default).
 *
 * Both shipped stores have an event outbox, so the sessions are revoked from the durable stream:
 * the deprovisioning event commits with the change and is retried until the handler succeeds,
 * also after a crash or restart (issue 13). With `eventsLog`, every event the handler accepts is
 * appended to that file (one JSON object per line) before it is acknowledged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import express, { type Express } from 'express'
import {
  Decommissioner,
  bearerToken,
  connectionAuth,
  connectionSettings,
  scimRouter,
  type Authenticate,
  type ConnectionSettings,
  type Connections,
  type EventDeliveryOptions,
  type ScimAdapter,
  type ScimEvent,
  type ScimRouter,
} from '../src'
import type { RequestLog } from '../src'
import { mountConsole } from './console'

/** A login session of the example app. */
export interface Session {
  userId: string
  createdAt: Date
}

/** What {@link createExampleApp} returns. */
export interface ExampleApp {
  app: Express
  /** Sessions by session id. */
  sessions: Map<string, Session>
  /** Every lifecycle event the router emitted, most recent last (for the example's audit log). */
  events: ScimEvent[]
  /** The SCIM router (its `events` API: feed, dispatcher stop). */
  scim: ScimRouter
  /** Decommissioning jobs of the connections (with `connections`): call `resume()` at start, `stop()` at exit. */
  decommissions?: Decommissioner<unknown>
}

/** Options of {@link createExampleApp}. */
export interface ExampleAppOptions {
  adapter: ScimAdapter
  token: string
  baseUrl?: string
  /**
   * Key signing RFC 9865 cursors. The server derives it from the token, so cursors survive a
   * restart; unset (tests), the router picks a random one.
   */
  cursorSecret?: string
  /**
   * Append every event the handler accepts to this file, one JSON object per line
   * (`{"id","type","resourceType","resourceId","tenant","attempt","at"}`), synchronously before the
   * event is acknowledged, so a crash never loses an acknowledged event (duplicates are possible:
   * delivery is at least once, deduplicate on `id`).
   */
  eventsLog?: string
  /** Fault injection for tests: the first N `user.deprovisioned` deliveries throw. */
  failEvents?: number
  /** Fault injection for tests: the next N `user.deprovisioned` deliveries never settle (a hanging handler). */
  hangEvents?: number
  /** Fault injection for tests: milliseconds each `user.deprovisioned` delivery takes before it is acknowledged (a slow revocation, so a kill can land mid-handler). */
  eventDelayMs?: number
  /** Durable delivery tuning (retries, leases), passed to the router. */
  eventDelivery?: EventDeliveryOptions
  /**
   * Connections managed at run time (issue 14): each connection's token opens `/scim/v2` (tenant
   * from the token) and `/scim/v2/c/{id}` (that connection only); `token` keeps working for the
   * default tenant at `/scim/v2`. Needs `adminToken` for the admin API at `/app/connections`.
   */
  connections?: Connections
  /** Bearer token of the admin API at `/app/connections` (only with `connections`). */
  adminToken?: string
  /** Users per batch of a decommissioning (default 100). */
  decommissionBatchSize?: number
  /** Pause between batches of a decommissioning, in ms (default 0; tests slow it down to kill the process mid-job). */
  decommissionDelayMs?: number
  /**
   * The request log (issue 15): every SCIM request is recorded, redacted; with `connections`, the
   * console is served at `/app/console` and `GET /app/connections/{id}/requests`, behind `adminToken`.
   */
  requestLog?: RequestLog
}

const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * The admin API of the connections: `POST /app/connections` {tenant, settings?} → 201 {id, tenant,
 * baseUrl, token}; `GET /app/connections`; `GET /app/connections/{id}` (with its settings and
 * decommissioning progress); `PATCH /app/connections/{id}` {settings} → 200;
 * `POST /app/connections/{id}/rotate` {graceSeconds} → 200 {token}; `POST /app/connections/{id}/revoke`
 * → 204; `DELETE /app/connections/{id}` {users: "deactivate"|"delete"} → 202, decommissioning in
 * the background. Every route needs `Authorization: Bearer <adminToken>`.
 */
function adminApi(app: Express, connections: Connections, decommissions: Decommissioner<unknown>, adminToken: string, baseUrl: string | undefined): void {
  const want = sha(adminToken)
  const scimBase = (req: express.Request): string => baseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}/scim/v2`
  const router = express.Router()
  router.use((req, res, next) => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    if (!m || !timingSafeEqual(sha(m[1] as string), want)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="admin"').json({ error: 'admin token required' })
      return
    }
    next()
  })
  router.use(express.json())
  const url = (req: express.Request, id: string): string => `${scimBase(req)}/c/${id}`
  router.post('/', async (req, res, next) => {
    try {
      const tenant: unknown = req.body?.tenant
      if (typeof tenant !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(tenant)) {
        res.status(400).json({ error: 'tenant: 1 to 64 characters of A-Z a-z 0-9 . _ -' })
        return
      }
      const settings: unknown = req.body?.settings ?? {}
      let c
      try {
        c = await connections.create(tenant, settings as ConnectionSettings)
      } catch (err) {
        if (!(err instanceof TypeError)) throw err
        res.status(400).json({ error: err.message })
        return
      }
      res.status(201).json({ id: c.id, tenant: c.tenant, baseUrl: url(req, c.id), token: c.token })
    } catch (err) {
      next(err)
    }
  })
  router.get('/:id', async (req, res, next) => {
    try {
      const c = await connections.get(String(req.params['id']))
      if (!c) {
        res.status(404).json({ error: 'no such connection' })
        return
      }
      res.json({ ...c, baseUrl: url(req, c.id) })
    } catch (err) {
      next(err)
    }
  })
  router.patch('/:id', async (req, res, next) => {
    try {
      const settings: unknown = req.body?.settings
      if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
        res.status(400).json({ error: 'settings: an object (a field set to null goes back to the default)' })
        return
      }
      let c
      try {
        c = await connections.updateSettings(String(req.params['id']), settings as ConnectionSettings)
      } catch (err) {
        if (!(err instanceof TypeError)) throw err
        res.status(400).json({ error: err.message })
        return
      }
      if (!c) {
        res.status(404).json({ error: 'no such connection' })
        return
      }
      res.json({ ...c, baseUrl: url(req, c.id) })
    } catch (err) {
      next(err)
    }
  })
  router.delete('/:id', async (req, res, next) => {
    try {
      const users: unknown = req.body?.users
      if (users !== 'deactivate' && users !== 'delete') {
        res.status(400).json({ error: 'users: "deactivate" or "delete"' })
        return
      }
      const c = await decommissions.decommission(String(req.params['id']), { users })
      if (!c) {
        res.status(404).json({ error: 'no such connection' })
        return
      }
      res.status(202).json({ ...c, baseUrl: url(req, c.id) })
    } catch (err) {
      next(err)
    }
  })
  router.get('/', async (req, res, next) => {
    try {
      res.json((await connections.list()).map((c) => ({ ...c, baseUrl: url(req, c.id) })))
    } catch (err) {
      next(err)
    }
  })
  router.post('/:id/rotate', async (req, res, next) => {
    try {
      const grace: unknown = req.body?.graceSeconds ?? 0
      if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
        res.status(400).json({ error: 'graceSeconds: a non-negative number' })
        return
      }
      const r = await connections.rotate(String(req.params['id']), grace)
      if (!r) {
        res.status(404).json({ error: 'no such connection, or it is revoked' })
        return
      }
      res.json({ token: r.token })
    } catch (err) {
      next(err)
    }
  })
  router.post('/:id/revoke', async (req, res, next) => {
    try {
      if (!(await connections.revoke(String(req.params['id'])))) {
        res.status(404).json({ error: 'no such connection' })
        return
      }
      res.status(204).end()
    } catch (err) {
      next(err)
    }
  })
  app.use('/app/connections', router)
}

/** Build the example app (no listening; `server.ts` starts it, tests drive it with supertest). */
export function createExampleApp(options: ExampleAppOptions): ExampleApp {
  const sessions = new Map<string, Session>()
  const events: ScimEvent[] = []
  let calls = 0
  const app = express()
  app.disable('x-powered-by')

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })

  // A toy login: a user provisioned by the IdP and active may open a session.
  app.post('/app/login', express.json(), async (req, res) => {
    const userId = typeof req.body?.userId === 'string' ? req.body.userId : undefined
    const user = userId ? await options.adapter.get({ resourceType: 'User', id: userId }, { principal: undefined }) : null
    if (!user || user.attributes['active'] === false) {
      res.status(403).json({ error: 'unknown or inactive user' })
      return
    }
    const sid = randomBytes(16).toString('base64url')
    sessions.set(sid, { userId: user.id, createdAt: new Date() })
    res.status(201).json({ session: sid })
  })

  app.get('/app/me', (req, res) => {
    const sid = /^Session (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    const session = sid ? sessions.get(sid) : undefined
    if (!session) {
      res.status(401).json({ error: 'no session' })
      return
    }
    res.json({ userId: session.userId })
  })

  const staticToken = bearerToken(options.token)
  let authenticate: Authenticate<unknown> = staticToken
  if (options.connections) {
    if (!options.adminToken) throw new TypeError('createExampleApp: connections need an adminToken')
    const byConnection = connectionAuth(options.connections)
    // SCIM_TOKEN is the default tenant's, at /scim/v2 only; /scim/v2/c/{id} takes that connection's tokens only.
    authenticate = async (req) => {
      const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? ''
      if (!/^\/scim\/v2\/c\//.test(url)) {
        const p = await staticToken(req)
        if (p) return p
      }
      return byConnection(req)
    }
  }

  const scim = scimRouter(options.adapter, {
      authenticate,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.cursorSecret ? { cursorSecret: options.cursorSecret } : {}),
      // Every optional feature is on, so a newcomer can try it: Bulk (RFC 7644 §3.7) here, and
      // cursor pagination (RFC 9865), which both shipped stores serve through `listByCursor`.
      bulk: true,
      // Each connection's settings (strict, groupPatchResponse, allowedEmailDomains, seatCap) apply
      // to its requests; needed here because `authenticate` wraps connectionAuth.
      settings: connectionSettings,
      ...(options.eventDelivery ? { eventDelivery: options.eventDelivery } : {}),
      ...(options.requestLog ? { requestLog: { store: options.requestLog } } : {}),
      onEvent: async (event) => {
        if (event.type === 'user.deprovisioned') {
          calls++
          if (calls <= (options.failEvents ?? 0)) throw new Error(`injected failure ${calls}`)
          if (calls <= (options.failEvents ?? 0) + (options.hangEvents ?? 0)) return new Promise<void>(() => undefined)
          if (options.eventDelayMs) await new Promise((r) => setTimeout(r, options.eventDelayMs))
        }
        events.push(event)
        if (events.length > 1000) events.shift()
        // One place to revoke access, whichever verb the IdP used.
        if (event.type === 'user.deprovisioned') {
          for (const [sid, s] of sessions) if (s.userId === event.id) sessions.delete(sid)
        }
        if (options.eventsLog) {
          // Written (synchronously) before the handler returns, i.e. before the event is acknowledged.
          const line = { id: event.eventId, type: event.type, resourceType: event.resourceType, resourceId: event.id, tenant: event.tenant ?? 'default', attempt: event.attempt ?? 1, at: event.at.toISOString() }
          appendFileSync(options.eventsLog, `${JSON.stringify(line)}\n`)
        }
        return undefined
      },
  })
  let decommissions: Decommissioner<unknown> | undefined
  if (options.connections) {
    decommissions = new Decommissioner(options.connections, scim, {
      ...(options.decommissionBatchSize ? { batchSize: options.decommissionBatchSize } : {}),
      ...(options.decommissionDelayMs ? { batchDelayMs: options.decommissionDelayMs } : {}),
    })
    adminApi(app, options.connections, decommissions, options.adminToken as string, options.baseUrl)
    app.use('/scim/v2/c/:connection', scim)
  }
  if (options.connections && options.requestLog) {
    mountConsole(app, { connections: options.connections, requestLog: options.requestLog, outbox: options.adapter.outbox, adminToken: options.adminToken as string })
  }
  app.use('/scim/v2', scim)
  return { app, sessions, events, scim, ...(decommissions ? { decommissions } : {}) }
}
