/** SqlAdapter on embedded SQLite (:memory:) passes the adapter conformance kit. */
import { SqlAdapter } from '../../examples/sql-adapter'
import { describeAdapterConformance } from '../../src/testing'

const report: { checked: number; skipped: string[]; nonEmpty: number }[] = []

describeAdapterConformance('SqlAdapter (SQLite :memory:)', () => SqlAdapter.sqlite(':memory:'), { describe, it, expect }, {
  teardown: (a) => (a as SqlAdapter).close(),
  onFilterReport: (r) => report.push(r),
})

afterAll(() => {
  // Visible with SCIM_REPORT=1: how much of the random filter set was pushed down to SQL.
  if (process.env['SCIM_REPORT']) process.stdout.write(`\nSQLite pushdown: ${JSON.stringify(report, null, 1)}\n`)
})
