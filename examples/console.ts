/**
 * The example app's provisioning console (issue 15): `scimConsole()` at /app/console and the
 * request log of one connection as JSON at `GET /app/connections/{id}/requests`, both behind
 * ADMIN_TOKEN (`Authorization: Bearer <ADMIN_TOKEN>`; the console page asks for the token in a
 * sign-in form and keeps it in the tab's sessionStorage).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Express } from 'express'
import { requestLogQuery, scimConsole, type Connections, type EventOutbox, type RequestLog } from '../src'

const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** Whether a request carries `Authorization: Bearer <adminToken>` (compared in constant time). */
export function isAdmin(adminToken: string): (req: IncomingMessage) => boolean {
  const want = sha(adminToken)
  return (req) => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    return m !== null && timingSafeEqual(sha(m[1] as string), want)
  }
}

/** Mount the console and the per-connection request log endpoint on the example app. */
export function mountConsole(app: Express, options: { connections: Connections; requestLog: RequestLog; outbox: EventOutbox | undefined; adminToken: string }): void {
  const admin = isAdmin(options.adminToken)
  app.get('/app/connections/:id/requests', async (req, res, next) => {
    try {
      if (!admin(req)) {
        res.status(401).set('WWW-Authenticate', 'Bearer realm="admin"').json({ error: 'admin token required' })
        return
      }
      const id = String(req.params['id'])
      const connection = await options.connections.get(id)
      if (!connection) {
        res.status(404).json({ error: 'no such connection' })
        return
      }
      const q = requestLogQuery(new URL(req.originalUrl, 'http://x').searchParams)
      res.set('Cache-Control', 'no-store').json(await options.requestLog.query({ ...q, connectionId: id }))
    } catch (err) {
      next(err)
    }
  })
  app.use('/app/console', scimConsole({ authenticate: admin, requestLog: options.requestLog, connections: options.connections, outbox: options.outbox }))
}
