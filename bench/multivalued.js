#!/usr/bin/env node
'use strict'
/**
 * `npm run bench:multivalued`: multi-valued work against the number of values in one request
 * (issue 11 item 2). For 1,000 / 10,000 / 100,000 values, on MemoryAdapter and SQLite:
 *   POST /Users with n emails · PUT /Groups/{id} with n members · PATCH add n members ·
 *   PATCH remove n members (Entra's `remove members` with a value array).
 * Each row gives the request's time and, measured at the same time, the worst wait of an
 * unrelated `GET /ServiceProviderConfig` sent every 20 ms: what one large request costs every other
 * tenant on the same process. Work that grows linearly shows ~10× per row; quadratic work ~100×.
 *
 * BENCH_BEFORE=/path/to/other/checkout/src adds a "before" column from another checkout's sources
 * (sizes above BENCH_BEFORE_MAX, default 10,000, are skipped there: quadratic work would take
 * minutes). BENCH_SIZES=1000,10000 picks sizes. BENCH_OUT=- prints without writing files.
 */
const { fork } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { int, platform, load, publish } = require('./lib/sections')

const SIZES = (process.env.BENCH_SIZES || '1000,10000,100000').split(',').map(Number)
const BEFORE = process.env.BENCH_BEFORE
const BEFORE_MAX = Number(process.env.BENCH_BEFORE_MAX || 10000)
const STORES = (process.env.BENCH_STORES || 'memory,sqlite').split(',')
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

function start(store, src) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mv-'))
  const child = fork(path.join(__dirname, 'servers', 'multivalued.js'), [store, path.join(dir, 'db.sqlite')], {
    env: { ...process.env, ...(src ? { BENCH_OURS_SRC: src } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = (type) => new Promise((resolve) => child.on('message', function on(m) { if (m.type === type) { child.off('message', on); resolve(m) } }))
  return next('ready').then(({ port }) => ({
    base: `http://127.0.0.1:${port}/scim/v2`,
    seed: (n, from) => (child.send({ type: 'seed', n, from }), next('seeded').then((m) => m.ids)),
    stop: () => new Promise((resolve) => { child.on('exit', resolve); child.send({ type: 'exit' }) }).then(() => fs.rmSync(dir, { recursive: true, force: true })),
  }))
}

async function call(base, method, url, body) {
  const res = await fetch(base + url, { method, headers: { 'content-type': 'application/scim+json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`)
  return text ? JSON.parse(text) : undefined
}

/** Time one request while probing the server with an unrelated GET every 20 ms. */
async function measure(base, method, url, body) {
  let done = false
  let worst = 0
  const probe = (async () => {
    while (!done) {
      const t = performance.now()
      // A keep-alive socket the blocked server times out may be reset under the probe: the wait
      // still counts, and the next probe opens a new connection.
      await fetch(`${base}/ServiceProviderConfig`).then((r) => r.arrayBuffer()).catch(() => undefined)
      worst = Math.max(worst, performance.now() - t)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const t0 = performance.now()
  await call(base, method, url, body)
  const ms = performance.now() - t0
  done = true
  await probe
  return { ms, worst }
}

async function scenarios(store, src, n) {
  const s = await start(store, src)
  try {
    const out = {}
    const emails = Array.from({ length: n }, (_, i) => ({ value: `user.${i}@mail${i % 97}.example`, type: i % 2 ? 'work' : 'home' }))
    out.post = await measure(s.base, 'POST', '/Users', { schemas: [USER], userName: 'many-emails@bench.example', emails })
    const ids = await s.seed(n, 0)
    const members = ids.map((value) => ({ value }))
    const g = await call(s.base, 'POST', '/Groups', { schemas: [GROUP], displayName: 'big' })
    out.put = await measure(s.base, 'PUT', `/Groups/${g.id}`, { schemas: [GROUP], displayName: 'big', members })
    const h = await call(s.base, 'POST', '/Groups', { schemas: [GROUP], displayName: 'grows' })
    out.add = await measure(s.base, 'PATCH', `/Groups/${h.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: members }] })
    out.remove = await measure(s.base, 'PATCH', `/Groups/${g.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: members }] })
    return out
  } finally {
    await s.stop()
  }
}

const ROWS = [
  ['post', 'POST /Users with n emails'],
  ['put', 'PUT /Groups/{id} with n members'],
  ['add', 'PATCH add n members'],
  ['remove', 'PATCH remove n members (value array)'],
]

async function main() {
  const results = []
  for (const store of STORES) {
    for (const n of SIZES) {
      console.error(`${store} n=${n} ...`)
      const after = await scenarios(store, undefined, n)
      const before = BEFORE && n <= BEFORE_MAX ? await scenarios(store, BEFORE, n) : undefined
      results.push({ store, n, after, before })
    }
  }
  const ms = (x) => (x ? `${int(x.ms)} (${int(x.worst)})` : 'not run')
  const lines = [
    '### Multi-valued scaling',
    '',
    `${platform()}, load ${load()}. Request time in ms, and in parentheses the worst wait of an unrelated \`GET /ServiceProviderConfig\` sent every 20 ms meanwhile. One run per cell.` +
      (BEFORE ? ` "Before" is ${BEFORE} (sizes above ${int(BEFORE_MAX)} not run there).` : ''),
    '',
    `| store | n | scenario | ms (GET wait)${BEFORE ? ' | before' : ''} |`,
    `|---|---:|---|---:|${BEFORE ? '---:|' : ''}`,
  ]
  for (const r of results) for (const [k, label] of ROWS) lines.push(`| ${r.store} | ${int(r.n)} | ${label} | ${ms(r.after[k])}${BEFORE ? ` | ${ms(r.before?.[k])}` : ''} |`)
  publish('multivalued', lines.join('\n'))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
