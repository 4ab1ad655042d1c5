'use strict'
/** Markdown rendering of a bench run: the results table with ratios and the issue's targets. */

const TARGETS = { limit: 0.8, peer: 5, p99: 1.5 }

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const ms = (n) => (Number.isFinite(n) ? n.toFixed(2) : '–')
const ratio = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
const mark = (ok) => (ok ? '✅ met' : '❌ not met')

/** A server's cell: the number, or n/a with the reason, or the number flagged with its errors. */
function cell(e, value, fmt) {
  if (!e) return '–'
  if (e.na) return 'n/a¹'
  const flags = []
  if (e.unexpected) flags.push(`${e.unexpected} unexpected status`)
  if (e.errors) flags.push(`${e.errors} socket errors`)
  if (e.postCheck) flags.push('lost or phantom writes')
  if (e.empty) flags.push(`no response completed in ${e.empty} run(s)`)
  return fmt(value(e)) + (flags.length ? ` ⚠ ${flags.join(', ')}` : '')
}

const usable = (e) => e && !e.na && !e.unexpected && !e.errors && !e.postCheck && !e.empty

function renderMarkdown(meta, results) {
  const out = []
  out.push(`### Results — ${meta.date.slice(0, 10)}, Node ${meta.node}`)
  out.push('')
  out.push(
    `${meta.platform}. autocannon ${meta.versions.autocannon}, ${meta.connections} connections, pipelining 1, ` +
      `${meta.runs} alternating runs × ${meta.duration} s per scenario and server (after a ${meta.warmup} s warm-up), medians. ` +
      `scim-router ${meta.versions['scim-router']} (MemoryAdapter), Express ${meta.versions.express}, ` +
      `scimmy ${meta.versions.scimmy} + scimmy-routers ${meta.versions['scimmy-routers']}. ` +
      `Each server runs in its own process on 127.0.0.1 with ${int(meta.users ?? 10000)} users and 100 groups; the load generator shares the machine ` +
      `(1-minute load average ${meta.load.map((l) => l.toFixed(1)).join(' at start, ')} at the end).`,
  )
  const notes = []
  // One table per dataset (rows carry `dataset` since the run measures both), in run order.
  const datasets = [...new Set(results.map((r) => r.dataset))]
  for (const dataset of datasets) {
    if (dataset !== undefined) out.push('', `#### ${DATASET_TITLES[dataset] ?? dataset}`)
    table(out, notes, results.filter((r) => r.dataset === dataset))
  }
  footer(out, notes, results)
  return out.join('\n')
}

const DATASET_TITLES = {
  full: 'Full users (default): core attributes, two emails, two phone numbers, two addresses, the enterprise extension (about 1.3 kB each)',
  small: 'Small users: userName, name, displayName, title, active, one email, externalId (about 0.3 kB each)',
}

function table(out, notes, results) {
  out.push('')
  out.push(
    '| scenario | scim-router req/s | bare Express (limit) req/s | scimmy-routers (peer) req/s | ours / limit (≥ 0.8) | ours / peer (≥ 5×) | p99 ms ours · limit · peer | p99 ours / limit (≤ 1.5) | server CPU µs/req ours · limit · peer | CPU efficiency vs limit · vs peer² | limit / peer³ |',
  )
  out.push('|---|--:|--:|--:|---|---|--:|---|--:|--:|--:|')
  for (const row of results) {
    const { ours, limit, peer } = row.servers
    const vsLimit = usable(ours) && usable(limit) ? ours.rps / limit.rps : NaN
    const vsPeer = usable(ours) && usable(peer) ? ours.rps / peer.rps : NaN
    const p99Ratio = usable(ours) && usable(limit) ? ours.p99 / limit.p99 : NaN
    const judge = (v, ok, digits, suffix = '') => (Number.isFinite(v) ? `${ratio(v, digits)}${suffix} ${mark(ok)}` : peer?.na && suffix === '×' ? 'n/a¹' : '–')
    for (const [name, e] of Object.entries(row.servers)) {
      const where = row.dataset === undefined ? row.scenario : `${row.scenario} (${row.dataset})`
      if (e?.na) notes.push(`¹ ${where}, ${name}: ${e.na}`)
      if (e?.postCheck) notes.push(`⚠ ${where}, ${name}: ${e.postCheck}`)
    }
    out.push(
      `| ${row.title} | ${cell(ours, (e) => e.rps, int)} | ${cell(limit, (e) => e.rps, int)} | ${cell(peer, (e) => e.rps, int)} | ` +
        `${judge(vsLimit, vsLimit >= TARGETS.limit, 2)} | ${judge(vsPeer, vsPeer >= TARGETS.peer, 1, '×')} | ` +
        `${[ours, limit, peer].map((e) => cell(e, (x) => x.p99, ms).replace(/ ⚠.*/, '')).join(' · ')} | ` +
        `${judge(p99Ratio, p99Ratio <= TARGETS.p99, 2)} | ` +
        `${[ours, limit, peer].map((e) => cell(e, (x) => x.cpuPerReq, int).replace(/ ⚠.*/, '')).join(' · ')} | ` +
        `${ratio(usable(ours) && usable(limit) ? limit.cpuPerReq / ours.cpuPerReq : NaN)} · ${ratio(usable(ours) && usable(peer) ? peer.cpuPerReq / ours.cpuPerReq : NaN, 1)}${usable(ours) && usable(peer) ? '×' : ''} | ` +
        `${usable(limit) && usable(peer) ? `${ratio(limit.rps / peer.rps, 1)}× · ${ratio(peer.cpuPerReq / limit.cpuPerReq, 1)}×` : '–'} |`,
    )
  }
}

function footer(out, notes, results) {
  out.push('')
  const all = results.flatMap((r) => Object.values(r.servers))
  const flagged = all.filter((e) => e.unexpected || e.errors || e.postCheck || e.empty)
  out.push(
    flagged.length === 0
      ? `Every measured response had the expected status (${int(all.reduce((n, e) => n + (e.total ?? 0), 0))} responses; 200, 201 for POST, 200/204 for PATCH); responses were validated in depth before each scenario.`
      : `⚠ ${flagged.length} server/scenario pair(s) answered with unexpected statuses, socket errors or timeouts, lost writes, or nothing at all; their numbers are flagged above and left out of the ratios.`,
  )
  notes.push(
    '² limit (or peer) CPU µs per request divided by ours: the same targets (0.8, 5×) measured in server CPU instead of throughput. ' +
      'It is steadier than req/s when the load generator or other work shares the cores.',
  )
  notes.push(
    '³ the bare-Express limit relative to the peer, by req/s · by CPU per request: where it is below 5×, the 5× target is above what even hand-written routes reach on this machine.',
  )
  if (notes.length) {
    out.push('')
    for (const n of notes) out.push(`${n}  `)
  }
  out.push('')
}

module.exports = { renderMarkdown, TARGETS }
