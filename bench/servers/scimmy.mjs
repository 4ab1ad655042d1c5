/**
 * (c) The Node framework peer: SCIMMY + scimmy-routers on Express 5, following their READMEs:
 * SCIMMY.Resources.declare(User/Group) with ingress/egress/degress handlers over in-memory Maps,
 * then `new SCIMMYRouters({ type: 'bearer', handler })` mounted at /scim/v2.
 *
 * Handlers do the same storage work as the other two servers: get by id through a Map, a
 * `userName eq "x"` filter through an index Map (SCIMMY hands the handler a parsed filter:
 * `resource.filter` = [{ userName: ['eq', 'x'] }]), other filters through `resource.filter.match()`,
 * case-insensitive userName uniqueness (409), derived User.groups, Group members with display.
 *
 * Lists: the egress handler pages (see the note in the User egress handler about `totalResults`).
 * Preloaded through the same Maps (its own storage API) before the routers are built.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import { createRequire } from 'node:module'
import express from 'express'
import SCIMMY from 'scimmy'
import SCIMMYRouters from 'scimmy-routers'

const require = createRequire(import.meta.url)
const { serve, data, token } = require('../lib/child.js')

// ---- storage --------------------------------------------------------------------------------
const users = new Map() // id → { id, ..., meta }
const byUserName = new Map() // folded userName → id
const groups = new Map()
const memberOf = new Map() // user id → Set of group ids
const fold = (s) => s.normalize('NFC').toLowerCase()
const notFound = (id) => new SCIMMY.Types.Error(404, null, `Resource ${id} not found`)
const conflict = () => new SCIMMY.Types.Error(409, 'uniqueness', 'userName is already in use')

function stamp(type, created) {
  return { resourceType: type, created: created ?? new Date(), lastModified: new Date() }
}

/** Copy a SCIMMY schema instance into a plain object (drop readOnly/derived members). */
function plain(instance) {
  const out = {}
  for (const [k, v] of Object.entries(instance)) if (k !== 'schemas' && k !== 'meta' && k !== 'id' && k !== 'groups' && v !== undefined) out[k] = v
  return out
}

function exportUser(rec) {
  const gs = memberOf.get(rec.id)
  if (!gs || gs.size === 0) return rec
  return { ...rec, groups: [...gs].map((gid) => ({ value: gid, display: groups.get(gid)?.displayName, type: 'direct' })) }
}

function exportGroup(rec) {
  return { ...rec, members: (rec.members ?? []).map((m) => ({ value: m.value, display: users.get(m.value)?.displayName, type: 'User' })) }
}

const store = {
  createUser(attrs) {
    const key = fold(attrs.userName)
    if (byUserName.has(key)) throw conflict()
    const rec = { ...attrs, id: randomUUID(), meta: stamp('User') }
    users.set(rec.id, rec)
    byUserName.set(key, rec.id)
    return rec
  },
  replaceUser(id, attrs) {
    const old = users.get(id)
    if (!old) throw notFound(id)
    const oldKey = fold(old.userName)
    const newKey = fold(attrs.userName)
    if (oldKey !== newKey) {
      if (byUserName.has(newKey)) throw conflict()
      byUserName.delete(oldKey)
      byUserName.set(newKey, id)
    }
    const rec = { ...attrs, id, meta: stamp('User', old.meta.created) }
    users.set(id, rec)
    return rec
  },
  createGroup(attrs) {
    const rec = { ...attrs, id: randomUUID(), meta: stamp('Group') }
    groups.set(rec.id, rec)
    for (const m of rec.members ?? []) {
      let set = memberOf.get(m.value)
      if (!set) memberOf.set(m.value, (set = new Set()))
      set.add(rec.id)
    }
    return rec
  },
}

