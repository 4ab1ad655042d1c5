#!/usr/bin/env node
'use strict'
/**
 * npm run bench:sqlite — issue 5 "Measure": scim-router over examples/sql-adapter.ts on SQLite
 * (better-sqlite3) with 10,000 and 100,000 users, against a bare Express 5 server running the
 * same indexed statements through better-sqlite3 directly (the limit). See bench/README.md ("SQLite").
 *   SQLITE_SIZES=10000,100000   SQLITE_DURATION=5   SQLITE_RUNS=3   SQLITE_WARMUP=1   SQLITE_CONNECTIONS=10
 *   SQLITE_SCENARIOS=userName,externalId,list,patch   BENCH_OUT=- (print only)
 */
const { fork } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const autocannon = require('autocannon')
const { median, num, int, ratio, mark, version, platform, load, publish, peakRss, mb } = require('./lib/sections')

const env = process.env
const SIZES = (env.SQLITE_SIZES ?? '10000,100000').split(',').map(Number)
const DURATION = Number(env.SQLITE_DURATION ?? 5)
const RUNS = Number(env.SQLITE_RUNS ?? 3)
const WARMUP = Number(env.SQLITE_WARMUP ?? 1)
const CONNECTIONS = Number(env.SQLITE_CONNECTIONS ?? 10)
const LOOKUP_TARGET = 0.5
const GROWTH_LIMIT = 1.25
const log = (...a) => console.error(...a)
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// ------------------------------------------------------------------------------------ children

function forkRole(role, args, onMessage) {
  return fork(path.join(__dirname, 'servers', 'sqlite.js'), [role, ...args], {
    env: { ...env, NODE_ENV: 'production', DEBUG: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }).on('message', onMessage)
}

function seed(file, n) {
  return new Promise((resolve, reject) => {
    const child = forkRole('seed', [file, String(n)], (msg) => msg.type === 'seeded' && resolve(msg))
    child.once('exit', (code) => code && reject(new Error(`seeder exited ${code}`)))
  })
}

function start(role, file) {
  return new Promise((resolve, reject) => {
    const waiters = []
    const child = forkRole(role, [file], (msg) => {
      if (msg.type === 'ready') {
        resolve({
          name: role,
          child,
          startRss: msg.rss,
          url: `http://127.0.0.1:${msg.port}`,
          ask: (type) =>
            new Promise((res) => {
              waiters.push(res)
              child.send({ type })
            }),
        })
      } else waiters.shift()?.(msg)
    })
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}`)))
  })
}
const stop = (srv) => new Promise((resolve) => (srv.child.exitCode !== null ? resolve() : (srv.child.once('exit', resolve), srv.child.send({ type: 'exit' }))))

async function call(srv, method, p, body) {
  const res = await fetch(srv.url + p, {
    method,
    headers: body ? { 'content-type': 'application/scim+json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

// ----------------------------------------------------------------------------------- scenarios

const pick = (users, k) => users[(k * 7919) % users.length]
const filterPath = (expr) => `/scim/v2/Users?filter=${encodeURIComponent(expr)}`

const SCENARIOS = [
  {
    name: 'userName',
    title: 'GET /Users?filter=userName eq "…"',
    lookup: true,
    request: (users, k) => ({ method: 'GET', path: filterPath(`userName eq "${pick(users, k).userName}"`) }),
  },
  {
    name: 'externalId',
    title: 'GET /Users?filter=externalId eq "…"',
    lookup: true,
    request: (users, k) => ({ method: 'GET', path: filterPath(`externalId eq "${pick(users, k).externalId}"`) }),
  },
  {
    name: 'list',
    title: 'GET /Users?startIndex=…&count=100 (walking every page)',
    request: (users, k) => ({ method: 'GET', path: `/scim/v2/Users?startIndex=${1 + ((k * 100) % users.length)}&count=100` }),
  },
  {
    name: 'patch',
    title: 'PATCH /Users/{id} replace active',
    request: (users, k) => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${pick(users, k).id}`,
      headers: { 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: Math.floor(k / users.length) % 2 === 1 } ] }),
    }),
  },
].filter((s) => !env.SQLITE_SCENARIOS || env.SQLITE_SCENARIOS.split(',').includes(s.name))

function expect(cond, what) {
  if (!cond) throw new Error(what)
}

