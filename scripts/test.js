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
// plus the example's connection admin API (its connections are kept by kyselyConnectionStore there).
const kyselyArgs = ['test/e2e', 'test/example/connections.test.ts']
passes.push({ name: 'e2e on SQLite (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-sqlite' }, args: kyselyArgs })
if (process.env.SCIM_PG_URL) passes.push({ name: 'e2e on PostgreSQL (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-postgres' }, args: kyselyArgs })
if (process.env.SCIM_MYSQL_URL) passes.push({ name: 'e2e on MariaDB (KyselyAdapter)', env: { SCIM_TEST_STORE: 'kysely-mysql' }, args: kyselyArgs })
else console.log('SCIM_MYSQL_URL is not set: the MariaDB suites are skipped (scripts/mariadb-setup.sh).')

const dir = mkdtempSync(join(tmpdir(), 'scim-test-'))
let passed = 0
let failed = 0
let ok = true
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
  } catch {
    failed++
  }
  if (r.status !== 0) ok = false
}
rmSync(dir, { recursive: true, force: true })
console.log(`\nTests: ${passed} passed, ${failed} failed`)
process.exit(ok && failed === 0 ? 0 : 1)
