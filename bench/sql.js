#!/usr/bin/env node
'use strict'
/**
 * npm run bench:sql — issue 12 "Done when": scim-router over `scim-router/kysely`
 * (kyselyAdapter + scimTablesMapping) against a bare Express 5 server doing direct driver queries
 * over the same tables (hand-written SQL, the same SCIM JSON), on SQLite (better-sqlite3) and, when
 * SCIM_PG_URL is set, PostgreSQL (pg), at 10,000 and 100,000 users. Target: ours ÷ direct ≥ 0.7 in
 * throughput, and direct p99 ÷ ours p99 ≥ 0.7, for every scenario. See bench/README.md ("SQL").
 *   SQL_SIZES=10000,100000   SQL_DURATION=3   SQL_RUNS=2   SQL_WARMUP=1   SQL_CONNECTIONS=10
 *   SQL_SCENARIOS=get,filter,list,patch   SQL_DATABASES=sqlite,postgres   SQL_OUTBOX=1 (ours records events)
 *   SQL_PROFILE=ours|direct (CPU profiles of the measured runs into bench/profiles/)   BENCH_OUT=- (print only)
 */
const { fork } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const autocannon = require('autocannon')
const { median, num, int, ratio, mark, version, platform, load, publish, peakRss, mb } = require('./lib/sections')

const env = process.env
const SIZES = (env.SQL_SIZES ?? '10000,100000').split(',').map(Number)
const DURATION = Number(env.SQL_DURATION ?? 3)
const RUNS = Number(env.SQL_RUNS ?? 2)
const WARMUP = Number(env.SQL_WARMUP ?? 1)
const CONNECTIONS = Number(env.SQL_CONNECTIONS ?? 10)
const TARGET = 0.7
const PROFILE = env.SQL_PROFILE
const DATABASES = (env.SQL_DATABASES ?? 'sqlite,postgres').split(',').filter((d) => d === 'sqlite' || (d === 'postgres' && env.SCIM_PG_URL))
const log = (...a) => console.error(...a)
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SERVERS = ['ours', 'direct']

// ------------------------------------------------------------------------------------ children

