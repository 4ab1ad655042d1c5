#!/usr/bin/env node
// `npm test`: the whole suite on MemoryAdapter, then the HTTP e2e suites again on scim-router/kysely
// (SQLite; PostgreSQL when SCIM_PG_URL is set; MariaDB when SCIM_MYSQL_URL is set), so every store
// passes the same tests. Arguments are passed to a single jest run instead.
'use strict'
const { spawnSync } = require('node:child_process')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

// The filter parser is generated here too, so `npm run scale` (no pretest hook) works on a fresh clone.
require('./codegen')
const jest = require.resolve('jest/bin/jest')
const args = process.argv.slice(2)
if (args.length > 0) {
  const r = spawnSync(process.execPath, [jest, ...args], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const passes = [{ name: 'all suites (MemoryAdapter)', env: {}, args: [] }]
if (!process.env.SCIM_PG_URL) console.log('SCIM_PG_URL is not set: the PostgreSQL suites are skipped (see README, Quick start).')
// The same e2e suites on scim-router/kysely (SCIM-owned mapping) on each database it supports,
// plus the example's connection admin API (its connections are kept by kyselyConnectionStore there)
// and its per-connection request log (kyselyRequestLog there).
const kyselyArgs = ['test/e2e', 'test/example/connections.test.ts', 'test/example/request-log.test.ts']
passes.push({ name: 'e2e on SQLite (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-sqlite' }, args: kyselyArgs })
if (process.env.SCIM_PG_URL) passes.push({ name: 'e2e on PostgreSQL (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-postgres' }, args: kyselyArgs })
if (process.env.SCIM_MYSQL_URL) passes.push({ name: 'e2e on MariaDB (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-mysql' }, args: kyselyArgs })
else console.log('SCIM_MYSQL_URL is not set: the MariaDB suites are skipped (scripts/mariadb-setup.sh).')

const dir = mkdtempSync(join(tmpdir(), 'scim-test-'))
let passed = 0
let failed = 0
let ok = true
const failures = []
for (const [i, pass] of passes.entries()) {
  console.log(`\n=== ${pass.name} ===`)
  const out = join(dir, `${i}.json`)
  const r = spawnSync(process.execPath, [jest, '--json', `--outputFile=${out}`, ...pass.args], {
    stdio: 'inherit',
    env: { ...process.env, ...pass.env },
  })
  try {
    const summary = JSON.parse(readFileSync(out, 'utf8'))
    passed += summary.numPassedTests
    failed += summary.numFailedTests
    // Named again at the end, so a long run's log says what failed without scrolling back.
    for (const file of summary.testResults ?? []) {
      for (const a of file.assertionResults ?? []) if (a.status === 'failed') failures.push(`${pass.name}: ${a.fullName}`)
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed')) failures.push(`${pass.name}: ${file.name}: ${String(file.message).split('\n').find((l) => l.trim()) ?? 'failed'}`)
    }
  } catch {
    failed++
    failures.push(`${pass.name}: no jest summary (exit ${r.status})`)
  }
  if (r.status !== 0) ok = false
}
rmSync(dir, { recursive: true, force: true })
console.log(`\nTests: ${passed} passed, ${failed} failed`)
if (failures.length > 0 || !ok) console.log(['Failed:', ...failures.map((f) => `  ${f}`), ...(failures.length === 0 ? ['  (a jest run exited non-zero with every test passing: see its output above, e.g. an error after tests ended)'] : [])].join('\n'))
process.exit(ok && failed === 0 ? 0 : 1)
