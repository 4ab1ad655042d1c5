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
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import express, { type Express } from 'express'
import { bearerToken, scimRouter, type EventDeliveryOptions, type ScimAdapter, type ScimEvent, type ScimRouter } from '../src'

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

  const scim = scimRouter(options.adapter, {
      authenticate: bearerToken(options.token),
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.cursorSecret ? { cursorSecret: options.cursorSecret } : {}),
      // Every optional feature is on, so a newcomer can try it: Bulk (RFC 7644 §3.7) here, and
      // cursor pagination (RFC 9865), which both shipped stores serve through `listByCursor`.
      bulk: true,
      ...(options.eventDelivery ? { eventDelivery: options.eventDelivery } : {}),
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
  app.use('/scim/v2', scim)
  return { app, sessions, events, scim }
}
