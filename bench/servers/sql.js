'use strict'
/**
 * bench:sql child, one of three roles (argv[2]); the database is argv[3]: `sqlite:<file>` or
 * `postgres:<schema>` (a schema of SCIM_PG_URL's database, created by the seeder).
 *  seed  N  — migrate(scimTablesMapping(), { createTables: true }), then N users and 100 groups in
 *             one transaction of batched multi-row INSERTs (500 rows each). The rows are exactly what
 *             KyselyAdapter.create writes: they are encoded by the adapter's own record functions
 *             (columns and JSON column, folded lookup and uniqueness keys, UUIDv7 ids). Group 0
 *             ("All Staff") has every user as a member, groups 1..99 ten each (users 0..989). Then
 *             ANALYZE. Reports { type: 'seeded', users: [{ id, userName }], ms }.
 *  ours     — scimRouter(kyselyAdapter({ db, mapping: scimTablesMapping(), outbox }), { authenticate: 'none' })
 *             in Express 5 at /scim/v2 (outbox off unless SQL_OUTBOX=1); on SQLite the database is
 *             wrapped in sqliteStatementCache (SQL_STATEMENT_CACHE=0: not).
 *  direct   — Express 5 with hand-written routes doing direct driver queries over the same tables
 *             (better-sqlite3 prepared statements / pg parameterised queries on a pool of the same
 *             size), rendering the same SCIM JSON: GET by id, `userName eq` through the lookup-key
 *             table, a page (COUNT + SELECT … LIMIT/OFFSET), PATCH replace `active` as one
 *             UPDATE … RETURNING; each with the user's groups in one joined query.
 * ours/direct speak lib/child.js's IPC protocol.
 */
const role = process.argv[2]
const spec = process.argv[3]
const express = require('express')
const { serve, data } = require('../lib/child')

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const TENANT = 'default'
const POOL = Number(process.env.SQL_POOL ?? 10)
const [kind, where] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)]

function loadOurs() {
  require('../../scripts/register')
  return { ...require('../../src'), ...require('../../src/kysely') }
}

function pgPool() {
  const { Pool } = require('pg')
  return new Pool({ connectionString: process.env.SCIM_PG_URL, max: POOL, options: `-c search_path=${where}` })
}

function kyselyDb() {
  const { Kysely, SqliteDialect, PostgresDialect } = require('kysely')
  if (kind === 'sqlite') {
    const { sqliteStatementCache } = loadOurs()
    const Database = require('better-sqlite3')
    const database = new Database(where)
    database.pragma('journal_mode = WAL')
    database.pragma('busy_timeout = 5000')
    return new Kysely({ dialect: new SqliteDialect({ database: process.env.SQL_STATEMENT_CACHE === '0' ? database : sqliteStatementCache(database) }) })
  }
  return new Kysely({ dialect: new PostgresDialect({ pool: pgPool() }) })
}

// ----------------------------------------------------------------------------------- seeding

