#!/usr/bin/env node
'use strict'
/**
 * npm run bench:outbox — issue 13: what the event outbox costs on PATCH throughput. Each mode
 * runs in its own child (bench/servers/outbox.js) over scim-router/kysely (scimTablesMapping); PATCH replaces a
 * user's `title` (a real write with events every time) on a rotating set of users.
 *   none   — no outbox: events delivered once after the commit (the at-most-once baseline)
 *   outbox — events inserted in the write's transaction, first attempt claimed + completed
 *   feed   — outbox, no onEvent: events recorded only
 * Reports median req/s over RUNS and the ratio to `none`, for SQLite and (with SCIM_PG_URL) PostgreSQL.
 *   OUTBOX_DURATION=5  OUTBOX_RUNS=3  OUTBOX_CONNECTIONS=10  OUTBOX_USERS=500  OUTBOX_STORES=sqlite,postgres
 */
const { fork } = require('node:child_process')
const path = require('node:path')
const autocannon = require('autocannon')

const env = process.env
const DURATION = Number(env.OUTBOX_DURATION ?? 5)
const RUNS = Number(env.OUTBOX_RUNS ?? 3)
const CONNECTIONS = Number(env.OUTBOX_CONNECTIONS ?? 10)
const USERS = Number(env.OUTBOX_USERS ?? 500)
const STORES = (env.OUTBOX_STORES ?? 'sqlite,postgres').split(',').filter((s) => s !== 'postgres' || env.SCIM_PG_URL)
const MODES = ['none', 'outbox', 'feed']
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function start(store, mode) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'servers', 'outbox.js'), [store, mode, String(USERS)], {
      env: { ...env, NODE_ENV: 'production', DEBUG: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child.once('message', (msg) => resolve({ child, port: msg.port, users: msg.users }))
    child.once('exit', (code) => code && reject(new Error(`${store}/${mode} exited ${code}`)))
  })
}

async function run(srv) {
  let k = 0
  const instance = autocannon({
    url: `http://127.0.0.1:${srv.port}`,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: 'PATCH',
        setupRequest: (req) => {
          k++
          const id = srv.users[k % srv.users.length]
          return {
            ...req,
            path: `/scim/v2/Users/${id}`,
            headers: { 'content-type': 'application/scim+json' },
            body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `t${k}` }] }),
          }
        },
      },
    ],
  })
  const r = await instance
  const ok = Number(r.statusCodeStats?.['200']?.count ?? 0)
  return { rps: ok / r.duration, bad: r.requests.total - ok + r.errors + r.timeouts }
}

async function main() {
  const rows = []
  for (const store of STORES) {
    const base = {}
    for (const mode of MODES) {
      const srv = await start(store, mode)
      await run({ ...srv }) // warm-up (also fills the events table a little)
      const rps = []
      let bad = 0
      for (let i = 0; i < RUNS; i++) {
        const r = await run(srv)
        rps.push(r.rps)
        bad += r.bad
      }
      srv.child.send({ type: 'exit' })
      await new Promise((r) => srv.child.once('exit', r))
      const m = median(rps)
      base[mode] = m
      rows.push({ store, mode, rps: m, ratio: m / base.none, bad })
      console.error(`${store} ${mode}: ${m.toFixed(0)} req/s (${(m / base.none).toFixed(2)} × none), non-200: ${bad}`)
    }
  }
  console.log('| store | mode | PATCH req/s (median) | vs no outbox | non-200 |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.store} | ${r.mode} | ${r.rps.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.bad} |`)
}
main().catch((err) => {
  console.error(err)
  process.exit(1)
})
