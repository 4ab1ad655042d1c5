#!/usr/bin/env node
'use strict'
/**
 * Summarise V8 .cpuprofile files written by `BENCH_PROFILE=ours npm run bench` (one per measured run).
 *
 *   node bench/profile.js bench/profiles/ours-group-*.cpuprofile [--top 20]
 *
 * Prints where the time went: self time by package/area, the hottest functions anywhere (self), and
 * scim-router's own functions by self and by inclusive time, with TypeScript file:line (positions in
 * the ts-node output are mapped back through a source map of the same transpilation).
 */
const fs = require('node:fs')
const path = require('node:path')
const { SourceMap } = require('node:module')
const { fileURLToPath } = require('node:url')

const args = process.argv.slice(2)
const topIdx = args.indexOf('--top')
const TOP = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 20
const files = args.length ? args : fs.readdirSync(path.join(__dirname, 'profiles')).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(__dirname, 'profiles', f))
const ROOT = path.resolve(__dirname, '..')
const SRC = path.resolve(process.env.BENCH_OURS_SRC || path.join(ROOT, 'src')) + path.sep

// ---- TypeScript position mapping ------------------------------------------------------------
const maps = new Map()
const generated = new Map()
function tsCompilerOptions() {
  const ts = require('typescript')
  const cfg = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  return { ts, options: { ...cfg.options, sourceMap: true, inlineSourceMap: false, declaration: false, noEmit: false } }
}
let tsc
function mapPosition(file, line, column) {
  if (!file.endsWith('.ts')) return line + 1
  if (!maps.has(file)) {
    tsc ??= tsCompilerOptions()
    const out = tsc.ts.transpileModule(fs.readFileSync(file, 'utf8'), { fileName: file, compilerOptions: tsc.options })
    maps.set(file, new SourceMap(JSON.parse(out.sourceMapText)))
    generated.set(file, out.outputText.split('\n'))
  }
  const entry = maps.get(file).findEntry(line, column)
  return entry && typeof entry.originalLine === 'number' ? entry.originalLine + 1 : line + 1
}

/** Map a 1-based generated line (a positionTicks entry) to its 1-based TypeScript line. */
function mapLine(file, line) {
  if (!file.endsWith('.ts')) return line
  mapPosition(file, 0, 0)
  const text = generated.get(file)[line - 1] ?? ''
  const col = Math.max(0, text.search(/\S/))
  const entry = maps.get(file).findEntry(line - 1, col)
  return entry && typeof entry.originalLine === 'number' ? entry.originalLine + 1 : line
}

function filePath(url) {
  if (!url) return ''
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : url
  } catch {
    return url
  }
}

function area(file, fn) {
  if (!file) return fn.startsWith('(') ? fn : '(native/V8)'
  if (file.startsWith(SRC)) return `src/${path.relative(SRC, file).split(path.sep).join('/')}`
  if (file.startsWith('node:')) return 'node core'
  const nm = file.lastIndexOf(`node_modules${path.sep}`)
  if (nm >= 0) {
    const rest = file.slice(nm + 13).split(path.sep)
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`
  }
  if (file.startsWith(ROOT)) return path.relative(ROOT, file)
  return file
}

// ---- aggregation ----------------------------------------------------------------------------
const self = new Map() // key → µs
const incl = new Map()
const byArea = new Map()
const labels = new Map()
const lineTicks = new Map() // 'src/x.ts:123' → ticks (self samples on that line)
let totalUs = 0
let totalTicks = 0
for (const f of files) {
  const prof = JSON.parse(fs.readFileSync(f, 'utf8'))
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = new Map()
  for (const n of prof.nodes) {
    const cf = n.callFrame
    const file = filePath(cf.url)
    const fn = cf.functionName || '(anonymous)'
    const where = file.startsWith(SRC) ? `${area(file, fn)}:${mapPosition(file, cf.lineNumber, cf.columnNumber)}` : file ? `${area(file, fn)}:${cf.lineNumber + 1}` : ''
    const key = `${fn} ${where}`.trim()
    keyOf.set(n.id, key)
    labels.set(key, { fn, where, area: area(file, fn), ours: file.startsWith(SRC) })
  }
  for (const n of prof.nodes) {
    const file = filePath(n.callFrame.url)
    if (n.callFrame.functionName !== '(idle)') totalTicks += n.hitCount ?? 0
    if (!file.startsWith(SRC) || !n.positionTicks) continue
    for (const { line, ticks } of n.positionTicks) {
      const key = `${area(file, '')}:${mapLine(file, line)}`
      lineTicks.set(key, (lineTicks.get(key) ?? 0) + ticks)
    }
  }
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0
    const id = prof.samples[i]
    const key = keyOf.get(id)
    const info = labels.get(key)
    if (info.fn === '(idle)') continue
    totalUs += dt
    self.set(key, (self.get(key) ?? 0) + dt)
    byArea.set(info.area, (byArea.get(info.area) ?? 0) + dt)
    const seen = new Set()
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const k = keyOf.get(n)
      if (seen.has(k)) continue
      seen.add(k)
      incl.set(k, (incl.get(k) ?? 0) + dt)
    }
  }
  void nodes
}

const pct = (us) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`
function table(title, map, filter, n = TOP) {
  console.log(`\n${title}`)
  const rows = [...map.entries()].filter(([k]) => filter(labels.get(k))).sort((a, b) => b[1] - a[1]).slice(0, n)
  for (const [k, us] of rows) console.log(`  ${pct(us)}  ${k}`)
}

console.log(`${files.length} profile(s), ${(totalUs / 1e6).toFixed(2)} s of non-idle samples`)
console.log('\nself time by area')
for (const [a, us] of [...byArea.entries()].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${a}`)
table('hottest functions (self time, anywhere)', self, () => true)
table('scim-router functions by self time', self, (l) => l.ours)
table('scim-router functions by inclusive time', incl, (l) => l.ours)
console.log('\nscim-router hottest source lines (self samples on the line)')
for (const [k, t] of [...lineTicks.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const [file, line] = [k.slice(0, k.lastIndexOf(':')), Number(k.slice(k.lastIndexOf(':') + 1))]
  const code = (fs.readFileSync(path.join(SRC, file.replace(/^src\//, '')), 'utf8').split('\n')[line - 1] ?? '').trim().slice(0, 90)
  console.log(`  ${((100 * t) / totalTicks).toFixed(1).padStart(5)}%  ${k}  ${code}`)
}