/** Both servers must give the same answers before anything is measured. */
async function validate(srv, users) {
  const N = users.length
  const u = users[Math.floor(N / 3)]
  let r = await call(srv, 'GET', filterPath(`userName eq "${u.userName}"`))
  expect(r.status === 200 && r.body.totalResults === 1 && r.body.Resources[0].id === u.id && r.body.Resources[0].userName === u.userName, `${srv.name}: userName lookup ${JSON.stringify(r.body).slice(0, 200)}`)
  r = await call(srv, 'GET', filterPath(`userName eq "${u.userName.toUpperCase()}"`))
  expect(r.status === 200 && r.body.totalResults === 1 && r.body.Resources[0].id === u.id, `${srv.name}: case-insensitive userName lookup`)
  r = await call(srv, 'GET', filterPath(`externalId eq "${u.externalId}"`))
  expect(r.status === 200 && r.body.totalResults === 1 && r.body.Resources[0].id === u.id, `${srv.name}: externalId lookup`)
  r = await call(srv, 'GET', filterPath(`externalId eq "${u.externalId.toUpperCase()}"`))
  expect(r.status === 200 && r.body.totalResults === 0, `${srv.name}: externalId is caseExact`)
  r = await call(srv, 'GET', filterPath('userName eq "nobody@example.com"'))
  expect(r.status === 200 && r.body.totalResults === 0 && (r.body.Resources ?? []).length === 0, `${srv.name}: no match`)
  r = await call(srv, 'GET', '/scim/v2/Users?startIndex=101&count=100')
  const ids = (r.body.Resources ?? []).map((x) => x.id)
  expect(r.status === 200 && r.body.totalResults === N && ids.length === 100 && ids.every((id, i) => id === users[100 + i].id), `${srv.name}: page 2 in creation order`)
  for (const value of [false, true]) {
    r = await call(srv, 'PATCH', `/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value }] })
    expect(r.status === 200 && r.body.active === value, `${srv.name}: PATCH active ${value} → ${r.status}`)
    const back = await call(srv, 'GET', filterPath(`userName eq "${u.userName}"`))
    expect(back.body.Resources[0].active === value && back.body.Resources[0].userName === u.userName, `${srv.name}: PATCH read back`)
  }
}

async function measure(srv, scenario, users, seconds, counter) {
  const first = scenario.request(users, counter.k)
  const request = {
    ...first,
    setupRequest: (req) => ({ ...req, ...scenario.request(users, counter.k++) }),
  }
  const before = await srv.ask('cpu')
  const latencies = []
  const instance = autocannon({ url: srv.url, connections: CONNECTIONS, pipelining: 1, duration: seconds, timeout: 10, requests: [request] })
  instance.on('response', (_c, _s, _b, t) => latencies.push(t))
  const result = await instance
  const after = await srv.ask('cpu')
  latencies.sort((a, b) => a - b)
  const total = result.requests.total
  const ok = Number(result.statusCodeStats?.['200']?.count ?? 0)
  return {
    rps: total / result.duration,
    p99: latencies.length ? latencies[Math.ceil(0.99 * latencies.length) - 1] : NaN,
    cpu: total ? (after.usage.user - before.usage.user + after.usage.system - before.usage.system) / total : NaN,
    total,
    bad: total - ok + result.errors + result.timeouts,
  }
}

/** The limit's lookup statements in-process (no HTTP): µs per call, median of 5 × 20,000. */
function direct(file, users) {
  const Database = require('better-sqlite3')
  const db = new Database(file, { readonly: true })
  const cols = 'id, version, created, last_modified, doc'
  const stmts = {
    userName: [db.prepare(`SELECT ${cols} FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User' AND user_name_key = ? ORDER BY created, id LIMIT 100`), (u) => u.userName.toLowerCase()],
    externalId: [db.prepare(`SELECT ${cols} FROM scim_resources WHERE tenant = 'default' AND resource_type = 'User' AND external_id = ? ORDER BY created, id LIMIT 100`), (u) => u.externalId],
  }
  const out = {}
  for (const [name, [stmt, key]] of Object.entries(stmts)) {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all('x').map((r) => r.detail).join('; ')
    const times = []
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint()
      for (let k = 0; k < 20000; k++) if (stmt.all(key(pick(users, k))).length !== 1) throw new Error('direct lookup missed')
      times.push(Number(process.hrtime.bigint() - t0) / 1e3 / 20000)
    }
    out[name] = { us: median(times), plan }
  }
  db.close()
  return out
}

// ---------------------------------------------------------------------------------------- main

