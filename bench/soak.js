#!/usr/bin/env node
'use strict'
/**
 * `npm run soak`: a bounded load and soak test (issue 8 item 3). See docs/soak.md.
 *
 * For each store (SQLite, then PostgreSQL when SCIM_PG_URL is set) a server process
 * (bench/soak-server.js, --expose-gc) runs the router over scim-router/kysely with several tenants. Many
 * concurrent clients run mixed traffic for SOAK_SECONDS (and at most SOAK_MAX_REQUESTS requests):
 * create users, lookups by `userName eq`, GET by id, PATCH `active`/`title` in several IdP
 * dialects, group membership add/remove on groups shared by the tenant's clients, deletes.
 * The client keeps a model of what every acknowledged request implies. At the end it asserts:
 *   1. no 5xx at all;
 *   2. the final state (every User and Group of every tenant, read through the API) equals the model;
 *   3. heap used after a forced GC does not grow from the end of warm-up to the end beyond the
 *      tolerance (max(SOAK_HEAP_TOLERANCE_PCT % of the warm-up sample, SOAK_HEAP_TOLERANCE_MB MiB));
 *   4. the server's onEvent received exactly the events the model's committed changes imply.
 * Exit code 0 only when every assertion holds for every store.
 */
const { fork } = require('node:child_process')
const { randomBytes } = require('node:crypto')
const { mkdtempSync, rmSync } = require('node:fs')
const http = require('node:http')
const { tmpdir } = require('node:os')
const path = require('node:path')

const env = process.env
const num = (name, def) => {
  const v = env[name] === undefined || env[name] === '' ? def : Number(env[name])
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
  return v
}
const CFG = {
  seconds: num('SOAK_SECONDS', 60),
  clients: num('SOAK_CLIENTS', 32),
  tenants: Math.max(1, Math.min(26, num('SOAK_TENANTS', 4))),
  groups: Math.max(1, num('SOAK_GROUPS', 3)),
  maxRequests: num('SOAK_MAX_REQUESTS', 300_000),
  timeoutMs: num('SOAK_TIMEOUT_MS', 10_000),
  heapPct: num('SOAK_HEAP_TOLERANCE_PCT', 20),
  heapMiB: num('SOAK_HEAP_TOLERANCE_MB', 4),
  maxUsersPerClient: num('SOAK_MAX_USERS_PER_CLIENT', 150),
  seed: num('SOAK_SEED', Date.now() % 1_000_000),
  stores: (env.SOAK_STORES || 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean),
}
const PG_URL = env.SCIM_PG_URL
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const MiB = 1024 * 1024

// ----------------------------------------------------------------------------- helpers

/** mulberry32: the op mix is reproducible from SOAK_SEED (timing is not). */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0)
const fmt = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : String(n))

function table(rows, header) {
  const all = [header, ...rows].map((r) => r.map(String))
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)))
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`
  return [line(all[0]), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n')
}

/** One HTTP request on 127.0.0.1 with a deadline: resolves { status, body, ms } or { error, ms }. */
function request(agent, port, token, method, urlPath, body) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/scim+json' }
  if (payload) {
    headers['Content-Type'] = 'application/scim+json'
    headers['Content-Length'] = payload.length
  }
  const t0 = performance.now()
  return new Promise((resolve) => {
    let done = false
    const finish = (r) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve({ ...r, ms: performance.now() - t0 })
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: `/scim/v2${urlPath}`, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed
        try {
          parsed = text ? JSON.parse(text) : undefined
        } catch {
          parsed = undefined
        }
        finish({ status: res.statusCode, body: parsed, text })
      })
      res.on('error', (err) => finish({ error: err.message }))
    })
    const timer = setTimeout(() => {
      req.destroy()
      finish({ error: `timeout after ${CFG.timeoutMs} ms` })
    }, CFG.timeoutMs)
    req.on('error', (err) => finish({ error: err.message }))
    req.end(payload)
  })
}

// ----------------------------------------------------------------------------- server child

function startServer(store, tokens, extraEnv) {
  const child = fork(path.join(__dirname, 'soak-server.js'), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, SOAK_STORE: store, SOAK_TOKENS: JSON.stringify(tokens), ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiters = new Map()
  child.on('message', (msg) => {
    const w = waiters.get(msg?.type)
    if (w) {
      waiters.delete(msg.type)
      w(msg)
    }
  })
  const ask = (type, ms = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not answer '${type}' within ${ms} ms`)), ms)
      waiters.set(type, (m) => {
        clearTimeout(timer)
        resolve(m)
      })
      if (type !== 'ready') child.send({ type })
    })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const ready = Promise.race([
    ask('ready', 60_000),
    exited.then(({ code }) => {
      throw new Error(`server exited (code ${code}) before it was ready`)
    }),
  ])
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.send({ type: 'exit' })
    const t = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
  }
  return { child, ready, ask, stop }
}

