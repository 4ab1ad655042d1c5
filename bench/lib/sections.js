'use strict'
/**
 * Helpers shared by the micro and storage benchmarks (bench/filter.js, bench/bulk.js,
 * bench/sqlite.js): medians, number formatting, the run's metadata line, and writing a result
 * table into bench/<name>-results.md and between `<!-- <name>:start -->` / `<!-- <name>:end -->`
 * in bench/README.md.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const geomean = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x) && x > 0)
  return s.length ? Math.exp(s.reduce((a, x) => a + Math.log(x), 0) / s.length) : NaN
}
/** A number with about three significant digits and thousands separators. */
const num = (n) => {
  if (!Number.isFinite(n)) return '–'
  const a = Math.abs(n)
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const ratio = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
const mark = (ok) => (ok ? '✅ met' : '❌ not met')

function version(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

function platform() {
  const cpus = os.cpus()
  return `${process.platform} ${process.arch}, ${cpus.length} CPU(s) (${cpus[0]?.model ?? '?'})`
}

const load = () => os.loadavg()[0].toFixed(1)

/** Write `md` to bench/<name>-results.md and into its section of bench/README.md (unless BENCH_OUT=-). */
function publish(name, md) {
  console.log(md)
  if (process.env.BENCH_OUT === '-') return
  const dir = path.join(__dirname, '..')
  fs.writeFileSync(path.join(dir, `${name}-results.md`), md.trim() + '\n')
  const file = path.join(dir, 'README.md')
  const text = fs.readFileSync(file, 'utf8')
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) {
    console.error(`bench/README.md has no ${start} … ${end} markers; wrote bench/${name}-results.md only`)
    return
  }
  fs.writeFileSync(file, `${text.slice(0, a + start.length)}\n${md.trim()}\n${text.slice(b)}`)
  console.error(`wrote bench/${name}-results.md and its section of bench/README.md`)
}

/** Peak resident set size (VmHWM) of a live process, in bytes, from /proc (Linux); NaN elsewhere. */
function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

const mb = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(0)} MB` : '–')

module.exports = { median, geomean, num, int, ratio, mark, version, platform, load, publish, peakRss, mb }