async function runSize(n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-bench-sqlite-'))
  try {
    const oursFile = path.join(dir, 'ours.db')
    const limitFile = path.join(dir, 'limit.db')
    const seeded = await seed(oursFile, n)
    fs.copyFileSync(oursFile, limitFile)
    const users = seeded.users
    log(`\n${int(n)} users: seeded through SqlAdapter.create in ${int(seeded.ms)} ms (${int((seeded.ms * 1000) / n)} µs per user), file ${mb(fs.statSync(oursFile).size)}`)
    const directUs = direct(oursFile, users)
    for (const [k, v] of Object.entries(directUs)) log(`  direct ${k}: ${num(v.us)} µs — ${v.plan}`)
    const servers = [await start('ours', oursFile), await start('limit', limitFile)]
    const rows = []
    try {
      for (const srv of servers) await validate(srv, users)
      log('  validated: both servers answer lookups, case rules, paging and PATCH alike')
      for (const scenario of SCENARIOS) {
        const row = { scenario, n, runs: { ours: [], limit: [] } }
        const counters = { ours: { k: 0 }, limit: { k: 0 } }
        if (WARMUP > 0) for (const srv of servers) await measure(srv, scenario, users, WARMUP, counters[srv.name])
        for (let r = 0; r < RUNS; r++) {
          for (let j = 0; j < servers.length; j++) {
            const srv = servers[(j + r) % servers.length]
            const m = await measure(srv, scenario, users, DURATION, counters[srv.name])
            row.runs[srv.name].push(m)
            log(`  ${scenario.name.padEnd(10)} run ${r + 1} ${srv.name.padEnd(5)} ${int(m.rps).padStart(6)} req/s  p99 ${num(m.p99).padStart(6)} ms  ${int(m.cpu).padStart(6)} µs CPU/req${m.bad ? `  ⚠ ${m.bad} bad` : ''}`)
          }
        }
        for (const name of ['ours', 'limit']) {
          const rs = row.runs[name]
          row[name] = { rps: median(rs.map((m) => m.rps)), p99: median(rs.map((m) => m.p99)), cpu: median(rs.map((m) => m.cpu)), bad: rs.reduce((a, m) => a + m.bad, 0), total: rs.reduce((a, m) => a + m.total, 0) }
        }
        row.direct = directUs[scenario.name]
        rows.push(row)
      }
      const rss = Object.fromEntries(servers.map((s) => [s.name, peakRss(s.child.pid)]))
      rss.oursStart = servers[0].startRss
      rss.limitStart = servers[1].startRss
      return { n, rows, rss, seedMs: seeded.ms, seedRss: seeded.rss, fileSize: fs.statSync(oursFile).size }
    } finally {
      await Promise.all(servers.map(stop))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  log(`bench:sqlite — sizes ${SIZES.join(', ')}; ${SCENARIOS.length} scenarios × 2 servers × ${RUNS} runs × ${DURATION} s, ${CONNECTIONS} connections; Node ${process.version}`)
  const loadBefore = load()
  const sizes = []
  for (const n of SIZES) sizes.push(await runSize(n))
  publish('sqlite', render(sizes, loadBefore))
  if (sizes.some((s) => s.rows.some((r) => r.ours.bad || r.limit.bad))) process.exitCode = 1
}

function render(sizes, loadBefore) {
  const out = []
  out.push(`### SQLite — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`)
  out.push('')
  out.push(
    `${platform()}. scim-router ${require('../package.json').version} + examples/sql-adapter.ts (sources through ts-node, transpile only), better-sqlite3 ${version('better-sqlite3')} ` +
      `(SQLite file in a temp dir, WAL, default synchronous), Express ${version('express')}, autocannon ${version('autocannon')}: ${CONNECTIONS} connections, ` +
      `${RUNS} alternating runs × ${DURATION} s after ${WARMUP} s warm-up, medians. Both servers run in their own process on 127.0.0.1 on identical copies of the ` +
      `database seeded through \`SqlAdapter.create\`. 1-minute load average ${loadBefore} at start, ${load()} at the end.`,
  )
  out.push('')
  out.push('| scenario | users | scim-router + SqlAdapter req/s | bare Express + better-sqlite3 (limit) req/s | ours / limit | p99 ms ours · limit | server CPU µs/req ours · limit | CPU ours / limit | same SELECT in-process, no HTTP² |')
  out.push('|---|--:|--:|--:|---|--:|--:|--:|--:|')
  for (const s of sizes) {
    for (const r of s.rows) {
      const q = r.ours.rps / r.limit.rps
      const judged = r.scenario.lookup ? `${ratio(q)} ${mark(q >= LOOKUP_TARGET)} (≥ ${LOOKUP_TARGET})` : ratio(q)
      const flag = (e) => (e.bad ? ` ⚠ ${e.bad} bad` : '')
      out.push(
        `| ${r.scenario.title} | ${int(s.n)} | ${int(r.ours.rps)}${flag(r.ours)} | ${int(r.limit.rps)}${flag(r.limit)} | ${judged} | ${num(r.ours.p99)} · ${num(r.limit.p99)} | ` +
          `${int(r.ours.cpu)} · ${int(r.limit.cpu)} | ${ratio(r.ours.cpu / r.limit.cpu, 1)}× | ${r.direct ? `${num(r.direct.us)} µs` : '–'} |`,
      )
    }
  }
  out.push('')
  if (sizes.length >= 2) {
    const [a, b] = [sizes[0], sizes[sizes.length - 1]]
    out.push(`**Growth from ${int(a.n)} to ${int(b.n)} users** (time per request: server CPU µs per request, steadier than req/s; must not grow for lookups: ≤ ${GROWTH_LIMIT}×)`)
    out.push('')
    out.push(`| scenario | ours CPU µs/req ${int(a.n)} → ${int(b.n)} | growth | ours req/s ${int(a.n)} → ${int(b.n)} | limit CPU µs/req ${int(a.n)} → ${int(b.n)} | limit growth |`)
    out.push('|---|--:|---|--:|--:|--:|')
    for (const ra of a.rows) {
      const rb = b.rows.find((x) => x.scenario.name === ra.scenario.name)
      if (!rb) continue
      const g = rb.ours.cpu / ra.ours.cpu
      out.push(
        `| ${ra.scenario.title} | ${int(ra.ours.cpu)} → ${int(rb.ours.cpu)} | ${ratio(g)}×${ra.scenario.lookup ? ` ${mark(g <= GROWTH_LIMIT)}` : ''} | ${int(ra.ours.rps)} → ${int(rb.ours.rps)} | ` +
          `${int(ra.limit.cpu)} → ${int(rb.limit.cpu)} | ${ratio(rb.limit.cpu / ra.limit.cpu)}× |`,
      )
    }
    out.push('')
  }
  out.push('**Memory and seeding**')
  out.push('')
  out.push('| users | RSS ours at start → peak (router + SqlAdapter) | RSS limit at start → peak | seeding through `SqlAdapter.create` | seeder peak RSS | database file |')
  out.push('|--:|--:|--:|--:|--:|--:|')
  for (const s of sizes) out.push(`| ${int(s.n)} | ${mb(s.rss.oursStart)} → ${mb(s.rss.ours)} | ${mb(s.rss.limitStart)} → ${mb(s.rss.limit)} | ${num(s.seedMs / 1000)} s (${int((s.seedMs * 1000) / s.n)} µs/user) | ${mb(s.seedRss)} | ${mb(s.fileSize)} |`)
  out.push('')
  const lookups = sizes.flatMap((s) => s.rows.filter((r) => r.scenario.lookup))
  const allMet = lookups.every((r) => r.ours.rps / r.limit.rps >= LOOKUP_TARGET)
  out.push(`Lookups at least ${LOOKUP_TARGET} of the limit: ${mark(allMet)}. Every measured response was checked for status 200${sizes.some((s) => s.rows.some((r) => r.ours.bad || r.limit.bad)) ? ' — ⚠ some were not (flagged above)' : ' and all were'}; before measuring, both servers were validated on lookups (case-insensitive userName, caseExact externalId, no match), page 2 in creation order and PATCH read-back.`)
  out.push('')
  out.push(
    '² The limit\'s statement run in the benchmark process through better-sqlite3 with no HTTP, median µs per call: the raw cost of the index lookup, for scale (plans: ' +
      [...new Set(sizes.flatMap((s) => s.rows.filter((r) => r.direct).map((r) => `${r.scenario.name}: ${r.direct.plan}`)))].join('; ') +
      '). RSS at start is the server process.memoryUsage().rss when it starts listening (ours includes ts-node and the TypeScript compiler loaded to transpile the sources); peak is its VmHWM after all scenarios of that size.',
  )
  out.push('')
  return out.join('\n')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
