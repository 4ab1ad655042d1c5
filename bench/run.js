#!/usr/bin/env node
'use strict'
/**
 * npm run bench — scim-router vs a bare Express 5 limit vs SCIMMY + scimmy-routers, side by side.
 * See bench/README.md. Environment:
 *   BENCH_DURATION=5     seconds per measured run      BENCH_RUNS=3         runs per scenario per server
 *   BENCH_CONNECTIONS=10 autocannon connections        BENCH_WARMUP=1       warm-up seconds per scenario/server
 *   BENCH_SCENARIOS=get,filter,...  subset             BENCH_SERVERS=ours,limit,peer  subset
 *   BENCH_PROFILE=ours   CPU-profile that server's measured runs → bench/profiles/<server>-<scenario>.cpuprofile
 *   BENCH_OUT=bench/results.md   where the Markdown table goes (BENCH_OUT=- : print only)
 *   BENCH_DATASETS=full,small    the User shapes to measure, one after the other (bench/lib/data.js)
 */
const { fork } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')
const autocannon = require('autocannon')
const data = require('./lib/data')
const { scenarios, countUsers } = require('./lib/scenarios')
const { renderMarkdown } = require('./lib/report')

const env = process.env
const DURATION = Number(env.BENCH_DURATION ?? 5)
const RUNS = Number(env.BENCH_RUNS ?? 3)
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 10)
const WARMUP = Number(env.BENCH_WARMUP ?? 1)
const PROFILE = env.BENCH_PROFILE
const OUT = env.BENCH_OUT ?? path.join(__dirname, 'results.md')
const TOKEN = randomBytes(18).toString('base64url')
const DATASETS = (env.BENCH_DATASETS ?? 'full,small').split(',').map((d) => d.trim()).filter(Boolean)
for (const d of DATASETS) if (d !== 'full' && d !== 'small') throw new Error(`BENCH_DATASETS: unknown dataset ${d} (full, small)`)

const SERVERS = [
  { name: 'ours', label: 'scim-router', file: 'servers/ours.js' },
  { name: 'limit', label: 'bare Express 5', file: 'servers/bare.js' },
  { name: 'peer', label: 'scimmy-routers', file: 'servers/scimmy.mjs' },
]

const pick = (list, filter) => (filter ? list.filter((x) => filter.split(',').map((s) => s.trim()).includes(x.name)) : list)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const log = (...args) => console.error(...args)

/** Fork a server, wait for it to seed and listen; returns a handle with an IPC request helper. */
function start(def, dataset) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, def.file), [], {
      env: { ...env, BENCH_TOKEN: TOKEN, BENCH_DATASET: dataset, NODE_ENV: 'production', DEBUG: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const waiters = []
    child.on('message', (msg) => {
      if (msg.type === 'ready') {
        resolve({
          ...def,
          child,
          token: TOKEN,
          url: `http://127.0.0.1:${msg.port}`,
          base: msg.base,
          users: msg.users,
          userCount: msg.users.length,
          bigGroupId: msg.bigGroupId,
          seedMs: msg.seedMs,
          ask(type, extra = {}) {
            return new Promise((res, rej) => {
              if (child.exitCode !== null || child.signalCode !== null) return rej(new Error(`${def.name} has exited`))
              waiters.push({ type, res, rej })
              child.send({ type, ...extra })
            })
          },
        })
      } else {
        const i = waiters.findIndex((w) => w.type === msg.type)
        if (i >= 0) waiters.splice(i, 1)[0].res(msg)
      }
    })
    child.once('exit', (code, signal) => {
      const err = new Error(`${def.name} exited (code ${code}, signal ${signal})`)
      reject(err) // no-op once ready
      for (const w of waiters.splice(0)) w.rej(err)
    })
  })
}

function stop(srv) {
  return new Promise((resolve) => {
    if (srv.child.exitCode !== null || srv.child.signalCode !== null) return resolve()
    srv.child.once('exit', resolve)
    srv.child.send({ type: 'exit' })
  })
}

/**
 * Wait until the server is idle again: requests still in flight when autocannon stopped (a 10,000-member
 * group can take the peer a quarter of a second each) must not eat into the next server's run.
 */
async function settle(srv, maxMs = 15000) {
  const t0 = Date.now()
  let prev = await srv.ask('cpu')
  for (;;) {
    await new Promise((r) => setTimeout(r, 100))
    const cur = await srv.ask('cpu')
    const used = cur.usage.user - prev.usage.user + (cur.usage.system - prev.usage.system)
    prev = cur
    if (used < 20_000 || Date.now() - t0 > maxMs) return // under 20% of one core for 100 ms
  }
}