// ----------------------------------------------------------------------------- the model

const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deprovisioned',
  'user.deleted',
  'group.created',
  'group.updated',
  'group.members.added',
  'group.members.added:ids',
  'group.members.removed',
  'group.members.removed:ids',
]

/** Snapshot of a user as the model sees it (what the final read must show). */
const snap = (u) => ({ userName: u.userName, active: u.active, title: u.title, email: u.email, groups: [...u.groups].sort() })
/** The same view of a User as the API returned it. */
const seen = (r) => ({
  userName: r.userName,
  active: r.active,
  title: r.title,
  email: r.emails?.[0]?.value,
  groups: (r.groups ?? []).map((g) => g.value).sort(),
})
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

function newTenant(name, token, otherToken) {
  const events = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0]))
  const maybe = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0]))
  return {
    name,
    token,
    otherToken,
    groups: [], // { id, displayName }
    users: new Map(), // id → model user (live or uncertain) of every client of the tenant
    deleted: new Set(), // ids deleted for certain
    maybeCreated: new Map(), // userName → snapshot: a create whose outcome is unknown
    events, // committed changes → events the server must have delivered
    maybe, // events of operations with an unknown outcome (upper bound)
  }
}

// ----------------------------------------------------------------------------- one store

async function soakStore(store) {
  const started = Date.now()
  const run = randomBytes(3).toString('hex')
  const report = { store, ok: false, failures: [], stats: {}, mem: [], verify: {}, events: {} }
  const fail = (msg) => {
    if (report.failures.length < 50) report.failures.push(msg)
  }
  const rand = prng(CFG.seed + (store === 'postgres' ? 1 : 0))
  const pick = (arr) => arr[Math.floor(rand() * arr.length)]

  // Tenants and their tokens.
  const tokens = {}
  const tenants = []
  for (let i = 0; i < CFG.tenants; i++) {
    const token = `soak-${String.fromCharCode(97 + i)}-${randomBytes(12).toString('hex')}`
    tokens[token] = String.fromCharCode(97 + i)
    tenants.push(newTenant(String.fromCharCode(97 + i), token, undefined))
  }
  for (const [i, t] of tenants.entries()) t.otherToken = tenants[(i + 1) % tenants.length].token

  // Storage.
  let cleanup = async () => undefined
  let extraEnv
  if (store === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'scim-soak-'))
    extraEnv = { SOAK_DB: path.join(dir, 'soak.db') }
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  } else {
    const { Pool } = require('pg')
    const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 5000 })
    const schema = `scim_soak_${Date.now().toString(36)}_${run}`
    await pool.query('SELECT 1') // unreachable → throws → the run fails
    extraEnv = { SOAK_PG_URL: PG_URL, SOAK_PG_SCHEMA: schema }
    cleanup = async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((err) => console.error(`drop schema ${schema}: ${err.message}`))
      await pool.end()
    }
  }

  const server = startServer(store, tokens, extraEnv)
  const agent = new http.Agent({ keepAlive: true, maxSockets: CFG.clients + 8 })
  try {
    const { port } = await server.ready
    const call = (token, method, p, body) => request(agent, port, token, method, p, body)

    // Setup: the shared groups of every tenant.
    for (const t of tenants) {
      for (let g = 0; g < CFG.groups; g++) {
        const displayName = `soak-${run}-${t.name}-g${g}`
        const r = await call(t.token, 'POST', '/Groups', { schemas: [GROUP], displayName })
        if (r.status !== 201) throw new Error(`setup: create group ${displayName}: ${r.status ?? r.error} ${r.text ?? ''}`)
        t.groups.push({ id: r.body.id, displayName })
        t.events['group.created']++
      }
    }

    // ------------------------------------------------------------------- traffic
    const stats = { requests: 0, byOp: {}, statuses: {}, fiveXX: [], uncertain: 0, unexpected: 0 }
    const opStat = (op) => (stats.byOp[op] ??= { n: 0, ms: [], statuses: {} })
    const gate = { paused: false, wait: Promise.resolve(), release: () => undefined, stop: false }
    let seq = 0

    /** Send, record, and classify: 'ok' (an expected status), 'no' (unexpected 4xx), 'unknown'. */
    async function send(client, op, token, method, p, body, expected) {
      stats.requests++
      const r = await call(token, method, p, body)
      const s = opStat(op)
      s.n++
      s.ms.push(r.ms)
      const key = r.error ? 'error' : String(r.status)
      s.statuses[key] = (s.statuses[key] ?? 0) + 1
      stats.statuses[key] = (stats.statuses[key] ?? 0) + 1
      if (r.error) {
        fail(`${store} ${op} ${method} ${p}: ${r.error} (outcome unknown)`)
        return { r, outcome: 'unknown' }
      }
      if (r.status >= 500) {
        if (stats.fiveXX.length < 10) stats.fiveXX.push(`${op} ${method} ${p} → ${r.status} ${r.text?.slice(0, 200)}`)
        fail(`${store} ${op} ${method} ${p}: ${r.status} ${r.text?.slice(0, 200)}`)
        return { r, outcome: 'unknown' }
      }
      if (!expected.includes(r.status)) {
        stats.unexpected++
        fail(`${store} ${op} ${method} ${p}: expected ${expected.join('/')}, got ${r.status} ${r.text?.slice(0, 200)}`)
        return { r, outcome: 'unknown' }
      }
      return { r, outcome: 'ok' }
    }

    /** An operation whose outcome is unknown: the user may be in either state; never touch it again. */
    function uncertain(t, u, after, eventDelta) {
      stats.uncertain++
      u.possible = [snap(u), after ? snap(after) : null]
      u.uncertain = true
      for (const [k, v] of Object.entries(eventDelta)) t.maybe[k] += v
    }

    const liveOf = (client) => [...client.users.values()].filter((u) => !u.uncertain)

    async function createUser(client) {
      const t = client.tenant
      const n = ++seq
      const userName = `u${n}-c${client.id}-${t.name}-${run}@soak.example`
      const u = { id: undefined, userName, active: true, title: `T${n}`, email: `mail${n}-${run}@soak.example`, groups: new Set() }
      const body = { schemas: [USER], userName, active: true, title: u.title, emails: [{ value: u.email, type: 'work', primary: true }] }
      const { r, outcome } = await send(client, 'create', t.token, 'POST', '/Users', body, [201])
      if (outcome === 'ok') {
        u.id = r.body.id
        if (r.body.userName !== userName || r.body.active !== true) fail(`${store} create ${userName}: answered ${r.text?.slice(0, 200)}`)
        client.users.set(u.id, u)
        t.users.set(u.id, u)
        t.events['user.created']++
      } else {
        stats.uncertain++
        t.maybeCreated.set(userName.toLowerCase(), snap(u))
        t.maybe['user.created']++
      }
    }

    async function duplicateCreate(client, u) {
      // Another case of an existing userName: 409 uniqueness, nothing changes.
      const { r, outcome } = await send(client, 'create-duplicate', client.tenant.token, 'POST', '/Users', { schemas: [USER], userName: u.userName.toUpperCase() }, [409])
      if (outcome === 'ok' && r.body?.scimType !== 'uniqueness') fail(`${store} duplicate ${u.userName}: scimType ${r.body?.scimType}`)
      if (outcome !== 'ok') {
        stats.uncertain++
        client.tenant.maybeCreated.set(u.userName.toLowerCase(), { ...snap(u), title: undefined, email: undefined, active: undefined })
        client.tenant.maybe['user.created']++
      }
    }

    async function lookup(client, u, kind) {
      const t = client.tenant
      const filter = encodeURIComponent(`userName eq "${u.userName}"`)
      const token = kind === 'other-tenant' ? t.otherToken : t.token
      const { r, outcome } = await send(client, `lookup${kind === 'live' ? '' : `-${kind}`}`, token, 'GET', `/Users?filter=${filter}`, undefined, [200])
      if (outcome !== 'ok') return
      const ids = (r.body?.Resources ?? []).map((x) => x.id)
      const want = kind === 'live' ? [u.id] : []
      if (r.body?.totalResults !== want.length || !same(ids, want)) fail(`${store} lookup (${kind}) ${u.userName}: got ${JSON.stringify(ids)}, want ${JSON.stringify(want)}`)
      else if (kind === 'live' && !same(seen(r.body.Resources[0]), snap(u))) {
        fail(`${store} lookup ${u.userName}: ${JSON.stringify(seen(r.body.Resources[0]))} != model ${JSON.stringify(snap(u))}`)
      }
    }

    async function getById(client, u) {
      const { r, outcome } = await send(client, 'get', client.tenant.token, 'GET', `/Users/${u.id}`, undefined, [200])
      if (outcome === 'ok' && !same(seen(r.body), snap(u))) fail(`${store} GET ${u.id}: ${JSON.stringify(seen(r.body))} != model ${JSON.stringify(snap(u))}`)
    }

    async function patchUser(client, u) {
      const t = client.tenant
      const toggle = rand() < 0.4
      const dialect = Math.floor(rand() * 3)
      let ops
      const next = { ...u, groups: u.groups }
      const delta = { 'user.updated': 1 }
      if (toggle) {
        next.active = !u.active
        ops = [
          [{ op: 'replace', path: 'active', value: next.active }],
          [{ op: 'Replace', path: 'active', value: next.active ? 'True' : 'False' }], // Entra, no flag
          [{ op: 'replace', value: { active: next.active } }], // Okta, path-less
        ][dialect]
        if (next.active) delta['user.reactivated'] = 1
        else Object.assign(delta, { 'user.deactivated': 1, 'user.deprovisioned': 1 })
      } else {
        next.title = `T${++seq}`
        ops = [
          [{ op: 'replace', path: 'title', value: next.title }],
          [{ op: 'Replace', path: 'title', value: next.title }],
          [{ op: 'replace', value: { title: next.title } }],
        ][dialect]
      }
      const { r, outcome } = await send(client, toggle ? 'patch-active' : 'patch-title', t.token, 'PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: ops }, [200])
      if (outcome !== 'ok') return uncertain(t, u, next, delta)
      u.active = next.active
      u.title = next.title
      for (const [k, v] of Object.entries(delta)) t.events[k] += v
      if (r.body?.active !== u.active || r.body?.title !== u.title) fail(`${store} PATCH ${u.id}: answered active=${r.body?.active} title=${r.body?.title}, model ${u.active}/${u.title}`)
    }

    async function membership(client, u) {
      const t = client.tenant
      const g = pick(t.groups)
      const remove = u.groups.has(g.id)
      const op = remove ? { op: 'remove', path: `members[value eq "${u.id}"]` } : { op: 'add', path: 'members', value: [{ value: u.id }] }
      const next = { ...u, groups: new Set(u.groups) }
      if (remove) next.groups.delete(g.id)
      else next.groups.add(g.id)
      const kind = remove ? 'removed' : 'added'
      const delta = { 'group.updated': 1, [`group.members.${kind}`]: 1, [`group.members.${kind}:ids`]: 1 }
      const { outcome } = await send(client, remove ? 'member-remove' : 'member-add', t.token, 'PATCH', `/Groups/${g.id}`, { schemas: [PATCH_OP], Operations: [op] }, [204])
      if (outcome !== 'ok') return uncertain(t, u, next, delta)
      u.groups = next.groups
      for (const [k, v] of Object.entries(delta)) t.events[k] += v
    }

    async function deleteUser(client, u) {
      const t = client.tenant
      const n = u.groups.size
      const delta = { 'user.deleted': 1, 'user.deprovisioned': 1, 'group.members.removed': n, 'group.members.removed:ids': n }
      const { outcome } = await send(client, 'delete', t.token, 'DELETE', `/Users/${u.id}`, undefined, [204])
      client.users.delete(u.id)
      if (outcome !== 'ok') {
        client.users.set(u.id, u) // kept (uncertain) for the final check
        return uncertain(t, u, null, delta)
      }
      t.users.delete(u.id)
      t.deleted.add(u.id)
      client.deletedNames.push(u)
      for (const [k, v] of Object.entries(delta)) t.events[k] += v
    }

    async function step(client) {
      const live = liveOf(client)
      const x = rand()
      if (live.length < 3) return createUser(client)
      const u = pick(live)
      if (x < 0.17) return live.length >= CFG.maxUsersPerClient ? deleteUser(client, u) : createUser(client)
      if (x < 0.2) return duplicateCreate(client, u)
      if (x < 0.38) return lookup(client, u, 'live')
      if (x < 0.41) return client.deletedNames.length ? lookup(client, pick(client.deletedNames), 'deleted') : lookup(client, u, 'live')
      if (x < 0.44) return tenants.length > 1 ? lookup(client, u, 'other-tenant') : lookup(client, u, 'live')
      if (x < 0.52) return getById(client, u)
      if (x < 0.72) return patchUser(client, u)
      if (x < 0.9) return membership(client, u)
      return live.length > 5 ? deleteUser(client, u) : createUser(client)
    }

    const clients = Array.from({ length: CFG.clients }, (_, id) => ({
      id,
      tenant: tenants[id % tenants.length],
      users: new Map(),
      deletedNames: [],
      parked: false,
      done: false,
    }))

    async function worker(client) {
      try {
        while (!gate.stop && stats.requests < CFG.maxRequests) {
          if (gate.paused) {
            client.parked = true
            await gate.wait
            client.parked = false
            continue
          }
          await step(client)
        }
      } finally {
        client.done = true
      }
    }

    // Memory samples: with traffic paused and drained, so only retained memory is measured.
    let activeMs = 0
    let since = performance.now()
    async function sample(label) {
      gate.paused = true
      gate.wait = new Promise((r) => (gate.release = r))
      activeMs += performance.now() - since
      const deadline = Date.now() + CFG.timeoutMs + 5000
      while (!clients.every((c) => c.parked || c.done) && Date.now() < deadline) await sleep(5)
      const m = await server.ask('mem')
      report.mem.push({ label, atS: activeMs / 1000, requests: stats.requests, heapUsed: m.heapUsed, rss: m.rss })
      gate.paused = false
      since = performance.now()
      gate.release()
    }

    const workers = clients.map(worker)
    const warmup = Math.min(10, Math.max(2, CFG.seconds * 0.15))
    const points = [warmup, ...[1, 2, 3, 4].map((k) => warmup + ((CFG.seconds - warmup) * k) / 4)]
    const labels = ['warm-up', '1/4', 'middle', '3/4', 'end']
    for (const [i, at] of points.entries()) {
      while (activeMs + (performance.now() - since) < at * 1000 && !clients.every((c) => c.done)) await sleep(20)
      if (i === points.length - 1) {
        gate.stop = true
        gate.release()
        await Promise.all(workers)
      }
      await sample(labels[i])
    }
    gate.stop = true
    gate.release()
    await Promise.all(workers)
    const seconds = activeMs / 1000
    report.stats = { ...stats, seconds, rps: stats.requests / seconds, clients: CFG.clients }

    // ------------------------------------------------------------------- final state
    const verify = { users: 0, groups: 0, maybeAccepted: 0 }
    for (const t of tenants) {
      const actual = new Map()
      for (let start = 1, pages = 0; pages < 10_000; pages++) {
        const r = await call(t.token, 'GET', `/Users?startIndex=${start}&count=100`)
        if (r.status !== 200) throw new Error(`final read of tenant ${t.name} Users: ${r.status ?? r.error}`)
        for (const res of r.body.Resources ?? []) actual.set(res.id, res)
        start += r.body.itemsPerPage ?? 0
        if (!r.body.itemsPerPage || start > r.body.totalResults) break
      }
      for (const [id, u] of t.users) {
        const a = actual.get(id)
        if (u.uncertain) {
          const got = a ? seen(a) : null
          if (!u.possible.some((p) => same(p, got))) fail(`${store} tenant ${t.name} user ${id} (uncertain): ${JSON.stringify(got)} is none of ${JSON.stringify(u.possible)}`)
        } else if (!a) fail(`${store} tenant ${t.name}: user ${u.userName} (${id}) lost`)
        else if (!same(seen(a), snap(u))) fail(`${store} tenant ${t.name} user ${id}: ${JSON.stringify(seen(a))} != model ${JSON.stringify(snap(u))}`)
        actual.delete(id)
        verify.users++
      }
      for (const [id, a] of actual) {
        const maybe = t.maybeCreated.get(String(a.userName).toLowerCase())
        if (maybe && (maybe.title === undefined || same({ ...seen(a), groups: [] }, { ...maybe, groups: [] }))) verify.maybeAccepted++
        else fail(`${store} tenant ${t.name}: phantom user ${a.userName} (${id})${t.deleted.has(id) ? ' (deleted, still there)' : ''}`)
      }
      const gl = await call(t.token, 'GET', '/Groups?count=100&excludedAttributes=members')
      if (gl.status !== 200 || gl.body.totalResults !== t.groups.length) fail(`${store} tenant ${t.name}: ${gl.body?.totalResults} groups, model ${t.groups.length}`)
      for (const g of t.groups) {
        const r = await call(t.token, 'GET', `/Groups/${g.id}`)
        if (r.status !== 200) {
          fail(`${store} tenant ${t.name} group ${g.displayName}: ${r.status ?? r.error}`)
          continue
        }
        const members = new Set((r.body.members ?? []).map((m) => m.value))
        for (const [id, u] of t.users) {
          const want = u.groups.has(g.id)
          if (u.uncertain) {
            const options = u.possible.map((p) => Boolean(p && p.groups.includes(g.id)))
            if (!options.includes(members.has(id))) fail(`${store} group ${g.displayName}: member ${id} (uncertain) ${members.has(id)}`)
          } else if (want !== members.has(id)) fail(`${store} group ${g.displayName}: member ${id} ${members.has(id) ? 'present' : 'missing'}, model ${want}`)
          members.delete(id)
        }
        for (const id of members) fail(`${store} group ${g.displayName}: phantom member ${id}`)
        verify.groups++
      }
    }
    report.verify = verify

    // ------------------------------------------------------------------- events
    const ev = await server.ask('events')
    for (const t of tenants) {
      const got = ev.counts[t.name] ?? {}
      for (const type of EVENT_TYPES) {
        const want = t.events[type]
        const n = got[type] ?? 0
        report.events[type] ??= { want: 0, maybe: 0, got: 0 }
        report.events[type].want += want
        report.events[type].maybe += t.maybe[type]
        report.events[type].got += n
        if (n < want || n > want + t.maybe[type]) fail(`${store} tenant ${t.name}: ${n} × ${type} delivered, model ${want}${t.maybe[type] ? ` (+ up to ${t.maybe[type]} uncertain)` : ''}`)
      }
      for (const type of Object.keys(got)) if (!EVENT_TYPES.includes(type)) fail(`${store} tenant ${t.name}: unexpected event ${type} × ${got[type]}`)
    }
    for (const name of Object.keys(ev.counts)) if (!tenants.some((t) => t.name === name)) fail(`${store}: events for unknown tenant ${name}`)
    if (ev.server5xx > 0) fail(`${store}: the server answered ${ev.server5xx} × 5xx`)

    // ------------------------------------------------------------------- memory
    const base = report.mem[0]
    const end = report.mem[report.mem.length - 1]
    const allowed = Math.max((base.heapUsed * CFG.heapPct) / 100, CFG.heapMiB * MiB)
    report.heap = { base: base.heapUsed, end: end.heapUsed, growth: end.heapUsed - base.heapUsed, allowed }
    if (end.heapUsed - base.heapUsed > allowed) {
      fail(`${store}: heap after GC grew ${fmt((end.heapUsed - base.heapUsed) / MiB, 2)} MiB from warm-up to end (allowed ${fmt(allowed / MiB, 2)} MiB)`)
    }
    if (stats.fiveXX.length > 0 || Object.keys(stats.statuses).some((s) => s.startsWith('5'))) fail(`${store}: 5xx answers: ${stats.fiveXX.join(' ; ')}`)
  } catch (err) {
    fail(`${store}: ${err.stack ?? err}`)
  } finally {
    agent.destroy()
    await server.stop().catch(() => undefined)
    await cleanup().catch(() => undefined)
  }
  report.wallSeconds = (Date.now() - started) / 1000
  report.ok = report.failures.length === 0
  return report
}

