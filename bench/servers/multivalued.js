'use strict'
/**
 * bench:multivalued child: scimRouter over MemoryAdapter or scim-router/kysely (scimTablesMapping,
 * SQLite file argv[3]) in
 * Express 5 at /scim/v2, with maxBodyBytes raised so 100,000 values fit in one request.
 * argv[2] is the store (memory | sqlite). BENCH_OURS_SRC measures another checkout's sources (the
 * "before" column). IPC: child → parent { type: 'ready', port }; parent → child
 * { type: 'seed', n } → { type: 'seeded', ids } (n Users created through the adapter itself);
 * { type: 'exit' }.
 */
const path = require('node:path')
const root = path.resolve(process.env.BENCH_OURS_SRC ? path.join(process.env.BENCH_OURS_SRC, '..') : path.join(__dirname, '..', '..'))
require(path.join(root, 'scripts', 'codegen'))
require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') })
const express = require('express')
const http = require('node:http')
const { scimRouter, MemoryAdapter } = require(path.join(root, 'src'))

const store = process.argv[2]

/** The store under test; the Kysely one creates its tables on first use (`migrate` option). */
function openAdapter() {
  if (store !== 'sqlite') return new MemoryAdapter()
  const { Kysely, SqliteDialect } = require('kysely')
  const { kyselyAdapter, scimTablesMapping, sqliteStatementCache } = require(path.join(root, 'src', 'kysely'))
  const Database = require('better-sqlite3')
  const database = new Database(process.argv[3])
  database.pragma('journal_mode = WAL')
  const db = new Kysely({ dialect: new SqliteDialect({ database: sqliteStatementCache(database) }) })
  return kyselyAdapter({ db, mapping: scimTablesMapping(), migrate: { createTables: true } })
}
const adapter = openAdapter()

async function main() {
  if (adapter.init) await adapter.init()
  const app = express()
  app.use('/scim/v2', scimRouter(adapter, { authenticate: 'none', maxBodyBytes: 64 * 1024 * 1024 }))
  const server = http.createServer(app)
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }))
  process.on('message', async (msg) => {
    if (msg.type === 'seed') {
      const ids = []
      for (let i = 0; i < msg.n; i++) {
        const r = await adapter.create({ resourceType: 'User', attributes: { userName: `m${msg.from + i}@bench.example` }, unique: [{ path: 'userName', caseExact: false }] }, {})
        ids.push(r.id)
      }
      process.send({ type: 'seeded', ids })
    } else if (msg.type === 'exit') {
      server.closeAllConnections?.()
      server.close(() => process.exit(0))
      setTimeout(() => process.exit(0), 2000).unref()
    }
  })
}
main().catch((err) => {
  console.error(err)
  process.exit(1)
})