async function seed(n) {
  const { scimTablesMapping, migrate } = loadOurs()
  const { resolveMapping } = require('../../src/kysely/mapping')
  const { encodeRecord, lookupKey, readStrings, readPath, uniqueKey } = require('../../src/kysely/records')
  const { uuidv7 } = require('../../src/ids')
  const { sql } = require('kysely')
  if (kind === 'postgres') {
    const { Pool } = require('pg')
    const admin = new Pool({ connectionString: process.env.SCIM_PG_URL, max: 1 })
    await admin.query(`CREATE SCHEMA ${where}`)
    await admin.end()
  }
  const db = kyselyDb()
  const mapping = scimTablesMapping()
  const dialect = kind
  await migrate(db, mapping, { createTables: true, outbox: true })
  if (kind === 'sqlite') await sql`PRAGMA synchronous = OFF`.execute(db)
  const { resources } = resolveMapping(mapping)
  const U = resources.get('User')
  const G = resources.get('Group')
  const unique = [{ path: 'userName', caseExact: false }] // what the router passes for User
  const t0 = Date.now()
  const base = t0 - n - 1000
  const users = []
  const rows = { users: [], groups: [], members: [], values: [], unique: [] }
  const sideRows = (r, id, attrs, constraints) => {
    for (const l of r.lookups) {
      for (const key of new Set(readStrings(attrs, l.path).map((v) => lookupKey(r.name, l.path, v, l.caseExact)))) {
        rows.values.push({ tenant: TENANT, resource_type: r.name, path: l.path, value_key: key, resource_id: id })
      }
    }
    for (const u of constraints) {
      const v = readPath(attrs, u.path)
      if (typeof v === 'string') rows.unique.push({ tenant: TENANT, resource_type: r.name, path: u.path, value_key: uniqueKey(r.name, u.path, v, u.caseExact), resource_id: id })
    }
  }
  for (let i = 0; i < n; i++) {
    const attrs = data.userAttributes(i)
    const id = uuidv7()
    const rec = encodeRecord(U, attrs, dialect)
    rows.users.push({ ...rec.columns, id, tenant: TENANT, version: 1, created: base + i, last_modified: base + i })
    sideRows(U, id, attrs, unique)
    users.push({ id, userName: attrs.userName })
  }
  for (let g = 0; g < data.GROUPS; g++) {
    const spec = g === 0 ? { displayName: data.BIG_GROUP, members: users.map((_, i) => i) } : { displayName: `Group ${g}`, members: Array.from({ length: 10 }, (_, k) => ((g - 1) * 10 + k) % n) }
    const attrs = { displayName: spec.displayName, externalId: `group-${g}` }
    const id = uuidv7()
    const rec = encodeRecord(G, attrs, dialect)
    const at = base + n + g
    rows.groups.push({ ...rec.columns, id, tenant: TENANT, version: 1, created: at, last_modified: at })
    sideRows(G, id, attrs, [])
    spec.members.forEach((i, k) => rows.members.push({ group_id: id, member_id: users[i].id, tenant: TENANT, ord: k + 1 }))
  }
  await db.transaction().execute(async (tx) => {
    for (const [table, list] of [['scim_users', rows.users], ['scim_groups', rows.groups], ['scim_members', rows.members], ['scim_values', rows.values], ['scim_unique', rows.unique]]) {
      for (let i = 0; i < list.length; i += 500) await tx.insertInto(table).values(list.slice(i, i + 500)).execute()
    }
  })
  await sql.raw(kind === 'sqlite' ? 'ANALYZE' : 'ANALYZE').execute(db)
  if (kind === 'sqlite') await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db)
  const ms = Date.now() - t0
  await db.destroy()
  process.send({ type: 'seeded', users, ms, rss: process.memoryUsage().rss }, () => process.exit(0))
}

// ------------------------------------------------------------------------------------- ours

function ours() {
  const { scimRouter, kyselyAdapter, scimTablesMapping } = loadOurs()
  const adapter = kyselyAdapter({ db: kyselyDb(), mapping: scimTablesMapping(), outbox: process.env.SQL_OUTBOX === '1' })
  const app = express()
  app.disable('x-powered-by')
  app.use('/scim/v2', scimRouter(adapter, { authenticate: 'none' }))
  serve(require('node:http').createServer(app), { users: [], rss: process.memoryUsage().rss })
}

// ----------------------------------------------------------------------------------- direct

/**
 * The hand-written server's queries, one object per driver; each returns plain rows
 * (`id, version, created, last_modified, user_name, display_name, external_id, active, attributes`).
 */