// ---- SCIMMY declarations ----------------------------------------------------------------------
// The enterprise extension (RFC 7643 §4.3), which the full dataset's Users carry.
SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false)
SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .egress((resource) => {
    if (resource.id) {
      const rec = users.get(resource.id)
      if (!rec) throw notFound(resource.id)
      return exportUser(rec)
    }
    const f = resource.filter
    // Push `userName eq "x"` down to the index, as the SCIMMY docs suggest for a database.
    if (f && f.length === 1) {
      const keys = Object.keys(f[0])
      const term = f[0].userName
      if (keys.length === 1 && Array.isArray(term) && term[0] === 'eq' && typeof term[1] === 'string') {
        const id = byUserName.get(fold(term[1]))
        return id === undefined ? [] : [exportUser(users.get(id))]
      }
    }
    if (f) return f.match([...users.values()].map(exportUser))
    // The documented pattern (`findMany(resource.filter, resource.constraints)`): the handler pages.
    // SCIMMY takes totalResults from the returned array's length (scimmyjs/scimmy#64, #85), so a page
    // would be reported as totalResults=100. Setting `resource.constraints.totalResults` (read from the
    // source, not documented) makes ListResponse report the real total; it then re-slices only when
    // startIndex > 1 (the A.6 defect), which this scenario does not use. Returning all 10,000 users and
    // letting SCIMMY page them — the documented way to a correct total — takes 3–6 s per request.
    const c = resource.constraints
    if (!c) return [...users.values()].map(exportUser)
    const from = (c.startIndex ?? 1) - 1
    const to = from + (c.count ?? 20)
    const page = []
    let i = 0
    for (const rec of users.values()) {
      if (i >= to) break
      if (i++ >= from) page.push(exportUser(rec))
    }
    c.totalResults = users.size
    return page
  })
  .ingress((resource, instance) => {
    const attrs = plain(instance)
    if (resource.id) return exportUser(store.replaceUser(resource.id, attrs))
    return exportUser(store.createUser(attrs))
  })
  .degress((resource) => {
    const rec = users.get(resource.id)
    if (!rec) throw notFound(resource.id)
    users.delete(resource.id)
    byUserName.delete(fold(rec.userName))
  })

SCIMMY.Resources.declare(SCIMMY.Resources.Group)
  .egress((resource) => {
    if (resource.id) {
      const rec = groups.get(resource.id)
      if (!rec) throw notFound(resource.id)
      return exportGroup(rec)
    }
    const all = [...groups.values()].map(exportGroup)
    return resource.filter ? resource.filter.match(all) : all
  })
  .ingress((resource, instance) => {
    const attrs = plain(instance)
    attrs.members = (attrs.members ?? []).map((m) => ({ value: m.value }))
    if (resource.id) {
      const old = groups.get(resource.id)
      if (!old) throw notFound(resource.id)
      const rec = { ...attrs, id: resource.id, meta: stamp('Group', old.meta.created) }
      groups.set(rec.id, rec)
      return exportGroup(rec)
    }
    return exportGroup(store.createGroup(attrs))
  })
  .degress((resource) => {
    if (!groups.delete(resource.id)) throw notFound(resource.id)
  })

function main() {
  const t0 = Date.now()
  const seeded = []
  for (let i = 0; i < data.USERS; i++) {
    const rec = store.createUser(data.userAttributes(i))
    seeded.push({ id: rec.id, userName: rec.userName })
  }
  let bigGroupId
  for (let g = 0; g < data.GROUPS; g++) {
    const spec = data.groupSpec(g)
    const rec = store.createGroup({ displayName: spec.displayName, members: spec.members.map((i) => ({ value: seeded[i].id })) })
    if (g === 0) bigGroupId = rec.id
  }
  const expected = createHash('sha256').update(`Bearer ${token()}`).digest()
  const app = express()
  app.disable('x-powered-by')
  // scimmy-routers casts `startIndex`/`count` to numbers by assigning into `req.query`; on Express 5
  // `req.query` is a getter that re-parses the URL on every read, so the cast is lost and `count=100`
  // is ignored (20 rows come back). Pin the parsed query once so the peer can serve the scenario.
  app.use((req, _res, next) => {
    Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true, enumerable: true })
    next()
  })
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      handler: (req) => {
        const header = req.header('Authorization')
        const presented = createHash('sha256').update(typeof header === 'string' ? header : '').digest()
        if (!timingSafeEqual(presented, expected)) throw new Error('Authorization not detected!')
        return 'bench'
      },
    }),
  )
  serve(http.createServer(app), { users: seeded, bigGroupId, seedMs: Date.now() - t0 })
}

main()