/** One autocannon run of `scenario` against `srv`; CPU from the child's process.cpuUsage() delta. */
async function measure(srv, scenario, seconds, counter) {
  const first = scenario.request(srv, counter.k)
  const dynamic = scenario.name !== 'list' && scenario.name !== 'group'
  const request = { method: first.method, path: first.path, headers: first.headers, body: first.body }
  if (dynamic) {
    request.setupRequest = (req) => {
      const r = scenario.request(srv, counter.k++)
      return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body }
    }
  }
  const before = await srv.ask('cpu')
  const instance = autocannon({
    url: srv.url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [request],
  })
  // autocannon's histogram keeps whole milliseconds; keep the exact response times for p50/p99.
  const latencies = []
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime))
  const result = await instance
  const after = await srv.ask('cpu')
  await settle(srv)
  latencies.sort((a, b) => a - b)
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : NaN)
  const cpuMicros = after.usage.user - before.usage.user + (after.usage.system - before.usage.system)
  const total = result.requests.total
  const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([c, v]) => [c, Number(v.count)]))
  const unexpected = Object.entries(codes)
    .filter(([c]) => !scenario.expect.includes(Number(c)))
    .reduce((n, [, v]) => n + v, 0)
  if (scenario.creates) {
    // No lost or phantom writes: the store grew by the acknowledged 201s, plus at most one request
    // per connection that was in flight when autocannon stopped (answered, but not counted).
    const acknowledged = codes['201'] ?? 0
    const now = await countUsers(srv)
    const grown = now - srv.userCount
    if (grown < acknowledged || grown > acknowledged + CONNECTIONS) {
      srv.writeCheck = `users grew by ${grown} for ${acknowledged} acknowledged POSTs (+ at most ${CONNECTIONS} in flight)`
    }
    srv.userCount = now
  }
  return {
    rps: total / result.duration,
    p99: pct(99),
    p50: pct(50),
    cpuPerReq: total > 0 ? cpuMicros / total : NaN,
    total,
    non2xx: result.non2xx,
    unexpected,
    errors: result.errors + result.timeouts,
    codes,
    rss: after.rss,
  }
}

async function main() {
  if (process.argv.includes('--report')) {
    // Re-render results.md (and the README table) from results.json without measuring again.
    const { meta, results } = JSON.parse(fs.readFileSync(OUT.replace(/\.md$/, '') + '.json', 'utf8'))
    const md = renderMarkdown(meta, results)
    console.log(md)
    fs.writeFileSync(OUT, md)
    updateReadme(md)
    return
  }
  const servers = pick(SERVERS, env.BENCH_SERVERS)
  const chosen = pick(scenarios, env.BENCH_SCENARIOS)
  log(`bench: ${DATASETS.length} dataset(s) × ${chosen.length} scenario(s) × ${servers.length} server(s) × ${RUNS} run(s) of ${DURATION}s, ${CONNECTIONS} connections; Node ${process.version}`)
  let handles = []
  const loadBefore = require('node:os').loadavg()[0]
  const results = []
  try {
    for (const dataset of DATASETS) {
      // Each dataset gets fresh servers (preloaded with its Users), stopped before the next.
      await Promise.all(handles.map(stop))
      handles = []
      log(`\n=== dataset: ${dataset} ===`)
      for (const def of servers) {
        const srv = await start(def, dataset)
        log(`  ${srv.label} ready at ${srv.url} (seeded ${data.USERS} ${dataset} users, ${data.GROUPS} groups in ${srv.seedMs} ms)`)
        handles.push(srv)
      }
      await runScenarios(dataset, chosen, handles, results)
    }
    await report(results, handles, loadBefore)
  } finally {
    await Promise.all(handles.map(stop))
  }
}

