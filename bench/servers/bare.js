'use strict'
/**
 * (b) The practical limit: a bare Express 5 server with hand-written routes doing the same work over
 * Maps. Bearer-token check (SHA-256 + timingSafeEqual, as a careful hand-written server would),
 * JSON body parsing (application/json and application/scim+json), `userName eq "x"` through an
 * index Map, a 100-row page with a ListResponse envelope, PATCH replace of `active`, POST with
 * case-insensitive userName uniqueness, PUT, and Group GET honouring excludedAttributes=members.
 * Output carries the same members as scim-router's: schemas, id, attributes, derived User.groups,
 * meta (resourceType, created, lastModified, location, version), and ETag/Location headers.
 * Preloaded through its own storage API (the `store` functions below).
 */
const { createHash, randomUUID, timingSafeEqual } = require('node:crypto')
const http = require('node:http')
const express = require('express')
const { serve, data, token } = require('../lib/child')

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const READ_ONLY = new Set(['id', 'meta', 'schemas', 'groups'])

// ---- storage --------------------------------------------------------------------------------
const users = new Map() // id → { id, version, created, lastModified, attributes }
const order = [] // user ids in creation order (default list order)
const byUserName = new Map() // folded userName → id
const groups = new Map() // id → record; attributes.members = [{ value }]
const memberOf = new Map() // user id → Set of group ids
let version = 0
const fold = (s) => s.normalize('NFC').toLowerCase()

const store = {
  createUser(attributes) {
    const key = fold(attributes.userName)
    if (byUserName.has(key)) return null
    const now = new Date()
    const rec = { id: randomUUID(), version: (++version).toString(36), created: now, lastModified: now, attributes }
    users.set(rec.id, rec)
    order.push(rec.id)
    byUserName.set(key, rec.id)
    return rec
  },
  replaceUser(rec, attributes) {
    const oldKey = fold(rec.attributes.userName)
    const newKey = fold(attributes.userName)
    if (newKey !== oldKey) {
      const other = byUserName.get(newKey)
      if (other !== undefined && other !== rec.id) return false
      byUserName.delete(oldKey)
      byUserName.set(newKey, rec.id)
    }
    rec.attributes = attributes
    rec.version = (++version).toString(36)
    rec.lastModified = new Date()
    return true
  },
  createGroup(attributes) {
    const now = new Date()
    const rec = { id: randomUUID(), version: (++version).toString(36), created: now, lastModified: now, attributes }
    groups.set(rec.id, rec)
    for (const m of attributes.members ?? []) {
      let set = memberOf.get(m.value)
      if (!set) memberOf.set(m.value, (set = new Set()))
      set.add(rec.id)
    }
    return rec
  },
}

// ---- rendering ------------------------------------------------------------------------------
function meta(base, type, rec) {
  return {
    resourceType: type,
    created: rec.created.toISOString(),
    lastModified: rec.lastModified.toISOString(),
    location: `${base}/${type === 'User' ? 'Users' : 'Groups'}/${rec.id}`,
    version: `W/"${rec.version}"`,
  }
}

function renderUser(base, rec) {
  const out = { schemas: rec.attributes[data.ENTERPRISE] === undefined ? [USER] : [USER, data.ENTERPRISE], id: rec.id, ...rec.attributes }
  const gs = memberOf.get(rec.id)
  if (gs && gs.size > 0) {
    out.groups = [...gs].map((gid) => ({ value: gid, $ref: `${base}/Groups/${gid}`, display: groups.get(gid)?.attributes.displayName, type: 'direct' }))
  }
  out.meta = meta(base, 'User', rec)
  return out
}

function renderGroup(base, rec, withMembers) {
  const out = { schemas: [GROUP], id: rec.id, displayName: rec.attributes.displayName }
  if (withMembers && rec.attributes.members) {
    out.members = rec.attributes.members.map((m) => ({
      value: m.value,
      $ref: `${base}/Users/${m.value}`,
      display: users.get(m.value)?.attributes.displayName,
      type: 'User',
    }))
  }
  out.meta = meta(base, 'Group', rec)
  return out
}

function send(res, status, body, headers) {
  if (headers) res.set(headers)
  res.status(status).type('application/scim+json; charset=utf-8').send(JSON.stringify(body))
}

function fail(res, status, detail, scimType) {
  send(res, status, { schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail })
}

/** Keep only writable attributes of a User body; require a string userName. */
function userBody(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  if (typeof body.userName !== 'string' || body.userName === '') return undefined
  const out = {}
  for (const k of Object.keys(body)) if (!READ_ONLY.has(k)) out[k] = body[k]
  return out
}

