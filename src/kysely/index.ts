/**
 * `scim-router/kysely`: a declarative SQL adapter. One mapping per resource type — the table; its
 * id, tenant, version, created and lastModified columns; attributes (sub-attributes and extension
 * attributes included) to columns; everything else to an optional JSON column; Group membership to
 * a join table — and the adapter derives reads, writes, filtering, uniqueness, compare-and-swap,
 * membership and keyset cursors from it, on PostgreSQL, MySQL/MariaDB and SQLite through Kysely's
 * own dialects. The app brings the driver (`pg`, `mysql2` or `better-sqlite3`) and the Kysely
 * instance; tables may be the app's existing ones.
 *
 * How it stores what SCIM needs beside the app's columns:
 * - `<prefix>values` (tenant, resource_type, path, value_key, resource_id): the folded keys of the
 *   lookup paths (`userName`, `externalId`, `displayName`, `emails.value` by default), written with
 *   every change. `eq` on them is an index lookup and exact, on every dialect, without database
 *   collations or functional indexes (keys are folded in JavaScript exactly like the filter
 *   evaluator: NFC, case folding unless caseExact, `userName`'s full fold).
 * - `<prefix>unique` (tenant, resource_type, path, value_key) primary key: the uniqueness
 *   constraints of each write, inserted in the write's transaction, so the database's primary key
 *   decides a race (409 uniqueness), atomically with the write (RFC 7644 §3.3).
 * - Writes are a compare-and-swap on the version column, in one transaction with the row locked
 *   (`FOR UPDATE`; SQLite transactions are serial); deadlocks are retried.
 *
 * Filters: the parts an index serves (`id`, lookup keys, `members.value`, `groups.value`,
 * `meta.created`/`meta.lastModified` ranges) become SQL; what SQL decides exactly is paged in SQL
 * (`LIMIT`/`OFFSET`, keyset cursors on `(created, id)`). Anything else is an index-friendly
 * superset in SQL, decided with the evaluator's exact rule on the candidates in memory (at most
 * `maxInMemory`, else 400 tooMany); so is a `sortBy`.
 *
 * Rows written by the app itself, not through the adapter, have no keys in the side tables until
 * they are written through SCIM: provision existing rows through SCIM, or insert their keys.
 *
 * @example
 * ```ts
 * import { Kysely, SqliteDialect } from 'kysely'
 * import Database from 'better-sqlite3'
 * import { kyselyAdapter, migrate, scimTablesMapping, sqliteStatementCache } from 'scim-router/kysely'
 *
 * const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqliteStatementCache(new Database('scim.db')) }) })
 * const mapping = scimTablesMapping()
 * await migrate(db, mapping, { createTables: true })
 * app.use('/scim/v2', scimRouter(kyselyAdapter({ db, mapping }), { authenticate }))
 * ```
 * @module
 */
export { KyselyAdapter, kyselyAdapter } from './adapter'
export type { KyselyAdapterOptions } from './adapter'
export { scimTablesMapping } from './mapping'
export type { ColumnSpec, KyselyDialectName, KyselyMapping, MembersMapping, ResourceMapping, TimestampStorage } from './mapping'
export { connectionMigrationStatements, migrate, migrationStatements, outboxStatements } from './migrate'
export { KyselyOutbox } from './outbox'
export type { MigrationOptions } from './migrate'
export { sqliteStatementCache } from './statements'
export type { SqliteStatementCacheOptions } from './statements'
export { kyselyConnectionStore } from './connections'
export type { KyselyConnectionStoreOptions } from './connections'
export { kyselyRequestLog, requestLogStatements } from './request-log'
export type { KyselyRequestLogOptions } from './request-log'
