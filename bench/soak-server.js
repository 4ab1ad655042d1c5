'use strict'
/**
 * The server side of `npm run soak` (bench/soak.js forks it with --expose-gc and an IPC channel).
 *
 * An Express 5 app like examples/app.ts, with a tenant-aware token map instead of one token:
 * `scimRouter(SqlAdapter, { authenticate: bearerToken({ [token]: { tenant } }) })` at /scim/v2,
 * `/healthz`, and an `onEvent` that counts every lifecycle event by tenant and type (and the
 * member ids carried by `group.members.added/removed`). Nothing is retained per event.
 *
 * Configuration (env, set by soak.js): SOAK_STORE=sqlite|postgres, SOAK_DB (SQLite file),
 * SOAK_PG_URL + SOAK_PG_SCHEMA (PostgreSQL), SOAK_TOKENS (JSON `{ token: tenant }`).
 *
 * IPC (no HTTP debug endpoint, so nothing extra is exposed on the port):
 *   child → parent  { type: 'ready', port }
 *   parent → child  { type: 'mem' }     → { type: 'mem', heapUsed, rss, external }  after forced GCs
 *   parent → child  { type: 'events' }  → { type: 'events', counts: { tenant: { type: n } }, server5xx }
 *   parent → child  { type: 'exit' }    the child closes the server and the adapter, then exits
 */
const path = require('node:path')
const http = require('node:http')

require('../scripts/register')
const express = require('express')
const { scimRouter, bearerToken } = require('../src')
const { SqlAdapter } = require('../examples/sql-adapter')

const store = process.env.SOAK_STORE
const tokens = JSON.parse(process.env.SOAK_TOKENS || '{}')

function openAdapter() {
  if (store === 'sqlite') return SqlAdapter.sqlite(process.env.SOAK_DB)
  if (store === 'postgres') return SqlAdapter.postgres(process.env.SOAK_PG_URL, { schema: process.env.SOAK_PG_SCHEMA })
  throw new Error(`SOAK_STORE must be sqlite or postgres, not '${store}'`)
}

const counts = {}
let server5xx = 0

function countEvent(event) {
  const t = event.tenant ?? '(none)'
  const c = (counts[t] ??= {})
  c[event.type] = (c[event.type] ?? 0) + 1
  if (event.type === 'group.members.added' || event.type === 'group.members.removed') {
    c[`${event.type}:ids`] = (c[`${event.type}:ids`] ?? 0) + event.memberIds.length
  }
}

async function main() {
  const adapter = openAdapter()
  await adapter.init()
  const principals = {}
  for (const [token, tenant] of Object.entries(tokens)) principals[token] = { tenant }

  const app = express()
  app.disable('x-powered-by')
  app.get('/healthz', (_req, res) => res.json({ ok: true }))
  app.use((req, res, next) => {
    res.on('finish', () => {
      if (res.statusCode >= 500) server5xx++
    })
    next()
  })
  app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken(principals), onEvent: countEvent }))

  const server = http.createServer(app)
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }))

  const forcedGc = async () => {
    for (let i = 0; i < 4; i++) {
      global.gc()
      await new Promise((r) => setImmediate(r))
    }
  }

  process.on('message', (msg) => {
    void (async () => {
      switch (msg?.type) {
        case 'mem': {
          await forcedGc()
          const m = process.memoryUsage()
          process.send({ type: 'mem', heapUsed: m.heapUsed, rss: m.rss, external: m.external })
          break
        }
        case 'events':
          process.send({ type: 'events', counts, server5xx })
          break
        case 'exit':
          server.closeAllConnections()
          server.close(() => {
            adapter.close().finally(() => process.exit(0))
          })
          setTimeout(() => process.exit(0), 3000).unref()
          break
      }
    })().catch((err) => {
      console.error(err)
      process.exit(1)
    })
  })
  process.on('disconnect', () => process.exit(0))
}

if (typeof global.gc !== 'function') {
  console.error('soak-server: run with --expose-gc')
  process.exit(2)
}
main().catch((err) => {
  console.error(`soak-server: cannot start: ${err?.message ?? err}`)
  process.exit(1)
})
