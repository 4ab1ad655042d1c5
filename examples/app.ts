/**
 * The example application: an Express 5 app with its own (toy) login sessions and the SCIM
 * router at /scim/v2. It shows the one thing every app must do with SCIM: when the IdP
 * deprovisions a user — deactivation by PATCH or PUT in any dialect, or a delete — end that
 * user's sessions before the IdP hears "done" (`onEvent` + `awaitEvents`, the default).
 */
import { randomBytes } from 'node:crypto'
import express, { type Express } from 'express'
import { bearerToken, scimRouter, type ScimAdapter, type ScimEvent } from '../src'

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
}

/** Build the example app (no listening; `server.ts` starts it, tests drive it with supertest). */
export function createExampleApp(options: ExampleAppOptions): ExampleApp {
  const sessions = new Map<string, Session>()
  const events: ScimEvent[] = []
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

  app.use(
    '/scim/v2',
    scimRouter(options.adapter, {
      authenticate: bearerToken(options.token),
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.cursorSecret ? { cursorSecret: options.cursorSecret } : {}),
      // Every optional feature is on, so a newcomer can try it: Bulk (RFC 7644 §3.7) here, and
      // cursor pagination (RFC 9865), which both shipped stores serve through `listByCursor`.
      bulk: true,
      onEvent: (event) => {
        events.push(event)
        if (events.length > 1000) events.shift()
        // One place to revoke access, whichever verb the IdP used.
        if (event.type === 'user.deprovisioned') {
          for (const [sid, s] of sessions) if (s.userId === event.id) sessions.delete(sid)
        }
      },
    }),
  )
  return { app, sessions, events }
}
