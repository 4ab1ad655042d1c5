#!/usr/bin/env node
'use strict'
/**
 * npm run bench:bulk — issue 6 "Done when": one 1,000-operation Bulk request (999 User POSTs and
 * one Group POST whose members reference all of them by bulkId) against the same work as 1,000
 * single requests, sent one at a time and with 10 in flight. See bench/README.md ("Bulk").
 *   BULK_RUNS=5    fresh server per run and mode; modes rotate; medians
 *   BULK_OPS=1000  operations (users = BULK_OPS - 1)
 *   BENCH_OUT=-    print only
 */
const { fork } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const data = require('./lib/data')
const { median, num, int, ratio, mark, version, platform, load, publish, peakRss, mb } = require('./lib/sections')

const RUNS = Number(process.env.BULK_RUNS ?? 5)
const OPS = Number(process.env.BULK_OPS ?? 1000)
const USERS = OPS - 1
const WARM_OPS = 200
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const log = (...a) => console.error(...a)

// ------------------------------------------------------------------------------ server + client

function start() {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'servers', 'bulk-ours.js'), [], {
      env: { ...process.env, NODE_ENV: 'production', DEBUG: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const waiters = []
    child.on('message', (msg) => {
      if (msg.type === 'ready') {
        resolve({
          child,
          port: msg.port,
          ask: (type) =>
            new Promise((res) => {
              waiters.push(res)
              child.send({ type })
            }),
        })
      } else waiters.shift()?.(msg)
    })
    child.once('exit', (code) => reject(new Error(`bulk server exited (${code})`)))
  })
}
const stop = (srv) => new Promise((resolve) => (srv.child.exitCode !== null ? resolve() : (srv.child.once('exit', resolve), srv.child.send({ type: 'exit' }))))

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
/** One HTTP request with a JSON body; resolves { status, body }. */
function request(srv, method, urlPath, body) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method,
        path: urlPath,
        agent,
        headers: payload ? { 'content-type': 'application/scim+json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

// ------------------------------------------------------------------------------------- work

const userBody = (i, prefix) => {
  const a = data.userAttributes(i)
  return { schemas: [USER_SCHEMA], ...a, userName: `${prefix}${a.userName}`, externalId: `${prefix}${a.externalId}` }
}

function bulkBody(users, prefix) {
  const operations = []
  for (let i = 0; i < users; i++) operations.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: userBody(i, prefix) })
  operations.push({
    method: 'POST',
    path: '/Groups',
    bulkId: 'g',
    data: { schemas: [GROUP_SCHEMA], displayName: `${prefix}All Staff`, members: Array.from({ length: users }, (_, i) => ({ value: `bulkId:u${i}` })) },
  })
  return { schemas: [BULK_REQUEST], failOnErrors: 1, Operations: operations }
}

