/**
 * SqlAdapter on PostgreSQL passes the adapter conformance kit. Needs SCIM_PG_URL (CI sets it via
 * scripts/postgres-setup.sh). Set but unreachable → these tests FAIL; unset → skipped, visibly.
 */
import { randomBytes } from 'node:crypto'
import { Pool } from 'pg'
import { SqlAdapter } from '../../examples/sql-adapter'
import { describeAdapterConformance } from '../../src/testing'

const url = process.env['SCIM_PG_URL']
const schema = `scim_t_${randomBytes(5).toString('hex')}`

if (!url) {
  describe.skip('SqlAdapter (PostgreSQL): needs SCIM_PG_URL=postgres://… (scripts/postgres-setup.sh)', () => {
    it('conformance kit', () => undefined)
  })
} else {
  const pool = new Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 5000 })
  let run = 0
  describe('PostgreSQL connection', () => {
    it('SCIM_PG_URL is reachable', async () => {
      const r = await pool.query('SELECT 1 AS ok')
      expect(r.rows[0]).toEqual({ ok: 1 })
    })
  })
  describeAdapterConformance(
    'SqlAdapter (PostgreSQL)',
    () => SqlAdapter.postgres(pool, { schema }),
    { describe, it, expect },
    {
      // One schema for the run; every test gets two fresh tenants.
      contexts: () => {
        run++
        return [{ tenant: `a${run}` }, { tenant: `b${run}` }]
      },
    },
  )
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
    await pool.end()
  })
}