function sqliteQueries() {
  const Database = require('better-sqlite3')
  const db = new Database(where)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  const COLS = 'u.id, u.version, u.created, u.last_modified, u.user_name, u.display_name, u.external_id, u.active, u.attributes'
  const byId = db.prepare(`SELECT ${COLS} FROM scim_users u WHERE u.tenant = ? AND u.id = ?`)
  const byUserName = db.prepare(
    `SELECT ${COLS} FROM scim_users u WHERE u.tenant = ? AND u.id IN (SELECT v.resource_id FROM scim_values v WHERE v.tenant = ? AND v.resource_type = 'User' AND v.path = 'userName' AND v.value_key = ?) ORDER BY u.created, u.id LIMIT ?`,
  )
  const count = db.prepare('SELECT COUNT(*) AS n FROM scim_users u WHERE u.tenant = ?')
  const page = db.prepare(`SELECT ${COLS} FROM scim_users u WHERE u.tenant = ? ORDER BY u.created, u.id LIMIT ? OFFSET ?`)
  const patchActive = db.prepare(`UPDATE scim_users SET active = ?, version = version + 1, last_modified = MAX(last_modified, ?) WHERE tenant = ? AND id = ? RETURNING ${COLS.replace(/u\./g, '')}`)
  const groupsSql = (k) =>
    `SELECT m.member_id, g.id, g.display_name FROM scim_members m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id WHERE m.tenant = ? AND m.member_id IN (${Array(k).fill('?').join(', ')}) ORDER BY g.created, g.id`
  const groupStmts = new Map()
  const groupsOf = (ids) => {
    if (ids.length === 0) return []
    let s = groupStmts.get(ids.length)
    if (!s) groupStmts.set(ids.length, (s = db.prepare(groupsSql(ids.length))))
    return s.all(TENANT, ...ids)
  }
  return {
    byId: async (id) => byId.all(TENANT, id),
    byUserName: async (key, limit) => byUserName.all(TENANT, TENANT, key, limit),
    count: async () => count.get(TENANT).n,
    page: async (limit, offset) => page.all(TENANT, limit, offset),
    patchActive: async (id, value) => patchActive.all(value ? 1 : 0, Date.now(), TENANT, id),
    groupsOf: async (ids) => groupsOf(ids),
  }
}

function postgresQueries() {
  const pool = pgPool()
  const COLS = 'u.id, u.version, u.created, u.last_modified, u.user_name, u.display_name, u.external_id, u.active, u.attributes'
  const q = async (text, values) => (await pool.query(text, values)).rows
  return {
    byId: (id) => q(`SELECT ${COLS} FROM scim_users u WHERE u.tenant = $1 AND u.id = $2`, [TENANT, id]),
    byUserName: (key, limit) =>
      q(
        `SELECT ${COLS} FROM scim_users u WHERE u.tenant = $1 AND u.id IN (SELECT v.resource_id FROM scim_values v WHERE v.tenant = $1 AND v.resource_type = 'User' AND v.path = 'userName' AND v.value_key = $2) ORDER BY u.created, u.id LIMIT $3`,
        [TENANT, key, limit],
      ),
    count: async () => Number((await q('SELECT COUNT(*) AS n FROM scim_users u WHERE u.tenant = $1', [TENANT]))[0].n),
    page: (limit, offset) => q(`SELECT ${COLS} FROM scim_users u WHERE u.tenant = $1 ORDER BY u.created, u.id LIMIT $2 OFFSET $3`, [TENANT, limit, offset]),
    patchActive: (id, value) =>
      q(`UPDATE scim_users AS u SET active = $1, version = u.version + 1, last_modified = GREATEST(u.last_modified, $2) WHERE u.tenant = $3 AND u.id = $4 RETURNING ${COLS}`, [value, Date.now(), TENANT, id]),
    groupsOf: (ids) =>
      ids.length === 0
        ? []
        : q(
            'SELECT m.member_id, g.id, g.display_name FROM scim_members m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id WHERE m.tenant = $1 AND m.member_id = ANY($2) ORDER BY g.created, g.id',
            [TENANT, ids],
          ),
  }
}

