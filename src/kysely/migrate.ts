/**
 * The migration helper of `scim-router/kysely`: the side tables and indexes a mapping needs so that
 * every IdP lookup (`id`, `userName`, `externalId`, `emails.value`, `displayName`,
 * `members.value`) is an index lookup, printed as SQL or applied through Kysely.
 * @module
 */
import { sql, type Kysely } from 'kysely'
import { resolveMapping, type KyselyDialectName, type KyselyMapping, type ResolvedResource } from './mapping'
import { detectDialect } from './dialect'
import { requestLogStatements } from './request-log'

/** Options of {@link migrationStatements} and {@link migrate}. */
export interface MigrationOptions {
  /**
   * Also create the mapped tables themselves (`CREATE TABLE IF NOT EXISTS`), for the SCIM-owned
   * layout of `scimTablesMapping()`. Default false: an app's existing tables are left alone and
   * only indexes are added to them.
   */
  createTables?: boolean
  /**
   * Also create the event outbox table `<prefix>events` of the adapter's durable delivery
   * (see {@link outboxStatements}). Default true.
   */
  outbox?: boolean
  /**
   * Also create the request log's tables `<prefix>requests` and `<prefix>request_resources`
   * (`kyselyRequestLog`, see {@link requestLogStatements}). Default true.
   */
  requestLog?: boolean
}

interface Types {
  key: (chars: number) => string
  valueKey: string
  text: string
  big: string
  bool: string
  json: string
  tableSuffix: string
}

const TYPES: Record<KyselyDialectName, Types> = {
  sqlite: { key: () => 'TEXT', valueKey: 'TEXT', text: 'TEXT', big: 'INTEGER', bool: 'INTEGER', json: 'TEXT', tableSuffix: '' },
  postgres: { key: () => 'TEXT', valueKey: 'TEXT', text: 'TEXT', big: 'BIGINT', bool: 'BOOLEAN', json: 'JSONB', tableSuffix: '' },
  // Binary collation: keys are folded by the adapter and must compare byte for byte; VARBINARY
  // keys also avoid PAD SPACE ('a' = 'a ').
  mysql: {
    key: (n) => `VARCHAR(${n}) COLLATE utf8mb4_bin`,
    valueKey: 'VARBINARY(255)',
    text: 'TEXT',
    big: 'BIGINT',
    bool: 'BOOLEAN',
    json: 'JSON',
    tableSuffix: ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  },
}

const bare = (table: string): string => table.slice(table.lastIndexOf('.') + 1)
const indexName = (table: string, what: string): string => `${bare(table)}_${what}`.slice(0, 60)

function createIndex(d: KyselyDialectName, table: string, what: string, columns: readonly string[]): string {
  // MySQL has no CREATE INDEX IF NOT EXISTS; migrate() skips "duplicate key name" instead.
  return `CREATE INDEX ${d === 'mysql' ? '' : 'IF NOT EXISTS '}${indexName(table, what)} ON ${table} (${columns.join(', ')})`
}