const MODES = {
  /** One POST /Bulk. */
  async bulk(srv, base, users, prefix) {
    const r = await request(srv, 'POST', `${base}/Bulk`, bulkBody(users, prefix))
    if (r.status !== 200) throw new Error(`POST /Bulk answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
    const ops = r.body.Operations ?? []
    const bad = ops.filter((o) => String(o.status) !== '201')
    if (ops.length !== users + 1 || bad.length) throw new Error(`Bulk: ${ops.length} results, ${bad.length} not 201: ${JSON.stringify(bad[0]).slice(0, 300)}`)
    return 1
  },
  /** 999 POST /Users one after the other, then POST /Groups with their ids. */
  async sequential(srv, base, users, prefix) {
    const ids = []
    for (let i = 0; i < users; i++) {
      const r = await request(srv, 'POST', `${base}/Users`, userBody(i, prefix))
      if (r.status !== 201) throw new Error(`POST /Users answered ${r.status}`)
      ids.push(r.body.id)
    }
    await postGroup(srv, base, ids, prefix)
    return users + 1
  },
  /** The same with 10 requests in flight (the group last, once every user exists). */
  async concurrent(srv, base, users, prefix) {
    const ids = new Array(users)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < users; i = next++) {
        const r = await request(srv, 'POST', `${base}/Users`, userBody(i, prefix))
        if (r.status !== 201) throw new Error(`POST /Users answered ${r.status}`)
        ids[i] = r.body.id
      }
    }
    await Promise.all(Array.from({ length: 10 }, worker))
    await postGroup(srv, base, ids, prefix)
    return users + 1
  },
}
async function postGroup(srv, base, ids, prefix) {
  const r = await request(srv, 'POST', `${base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: `${prefix}All Staff`, members: ids.map((value) => ({ value })) })
  if (r.status !== 201) throw new Error(`POST /Groups answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
}

/** The store holds exactly the users and one group with every user as a member. */
async function verify(srv, base, users) {
  const u = await request(srv, 'GET', `${base}/Users?count=0`)
  const g = await request(srv, 'GET', `${base}/Groups?count=10`)
  if (u.body.totalResults !== users) throw new Error(`${u.body.totalResults} users, expected ${users}`)
  if (g.body.totalResults !== 1) throw new Error(`${g.body.totalResults} groups, expected 1`)
  const members = g.body.Resources[0].members ?? []
  const ids = new Set(members.map((m) => m.value))
  const all = await request(srv, 'GET', `${base}/Users?count=${users}&attributes=id,groups`)
  const userIds = all.body.Resources.map((r) => r.id)
  const missing = userIds.filter((id) => !ids.has(id)).length
  const groupless = all.body.Resources.filter((r) => !(r.groups ?? []).some((x) => x.value === g.body.Resources[0].id)).length
  if (members.length !== users || ids.size !== users || missing) throw new Error(`group has ${members.length} members (${ids.size} distinct, ${missing} users missing)`)
  if (groupless) throw new Error(`${groupless} users do not list the group in groups`)
  return { resources: u.body.totalResults + g.body.totalResults, members: members.length }
}

// ------------------------------------------------------------------------------------- main

async function main() {
  log(`bench:bulk — ${OPS} operations, ${RUNS} runs per mode (fresh server each); Node ${process.version}`)
  const loadBefore = load()
  const names = Object.keys(MODES)
  const results = Object.fromEntries(names.map((n) => [n, []]))
  let checked
  for (let r = 0; r < RUNS; r++) {
    for (let j = 0; j < names.length; j++) {
      const mode = names[(j + r) % names.length]
      const srv = await start()
      try {
        // Warm-up on the other mount (its own empty adapter): the same mode, WARM_OPS operations.
        await MODES[mode](srv, '/warm/scim/v2', WARM_OPS - 1, 'warm-')
        const before = await srv.ask('cpu')
        const t0 = process.hrtime.bigint()
        const requests = await MODES[mode](srv, '/scim/v2', USERS, '')
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        const after = await srv.ask('cpu')
        const cpuMs = (after.usage.user - before.usage.user + after.usage.system - before.usage.system) / 1000
        const rss = peakRss(srv.child.pid)
        checked = await verify(srv, '/scim/v2', USERS)
        results[mode].push({ ms, cpuMs, rss, requests })
        log(`  run ${r + 1} ${mode.padEnd(10)} ${num(ms).padStart(8)} ms  server CPU ${num(cpuMs)} ms  peak RSS ${mb(rss)}  ✓ ${checked.resources} resources, ${checked.members} members`)
      } finally {
        await stop(srv)
      }
    }
  }
  agent.destroy()
  const m = Object.fromEntries(names.map((n) => [n, { ms: median(results[n].map((x) => x.ms)), cpuMs: median(results[n].map((x) => x.cpuMs)), rss: Math.max(...results[n].map((x) => x.rss)), requests: results[n][0].requests }]))
  const out = []
  out.push(`### Bulk — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`)
  out.push('')
  out.push(
    `${platform()}. scim-router ${require('../package.json').version} (MemoryAdapter, sources through ts-node, transpile only), Express ${version('express')}, ` +
      `server in its own process on 127.0.0.1, client in the parent (node:http, keep-alive). ${RUNS} runs per mode, each on a fresh server after a ${WARM_OPS}-operation ` +
      `warm-up of the same mode on a second mount with its own adapter; modes rotate; medians. 1-minute load average ${loadBefore} at start, ${load()} at the end.`,
  )
  out.push('')
  out.push(`| how the ${int(OPS)} operations are sent | HTTP requests | wall time ms | per operation ms | server CPU ms | peak server RSS | Bulk speed-up (time) | Bulk speed-up (server CPU) |`)
  out.push('|---|--:|--:|--:|--:|--:|--:|--:|')
  const label = { bulk: `one \`POST /Bulk\` (${int(USERS)} User POSTs + 1 Group POST, members by \`bulkId\`)`, sequential: 'single requests, one at a time', concurrent: 'single requests, 10 in flight' }
  for (const n of names) {
    const x = m[n]
    out.push(
      `| ${label[n]} | ${int(x.requests)} | ${num(x.ms)} | ${num(x.ms / OPS)} | ${num(x.cpuMs)} | ${mb(x.rss)} | ` +
        `${n === 'bulk' ? '1.00' : `${ratio(x.ms / m.bulk.ms)}×`} | ${n === 'bulk' ? '1.00' : `${ratio(x.cpuMs / m.bulk.cpuMs)}×`} |`,
    )
  }
  out.push('')
  out.push(
    `Final state verified after every run: ${int(USERS)} users + 1 group = ${int(checked.resources)} resources, the group has ${int(checked.members)} members (every user, each listing the group in \`groups\`), and every Bulk operation answered 201. ` +
      `Bulk / sequential singles: **${ratio(m.bulk.ms / m.sequential.ms)}** of the time (${ratio(m.sequential.ms / m.bulk.ms)}× faster); Bulk / 10 in flight: **${ratio(m.bulk.ms / m.concurrent.ms)}** ` +
      `(${ratio(m.concurrent.ms / m.bulk.ms)}×). Issue 6 asks that the request completes and that its time be reported as a ratio: ${mark(true)}.`,
  )
  out.push('')
  publish('bulk', out.join('\n'))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
