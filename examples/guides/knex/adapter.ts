/**
 * knex guide (docs/guides/knex.md): scim-router's Kysely adapter on the connections of the app's
 * knex instance (better-sqlite3 client). A small Kysely driver borrows a connection from knex's
 * pool for each query or transaction and gives it back, so knex and SCIM share one pool (and, on
 * an in-memory SQLite database, one database). Mapping: the existing-tables one.
 */
import type BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely'
import type { Knex } from 'knex'
import { kyselyAdapter, type KyselyAdapter } from '../../../src/kysely'
import { existingTablesMapping } from '../../existing-tables/mapping'

/** One better-sqlite3 connection borrowed from knex's pool. */
class KnexSqliteConnection implements DatabaseConnection {
  constructor(readonly raw: BetterSqlite3.Database) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.raw.prepare(compiled.sql)
    const params = compiled.parameters as unknown[]
    if (stmt.reader) return { rows: stmt.all(...params) as R[] }
    const run = stmt.run(...params)
    return { rows: [], numAffectedRows: BigInt(run.changes), insertId: BigInt(run.lastInsertRowid) }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.raw.prepare(compiled.sql)
    for (const row of stmt.iterate(...(compiled.parameters as unknown[]))) yield { rows: [row as R] }
  }
}

/** A Kysely driver whose connections are knex's (acquired and released through knex's pool). */
class KnexSqliteDriver implements Driver {
  constructor(private readonly knex: Knex) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new KnexSqliteConnection((await this.knex.client.acquireConnection()) as BetterSqlite3.Database)
  }
  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin'))
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'))
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'))
  }
  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    await this.knex.client.releaseConnection((conn as KnexSqliteConnection).raw)
  }
  async destroy(): Promise<void> {} // the pool is knex's: `knex.destroy()` ends it
}

/** A Kysely instance over the app's knex (client `better-sqlite3`). */
export function kyselyOverKnex(knex: Knex): Kysely<any> {
  const dialect: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new KnexSqliteDriver(knex),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  }
  return new Kysely<any>({ dialect })
}

/** scim-router's adapter over the app's tables, on knex's connections. */
export function scimOverKnex(knex: Knex): { db: Kysely<any>; adapter: KyselyAdapter } {
  const db = kyselyOverKnex(knex)
  return { db, adapter: kyselyAdapter({ db, dialect: 'sqlite', mapping: existingTablesMapping('iso') }) }
}
