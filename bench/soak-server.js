'use strict'
/**
 * The server side of `npm run soak` (bench/soak.js forks it with --expose-gc and an IPC channel).
 *
 * An Express 5 app like examples/app.ts, with a tenant-aware token map instead of one token:
 * `scimRouter(kyselyAdapter({ db, mapping: scimTablesMapping() }), { authenticate: bearerToken({ [token]: { tenant } }) })`
 * at /scim/v2 (the tables created by migrate() on start),
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
const { Kysely, PostgresDialect, SqliteDialect } = require('kysely')
const { kyselyAdapter, migrate, scimTablesMapping, sqliteStatementCache } = require('../src/kysely')

const store = process.env.SOAK_STORE
const tokens = JSON.parse(process.env.SOAK_TOKENS || '{}')

/** The Kysely instance of the store (SQLite file, or a PostgreSQL schema created here and dropped by soak.js). */
async function openDb() {
  if (store === 'sqlite') {
    const Database = require('better-sqlite3')
    const database = new Database(process.env.SOAK_DB)
    database.pragma('journal_mode = WAL')
    database.pragma('busy_timeout = 5000')
    return new Kysely({ dialect: new SqliteDialect({ database: sqliteStatementCache(database) }) })
  }
  if (store === 'postgres') {
    const { Pool } = require('pg')
    const schema = process.env.SOAK_PG_SCHEMA
    if (!/^[a-z0-9_]+$/.test(schema ?? '')) throw new Error(`SOAK_PG_SCHEMA must be a plain identifier (got '${schema}')`)
    const admin = new Pool({ connectionString: process.env.SOAK_PG_URL, max: 1 })
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await admin.end()
    return new Kysely({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: process.env.SOAK_PG_URL, options: `-c search_path=${schema}` }) }) })
  }
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
  const db = await openDb()
  const mapping = scimTablesMapping()
  await migrate(db, mapping, { createTables: true })
  const adapter = kyselyAdapter({ db, mapping })
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
            db.destroy().finally(() => process.exit(0))
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
