'use strict'
/**
 * bench:sqlite child, one of three roles (argv[2]); the database file is argv[3].
 *  seed  N  — create N users through SqlAdapter.create (examples/sql-adapter.ts), the adapter's own
 *             write path (transaction, unique row, emails side-table row), one after another.
 *             The connection runs with PRAGMA synchronous = OFF while seeding only; then it is
 *             checkpointed and closed. Reports { type: 'seeded', users: [{ id, userName, externalId }] }.
 *  ours     — scimRouter(SqlAdapter.sqlite(file), { authenticate: 'none' }) in Express 5 at /scim/v2.
 *  limit    — Express 5 with hand-written routes doing the same indexed statements through
 *             better-sqlite3 directly (see bench/README.md): one SELECT per lookup, COUNT + SELECT
 *             per page, one UPDATE … RETURNING per PATCH. No schema, no filter language, no hydration.
 * ours/limit speak lib/child.js's IPC protocol.
 */
const path = require('node:path')
const role = process.argv[2]
const file = process.argv[3]
const express = require('express')
const { serve, data } = require('../lib/child')

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'

function loadOurs() {
  require('../../scripts/register')
  return { ...require('../../src'), ...require('../../examples/sql-adapter') }
}

async function seed(n) {
  const { SqlAdapter } = loadOurs()
  const Database = require('better-sqlite3')
  const db = new Database(file)
  db.pragma('synchronous = OFF')
  const adapter = SqlAdapter.sqlite(db)
  await adapter.init()
  const unique = [{ path: 'userName', caseExact: false }] // what the router passes for User
  const users = []
  const t0 = Date.now()
  for (let i = 0; i < n; i++) {
    const s = await adapter.create({ resourceType: 'User', attributes: data.userAttributes(i), unique }, {})
    users.push({ id: s.id, userName: s.attributes.userName, externalId: s.attributes.externalId })
  }
  const ms = Date.now() - t0
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.exec('ANALYZE')
  await adapter.close()
  process.send({ type: 'seeded', users, ms, rss: process.memoryUsage().rss }, () => process.exit(0))
}

function ours() {
  const { scimRouter, SqlAdapter } = loadOurs()
  const app = express()
  app.disable('x-powered-by')
  app.use('/scim/v2', scimRouter(SqlAdapter.sqlite(file), { authenticate: 'none' }))
  serve(require('node:http').createServer(app), { users: [], rss: process.memoryUsage().rss })
}

function limit() {
  const Database = require('better-sqlite3')
  const db = new Database(file)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  const COLS = 'id, version, created, last_modified, doc'
  const byUserName = db.prepare(`SELECT ${COLS} FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User' AND user_name_key = ? ORDER BY created, id LIMIT ?`)
  const byExternalId = db.prepare(`SELECT ${COLS} FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User' AND external_id = ? ORDER BY created, id LIMIT ?`)
  const count = db.prepare(`SELECT COUNT(*) AS n FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User'`)
  const page = db.prepare(`SELECT ${COLS} FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User' ORDER BY created, id LIMIT ? OFFSET ?`)
  const patchActive = db.prepare(
    `UPDATE scim_resources SET doc = json_set(doc, '$.active', json(?)), version = version + 1, last_modified = MAX(last_modified, ?) WHERE tenant = 'default' AND id = ? AND resource_type = 'User' RETURNING ${COLS}`,
  )
  const render = (base, r) => {
    const location = `${base}/Users/${r.id}`
    return {
      schemas: [USER_SCHEMA],
      id: r.id,
      ...JSON.parse(r.doc),
      meta: { resourceType: 'User', created: new Date(r.created).toISOString(), lastModified: new Date(r.last_modified).toISOString(), location, version: `W/"${r.version}"` },
    }
  }
  const list = (res, base, rows, total, startIndex) => {
    res.type('application/scim+json').send(
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: total,
        startIndex,
        itemsPerPage: rows.length,
        Resources: rows.map((r) => render(base, r)),
      }),
    )
  }
  const EQ = /^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ type: ['application/json', 'application/scim+json'] }))
  app.get('/scim/v2/Users', (req, res) => {
    const base = `${req.protocol}://${req.get('host')}/scim/v2`
    const n = Math.max(0, Math.min(Number(req.query.count ?? 100), 1000))
    const filter = req.query.filter
    if (filter !== undefined) {
      const m = EQ.exec(String(filter))
      if (!m) return res.status(400).json({ detail: 'only userName eq / externalId eq' })
      const value = JSON.parse(`"${m[2]}"`).normalize('NFC')
      const rows = m[1].toLowerCase() === 'username' ? byUserName.all(value.toUpperCase().toLowerCase().normalize('NFC'), n) : byExternalId.all(value, n)
      return list(res, base, rows, rows.length, 1)
    }
    const startIndex = Math.max(1, Number(req.query.startIndex ?? 1))
    list(res, base, page.all(n, startIndex - 1), count.get().n, startIndex)
  })
  app.patch('/scim/v2/Users/:id', (req, res) => {
    const op = req.body?.Operations?.[0]
    if (!op || String(op.op).toLowerCase() !== 'replace' || op.path !== 'active' || typeof op.value !== 'boolean') return res.status(400).end()
    const row = patchActive.get(JSON.stringify(op.value), Date.now(), req.params.id)
    if (!row) return res.status(404).end()
    const base = `${req.protocol}://${req.get('host')}/scim/v2`
    res.type('application/scim+json').set('ETag', `W/"${row.version}"`).send(JSON.stringify(render(base, row)))
  })
  serve(require('node:http').createServer(app), { users: [], rss: process.memoryUsage().rss })
}

if (role === 'seed') {
  seed(Number(process.argv[4])).catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else if (role === 'ours') ours()
else if (role === 'limit') limit()
else throw new Error(`unknown role ${role}`)
