/**
 * A prepared-statement cache for Kysely's `SqliteDialect`: the dialect prepares every query anew
 * (`database.prepare(sql)` on each execution), which costs more than running it for the indexed
 * one-row statements SCIM requests make. The adapter's statements have a few fixed shapes, so
 * caching them by SQL text removes that cost.
 * @module
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** Options of {@link sqliteStatementCache}. */
export interface SqliteStatementCacheOptions {
  /** Most statements kept (least recently used dropped first). Default 200. */
  size?: number
}

/**
 * Wrap a better-sqlite3 `Database` (or anything with its `prepare`/`close`) so that `prepare`
 * returns a cached statement for SQL text it has seen, for `new SqliteDialect({ database })`.
 * A cached statement still iterating (`busy`, a Kysely `stream()` in progress) is not handed out
 * twice: a fresh one is prepared instead. `close()` drops the cache and closes the database.
 *
 * @example
 * ```ts
 * const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqliteStatementCache(new Database('scim.db')) }) })
 * ```
 */
export function sqliteStatementCache(database: SqliteDatabase, options: SqliteStatementCacheOptions = {}): SqliteDatabase {
  const size = options.size ?? 200
  if (!Number.isInteger(size) || size < 1) throw new TypeError('sqliteStatementCache: size must be a positive integer')
  const cache = new Map<string, SqliteStatement>()
  return {
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql)
      if (hit && !(hit as { busy?: boolean }).busy) {
        cache.delete(sql) // most recently used last
        cache.set(sql, hit)
        return hit
      }
      const stmt = database.prepare(sql)
      if (!hit) {
        cache.set(sql, stmt)
        if (cache.size > size) cache.delete(cache.keys().next().value as string)
      }
      return stmt
    },
    close(): void {
      cache.clear()
      database.close()
    },
  }
}