function tableStatements(d: KyselyDialectName, r: ResolvedResource): string[] {
  const t = TYPES[d]
  const cols = [`${r.id} ${t.key(64)} NOT NULL`]
  if (r.tenant) cols.push(`${r.tenant} ${t.key(64)} NOT NULL`)
  const instant = r.timestamps === 'epochMs' ? t.big : r.timestamps === 'iso' ? t.key(30) : d === 'mysql' ? 'DATETIME(3)' : d === 'postgres' ? 'TIMESTAMPTZ(3)' : 'TEXT'
  cols.push(`${r.version} ${t.big} NOT NULL`, `${r.created} ${instant} NOT NULL`, `${r.lastModified} ${instant} NOT NULL`)
  for (const c of r.columns) {
    const type = c.type === 'boolean' ? t.bool : c.type === 'integer' ? t.big : c.type === 'decimal' ? (d === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE') : t.text
    cols.push(`${c.column} ${type}`)
  }
  if (r.rest) cols.push(`${r.rest} ${t.json}`)
  cols.push(`PRIMARY KEY (${r.id})`)
  const out = [`CREATE TABLE IF NOT EXISTS ${r.table} (${cols.join(', ')})${t.tableSuffix}`]
  if (r.members) {
    const m = r.members
    const mc = [`${m.group} ${t.key(64)} NOT NULL`, `${m.member} ${t.key(64)} NOT NULL`]
    if (m.tenant) mc.push(`${m.tenant} ${t.key(64)} NOT NULL`)
    if (m.order) mc.push(`${m.order} ${t.big} NOT NULL`)
    out.push(`CREATE TABLE IF NOT EXISTS ${m.table} (${mc.join(', ')}, PRIMARY KEY (${m.group}, ${m.member}))${t.tableSuffix}`)
  }
  return out
}

/**
 * The SQL of the two tables `kyselyConnectionStore` keeps connections in: `<prefix>connections`
 * (one row per connection) and `<prefix>connection_tokens` (one row per active token, its SHA-256
 * hash only), with the `ADD COLUMN`s that bring a table made by an older version up to date.
 * Part of {@link migrationStatements}; on its own for a database whose resources are stored some
 * other way (apply them with the same error handling as {@link migrate}).
 */
export function connectionMigrationStatements(dialect: KyselyDialectName, prefix = 'scim_'): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix) && prefix !== '') throw new TypeError(`connectionMigrationStatements: invalid prefix '${prefix}'`)
  const t = TYPES[dialect]
  // `settings` and `decommission` (JSON text) came later: CREATE TABLE has them for a new
  // database, ADD COLUMN adds them to an older one. PostgreSQL has ADD COLUMN IF NOT EXISTS;
  // on SQLite and MySQL/MariaDB the ADD COLUMN of a column that exists fails, and migrate()
  // skips exactly that error.
  const add = (column: string) => `ALTER TABLE ${prefix}connections ADD COLUMN ${dialect === 'postgres' ? 'IF NOT EXISTS ' : ''}${column} ${t.text}`
  return [
    `CREATE TABLE IF NOT EXISTS ${prefix}connections (id ${t.key(64)} NOT NULL, tenant ${t.key(64)} NOT NULL, created_at ${t.big} NOT NULL, revoked_at ${t.big}, last_used_at ${t.big}, settings ${t.text}, decommission ${t.text}, PRIMARY KEY (id))${t.tableSuffix}`,
    add('settings'),
    add('decommission'),
    `CREATE TABLE IF NOT EXISTS ${prefix}connection_tokens (hash ${t.key(64)} NOT NULL, connection_id ${t.key(64)} NOT NULL, created_at ${t.big} NOT NULL, expires_at ${t.big}, PRIMARY KEY (hash))${t.tableSuffix}`,
    createIndex(dialect, `${prefix}connection_tokens`, 'connection', ['connection_id']),
  ]
}

/**
 * The SQL a mapping needs, in order: the side tables (`<prefix>values` for lookup keys,
 * `<prefix>unique` for uniqueness keys, `<prefix>connections` and `<prefix>connection_tokens` for
 * `kyselyConnectionStore`), optionally the mapped tables ({@link MigrationOptions.createTables}),
 * and the indexes: default order `(tenant, created, id)` on every mapped table, `(member, group)` on
 * membership tables (their primary key `(group, member)` serves the other direction). Statements
 * are idempotent on PostgreSQL (`IF NOT EXISTS`); on SQLite and MySQL/MariaDB, {@link migrate}
 * skips indexes that already exist (MySQL) and the `ADD COLUMN` of connection columns that exist.
 *
 * @example
 * ```ts
 * const ddl = migrationStatements(mapping, 'postgres').join(';\n') + ';'  // review, then apply
 * ```
 */
export function migrationStatements(mapping: KyselyMapping, dialect: KyselyDialectName, options: MigrationOptions = {}): string[] {
  const { resources, prefix } = resolveMapping(mapping)
  const t = TYPES[dialect]
  const V = `${prefix}values`
  const U = `${prefix}unique`
  const side = (pk: string) =>
    `tenant ${t.key(64)} NOT NULL, resource_type ${t.key(64)} NOT NULL, path ${t.key(160)} NOT NULL, value_key ${t.valueKey} NOT NULL, resource_id ${t.key(64)} NOT NULL, PRIMARY KEY (${pk})`
  const out = [
    `CREATE TABLE IF NOT EXISTS ${V} (${side('tenant, resource_type, path, value_key, resource_id')})${t.tableSuffix}`,
    createIndex(dialect, V, 'resource', ['resource_id']),
    `CREATE TABLE IF NOT EXISTS ${U} (${side('tenant, resource_type, path, value_key')})${t.tableSuffix}`,
    createIndex(dialect, U, 'resource', ['resource_id']),
    ...connectionMigrationStatements(dialect, prefix),
  ]
  for (const r of resources.values()) {
    if (options.createTables) out.push(...tableStatements(dialect, r))
    out.push(createIndex(dialect, r.table, 'scim_order', [...(r.tenant ? [r.tenant] : []), r.created, r.id]))
    if (r.members) out.push(createIndex(dialect, r.members.table, 'scim_member', [r.members.member, r.members.group]))
  }
  if (options.outbox !== false) out.push(...outboxStatements(dialect, `${prefix}events`))
  if (options.requestLog !== false) out.push(...requestLogStatements(dialect, prefix))
  return out
}