// ----------------------------------------------------------------------------- summary

function printReport(rep) {
  const s = rep.stats
  console.log(`\n## ${rep.store}: ${rep.ok ? 'PASS' : 'FAIL'}  (wall ${fmt(rep.wallSeconds)} s)`)
  if (s.requests) {
    console.log(
      `\n${fmt(s.requests, 0)} requests in ${fmt(s.seconds)} s of traffic = ${fmt(s.rps, 0)} requests/s, ${s.clients} clients, ${CFG.tenants} tenants; ` +
        `statuses ${JSON.stringify(s.statuses)}; uncertain outcomes ${s.uncertain}; unexpected statuses ${s.unexpected}\n`,
    )
    const rows = Object.entries(s.byOp)
      .sort((a, b) => b[1].n - a[1].n)
      .map(([op, o]) => {
        const ms = [...o.ms].sort((a, b) => a - b)
        return [op, o.n, JSON.stringify(o.statuses), fmt(pct(ms, 50), 2), fmt(pct(ms, 99), 2), fmt(ms[ms.length - 1] ?? 0, 1)]
      })
    console.log(table(rows, ['operation', 'count', 'statuses', 'p50 ms', 'p99 ms', 'max ms']))
  }
  if (rep.mem.length) {
    console.log('\nHeap used after forced GC (traffic paused):\n')
    console.log(table(rep.mem.map((m) => [m.label, fmt(m.atS), m.requests, fmt(m.heapUsed / MiB, 2), fmt(m.rss / MiB, 1)]), ['point', 'at s', 'requests so far', 'heapUsed MiB', 'rss MiB']))
    if (rep.heap) console.log(`\nheap growth warm-up → end: ${fmt(rep.heap.growth / MiB, 2)} MiB (allowed ${fmt(rep.heap.allowed / MiB, 2)} MiB)`)
  }
  if (Object.keys(rep.events).length) {
    console.log('\nEvents delivered vs committed changes (all tenants):\n')
    console.log(table(Object.entries(rep.events).map(([t, e]) => [t, e.want, e.maybe, e.got, e.got >= e.want && e.got <= e.want + e.maybe ? 'ok' : 'MISMATCH']), ['event', 'model', 'uncertain', 'delivered', '']))
  }
  if (rep.verify.users !== undefined) {
    console.log(`\nFinal state: ${rep.verify.users} model users and ${rep.verify.groups} groups compared through the API; uncertain creates found and accepted: ${rep.verify.maybeAccepted}`)
  }
  if (rep.failures.length) console.log(`\nFailures (first ${rep.failures.length}):\n- ${rep.failures.join('\n- ')}`)
}

