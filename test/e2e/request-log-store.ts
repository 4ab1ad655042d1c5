/**
 * The request log that goes with the store under test (issue 15): MemoryRequestLog on the memory
 * pass, kyselyRequestLog on the kysely-* passes (a fresh SQLite, PostgreSQL schema
 * or MariaDB database, migrated, dropped after the file).
 */
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { MemoryRequestLog, type RequestLog } from '../../src'
import { kyselyRequestLog, migrate, scimTablesMapping } from '../../src/kysely'
import { mysqlStore, postgresStore, type Store } from '../kysely/stores'

const STORE = process.env['SCIM_TEST_STORE'] ?? 'memory'
const opened: Store[] = []
afterAll(async () => {
  for (const s of opened.splice(0)) await s.drop()
})
/** A fresh request log on the store under test. */
export async function requestLogStore(): Promise<RequestLog> {
  if (!STORE.startsWith('kysely-')) return new MemoryRequestLog()
  let store: Store
  if (STORE === 'kysely-sqlite') {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    store = { db, dialect: 'sqlite', drop: () => db.destroy() }
  } else store = STORE === 'kysely-postgres' ? await postgresStore() : await mysqlStore()
  opened.push(store)
  await migrate(store.db, scimTablesMapping(), { createTables: true, outbox: false })
  return kyselyRequestLog(store.db)
}