// ---- app ------------------------------------------------------------------------------------
function buildApp() {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false) // we send the version ETag ourselves
  const expected = createHash('sha256').update(`Bearer ${token()}`).digest()
  const r = express.Router()
  r.use((req, res, next) => {
    const header = req.headers.authorization
    const presented = createHash('sha256').update(typeof header === 'string' ? header : '').digest()
    if (!timingSafeEqual(presented, expected)) return fail(res, 401, 'Unauthorized')
    next()
  })
  r.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '1mb' }))
  const baseOf = (req) => `${req.protocol}://${req.headers.host}${req.baseUrl}`

  r.get('/Users', (req, res) => {
    const base = baseOf(req)
    const count = Math.min(Math.max(0, parseInt(req.query.count ?? '100', 10) || 0), 100)
    const startIndex = Math.max(1, parseInt(req.query.startIndex ?? '1', 10) || 1)
    let ids = order
    if (req.query.filter !== undefined) {
      const m = /^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(String(req.query.filter))
      if (!m) return fail(res, 400, 'Unsupported filter', 'invalidFilter')
      const id = byUserName.get(fold(JSON.parse(`"${m[1]}"`)))
      ids = id === undefined ? [] : [id]
    }
    const page = ids.slice(startIndex - 1, startIndex - 1 + count).map((id) => renderUser(base, users.get(id)))
    send(res, 200, { schemas: [LIST], totalResults: ids.length, startIndex, itemsPerPage: page.length, Resources: page })
  })

  r.get('/Users/:id', (req, res) => {
    const rec = users.get(req.params.id)
    if (!rec) return fail(res, 404, 'Not found')
    const base = baseOf(req)
    send(res, 200, renderUser(base, rec), { ETag: `W/"${rec.version}"`, Location: `${base}/Users/${rec.id}` })
  })

  r.post('/Users', (req, res) => {
    const attributes = userBody(req.body)
    if (!attributes) return fail(res, 400, 'userName is required', 'invalidValue')
    const rec = store.createUser(attributes)
    if (!rec) return fail(res, 409, 'userName is already in use', 'uniqueness')
    const base = baseOf(req)
    send(res, 201, renderUser(base, rec), { ETag: `W/"${rec.version}"`, Location: `${base}/Users/${rec.id}` })
  })

  r.put('/Users/:id', (req, res) => {
    const rec = users.get(req.params.id)
    if (!rec) return fail(res, 404, 'Not found')
    const attributes = userBody(req.body)
    if (!attributes) return fail(res, 400, 'userName is required', 'invalidValue')
    if (attributes.active === undefined && rec.attributes.active !== undefined) attributes.active = rec.attributes.active
    if (!store.replaceUser(rec, attributes)) return fail(res, 409, 'userName is already in use', 'uniqueness')
    const base = baseOf(req)
    send(res, 200, renderUser(base, rec), { ETag: `W/"${rec.version}"`, Location: `${base}/Users/${rec.id}` })
  })

  r.patch('/Users/:id', (req, res) => {
    const rec = users.get(req.params.id)
    if (!rec) return fail(res, 404, 'Not found')
    const body = req.body
    if (!Array.isArray(body?.schemas) || !body.schemas.includes(PATCH_OP) || !Array.isArray(body.Operations)) {
      return fail(res, 400, 'Not a PatchOp', 'invalidSyntax')
    }
    const next = { ...rec.attributes }
    for (const op of body.Operations) {
      const kind = String(op?.op).toLowerCase()
      if (kind !== 'replace' && kind !== 'add') return fail(res, 400, `Unsupported op '${op?.op}'`, 'invalidSyntax')
      const values = op.path === undefined ? op.value : { [op.path]: op.value }
      if (typeof values !== 'object' || values === null) return fail(res, 400, 'Bad value', 'invalidValue')
      for (const [k, v] of Object.entries(values)) {
        if (k !== 'active') return fail(res, 400, `Unsupported path '${k}'`, 'invalidPath')
        if (typeof v !== 'boolean') return fail(res, 400, 'active must be a boolean', 'invalidValue')
        next.active = v
      }
    }
    store.replaceUser(rec, next)
    const base = baseOf(req)
    send(res, 200, renderUser(base, rec), { ETag: `W/"${rec.version}"`, Location: `${base}/Users/${rec.id}` })
  })

  r.get('/Groups/:id', (req, res) => {
    const rec = groups.get(req.params.id)
    if (!rec) return fail(res, 404, 'Not found')
    const excluded = String(req.query.excludedAttributes ?? '').split(',').map((s) => s.trim().toLowerCase())
    const base = baseOf(req)
    send(res, 200, renderGroup(base, rec, !excluded.includes('members')), { ETag: `W/"${rec.version}"`, Location: `${base}/Groups/${rec.id}` })
  })

  r.use((req, res) => fail(res, 404, 'Unknown endpoint'))
  // eslint-disable-next-line no-unused-vars
  r.use((err, req, res, _next) => fail(res, err.status ?? 500, err.status ? 'Invalid JSON' : 'Internal error', err.status === 400 ? 'invalidSyntax' : undefined))
  app.use('/scim/v2', r)
  return app
}

function main() {
  const t0 = Date.now()
  const seeded = []
  for (let i = 0; i < data.USERS; i++) {
    const rec = store.createUser(data.userAttributes(i))
    seeded.push({ id: rec.id, userName: rec.attributes.userName })
  }
  let bigGroupId
  for (let g = 0; g < data.GROUPS; g++) {
    const spec = data.groupSpec(g)
    const rec = store.createGroup({ displayName: spec.displayName, members: spec.members.map((i) => ({ value: seeded[i].id })) })
    if (g === 0) bigGroupId = rec.id
  }
  serve(http.createServer(buildApp()), { users: seeded, bigGroupId, seedMs: Date.now() - t0 })
}

main()