async function main() {
  console.log(
    `soak: ${CFG.seconds} s per store, ${CFG.clients} clients, ${CFG.tenants} tenants × ${CFG.groups} groups, ` +
      `at most ${CFG.maxRequests} requests per store, timeout ${CFG.timeoutMs} ms, seed ${CFG.seed}, Node ${process.version}`,
  )
  const stores = []
  for (const s of CFG.stores) {
    if (s === 'postgres' && !PG_URL) {
      console.log('PostgreSQL: skipped (SCIM_PG_URL is not set)')
      continue
    }
    if (s !== 'sqlite' && s !== 'postgres') throw new Error(`SOAK_STORES: unknown store '${s}'`)
    stores.push(s)
  }
  // Hard bound on the whole run, whatever happens.
  const budget = stores.length * (CFG.seconds * 2 + 180) * 1000
  const watchdog = setTimeout(() => {
    console.error(`soak: watchdog: the run exceeded ${budget / 1000} s`)
    process.exit(1)
  }, budget)
  watchdog.unref()
  const reports = []
  for (const s of stores) {
    console.log(`\n--- ${s} ---`)
    const rep = await soakStore(s)
    printReport(rep)
    reports.push(rep)
  }
  console.log('\n## Summary\n')
  console.log(
    table(
      reports.map((r) => [
        r.store,
        r.ok ? 'PASS' : 'FAIL',
        r.stats.requests ?? 0,
        fmt(r.stats.rps ?? 0, 0),
        JSON.stringify(Object.fromEntries(Object.entries(r.stats.statuses ?? {}).filter(([k]) => k.startsWith('5') || k === 'error'))),
        r.mem.map((m) => fmt(m.heapUsed / MiB, 1)).join(' → '),
        r.verify.users ?? '-',
        fmt(r.wallSeconds, 0),
      ]),
      ['store', 'result', 'requests', 'req/s', '5xx/errors', 'heap MiB (warm-up → end)', 'users checked', 'wall s'],
    ),
  )
  clearTimeout(watchdog)
  process.exit(reports.length > 0 && reports.every((r) => r.ok) ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
