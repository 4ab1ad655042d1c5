/**
 * Dialect detection and the few per-dialect details the Kysely adapter needs (error codes,
 * row locks, value encodings).
 * @module
 */
import { MysqlAdapter, PostgresAdapter, SqliteAdapter, type Kysely } from 'kysely'
import type { KyselyDialectName } from './mapping'

/** The dialect of a Kysely instance (PostgresDialect, MysqlDialect or SqliteDialect, or a dialect built on their adapters). */
export function detectDialect(db: Kysely<any>): KyselyDialectName {
  const adapter = db.getExecutor().adapter
  if (adapter instanceof PostgresAdapter) return 'postgres'
  if (adapter instanceof MysqlAdapter) return 'mysql'
  if (adapter instanceof SqliteAdapter) return 'sqlite'
  throw new TypeError('kyselyAdapter: unsupported Kysely dialect; use PostgresDialect, MysqlDialect or SqliteDialect, or pass `dialect`')
}

/** A duplicate-key error of a unique index or primary key. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown }
  return e.code === '23505' || e.errno === 1062 || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/** A deadlock or serialization failure: the transaction may be retried. */
export function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown }
  return e.code === '40P01' || e.code === '40001' || e.errno === 1213
}