// ----------------------------------------------------------------------------- event outbox

/**
 * The DDL of the event outbox table (`<prefix>events` by default) and its indexes: `seq` in
 * commit order, the event `id` unique, payload as JSON; indexes for the claim
 * `(next_attempt_at, seq)` and per-resource order `(tenant, resource_type, resource_id, seq)`
 * (partial on pending rows where the database has partial indexes), the feed `(tenant, seq)` and
 * retention `(state, delivered_at)`; on MySQL/MariaDB also `<table>_order` (one row per tenant,
 * locked by a write before it inserts its events, so `seq` follows commit order per tenant).
 */
export function outboxStatements(dialect: KyselyDialectName, table: string): string[] {
  const t = TYPES[dialect]
  const pg = dialect === 'postgres'
  const seq = pg ? 'BIGSERIAL PRIMARY KEY' : dialect === 'mysql' ? 'BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'
  const pending = dialect === 'mysql' ? '' : " WHERE state = 'pending'"
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (seq ${seq}, id ${t.key(64)} NOT NULL, tenant ${t.key(160)} NOT NULL, resource_type ${t.key(64)} NOT NULL,
      resource_id ${t.key(64)} NOT NULL, type ${t.key(64)} NOT NULL, payload ${t.json} NOT NULL, state ${t.key(16)} NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at ${t.big} NOT NULL, lease_owner ${t.key(160)}, lease_until ${t.big},
      created_at ${t.big} NOT NULL, delivered_at ${t.big}, last_error ${t.text}, CONSTRAINT ${indexName(table, 'id')} UNIQUE (id))${t.tableSuffix}`,
    createIndex(dialect, table, 'claim', ['next_attempt_at', 'seq']) + pending,
    createIndex(dialect, table, 'resource', ['tenant', 'resource_type', 'resource_id', 'seq']) + pending,
    createIndex(dialect, table, 'feed', ['tenant', 'seq']),
    createIndex(dialect, table, 'delivered', ['state', 'delivered_at']),
    // A resource's history in every state (the 'resource' index above is partial on pending rows there).
    ...(dialect === 'mysql' ? [] : [createIndex(dialect, table, 'history', ['tenant', 'resource_type', 'resource_id', 'seq'])]),
    // MySQL/MariaDB: one row per tenant, locked by each write right before its events are
    // inserted and held to COMMIT, so `seq` order is commit order per tenant.
    ...(dialect === 'mysql' ? [`CREATE TABLE IF NOT EXISTS ${table}_order (tenant ${t.key(160)} NOT NULL, PRIMARY KEY (tenant))${t.tableSuffix}`] : []),
  ]
}

// ----------------------------------------------------------------------------- end event outbox

/**
 * Apply {@link migrationStatements} through a Kysely instance (dialect detected from it). Safe to
 * run on every start and from several processes (PostgreSQL: under an advisory lock).
 */
export async function migrate(db: Kysely<any>, mapping: KyselyMapping, options: MigrationOptions & { dialect?: KyselyDialectName } = {}): Promise<void> {
  const dialect = options.dialect ?? detectDialect(db)
  const statements = migrationStatements(mapping, dialect, options)
  if (dialect === 'postgres') {
    await db.transaction().execute(async (tx) => {
      await sql`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${'scim-router:kysely:migrate'}))`.execute(tx)
      for (const s of statements) await sql.raw(s).execute(tx)
    })
    return
  }
  for (const s of statements) {
    try {
      await sql.raw(s).execute(db)
    } catch (err) {
      // ER_DUP_KEYNAME: the index exists already (MySQL has no CREATE INDEX IF NOT EXISTS).
      if (dialect === 'mysql' && (err as { errno?: unknown }).errno === 1061) continue
      if (existingColumn(dialect, s, err)) continue
      throw err
    }
  }
}

/** An `ALTER TABLE … ADD COLUMN` that failed only because the column exists (SQLite, MySQL/MariaDB ER_DUP_FIELDNAME). */
function existingColumn(dialect: KyselyDialectName, statement: string, err: unknown): boolean {
  if (!/^ALTER TABLE \S+ ADD COLUMN /.test(statement)) return false
  if (dialect === 'mysql') return (err as { errno?: unknown }).errno === 1060
  return dialect === 'sqlite' && /duplicate column name/i.test(String((err as Error)?.message))
}