async function runScenarios(dataset, chosen, handles, results) {
    for (const scenario of chosen) {
      log(`\n${scenario.name} (${dataset}): ${scenario.title}`)
      const row = { dataset, scenario: scenario.name, title: scenario.title, servers: {} }
      results.push(row)
      const live = []
      for (const srv of handles) {
        const entry = { runs: [] }
        row.servers[srv.name] = entry
        try {
          await scenario.validate(srv)
          live.push(srv)
        } catch (err) {
          entry.na = `validation failed: ${err.message.replace(/\s+/g, ' ').slice(0, 240)}`
          log(`  ${srv.name}: n/a — ${entry.na}`)
        }
      }
      const counters = new Map(live.map((s) => [s.name, { k: 1000 }]))
      if (WARMUP > 0) for (const srv of live) await measure(srv, scenario, WARMUP, counters.get(srv.name))
      for (let r = 0; r < RUNS; r++) {
        const order = live.map((_, i) => live[(i + r) % live.length]) // rotate who goes first
        for (const srv of order) {
          const profiling = PROFILE === srv.name
          if (profiling) await srv.ask('profile-start')
          const m = await measure(srv, scenario, DURATION, counters.get(srv.name))
          if (profiling) {
            const file = path.join(__dirname, 'profiles', `${srv.name}-${scenario.name}-${r + 1}.cpuprofile`)
            await srv.ask('profile-stop', { file })
            log(`    profile → ${path.relative(process.cwd(), file)}`)
          }
          row.servers[srv.name].runs.push(m)
          const flag = m.unexpected || m.errors ? `  ⚠ ${m.unexpected} unexpected status, ${m.errors} errors ${JSON.stringify(m.codes)}` : ''
          log(`  run ${r + 1} ${srv.name.padEnd(5)} ${m.rps.toFixed(0).padStart(7)} req/s  p99 ${m.p99.toFixed(2).padStart(6)} ms  ${m.cpuPerReq.toFixed(0).padStart(6)} µs CPU/req${flag}`)
        }
      }
      if (scenario.creates) {
        for (const srv of live) {
          if (srv.writeCheck) {
            row.servers[srv.name].postCheck = srv.writeCheck
            log(`  ${srv.name}: ⚠ ${srv.writeCheck}`)
          }
        }
      }
      for (const srv of live) {
        const e = row.servers[srv.name]
        e.rps = median(e.runs.map((m) => m.rps))
        e.p99 = median(e.runs.map((m) => m.p99))
        e.cpuPerReq = median(e.runs.map((m) => m.cpuPerReq))
        e.unexpected = e.runs.reduce((n, m) => n + m.unexpected, 0)
        e.errors = e.runs.reduce((n, m) => n + m.errors, 0)
        e.total = e.runs.reduce((n, m) => n + m.total, 0)
        e.empty = e.runs.filter((m) => m.total === 0).length
      }
    }
}

async function report(results, handles, loadBefore) {
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}, ${require('node:os').cpus().length} CPU(s) (${require('node:os').cpus()[0]?.model ?? '?'})`,
      duration: DURATION,
      runs: RUNS,
      connections: CONNECTIONS,
      warmup: WARMUP,
      users: data.USERS,
      datasets: DATASETS,
      servers: handles.map((s) => ({ name: s.name, label: s.label })),
      versions: versions(),
      load: [loadBefore, require('node:os').loadavg()[0]],
    }
    const md = renderMarkdown(meta, results)
    console.log(md)
    // Wrong answers fail the run (targets not met do not): ours or the limit failing validation,
    // or any server answering with unexpected statuses, errors, or lost/phantom writes.
    const broken = results.flatMap((r) =>
      Object.entries(r.servers).filter(([name, e]) => (e.na && name !== 'peer') || e.unexpected || e.errors || e.postCheck).map(([name]) => `${r.scenario}/${name} (${r.dataset})`),
    )
    if (broken.length) {
      log(`\nwrong answers: ${broken.join(', ')}`)
      process.exitCode = 1
    }
    if (OUT !== '-') {
      fs.writeFileSync(OUT, md)
      fs.writeFileSync(OUT.replace(/\.md$/, '') + '.json', JSON.stringify({ meta, results }, null, 2))
      // A full default run also refreshes the table in bench/README.md (between the results markers).
      const full = OUT === path.join(__dirname, 'results.md') && !env.BENCH_SCENARIOS && !env.BENCH_SERVERS && !env.BENCH_DATASETS && !PROFILE
      if (full) updateReadme(md)
      log(`\nwrote ${path.relative(process.cwd(), OUT)}`)
    }
}

function updateReadme(md) {
  const file = path.join(__dirname, 'README.md')
  const text = fs.readFileSync(file, 'utf8')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) return
  fs.writeFileSync(file, `${text.slice(0, a + start.length)}\n${md.trim()}\n${text.slice(b)}`)
}

function versions() {
  const v = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version
    } catch {
      return '?'
    }
  }
  return { 'scim-router': require('../package.json').version, express: v('express'), scimmy: v('scimmy'), 'scimmy-routers': v('scimmy-routers'), autocannon: v('autocannon') }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
