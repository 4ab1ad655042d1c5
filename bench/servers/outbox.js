'use strict'
/**
 * bench:outbox child. argv: store (sqlite | postgres), mode (none | outbox | feed), users.
 *  none   — kyselyAdapter (scimTablesMapping) with `outbox: false` and an onEvent handler: delivery
 *           once after the commit.
 *  outbox — the default kyselyAdapter (events in the write's transaction) and the same handler:
 *           first attempt claimed and completed in the store (at-least-once).
 *  feed   — outbox without onEvent: events recorded for the feed only.
 * Serves Express 5 at /scim/v2; reports { type: 'ready', port, users: [ids] } over IPC.
 */
require('../../scripts/register')
const http = require('node:http')
const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const express = require('express')
const { scimRouter } = require('../../src')
const { Kysely, PostgresDialect, SqliteDialect } = require('kysely')
const { kyselyAdapter, migrate, scimTablesMapping, sqliteStatementCache } = require('../../src/kysely')

const [store, mode, count] = process.argv.slice(2)

async function main() {
  let db
  let cleanup = async () => undefined
  if (store === 'postgres') {
    const schema = `scim_bench_${process.pid}_${mode}`
    const { Pool } = require('pg')
    const admin = new Pool({ connectionString: process.env.SCIM_PG_URL, max: 1 })
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.query(`CREATE SCHEMA ${schema}`)
    db = new Kysely({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: process.env.SCIM_PG_URL, max: 10, options: `-c search_path=${schema}` }) }) })
    cleanup = async () => {
      await db.destroy()
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.end()
    }
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-bench-outbox-'))
    const Database = require('better-sqlite3')
    const database = new Database(path.join(dir, 'db.sqlite'))
    database.pragma('journal_mode = WAL')
    database.pragma('busy_timeout = 5000')
    db = new Kysely({ dialect: new SqliteDialect({ database: sqliteStatementCache(database) }) })
    cleanup = async () => {
      await db.destroy()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  const mapping = scimTablesMapping()
  await migrate(db, mapping, { createTables: true })
  const adapter = kyselyAdapter({ db, mapping, outbox: mode !== 'none' })
  const users = []
  for (let i = 0; i < Number(count); i++) {
    const s = await adapter.create({ resourceType: 'User', attributes: { userName: `bench${i}@example.com`, active: true }, unique: [{ path: 'userName', caseExact: false }] }, {})
    users.push(s.id)
  }
  let delivered = 0
  const router = scimRouter(adapter, {
    authenticate: 'none',
    ...(mode === 'feed' ? {} : { onEvent: () => void delivered++ }),
  })
  const app = express()
  app.use('/scim/v2', router)
  const server = http.createServer(app).listen(0, '127.0.0.1', () => {
    process.send({ type: 'ready', port: server.address().port, users })
  })
  process.on('message', async (msg) => {
    if (msg?.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage(), delivered })
    if (msg?.type === 'exit') {
      server.close()
      await router.events.stop()
      await cleanup()
      process.exit(0)
    }
  })
}
main().catch((err) => {
  console.error(err)
  process.exit(1)
})