function direct() {
  const db = kind === 'sqlite' ? sqliteQueries() : postgresQueries()
  const iso = (ms) => new Date(Number(ms)).toISOString()
  /** A row and its groups as the SCIM User the router renders (attribute order of the schema). */
  const render = (base, r, groups) => {
    const rest = r.attributes === null ? {} : typeof r.attributes === 'string' ? JSON.parse(r.attributes) : r.attributes
    const out = { schemas: [USER_SCHEMA], id: r.id }
    if (r.external_id !== null) out.externalId = r.external_id
    if (r.user_name !== null) out.userName = r.user_name
    if (rest.name) out.name = rest.name
    if (r.display_name !== null) out.displayName = r.display_name
    Object.assign(out, rest)
    const ext = rest[ENTERPRISE]
    if (ext !== undefined) {
      out.schemas = [USER_SCHEMA, ENTERPRISE]
      if (ext.manager?.value) ext.manager = { ...ext.manager, $ref: `${base}/Users/${ext.manager.value}` }
    }
    if (r.active !== null) out.active = r.active === true || r.active === 1
    if (groups.length) out.groups = groups.map((g) => ({ value: g.id, $ref: `${base}/Groups/${g.id}`, display: g.display_name, type: 'direct' }))
    out.meta = { resourceType: 'User', created: iso(r.created), lastModified: iso(r.last_modified), location: `${base}/Users/${r.id}`, version: `W/"${Number(r.version)}"` }
    return out
  }
  const withGroups = async (base, rows) => {
    const groups = new Map(rows.map((r) => [r.id, []]))
    for (const g of await db.groupsOf(rows.map((r) => r.id))) groups.get(g.member_id).push(g)
    return rows.map((r) => render(base, r, groups.get(r.id)))
  }
  const baseOf = (req) => `${req.protocol}://${req.get('host')}/scim/v2`
  const send = (res, body, etag) => {
    if (etag) res.set('ETag', etag)
    res.type('application/scim+json').send(JSON.stringify(body))
  }
  const list = (resources, total, startIndex) => ({ schemas: [LIST_SCHEMA], totalResults: total, Resources: resources, startIndex, itemsPerPage: resources.length })
  const EQ = /^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ type: ['application/json', 'application/scim+json'] }))
  const wrap = (fn) => (req, res, next) => fn(req, res).catch(next)
  app.get(
    '/scim/v2/Users/:id',
    wrap(async (req, res) => {
      const rows = await db.byId(req.params.id)
      if (rows.length === 0) return res.status(404).end()
      const [user] = await withGroups(baseOf(req), rows)
      send(res, user, user.meta.version)
    }),
  )
  app.get(
    '/scim/v2/Users',
    wrap(async (req, res) => {
      const count = Math.max(0, Math.min(Number(req.query.count ?? 100), 1000))
      if (req.query.filter !== undefined) {
        const m = EQ.exec(String(req.query.filter))
        if (!m) return res.status(400).json({ detail: 'only userName eq' })
        const key = JSON.parse(`"${m[1]}"`).normalize('NFC').toUpperCase().toLowerCase()
        const rows = await db.byUserName(key, count)
        return send(res, list(await withGroups(baseOf(req), rows), rows.length, 1))
      }
      const startIndex = Math.max(1, Number(req.query.startIndex ?? 1))
      const [total, rows] = await Promise.all([db.count(), db.page(count, startIndex - 1)])
      send(res, list(await withGroups(baseOf(req), rows), total, startIndex))
    }),
  )
  app.patch(
    '/scim/v2/Users/:id',
    wrap(async (req, res) => {
      const op = req.body?.Operations?.[0]
      if (!op || String(op.op).toLowerCase() !== 'replace' || op.path !== 'active' || typeof op.value !== 'boolean') return res.status(400).end()
      const rows = await db.patchActive(req.params.id, op.value)
      if (rows.length === 0) return res.status(404).end()
      const [user] = await withGroups(baseOf(req), rows)
      send(res, user, user.meta.version)
    }),
  )
  serve(require('node:http').createServer(app), { users: [], rss: process.memoryUsage().rss })
}

if (role === 'seed') {
  seed(Number(process.argv[4])).catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else if (role === 'ours') ours()
else if (role === 'direct') direct()
else throw new Error(`unknown role ${role}`)
