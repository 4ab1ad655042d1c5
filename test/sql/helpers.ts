/** Shared setup of the SQL adapter tests: SQLite always, PostgreSQL when SCIM_PG_URL is set. */
import { randomBytes } from 'node:crypto'
import { Pool } from 'pg'
import { SqlAdapter } from '../../examples/sql-adapter'

export interface Db {
  name: string
  make(): Promise<{ adapter: SqlAdapter<{ tenant: string }>; close(): Promise<void> }>
}

export const PG_URL = process.env['SCIM_PG_URL']

/** SQLite always; PostgreSQL when SCIM_PG_URL is set (unreachable → the tests fail, never skip). */
export function databases(): Db[] {
  const dbs: Db[] = [
    {
      name: 'SQLite',
      make: async () => {
        const adapter = SqlAdapter.sqlite<{ tenant: string }>(':memory:')
        return { adapter, close: () => adapter.close() }
      },
    },
  ]
  if (PG_URL) {
    dbs.push({
      name: 'PostgreSQL',
      make: async () => {
        const pool = new Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 5000 })
        const schema = `scim_t_${randomBytes(5).toString('hex')}`
        const adapter = SqlAdapter.postgres<{ tenant: string }>(pool, { schema })
        return {
          adapter,
          close: async () => {
            await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
            await pool.end()
          },
        }
      },
    })
  }
  return dbs
}