function forkRole(role, args, onMessage) {
  return fork(path.join(__dirname, 'servers', 'sql.js'), [role, ...args], {
    env: { ...env, NODE_ENV: 'production', DEBUG: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }).on('message', onMessage)
}

function seed(spec, n) {
  return new Promise((resolve, reject) => {
    const child = forkRole('seed', [spec, String(n)], (msg) => msg.type === 'seeded' && resolve(msg))
    child.once('exit', (code) => code && reject(new Error(`seeder exited ${code}`)))
  })
}

function start(role, spec) {
  return new Promise((resolve, reject) => {
    const waiters = []
    const child = forkRole(role, [spec], (msg) => {
      if (msg.type === 'ready') {
        resolve({
          name: role,
          child,
          startRss: msg.rss,
          url: `http://127.0.0.1:${msg.port}`,
          ask: (type, extra = {}) =>
            new Promise((res) => {
              waiters.push(res)
              child.send({ type, ...extra })
            }),
        })
      } else waiters.shift()?.(msg)
    })
    child.once('exit', (code) => code && reject(new Error(`${role} exited ${code}`)))
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
  return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : undefined }
}

// ----------------------------------------------------------------------------------- scenarios

const pick = (users, k) => users[(k * 7919) % users.length]
const filterPath = (expr) => `/scim/v2/Users?filter=${encodeURIComponent(expr)}`

const SCENARIOS = [
  { name: 'get', title: 'GET /Users/{id}', request: (users, k) => ({ method: 'GET', path: `/scim/v2/Users/${pick(users, k).id}` }) },
  { name: 'filter', title: 'GET /Users?filter=userName eq "…"', request: (users, k) => ({ method: 'GET', path: filterPath(`userName eq "${pick(users, k).userName}"`) }) },
  {
    name: 'list',
    title: 'GET /Users?startIndex=…&count=100 (walking the pages)',
    request: (users, k) => ({ method: 'GET', path: `/scim/v2/Users?startIndex=${1 + ((k * 100) % users.length)}&count=100` }),
  },
  {
    name: 'patch',
    title: 'PATCH /Users/{id} replace active',
    request: (users, k) => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${pick(users, k).id}`,
      headers: { 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: Math.floor(k / users.length) % 2 === 1 }] }),
    }),
  },
].filter((s) => !env.SQL_SCENARIOS || env.SQL_SCENARIOS.split(',').includes(s.name))

function expect(cond, what) {
  if (!cond) throw new Error(what)
}

/** JSON with sorted keys: the two servers must render the same members, in any order. */
const canon = (v) => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x))

/** Both servers must give the same answers, member for member, before anything is measured. */
async function validate(servers, users) {
  const N = users.length
  const sample = [users[0], users[Math.floor(N / 3)], users[N - 1], users[995]].filter(Boolean)
  const both = async (method, p, body) => Promise.all(servers.map((s) => call(s, method, p, body)))
  const same = (answers, what) => {
    for (const a of answers) expect(a.status === 200, `${what}: ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)
    const [x, y] = answers.map((a, i) => canon(a.body).split(servers[i].url).join('http://host'))
    if (x !== y) { let i = 0; while (x[i] === y[i]) i++; expect(false, `${what}: ours and direct differ at ${i}\n ours   ${x.slice(Math.max(0, i - 200), i + 300)}\n direct ${y.slice(Math.max(0, i - 200), i + 300)}`) }
    return answers[0].body
  }
  for (const u of sample) {
    const got = same(await both('GET', `/scim/v2/Users/${u.id}`), `GET ${u.id}`)
    expect(got.id === u.id && got.userName === u.userName && Array.isArray(got.groups) && got.groups.length >= 1, `GET ${u.id}: groups`)
    const f = same(await both('GET', filterPath(`userName eq "${u.userName.toUpperCase()}"`)), `filter ${u.userName}`)
    expect(f.totalResults === 1 && f.Resources[0].id === u.id, `filter ${u.userName}: one match`)
  }
  const none = same(await both('GET', filterPath('userName eq "nobody@example.com"')), 'filter no match')
  expect(none.totalResults === 0, 'filter no match: totalResults 0')
  const page = same(await both('GET', '/scim/v2/Users?startIndex=101&count=100'), 'page 2')
  expect(page.totalResults === N && page.Resources.length === 100 && page.Resources.every((r, i) => r.id === users[100 + i].id), 'page 2 in creation order')
  const u = sample[1]
  for (const value of [false, true]) {
    for (const s of servers) {
      const r = await call(s, 'PATCH', `/scim/v2/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value }] })
      expect(r.status === 200 && r.body.active === value && r.etag === r.body.meta.version, `${s.name}: PATCH active ${value} → ${r.status}`)
    }
    const [a, b] = await both('GET', `/scim/v2/Users/${u.id}`)
    expect(a.body.active === value && b.body.active === value && a.body.meta.version === b.body.meta.version, `PATCH read back (${a.body.meta.version} · ${b.body.meta.version})`)
  }
}

async function measure(srv, scenario, users, seconds, counter, profile) {
  const first = scenario.request(users, counter.k)
  const request = { ...first, setupRequest: (req) => ({ ...req, ...scenario.request(users, counter.k++) }) }
  if (profile) await srv.ask('profile-start')
  const before = await srv.ask('cpu')
  const latencies = []
  const instance = autocannon({ url: srv.url, connections: CONNECTIONS, pipelining: 1, duration: seconds, timeout: 10, requests: [request] })
  instance.on('response', (_c, _s, _b, t) => latencies.push(t))
  const result = await instance
  const after = await srv.ask('cpu')
  if (profile) await srv.ask('profile-stop', { file: profile })
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

// ---------------------------------------------------------------------------------------- main

async function dropSchema(schema) {
  const { Pool } = require('pg')
  const pool = new Pool({ connectionString: env.SCIM_PG_URL, max: 1 })
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await pool.end()
}

async function runSize(database, n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-bench-sql-'))
  const schema = `bench_sql_${process.pid}_${n}`
  const spec = database === 'sqlite' ? `sqlite:${path.join(dir, 'scim.db')}` : `postgres:${schema}`
  try {
    const seeded = await seed(spec, n)
    const users = seeded.users
    log(`\n${database}, ${int(n)} users: seeded in ${int(seeded.ms)} ms (batched INSERTs in one transaction)`)
    const servers = [await start('ours', spec), await start('direct', spec)]
    try {
      await validate(servers, users)
      log('  validated: ours and direct render the same GET, filter (no match too), page 2 and PATCH read-back')
      const rows = []
      for (const scenario of SCENARIOS) {
        const row = { scenario, runs: { ours: [], direct: [] } }
        const counters = { ours: { k: 0 }, direct: { k: 0 } }
        // PATCH: each server writes its own half of the users, flipping `active` on every pass over
        // it, so that every request changes the user (no request is a no-op that skips the write).
        const target = (srv) => (scenario.name === 'patch' ? users.filter((_, i) => i % 2 === SERVERS.indexOf(srv.name)) : users)
        if (WARMUP > 0) for (const srv of servers) await measure(srv, scenario, target(srv), WARMUP, counters[srv.name])
        for (let r = 0; r < RUNS; r++) {
          for (let j = 0; j < servers.length; j++) {
            const srv = servers[(j + r) % servers.length]
            const profile = PROFILE === srv.name ? path.join(__dirname, 'profiles', `sql-${database}-${n}-${srv.name}-${scenario.name}-${r + 1}.cpuprofile`) : undefined
            const m = await measure(srv, scenario, target(srv), DURATION, counters[srv.name], profile)
            row.runs[srv.name].push(m)
            log(`  ${scenario.name.padEnd(7)} run ${r + 1} ${srv.name.padEnd(6)} ${int(m.rps).padStart(6)} req/s  p99 ${num(m.p99).padStart(6)} ms  ${int(m.cpu).padStart(6)} µs CPU/req${m.bad ? `  ⚠ ${m.bad} bad` : ''}`)
          }
        }
        for (const name of SERVERS) {
          const rs = row.runs[name]
          row[name] = { rps: median(rs.map((m) => m.rps)), p99: median(rs.map((m) => m.p99)), cpu: median(rs.map((m) => m.cpu)), bad: rs.reduce((a, m) => a + m.bad, 0), total: rs.reduce((a, m) => a + m.total, 0) }
        }
        rows.push(row)
      }
      const rss = Object.fromEntries(servers.map((s) => [s.name, peakRss(s.child.pid)]))
      return { database, n, rows, rss, seedMs: seeded.ms }
    } finally {
      await Promise.all(servers.map(stop))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    if (database === 'postgres') await dropSchema(schema)
  }
}

async function main() {
  log(`bench:sql — ${DATABASES.join(', ')}${env.SCIM_PG_URL ? '' : ' (set SCIM_PG_URL for PostgreSQL)'}; sizes ${SIZES.join(', ')}; ${SCENARIOS.length} scenarios × 2 servers × ${RUNS} runs × ${DURATION} s, ${CONNECTIONS} connections; Node ${process.version}`)
  const loadBefore = load()
  const results = []
  for (const database of DATABASES) for (const n of SIZES) results.push(await runSize(database, n))
  publish('sql', render(results, loadBefore))
  if (results.some((s) => s.rows.some((r) => r.ours.bad || r.direct.bad))) process.exitCode = 1
}

const DB_TITLE = { sqlite: 'SQLite', postgres: 'PostgreSQL' }

function render(results, loadBefore) {
  const out = []
  out.push(`### SQL — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`)
  out.push('')
  out.push(
    `${platform()}. scim-router ${require('../package.json').version} (sources through ts-node, transpile only) with \`kyselyAdapter({ db, mapping: scimTablesMapping()${env.SQL_OUTBOX === '1' ? '' : ', outbox: false'} })\`, ` +
      `Kysely ${version('kysely')}, better-sqlite3 ${version('better-sqlite3')} (file in a temp dir, WAL)${results.some((r) => r.database === 'postgres') ? `, pg ${version('pg')} (pools of ${env.SQL_POOL ?? 10} on both servers)` : ''}, ` +
      `Express ${version('express')}, autocannon ${version('autocannon')}: ${CONNECTIONS} connections, ${RUNS} alternating runs × ${DURATION} s after ${WARMUP} s warm-up, medians. ` +
      `Both servers run in their own process on 127.0.0.1 over the same database, 100 groups (one with every user). 1-minute load average ${loadBefore} at start, ${load()} at the end.`,
  )
  out.push('')
  out.push(`| database | users | scenario | ours req/s | direct req/s | throughput ours ÷ direct (≥ ${TARGET}) | p99 ms ours · direct | p99 direct ÷ ours (≥ ${TARGET}) | server CPU µs/req ours · direct |`)
  out.push('|---|--:|---|--:|--:|---|--:|---|--:|')
  const verdicts = []
  for (const s of results) {
    for (const r of s.rows) {
      const t = r.ours.rps / r.direct.rps
      const p = r.direct.p99 / r.ours.p99
      verdicts.push(t >= TARGET, p >= TARGET)
      const flag = (e) => (e.bad ? ` ⚠ ${e.bad} bad` : '')
      out.push(
        `| ${DB_TITLE[s.database]} | ${int(s.n)} | ${r.scenario.title} | ${int(r.ours.rps)}${flag(r.ours)} | ${int(r.direct.rps)}${flag(r.direct)} | ${ratio(t)} ${mark(t >= TARGET)} | ` +
          `${num(r.ours.p99)} · ${num(r.direct.p99)} | ${ratio(p)} ${mark(p >= TARGET)} | ${int(r.ours.cpu)} · ${int(r.direct.cpu)} |`,
      )
    }
  }
  out.push('')
  out.push('| database | users | seeding (batched INSERTs, one transaction) | peak RSS ours · direct |')
  out.push('|---|--:|--:|--:|')
  for (const s of results) out.push(`| ${DB_TITLE[s.database]} | ${int(s.n)} | ${num(s.seedMs / 1000)} s | ${mb(s.rss.ours)} · ${mb(s.rss.direct)} |`)
  out.push('')
  const bad = results.some((s) => s.rows.some((r) => r.ours.bad || r.direct.bad))
  out.push(
    `Every ratio at least ${TARGET}: ${mark(verdicts.every(Boolean))}. Every measured response was checked for status 200${bad ? ' — ⚠ some were not (flagged above)' : ' and all were'}; ` +
      'before measuring, both servers were checked to render the same JSON (sorted keys) for GET, filter (case-changed userName, no match), page 2 in creation order, and PATCH (value, ETag, version read back).',
  )
  out.push('')
  return out.join('\n')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
