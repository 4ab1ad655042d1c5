/**
 * `SqlAdapter`: a complete, copyable `ScimAdapter` over SQL, for embedded SQLite (better-sqlite3)
 * and PostgreSQL (pg), with filter and sort pushdown through `scim-router/sql`.
 *
 * Why plain drivers rather than a query builder such as Kysely: the only dynamic SQL here is the
 * WHERE/ORDER BY that `scim-router/sql` already builds as parameterised fragments; everything else
 * is a dozen fixed statements. A builder would add a dependency and a second abstraction over the
 * same fragments, while hiding what matters for correctness (`UPDATE … WHERE version = ?`
 * row counts, `ON CONFLICT DO NOTHING`, `RETURNING`, one client per transaction, `FOR UPDATE`).
 * The adapter talks to a four-method {@link SqlDriver}; porting to another driver or to Kysely's
 * `sql` template means re-implementing that interface only.
 *
 * Storage layout (created on first use with CREATE TABLE IF NOT EXISTS; `scim_` is the default
 * table prefix):
 * - `scim_resources` (tenant, id) primary key: resource_type, version (integer, +1 per write),
 *   created / last_modified (epoch ms, so SQL order = time order), user_name_key and
 *   display_name_key (`foldCase`: NFC and full case folding, exactly like the filter evaluator),
 *   external_id (NFC), and `doc`: the attributes as JSON (TEXT in SQLite, jsonb in PostgreSQL),
 *   every string exactly as sent (MT-011). Comparisons on `doc` values NFC-normalise (and fold)
 *   inside SQL: in PostgreSQL `normalize(x, NFC)` and the SQL function `<prefix>fold` that this
 *   adapter creates from the same case-folding table as `foldCase`; in SQLite the JS functions
 *   `scim_nfc` / `scim_fold` (= `foldCase`) registered on the connection. Ids are UUIDv7 with a monotonic counter, so
 *   (created, id) is creation order. Group `members` and User `groups` are never in `doc`.
 * - `scim_members` (tenant, group_id, member_id, member_type, ord): Group membership, one row per
 *   member, with foreign keys to both resources (ON DELETE CASCADE). Adding a member is a row
 *   insert: a group's size never makes a write rewrite a document. `User.groups` and
 *   `members[].display` are derived from it at read time.
 * - `scim_values` (tenant, resource_type, path, value_key, resource_id): folded values of
 *   multi-valued sub-attributes that IdPs look up (`emails.value` by default), so that
 *   `emails.value eq "…"` is an index lookup.
 * - `scim_unique` (tenant, resource_type, path, value_key) primary key → resource_id: the
 *   uniqueness constraints that arrive with each write (`unique`), enforced atomically by the
 *   primary key inside the write's transaction (`INSERT … ON CONFLICT DO NOTHING`; no row inserted
 *   → 409). Any path works, so hosts never add DDL for a new unique attribute; a unique-violation
 *   error from the driver on this table is mapped to `UniquenessError` as well.
 *
 * Indexes make the IdP lookups index lookups (see test/sql/explain.test.ts): `id eq` (primary
 * key), `userName eq`, `externalId eq`, `displayName eq` (tenant, resource_type, key), `emails.value
 * eq` (scim_values), `members.value eq` (scim_members by member). Default order (created, id) has
 * its own index; the lookup indexes end with (created, id), so a lookup's page needs no sort.
 *
 * `listByCursor` (RFC 9865) is a keyset query on (sort key, created, id); see its TSDoc.
 *
 * Writes are compare-and-swap inside the database: `UPDATE … WHERE id = ? AND version = ?` and the
 * affected row count decide between success, 404 and 412; multi-statement writes run in one
 * transaction (SQLite: BEGIN IMMEDIATE on a serialised connection; PostgreSQL: one pooled client
 * per transaction, retried on deadlock/serialization failure). A Group write that changes who is
 * in it (or renames it) also bumps the version and last_modified of the members whose derived
 * `groups` changed, and renaming a resource (`displayName`, else `userName`) bumps the groups whose
 * `members[].display` it changes, in the same transaction (ETG-002), like MemoryAdapter.
 * @module
 */
import type { Pool, PoolClient } from 'pg'
import type BetterSqlite3 from 'better-sqlite3'
import {
  InvalidCursorError,
  InvalidValueError,
  NotFoundError,
  PreconditionFailedError,
  TooManyError,
  UniquenessError,
  foldCase,
  type AttributeInfo,
  type CreateQuery,
  type DeleteQuery,
  type GetQuery,
  type ListQuery,
  type ListResult,
  type ReplaceQuery,
  type ScimAdapter,
  type SortSpec,
  type StoredResource,
  type UniqueConstraint,
  uuidv7,
} from '../src'
import { keysetPage } from '../src/keyset'
import { FULL as FULL_FOLDS, SIMPLE_RUNS } from '../src/schema/casefold-table'
import { SqlOutbox } from './sql-outbox'
import type { OutboxEvents } from '../src/adapter'
// Not (yet) re-exported by the package entry point.
import type { CursorListQuery, CursorListResult, ModifyMembersQuery, ModifyMembersResult } from '../src/adapter'
import type { FilterNode } from '../src/filter/ast'
import { compileFilter } from '../src/filter/evaluate'
import { compareDefault, compareForSort } from '../src/filter/compare'
import { createRegistry } from '../src/schema/registry'
import {
  enterpriseUserSchema,
  GROUP_SCHEMA,
  groupResourceType,
  groupSchema,
  USER_SCHEMA,
  userResourceType,
  userSchema,
} from '../src/schema/core-schemas'
import {
  joinSql,
  prepareValue,
  raw,
  renderSql,
  sql,
  translateFilter,
  translateSort,
  translateSortKey,
  type AttributeStorage,
  type SqlDialect,
  type SqlFragment,
  type SqlMapping,
  type TranslateOptions,
} from '../src/sql'

// ----------------------------------------------------------------------------- drivers

/** A row as returned by a driver. */
export type Row = Record<string, unknown>

/** Runs one statement. `text` uses the dialect's placeholders (`?` / `$n`). */
export interface SqlExecutor {
  query(text: string, values: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }>
}

/** The tiny driver interface {@link SqlAdapter} needs. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: SqlDialect
  /**
   * Run `fn` in one transaction (one connection); commit when it resolves, roll back when it throws.
   * With `signal`: never begin or commit once it is aborted (roll back and throw `signal.reason`).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, signal?: AbortSignal): Promise<T>
  /** Run several reads with no write in between where the database needs help (SQLite); no transaction. */
  read<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/**
 * Unicode case fold used by SQLite for non-caseExact comparisons (its built-in lower() is
 * ASCII-only): `foldCase`, exactly like the filter evaluator.
 */
const SQLITE_FOLD = 'scim_fold'
/** NFC normalisation used by SQLite for caseExact comparisons (stored strings are kept as sent, MT-011). */
const SQLITE_NFC = 'scim_nfc'

/**
 * A driver over better-sqlite3 (a file path, `':memory:'`, or an open Database). better-sqlite3 is
 * synchronous, so statements never interleave; transactions are serialised by a queue so that an
 * `await` inside one never lets another statement in between.
 */
export function sqliteDriver(database: string | BetterSqlite3.Database): SqlDriver {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as typeof BetterSqlite3
  const db = typeof database === 'string' ? new Database(database) : database
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  if (db.name !== ':memory:' && db.name !== '') db.pragma('journal_mode = WAL')
  db.function(SQLITE_FOLD, { deterministic: true }, (v: unknown) => (typeof v === 'string' ? foldCase(v) : v))
  db.function(SQLITE_NFC, { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.normalize('NFC') : v))
  const cache = new Map<string, BetterSqlite3.Statement>()
  const exec: SqlExecutor = {
    async query(text, values) {
      let stmt = cache.get(text)
      if (!stmt) {
        stmt = db.prepare(text)
        if (cache.size > 500) cache.clear()
        cache.set(text, stmt)
      }
      const params = values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v))
      if (stmt.reader) {
        const rows = stmt.all(...params) as Row[]
        return { rows, rowCount: rows.length }
      }
      const info = stmt.run(...params)
      return { rows: [], rowCount: info.changes }
    },
  }
  let tail: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }
  return {
    dialect: 'sqlite',
    query: (text, values) => exclusive(() => exec.query(text, values)),
    read: (fn) => exclusive(() => fn(exec)),
    transaction: (fn, signal) =>
      exclusive(async () => {
        signal?.throwIfAborted()
        db.prepare('BEGIN IMMEDIATE').run()
        try {
          const out = await fn(exec)
          signal?.throwIfAborted() // the request's deadline passed: roll back instead
          db.prepare('COMMIT').run()
          return out
        } catch (err) {
          if (db.inTransaction) db.prepare('ROLLBACK').run()
          throw err
        }
      }),
    close: async () => {
      await exclusive(async () => db.close())
    },
  }
}

/**
 * A driver over a pg `Pool` (or a connection string). Each transaction uses one client from the
 * pool and is retried (up to 3 times) on deadlock (40P01) or serialization failure (40001).
 * When the transaction's signal aborts, the statement in flight is cancelled
 * (`pg_cancel_backend`, e.g. a lock wait), the transaction is rolled back instead of committed,
 * and the connection is discarded rather than returned to the pool, so that a late cancel can
 * never reach another transaction on it.
 */
export function postgresDriver(pool: Pool | string): SqlDriver {
  let owned = false
  if (typeof pool === 'string') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pg = require('pg') as typeof import('pg')
    pool = new pg.Pool({ connectionString: pool, max: 10 })
    owned = true
  }
  const p = pool
  const run = async (c: Pool | PoolClient, text: string, values: readonly unknown[]) => {
    const r = await c.query(text, values as unknown[])
    return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 }
  }
  return {
    dialect: 'postgres',
    query: (text, values) => run(p, text, values),
    read: (fn) => fn({ query: (text, values) => run(p, text, values) }),
    async transaction(fn, signal) {
      for (let attempt = 0; ; attempt++) {
        signal?.throwIfAborted()
        const client = await p.connect()
        let working = true
        let aborted = false
        const onAbort = (): void => {
          aborted = true
          const pid = (client as unknown as { processID?: unknown }).processID
          // Only while our statements run: a cancel during COMMIT could not be told apart.
          if (working && typeof pid === 'number') void p.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        try {
          await client.query('BEGIN')
          const out = await fn({ query: (text, values) => run(client, text, values) })
          working = false
          signal?.throwIfAborted() // the request's deadline passed: roll back instead
          await client.query('COMMIT')
          return out
        } catch (err) {
          working = false
          await client.query('ROLLBACK').catch(() => undefined)
          if (signal?.aborted) throw signal.reason
          const code = (err as { code?: unknown }).code
          if ((code === '40P01' || code === '40001') && attempt < 3) continue
          throw err
        } finally {
          signal?.removeEventListener('abort', onAbort)
          client.release(aborted)
        }
      }
    },
    close: async () => {
      if (owned) await p.end()
    },
  }
}

// ----------------------------------------------------------------------------- adapter

/** A multi-valued sub-attribute kept in the `values` side table for index lookups. */
export interface IndexedValuePath {
  resourceType: string
  /** Canonical path, e.g. `emails.value`. */
  path: string
  caseExact: boolean
}

/** Options of {@link SqlAdapter}. */
export interface SqlAdapterOptions<Ctx> {
  /** The tenant of a request. Default: `ctx.tenant` when it is a string, else `"default"`. */
  tenant?: (ctx: Ctx) => string
  /** Prefix of every table and index name. Default `scim_`. Letters, digits and `_` only. */
  tablePrefix?: string
  /** PostgreSQL schema holding the tables (created if missing). Default: the search_path. */
  schema?: string
  /** Allow Groups as members of Groups. Default false: a Group member id is 400 invalidValue (PAT-064). */
  nestedGroups?: boolean
  /** Multi-valued sub-attributes indexed for lookups. Default `[{ User, emails.value, caseExact false }]`. */
  indexedValues?: readonly IndexedValuePath[]
  /**
   * Most resources `list` evaluates in memory when a filter or sort cannot be pushed down (the
   * router normally never asks: `canFilter` says false first). Default 10,000; over it, TooManyError.
   */
  maxInMemory?: number
  /**
   * Keep the event outbox (default true): the table `<prefix>events`, written in each write's
   * transaction, and `adapter.outbox` for the router's durable delivery and feed (see
   * examples/sql-outbox.ts). False: no outbox, events are delivered once after the commit.
   */
  outbox?: boolean
}

interface ResourceRow {
  id: string
  resource_type: string
  version: unknown
  created: unknown
  last_modified: unknown
  doc: unknown
}

const registry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const userNameInfo = registry.byName('User')!.core.get('username')!
const displayNameInfo = registry.byName('Group')!.core.get('displayname')!

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const COLUMNS = 'r.id, r.resource_type, r.version, r.created, r.last_modified, r.doc'

/** Value at a canonical attribute path (`userName`, `name.givenName`, `urn:…:User:employeeNumber`). */
function readPath(attrs: Record<string, unknown>, path: string): unknown {
  let container: unknown = attrs
  let rest = path
  if (path.startsWith('urn:')) {
    const urn = Object.keys(attrs).filter((k) => path.startsWith(k + ':')).sort((a, b) => b.length - a.length)[0]
    if (!urn) return undefined
    container = attrs[urn]
    rest = path.slice(urn.length + 1)
  }
  for (const key of rest.split('.')) {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return undefined
    container = (container as Record<string, unknown>)[key]
  }
  return container
}

/** Values of a (possibly multi-valued) path such as `emails.value`. */
function readValues(attrs: Record<string, unknown>, path: string): string[] {
  const [head, sub] = path.split('.') as [string, string | undefined]
  const v = attrs[head]
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v]
  const out: string[] = []
  for (const el of list) {
    const x = sub === undefined ? el : el !== null && typeof el === 'object' ? (el as Record<string, unknown>)[sub] : undefined
    if (typeof x === 'string') out.push(x)
  }
  return out
}

/**
 * Comparison key of a stored value (unique keys, side-table lookup keys): the same preparation the
 * filter evaluator uses (NFC, and `foldCase` unless caseExact), so a value that an IdP lookup would
 * find twice can never be stored twice (`STRASSE`, `Straße` and `STRAẞE` collide).
 */
const fold = (s: string, caseExact: boolean): string => (caseExact ? s.normalize('NFC') : foldCase(s))

const sqlText = (s: string): string => `'${s.replace(/'/g, "''")}'`

/**
 * The body of the PostgreSQL fold function: `foldCase` in SQL, from the same generated table.
 * NFC, then the single-code-point foldings with one `translate` (ASCII-only text takes a shortcut),
 * then the multi-code-point ones with `replace`, then NFC again.
 */
function postgresFoldSql(): string {
  let from = ''
  let to = ''
  for (let i = 0; i + 3 < SIMPLE_RUNS.length; i += 4) {
    const [first, count, step, delta] = SIMPLE_RUNS.slice(i, i + 4) as [number, number, number, number]
    for (let k = 0; k < count; k++) {
      from += String.fromCodePoint(first + k * step)
      to += String.fromCodePoint(first + k * step + delta)
    }
  }
  let expr = `translate(normalize(s, NFC), ${sqlText(from)}, ${sqlText(to)})`
  for (const [cp, folded] of FULL_FOLDS) expr = `replace(${expr}, ${sqlText(String.fromCodePoint(cp))}, ${sqlText(folded)})`
  const ascii = `translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`
  return `SELECT CASE WHEN s ~ '^[\x01-\x7f]*$' THEN ${ascii} ELSE normalize(${expr}, NFC) END`
}

/**
 * A `ScimAdapter` over SQLite or PostgreSQL.
 *
 * @example
 * ```ts
 * const adapter = SqlAdapter.sqlite('./scim.db')               // or ':memory:'
 * const adapter = SqlAdapter.postgres(process.env.DATABASE_URL!) // or a pg Pool
 * app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken(token) }))
 * ```
 */
export class SqlAdapter<Ctx = unknown> implements ScimAdapter<Ctx> {
  readonly capabilities = { sort: true, changePassword: false }
  readonly driver: SqlDriver
  readonly #tenantOf: (ctx: Ctx) => string
  readonly #t: { resources: string; members: string; values: string; unique: string; fold: string; prefix: string }
  readonly #schema: string | undefined
  readonly #indexed: readonly IndexedValuePath[]
  readonly #maxInMemory: number
  #ready: Promise<void> | undefined
  /** The event outbox (ScimAdapter.outbox), unless `outbox: false`. */
  readonly outbox?: SqlOutbox<Ctx>

  /** Open (or create) a SQLite database file, or `':memory:'`. */
  static sqlite<C = unknown>(file: string | BetterSqlite3.Database, options?: SqlAdapterOptions<C>): SqlAdapter<C> {
    return new SqlAdapter<C>(sqliteDriver(file), options)
  }

  /** Use a PostgreSQL pool or connection string. */
  static postgres<C = unknown>(pool: Pool | string, options?: SqlAdapterOptions<C>): SqlAdapter<C> {
    return new SqlAdapter<C>(postgresDriver(pool), options)
  }

  readonly #nestedGroups: boolean

  constructor(driver: SqlDriver, options: SqlAdapterOptions<Ctx> = {}) {
    this.driver = driver
    this.#nestedGroups = options.nestedGroups === true
    this.#tenantOf =
      options.tenant ??
      ((ctx: Ctx) => {
        const t = (ctx as { tenant?: unknown } | null | undefined)?.tenant
        return typeof t === 'string' ? t : 'default'
      })
    const prefix = options.tablePrefix ?? 'scim_'
    if (!IDENT.test(prefix)) throw new TypeError(`SqlAdapter: invalid tablePrefix '${prefix}'`)
    if (options.schema !== undefined && (!IDENT.test(options.schema) || driver.dialect !== 'postgres')) {
      throw new TypeError('SqlAdapter: schema must be an identifier, and is for PostgreSQL only')
    }
    this.#schema = options.schema
    const q = options.schema ? `${options.schema}.` : ''
    this.#t = { resources: `${q}${prefix}resources`, members: `${q}${prefix}members`, values: `${q}${prefix}values`, unique: `${q}${prefix}unique`, fold: `${q}${prefix}fold`, prefix }
    this.#indexed = options.indexedValues ?? [{ resourceType: 'User', path: 'emails.value', caseExact: false }]
    this.#maxInMemory = options.maxInMemory ?? 10_000
    if (options.outbox !== false) this.outbox = new SqlOutbox<Ctx>(driver, `${q}${prefix}events`, prefix, this.#tenantOf, () => this.init())
  }

  /** Record a write's events in its transaction: its last statement before COMMIT (ScimAdapter.outbox). */
  async #record<R>(tx: SqlExecutor, tenant: string, events: OutboxEvents<R> | undefined, result: R): Promise<R> {
    if (events && this.outbox) await this.outbox.record(tx, tenant, events(result))
    return result
  }

  get #pg(): boolean {
    return this.driver.dialect === 'postgres'
  }

  /** The SQL function (`foldCase` in SQL) that non-caseExact comparisons inside SQL use. */
  get foldFunction(): string {
    return this.#pg ? this.#t.fold : SQLITE_FOLD
  }

  // ------------------------------------------------------------------ schema

  /** Create tables and indexes if missing. Called automatically before the first operation. */
  init(): Promise<void> {
    this.#ready ??= this.#createSchema().catch((err) => {
      this.#ready = undefined
      throw err
    })
    return this.#ready
  }

  async #createSchema(): Promise<void> {
    const { resources: R, members: M, values: V, unique: U, prefix: p } = this.#t
    const pg = this.#pg
    const json = pg ? 'JSONB' : 'TEXT'
    const big = pg ? 'BIGINT' : 'INTEGER'
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${R} (
        tenant TEXT NOT NULL, id TEXT NOT NULL, resource_type TEXT NOT NULL,
        version ${big} NOT NULL, created ${big} NOT NULL, last_modified ${big} NOT NULL,
        user_name_key TEXT, external_id TEXT, display_name_key TEXT, doc ${json} NOT NULL,
        CONSTRAINT ${p}resources_pk PRIMARY KEY (tenant, id))`,
      `CREATE INDEX IF NOT EXISTS ${p}resources_order ON ${R} (tenant, resource_type, created, id)`,
      `CREATE INDEX IF NOT EXISTS ${p}resources_user_name ON ${R} (tenant, resource_type, user_name_key, created, id)`,
      `CREATE INDEX IF NOT EXISTS ${p}resources_external_id ON ${R} (tenant, resource_type, external_id, created, id)`,
      `CREATE INDEX IF NOT EXISTS ${p}resources_display_name ON ${R} (tenant, resource_type, display_name_key, created, id)`,
      `CREATE TABLE IF NOT EXISTS ${M} (
        tenant TEXT NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL, ord ${big} NOT NULL,
        CONSTRAINT ${p}members_pk PRIMARY KEY (tenant, group_id, member_id),
        CONSTRAINT ${p}members_group_fk FOREIGN KEY (tenant, group_id) REFERENCES ${R} (tenant, id) ON DELETE CASCADE,
        CONSTRAINT ${p}members_member_fk FOREIGN KEY (tenant, member_id) REFERENCES ${R} (tenant, id) ON DELETE CASCADE)`,
      `CREATE INDEX IF NOT EXISTS ${p}members_member ON ${M} (tenant, member_id, group_id)`,
      `CREATE TABLE IF NOT EXISTS ${V} (
        tenant TEXT NOT NULL, resource_type TEXT NOT NULL, path TEXT NOT NULL, value_key TEXT NOT NULL, resource_id TEXT NOT NULL,
        CONSTRAINT ${p}values_pk PRIMARY KEY (tenant, resource_type, path, value_key, resource_id),
        CONSTRAINT ${p}values_fk FOREIGN KEY (tenant, resource_id) REFERENCES ${R} (tenant, id) ON DELETE CASCADE)`,
      `CREATE INDEX IF NOT EXISTS ${p}values_resource ON ${V} (tenant, resource_id)`,
      `CREATE TABLE IF NOT EXISTS ${U} (
        tenant TEXT NOT NULL, resource_type TEXT NOT NULL, path TEXT NOT NULL, value_key TEXT NOT NULL, resource_id TEXT NOT NULL,
        CONSTRAINT ${p}unique_pk PRIMARY KEY (tenant, resource_type, path, value_key),
        CONSTRAINT ${p}unique_fk FOREIGN KEY (tenant, resource_id) REFERENCES ${R} (tenant, id) ON DELETE CASCADE)`,
      `CREATE INDEX IF NOT EXISTS ${p}unique_resource ON ${U} (tenant, resource_id)`,
      ...(this.outbox?.ddl() ?? []),
    ]
    await this.driver.transaction(async (tx) => {
      if (pg) {
        // Two instances starting at once must not race on CREATE … IF NOT EXISTS.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`scim-router:${this.#t.resources}`])
        if (this.#schema) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`, [])
      }
      for (const stmt of ddl) await tx.query(stmt, [])
      if (pg) {
        await tx.query(`CREATE OR REPLACE FUNCTION ${this.#t.fold}(s text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$ ${postgresFoldSql()} $fold$`, [])
      }
    })
  }

  // ------------------------------------------------------------------ helpers

  async #q(ex: SqlExecutor, f: SqlFragment): Promise<Row[]> {
    const r = renderSql(f, this.driver.dialect)
    return (await ex.query(r.text, r.values)).rows
  }

  async #run(ex: SqlExecutor, f: SqlFragment): Promise<number> {
    const r = renderSql(f, this.driver.dialect)
    return (await ex.query(r.text, r.values)).rowCount
  }

  #jsonText(alias: string, key: string): SqlFragment {
    return this.#pg ? sql`(${raw(alias)}.doc ->> ${key}::text)` : sql`json_extract(${raw(alias)}.doc, ${`$."${key}"`})`
  }

  #greatest(a: string, b: SqlFragment): SqlFragment {
    return this.#pg ? sql`GREATEST(${raw(a)}, ${b})` : sql`MAX(${raw(a)}, ${b})`
  }

  /** The mapping of SCIM attributes to this schema, for one tenant and resource type. */
  mapping(resourceType: string, tenant: string, purpose: 'filter' | 'sort' = 'filter'): SqlMapping {
    const T = this.#t
    const pg = this.#pg
    const indexed = this.#indexed
    return {
      document: raw('r.doc'),
      storage(a: AttributeInfo): AttributeStorage | undefined {
        const name = a.def.name
        if (!a.parent && !a.extension) {
          if (name === 'id') return { kind: 'column', sql: raw('r.id'), prepared: true }
          if (name === 'externalId' && a.def.caseExact) return { kind: 'column', sql: raw('r.external_id'), prepared: true }
          if (name === 'userName' && a.schema === USER_SCHEMA && !a.def.caseExact) return { kind: 'column', sql: raw('r.user_name_key'), prepared: true }
          if (name === 'displayName' && (a.schema === USER_SCHEMA || a.schema === GROUP_SCHEMA) && !a.def.caseExact) {
            return { kind: 'column', sql: raw('r.display_name_key'), prepared: true }
          }
          if (name === 'members' && resourceType === 'Group') {
            return {
              kind: 'elements',
              key: raw('r.id'),
              select: raw('m.group_id'),
              from: raw(`${T.members} m`),
              where: sql`m.tenant = ${tenant}`,
              sub: (s) =>
                s.def.name === 'value'
                  ? { kind: 'column', sql: raw('m.member_id'), prepared: true } // ids are lower-case UUIDs: fold-invariant
                  : s.def.name === 'type'
                    ? { kind: 'column', sql: raw('m.member_type') }
                    : undefined,
            }
          }
          if (name === 'groups' && resourceType === 'User') {
            return {
              kind: 'elements',
              key: raw('r.id'),
              select: raw('g.member_id'),
              from: raw(`${T.members} g`),
              where: sql`g.tenant = ${tenant}`,
              sub: (s) =>
                s.def.name === 'value'
                  ? { kind: 'column', sql: raw('g.group_id'), prepared: true }
                  : s.def.name === 'display'
                    ? { kind: 'column', sql: raw(`(SELECT gr.display_name_key FROM ${T.resources} gr WHERE gr.tenant = g.tenant AND gr.id = g.group_id)`), prepared: true }
                    : s.def.name === 'type'
                      ? { kind: 'column', sql: raw(`'direct'`) }
                      : undefined,
            }
          }
        }
        if (a.parent && a.parent.common && a.parent.def.name === 'meta') {
          switch (name) {
            case 'created':
              return { kind: 'column', sql: raw('r.created'), dateTime: 'epochMs' }
            case 'lastModified':
              return { kind: 'column', sql: raw('r.last_modified'), dateTime: 'epochMs' }
            case 'resourceType':
              return { kind: 'column', sql: raw('r.resource_type'), prepared: true }
            case 'version':
              return { kind: 'column', sql: raw(pg ? `('W/"' || r.version::text || '"')` : `('W/"' || r.version || '"')`), prepared: true }
            default:
              return { kind: 'unsupported' }
          }
        }
        // Side-table values serve filters; sorting reads the same values from the document.
        const ix = purpose === 'sort' ? undefined : indexed.find((i) => i.resourceType === resourceType && i.path === a.path && i.caseExact === a.def.caseExact)
        if (ix) {
          return {
            kind: 'rows',
            key: raw('r.id'),
            select: raw('v.resource_id'),
            from: raw(`${T.values} v`),
            where: sql`v.tenant = ${tenant} AND v.resource_type = ${resourceType} AND v.path = ${ix.path}`,
            value: { kind: 'column', sql: raw('v.value_key'), prepared: true },
          }
        }
        // members.* and groups.* fall through to their parent's `elements` storage above, whose
        // sub() leaves the derived members.display / $ref and groups.$ref untranslatable.
        return undefined
      },
    }
  }

  #translateOptions(resourceType: string, tenant: string): TranslateOptions {
    // Documents keep strings as sent (MT-011): comparisons NFC-normalise (and fold) inside SQL.
    return { dialect: this.driver.dialect, mapping: this.mapping(resourceType, tenant), fold: this.foldFunction, nfc: this.#pg ? true : SQLITE_NFC }
  }

  /** `canFilter`: true when the whole filter translates to SQL. */
  canFilter(filter: FilterNode, resourceType: string): boolean {
    return translateFilter(filter, this.#translateOptions(resourceType, 'x')) !== undefined
  }

  #rowToStored(row: ResourceRow, attributes: Record<string, unknown>): StoredResource {
    return {
      id: row.id,
      version: String(row.version),
      created: new Date(Number(row.created)),
      lastModified: new Date(Number(row.last_modified)),
      attributes,
    }
  }

  /** Hydrate rows: parse doc, add derived members (Groups) and groups (Users). */
  /** Turn rows into resources with derived `members`/`groups`; `omit` (the router's hint) skips deriving them. */
  async #hydrate(ex: SqlExecutor, tenant: string, rows: ResourceRow[], omit?: readonly string[]): Promise<StoredResource[]> {
    const docs = rows.map((r) => (typeof r.doc === 'string' ? JSON.parse(r.doc) : structuredClone(r.doc)) as Record<string, unknown>)
    const groupIds = omit?.includes('members') ? [] : rows.filter((r) => r.resource_type === 'Group').map((r) => r.id)
    const userIds = omit?.includes('groups') ? [] : rows.filter((r) => r.resource_type === 'User').map((r) => r.id)
    const members = new Map<string, Record<string, unknown>[]>()
    const groups = new Map<string, Record<string, unknown>[]>()
    const T = this.#t
    for (let i = 0; i < groupIds.length; i += 500) {
      const ids = joinSql(groupIds.slice(i, i + 500).map((id) => sql`${id}`), ', ')
      const display = sql`COALESCE(${this.#jsonText('mr', 'displayName')}, ${this.#jsonText('mr', 'userName')})`
      const found = await this.#q(
        ex,
        sql`SELECT m.group_id, m.member_id, m.member_type, ${display} AS display FROM ${raw(T.members)} m JOIN ${raw(T.resources)} mr ON mr.tenant = m.tenant AND mr.id = m.member_id WHERE m.tenant = ${tenant} AND m.group_id IN (${ids}) ORDER BY m.group_id, m.ord`,
      )
      for (const f of found) {
        const m: Record<string, unknown> = { value: f['member_id'], type: f['member_type'] }
        if (typeof f['display'] === 'string') m['display'] = f['display']
        const gid = f['group_id'] as string
        const list = members.get(gid)
        if (list) list.push(m)
        else members.set(gid, [m])
      }
    }
    for (let i = 0; i < userIds.length; i += 500) {
      const ids = joinSql(userIds.slice(i, i + 500).map((id) => sql`${id}`), ', ')
      const found = await this.#q(
        ex,
        sql`SELECT m.member_id, m.group_id, ${this.#jsonText('g', 'displayName')} AS display FROM ${raw(T.members)} m JOIN ${raw(T.resources)} g ON g.tenant = m.tenant AND g.id = m.group_id WHERE m.tenant = ${tenant} AND m.member_id IN (${ids}) ORDER BY g.created, g.id`,
      )
      for (const f of found) {
        const g: Record<string, unknown> = { value: f['group_id'], type: 'direct' }
        if (typeof f['display'] === 'string') g['display'] = f['display']
        const uid = f['member_id'] as string
        const list = groups.get(uid)
        if (list) list.push(g)
        else groups.set(uid, [g])
      }
    }
    return rows.map((row, i) => {
      const attrs = docs[i]!
      const m = members.get(row.id)
      if (m) attrs['members'] = m
      const g = groups.get(row.id)
      if (g) attrs['groups'] = g
      return this.#rowToStored(row, attrs)
    })
  }

  // ------------------------------------------------------------------ reads

  async get(q: GetQuery, ctx: Ctx): Promise<StoredResource | null> {
    await this.init()
    const tenant = this.#tenantOf(ctx)
    return this.driver.read(async (tx) => {
      const rows = (await this.#q(
        tx,
        sql`SELECT ${raw(COLUMNS)} FROM ${raw(this.#t.resources)} r WHERE r.tenant = ${tenant} AND r.id = ${q.id} AND r.resource_type = ${q.resourceType}`,
      )) as unknown as ResourceRow[]
      if (rows.length === 0) return null
      return (await this.#hydrate(tx, tenant, rows, q.omit))[0] ?? null
    })
  }

  /** The COUNT and page statements of `list`, or undefined when the query is evaluated in memory. */
  #listStatements(q: ListQuery, tenant: string): { count: SqlFragment; page: SqlFragment; where: SqlFragment | undefined } | { where: SqlFragment | undefined } {
    const opts = this.#translateOptions(q.resourceType, tenant)
    const where = q.filter ? translateFilter(q.filter, opts) : undefined
    const order = q.sort ? translateSort(q.sort, { ...opts, mapping: this.mapping(q.resourceType, tenant, 'sort') }) : undefined
    if ((q.filter && !where) || (q.sort && !order)) return { where }
    const base = sql`FROM ${raw(this.#t.resources)} r WHERE r.tenant = ${tenant} AND r.resource_type = ${q.resourceType}${where ? sql` AND ${where}` : raw('')}`
    const tie = raw(this.#pg ? 'r.created ASC, r.id COLLATE "C" ASC' : 'r.created ASC, r.id ASC')
    return {
      where,
      count: sql`SELECT COUNT(*) AS n ${base}`,
      page: sql`SELECT ${raw(COLUMNS)} ${base} ORDER BY ${order ? sql`${order}, ` : raw('')}${tie} LIMIT ${Math.max(0, q.count)} OFFSET ${q.startIndex - 1}`,
    }
  }

  async list(q: ListQuery, ctx: Ctx): Promise<ListResult> {
    await this.init()
    const tenant = this.#tenantOf(ctx)
    const st = this.#listStatements(q, tenant)
    if (!('page' in st)) return this.#listInMemory(q, tenant, st.where)
    return this.driver.read(async (tx) => {
      const total = Number((await this.#q(tx, st.count))[0]?.['n'] ?? 0)
      if (q.count <= 0 || q.startIndex > total) return { resources: [], totalResults: total }
      const rows = (await this.#q(tx, st.page)) as unknown as ResourceRow[]
      return { resources: await this.#hydrate(tx, tenant, rows, q.omit), totalResults: total }
    })
  }

  /**
   * RFC 9865 cursors as a true keyset query: the cursor holds the boundary row's sort key,
   * `created` and `id` (not a position), and a page is `WHERE (key, created, id) > boundary ORDER
   * BY key, created, id LIMIT count + 1`, so pages stay exact while rows are inserted and deleted
   * between requests. `previousCursor` runs the same query in reverse order (`< boundary ORDER BY
   * … DESC`). The order is `list`'s (compareForSort / compareDefault: missing values last
   * ascending, first descending, ties by created then id). When the sort cannot be pushed down,
   * the same keyset semantics are evaluated in memory (up to `maxInMemory` resources).
   */
  async listByCursor(q: CursorListQuery, ctx: Ctx): Promise<CursorListResult> {
    await this.init()
    const tenant = this.#tenantOf(ctx)
    const opts = this.#translateOptions(q.resourceType, tenant)
    const where = q.filter ? translateFilter(q.filter, opts) : undefined
    const key = q.sort ? translateSortKey(q.sort.attribute, { ...opts, mapping: this.mapping(q.resourceType, tenant, 'sort') }) : undefined
    if ((q.filter && !where) || (q.sort && !key)) return this.#cursorInMemory(q, tenant, where)
    const boundary = q.cursor === undefined ? undefined : parseKeysetCursor(q.cursor, q.sort, this.#pg)
    const desc = q.sort?.order === 'descending'
    const pg = this.#pg
    const ID = raw(pg ? 'r.id COLLATE "C"' : 'r.id')
    const base = sql`FROM ${raw(this.#t.resources)} r WHERE r.tenant = ${tenant} AND r.resource_type = ${q.resourceType}${where ? sql` AND ${where}` : raw('')}`

    /** Rows strictly after (`later`) or before a boundary in the list order. */
    const beyond = (b: KeysetBoundary, later: boolean): SqlFragment => {
      const tie = later
        ? sql`(r.created >= ${b.c} AND (r.created > ${b.c} OR ${ID} > ${b.i}))`
        : sql`(r.created <= ${b.c} AND (r.created < ${b.c} OR ${ID} < ${b.i}))`
      if (!key) return tie
      // Ascending puts missing keys last, descending first: "later" ascending is "earlier" descending.
      const up = later !== desc
      const op = raw(up ? '>' : '<')
      if (b.k === null) return up ? sql`(${key} IS NULL AND ${tie})` : sql`(${key} IS NOT NULL OR ${tie})`
      const k = b.k
      return up ? sql`(${key} IS NULL OR ${key} ${op} ${k} OR (${key} = ${k} AND ${tie}))` : sql`(${key} ${op} ${k} OR (${key} = ${k} AND ${tie}))`
    }
    const order = (reverse: boolean): SqlFragment => {
      const dir = (ascending: boolean) => raw(ascending !== reverse ? 'ASC' : 'DESC')
      const tie = sql`r.created ${dir(true)}, ${ID} ${dir(true)}`
      return key ? sql`(${key} IS NULL) ${dir(!desc)}, ${key} ${dir(!desc)}, ${tie}` : tie
    }
    const select = sql`SELECT ${raw(COLUMNS)}${key ? sql`, ${key} AS scim_sort_key` : raw('')}`
    const count = Math.max(0, q.count)

    return this.driver.read(async (tx) => {
      const total = Number((await this.#q(tx, sql`SELECT COUNT(*) AS n ${base}`))[0]?.['n'] ?? 0)
      const result: CursorListResult = { resources: [], totalResults: total }
      if (count === 0) return result
      const backwards = boundary?.d === 'p'
      const keyset = boundary ? sql` AND ${beyond(boundary, !backwards)}` : raw('')
      let rows = (await this.#q(tx, sql`${select} ${base}${keyset} ORDER BY ${order(backwards)} LIMIT ${count + 1}`)) as unknown as (ResourceRow & { scim_sort_key?: unknown })[]
      const more = rows.length > count
      rows = rows.slice(0, count)
      if (backwards) rows.reverse()
      const first = rows[0]
      const last = rows[rows.length - 1]
      if (!first || !last) return result
      const boundaryOf = (r: ResourceRow & { scim_sort_key?: unknown }): KeysetBoundary => ({
        d: 'n',
        c: Number(r.created),
        i: r.id,
        ...(key ? { k: keysetValue(r.scim_sort_key) } : {}),
      })
      const exists = async (b: KeysetBoundary, later: boolean): Promise<boolean> =>
        (await this.#q(tx, sql`SELECT 1 AS x ${base} AND ${beyond(b, later)} LIMIT 1`)).length > 0
      const hasNext = backwards ? await exists(boundaryOf(last), true) : more
      const hasPrevious = backwards ? more : boundary !== undefined && (await exists(boundaryOf(first), false))
      if (hasNext) result.nextCursor = JSON.stringify({ ...boundaryOf(last), d: 'n' })
      if (hasPrevious) result.previousCursor = JSON.stringify({ ...boundaryOf(first), d: 'p' })
      result.resources = await this.#hydrate(tx, tenant, rows)
      return result
    })
  }

  /** `listByCursor` when the sort cannot be pushed down: MemoryAdapter's keyset logic over views. */
  async #cursorInMemory(q: CursorListQuery, tenant: string, where: SqlFragment | undefined): Promise<CursorListResult> {
    const items = await this.#loadViews({ resourceType: q.resourceType, filter: q.filter, sort: q.sort }, tenant, where)
    const { page, ...cursors } = keysetPage(items, q.sort, q.count, q.cursor)
    return { resources: page.map((m) => m.s), ...cursors }
  }

  /**
   * The query plans of `list`'s statements (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN` with
   * sequential scans disabled, so that the plan shows whether an index *can* serve the query even on
   * a tiny table). For tests and diagnostics.
   */
  async explain(q: ListQuery, ctx: Ctx): Promise<{ count: string; page: string }> {
    await this.init()
    await this.driver.query(this.#pg ? `ANALYZE ${this.#t.resources}, ${this.#t.members}, ${this.#t.values}` : 'ANALYZE', [])
    const st = this.#listStatements(q, this.#tenantOf(ctx))
    if (!('page' in st)) throw new Error('this query is evaluated in memory')
    const plan = async (tx: SqlExecutor, f: SqlFragment): Promise<string> => {
      const r = renderSql(f, this.driver.dialect)
      if (this.#pg) {
        const rows = (await tx.query(`EXPLAIN ${r.text}`, r.values)).rows
        return rows.map((x) => String(x['QUERY PLAN'])).join('\n')
      }
      const rows = (await tx.query(`EXPLAIN QUERY PLAN ${r.text}`, r.values)).rows
      return rows.map((x) => String(x['detail'])).join('\n')
    }
    return this.driver.transaction(async (tx) => {
      if (this.#pg) await tx.query('SET LOCAL enable_seqscan = off', [])
      return { count: await plan(tx, st.count), page: await plan(tx, st.page) }
    })
  }

  /** Fallback when a filter or sort cannot be pushed down: evaluate with compileFilter/compareForSort. */
  async #listInMemory(q: ListQuery, tenant: string, where: SqlFragment | undefined): Promise<ListResult> {
    const items = await this.#loadViews(q, tenant, where)
    const cmp = q.sort ? compareForSort(q.sort.attribute, q.sort.order) : compareDefault
    items.sort((a, b) => cmp(a.view, b.view))
    const from = q.startIndex - 1
    return { resources: items.slice(from, from + Math.max(0, q.count)).map((i) => i.s), totalResults: items.length }
  }

  /** The resources matching a query (SQL `where` when translated, else `compileFilter`) with their evaluation views, unsorted. */
  async #loadViews(
    q: { resourceType: string; filter?: FilterNode | undefined; sort?: SortSpec | undefined },
    tenant: string,
    where: SqlFragment | undefined,
  ): Promise<{ s: StoredResource; view: Record<string, unknown> }[]> {
    const stored = await this.driver.read(async (tx) => {
      const base = sql`FROM ${raw(this.#t.resources)} r WHERE r.tenant = ${tenant} AND r.resource_type = ${q.resourceType}${where ? sql` AND ${where}` : raw('')}`
      const n = Number((await this.#q(tx, sql`SELECT COUNT(*) AS n ${base}`))[0]?.['n'] ?? 0)
      if (n > this.#maxInMemory) throw new TooManyError(`The query would evaluate ${n} resources in memory; narrow the filter`)
      const rows = (await this.#q(tx, sql`SELECT ${raw(COLUMNS)} ${base}`)) as unknown as ResourceRow[]
      return this.#hydrate(tx, tenant, rows)
    })
    const coreSchema = q.resourceType === 'User' ? USER_SCHEMA : q.resourceType === 'Group' ? GROUP_SCHEMA : coreSchemaOf(q.filter, q.sort) ?? q.resourceType
    let items = stored.map((s) => ({ s, view: viewOf(s, q.resourceType, coreSchema) }))
    if (q.filter && !where) {
      const test = compileFilter(q.filter)
      items = items.filter((i) => test(i.view))
    }
    return items
  }

  // ------------------------------------------------------------------ writes

  #keys(resourceType: string, attrs: Record<string, unknown>) {
    const un = attrs['userName']
    const dn = attrs['displayName']
    const ext = attrs['externalId']
    return {
      userNameKey: resourceType === 'User' && typeof un === 'string' ? prepareValue(un, userNameInfo) : null,
      displayNameKey: typeof dn === 'string' ? prepareValue(dn, displayNameInfo) : null,
      // Key column of caseExact comparisons: NFC (the document keeps the value as sent).
      externalId: typeof ext === 'string' ? ext.normalize('NFC') : null,
    }
  }

  /** Split incoming attributes into the JSON document and the membership list. */
  #prepare(resourceType: string, attributes: Record<string, unknown>): { doc: Record<string, unknown>; members: Record<string, unknown>[] | undefined } {
    // Stored exactly as sent (MT-011); only the key columns and side tables hold NFC/folded values.
    const doc = structuredClone(attributes)
    let members: Record<string, unknown>[] | undefined
    if (resourceType === 'Group') {
      members = (doc['members'] as Record<string, unknown>[] | undefined) ?? []
      delete doc['members']
    }
    if (resourceType === 'User') {
      delete doc['groups']
      // RFC 7643 §9.2: passwords are never stored in cleartext. This adapter keeps none
      // (capabilities.changePassword is false); store a hash here if your app needs one.
      delete doc['password']
    }
    return { doc, members }
  }

  #docParam(doc: Record<string, unknown>): SqlFragment {
    const text = JSON.stringify(doc)
    return this.#pg ? sql`${text}::jsonb` : sql`${text}`
  }

  async #checkMembers(tx: SqlExecutor, tenant: string, members: Record<string, unknown>[]): Promise<Map<string, string>> {
    const types = new Map<string, string>()
    const ids = [...new Set(members.map((m) => m['value']))]
    for (const id of ids) if (typeof id !== 'string') throw new InvalidValueError(`members: no User or Group with id '${String(id)}'`)
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = joinSql(ids.slice(i, i + 500).map((id) => sql`${id}`), ', ')
      for (const r of await this.#q(tx, sql`SELECT id, resource_type FROM ${raw(this.#t.resources)} WHERE tenant = ${tenant} AND id IN (${chunk})`)) {
        types.set(r['id'] as string, r['resource_type'] as string)
      }
    }
    for (const id of ids) {
      const t = types.get(id as string)
      if (t !== 'User' && !(t === 'Group' && this.#nestedGroups)) {
        throw new InvalidValueError(`members: no ${this.#nestedGroups ? 'User or Group' : 'User'} with id '${String(id)}'`)
      }
    }
    return types
  }

  async #writeUnique(tx: SqlExecutor, tenant: string, resourceType: string, id: string, attrs: Record<string, unknown>, unique: readonly UniqueConstraint[], replacing: boolean): Promise<void> {
    const U = raw(this.#t.unique)
    if (replacing) await this.#run(tx, sql`DELETE FROM ${U} WHERE tenant = ${tenant} AND resource_id = ${id}`)
    for (const u of unique) {
      const v = readPath(attrs, u.path)
      if (typeof v !== 'string') continue
      const n = await this.#run(
        tx,
        sql`INSERT INTO ${U} (tenant, resource_type, path, value_key, resource_id) VALUES (${tenant}, ${resourceType}, ${u.path}, ${fold(v, u.caseExact)}, ${id}) ON CONFLICT DO NOTHING`,
      )
      if (n === 0) throw new UniquenessError(`${u.path} '${v}' is already in use`)
    }
  }

  async #writeValues(tx: SqlExecutor, tenant: string, resourceType: string, id: string, attrs: Record<string, unknown>, replacing: boolean): Promise<void> {
    const V = raw(this.#t.values)
    if (replacing) await this.#run(tx, sql`DELETE FROM ${V} WHERE tenant = ${tenant} AND resource_id = ${id}`)
    for (const ix of this.#indexed) {
      if (ix.resourceType !== resourceType) continue
      for (const value of new Set(readValues(attrs, ix.path).map((v) => fold(v, ix.caseExact)))) {
        await this.#run(tx, sql`INSERT INTO ${V} (tenant, resource_type, path, value_key, resource_id) VALUES (${tenant}, ${resourceType}, ${ix.path}, ${value}, ${id}) ON CONFLICT DO NOTHING`)
      }
    }
  }

  /**
   * Make the membership rows of a group equal `members` (a diff: unchanged rows are not touched).
   * Returns the ids whose derived `groups` changed (MemoryAdapter's `membershipChange`): added and
   * removed members, and every member when the group was renamed.
   */
  async #writeMembers(tx: SqlExecutor, tenant: string, groupId: string, members: Record<string, unknown>[], replacing: boolean, renamed: boolean): Promise<string[]> {
    const M = raw(this.#t.members)
    const types = await this.#checkMembers(tx, tenant, members)
    const wanted = [...new Set(members.map((m) => m['value'] as string))]
    let existing = new Set<string>()
    let removed: string[] = []
    let ord = 0
    if (replacing) {
      const rows = await this.#q(tx, sql`SELECT member_id, ord FROM ${M} WHERE tenant = ${tenant} AND group_id = ${groupId}`)
      existing = new Set(rows.map((r) => r['member_id'] as string))
      for (const r of rows) ord = Math.max(ord, Number(r['ord']))
      const keep = new Set(wanted)
      removed = [...existing].filter((id) => !keep.has(id))
      for (let i = 0; i < removed.length; i += 500) {
        const chunk = joinSql(removed.slice(i, i + 500).map((id) => sql`${id}`), ', ')
        await this.#run(tx, sql`DELETE FROM ${M} WHERE tenant = ${tenant} AND group_id = ${groupId} AND member_id IN (${chunk})`)
      }
    }
    for (const id of wanted) {
      if (existing.has(id)) continue
      await this.#run(tx, sql`INSERT INTO ${M} (tenant, group_id, member_id, member_type, ord) VALUES (${tenant}, ${groupId}, ${id}, ${types.get(id)!}, ${++ord})`)
    }
    return [...wanted.filter((id) => renamed || !existing.has(id)), ...removed]
  }

  /**
   * ETG-002: resources whose representation changed because a group they are in changed (their
   * derived `groups`) get a new version and `lastModified`, as MemoryAdapter's `#touchMembers`.
   */
  async #touch(tx: SqlExecutor, tenant: string, ids: readonly string[]): Promise<void> {
    const sorted = [...new Set(ids)].sort() // one lock order for concurrent writers (PostgreSQL)
    const R = raw(this.#t.resources)
    for (let i = 0; i < sorted.length; i += 500) {
      const chunk = joinSql(sorted.slice(i, i + 500).map((id) => sql`${id}`), ', ')
      await this.#run(
        tx,
        sql`UPDATE ${R} SET version = version + 1, last_modified = ${this.#greatest('last_modified', sql`${Date.now()}`)} WHERE tenant = ${tenant} AND id IN (${chunk})`,
      )
    }
  }

  /** Re-read rows after `#touch` changed one of them (a group that is its own member). */
  async #reread(tx: SqlExecutor, tenant: string, rows: ResourceRow[], touched: readonly string[]): Promise<ResourceRow[]> {
    const row = rows[0]
    if (!row || !touched.includes(row.id)) return rows
    return (await this.#q(tx, sql`SELECT ${raw(COLUMNS)} FROM ${raw(this.#t.resources)} r WHERE r.tenant = ${tenant} AND r.id = ${row.id}`)) as unknown as ResourceRow[]
  }

  /** Map driver errors on our constraints to SCIM errors. */
  #mapError(err: unknown): unknown {
    const e = err as { code?: unknown; constraint?: unknown; message?: unknown }
    const p = this.#t.prefix
    const msg = typeof e.message === 'string' ? e.message : ''
    if (e.code === '23505' && e.constraint === `${p}unique_pk`) return new UniquenessError('A unique attribute value is already in use', { cause: err })
    if (typeof e.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT') && e.code !== 'SQLITE_CONSTRAINT_FOREIGNKEY' && msg.includes(`${p}unique.`)) {
      return new UniquenessError('A unique attribute value is already in use', { cause: err })
    }
    if ((e.code === '23503' && typeof e.constraint === 'string' && e.constraint.startsWith(`${p}members_`)) || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new InvalidValueError('members: a member no longer exists', { cause: err })
    }
    return err
  }

  /** Run a write transaction; when `signal` aborts before COMMIT it is rolled back (AdapterQuery.signal). */
  async #write<T>(signal: AbortSignal | undefined, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    await this.init()
    try {
      return await this.driver.transaction(fn, signal)
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      throw this.#mapError(err)
    }
  }

  async create(q: CreateQuery, ctx: Ctx): Promise<StoredResource> {
    const tenant = this.#tenantOf(ctx)
    const { doc, members } = this.#prepare(q.resourceType, q.attributes)
    const k = this.#keys(q.resourceType, doc)
    const id = uuidv7()
    const now = Date.now()
    return this.#write(q.signal, async (tx) => {
      const R = raw(this.#t.resources)
      const rows = (await this.#q(
        tx,
        sql`INSERT INTO ${R} (tenant, id, resource_type, version, created, last_modified, user_name_key, external_id, display_name_key, doc)
            VALUES (${tenant}, ${id}, ${q.resourceType}, 1, ${now}, ${now}, ${k.userNameKey}, ${k.externalId}, ${k.displayNameKey}, ${this.#docParam(doc)})
            RETURNING ${raw(COLUMNS.replace(/r\./g, ''))}`,
      )) as unknown as ResourceRow[]
      await this.#writeUnique(tx, tenant, q.resourceType, id, doc, q.unique, false)
      await this.#writeValues(tx, tenant, q.resourceType, id, doc, false)
      if (members) {
        const touched = await this.#writeMembers(tx, tenant, id, members, false, false)
        await this.#touch(tx, tenant, touched)
        return this.#record(tx, tenant, q.events, (await this.#hydrate(tx, tenant, await this.#reread(tx, tenant, rows, touched)))[0]!)
      }
      return this.#record(tx, tenant, q.events, (await this.#hydrate(tx, tenant, rows))[0]!)
    })
  }

  /**
   * Add/remove Group members as row inserts and deletes: the group row is locked (PostgreSQL
   * `FOR UPDATE`; SQLite transactions are serial), never rewritten, and its version bumped only
   * when membership changed. Concurrent member changes to one group therefore queue briefly
   * instead of failing a compare-and-swap.
   */
  async modifyMembers(q: ModifyMembersQuery, ctx: Ctx): Promise<ModifyMembersResult> {
    const tenant = this.#tenantOf(ctx)
    return this.#write(q.signal, async (tx) => {
      const R = raw(this.#t.resources)
      const M = raw(this.#t.members)
      const locked = (await this.#q(
        tx,
        sql`SELECT ${raw(COLUMNS)} FROM ${R} r WHERE r.tenant = ${tenant} AND r.id = ${q.id} AND r.resource_type = ${q.resourceType}${raw(this.#pg ? ' FOR UPDATE' : '')}`,
      )) as unknown as ResourceRow[]
      if (locked.length === 0) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
      const wanted = [...new Set([...q.add, ...q.remove])]
      const present = new Set<string>()
      for (let i = 0; i < wanted.length; i += 500) {
        const chunk = joinSql(wanted.slice(i, i + 500).map((id) => sql`${id}`), ', ')
        for (const r of await this.#q(tx, sql`SELECT member_id FROM ${M} WHERE tenant = ${tenant} AND group_id = ${q.id} AND member_id IN (${chunk})`)) {
          present.add(r['member_id'] as string)
        }
      }
      const added = [...new Set(q.add)].filter((id) => !present.has(id))
      const removed = [...new Set(q.remove)].filter((id) => present.has(id))
      const types = await this.#checkMembers(tx, tenant, added.map((value) => ({ value })))
      if (added.length === 0 && removed.length === 0) {
        return this.#record(tx, tenant, q.events, { resource: (await this.#hydrate(tx, tenant, locked, ['members']))[0]!, added, removed })
      }
      for (let i = 0; i < removed.length; i += 500) {
        const chunk = joinSql(removed.slice(i, i + 500).map((id) => sql`${id}`), ', ')
        await this.#run(tx, sql`DELETE FROM ${M} WHERE tenant = ${tenant} AND group_id = ${q.id} AND member_id IN (${chunk})`)
      }
      let ord = Number((await this.#q(tx, sql`SELECT COALESCE(MAX(ord), 0) AS n FROM ${M} WHERE tenant = ${tenant} AND group_id = ${q.id}`))[0]?.['n'] ?? 0)
      for (const id of added) {
        await this.#run(tx, sql`INSERT INTO ${M} (tenant, group_id, member_id, member_type, ord) VALUES (${tenant}, ${q.id}, ${id}, ${types.get(id)!}, ${++ord})`)
      }
      const rows = (await this.#q(
        tx,
        sql`UPDATE ${R} SET version = version + 1, last_modified = ${this.#greatest('last_modified', sql`${Date.now()}`)}
            WHERE tenant = ${tenant} AND id = ${q.id} AND resource_type = ${q.resourceType}
            RETURNING ${raw(COLUMNS.replace(/r\./g, ''))}`,
      )) as unknown as ResourceRow[]
      const touched = [...added, ...removed]
      await this.#touch(tx, tenant, touched)
      const fresh = touched.includes(q.id) ? await this.#reread(tx, tenant, rows, touched) : rows
      return this.#record(tx, tenant, q.events, { resource: (await this.#hydrate(tx, tenant, fresh, ['members']))[0]!, added, removed })
    })
  }

  async replace(q: ReplaceQuery, ctx: Ctx): Promise<StoredResource> {
    const tenant = this.#tenantOf(ctx)
    const { doc, members } = this.#prepare(q.resourceType, q.attributes)
    const k = this.#keys(q.resourceType, doc)
    return this.#write(q.signal, async (tx) => {
      const R = raw(this.#t.resources)
      // ETG-002: a renamed group changes every member's derived groups[].display, and a renamed
      // resource the members[].display (displayName, else userName; RES-061) of every group it is
      // in. Read the old name first, locking the row (PostgreSQL) so it is still the old name at
      // the UPDATE.
      const old = await this.#q(
        tx,
        sql`SELECT COALESCE(${this.#jsonText('r', 'displayName')}, ${this.#jsonText('r', 'userName')}) AS name FROM ${R} r WHERE r.tenant = ${tenant} AND r.id = ${q.id} AND r.resource_type = ${q.resourceType}${raw(this.#pg ? ' FOR UPDATE' : '')}`,
      )
      const oldName: unknown = old[0]?.['name'] ?? undefined
      const cas = q.expectedVersion !== undefined ? sql` AND version = ${versionNumber(q.expectedVersion)}` : raw('')
      const rows = (await this.#q(
        tx,
        sql`UPDATE ${R} SET version = version + 1, last_modified = ${this.#greatest('last_modified', sql`${Date.now()}`)},
            user_name_key = ${k.userNameKey}, external_id = ${k.externalId}, display_name_key = ${k.displayNameKey}, doc = ${this.#docParam(doc)}
            WHERE tenant = ${tenant} AND id = ${q.id} AND resource_type = ${q.resourceType}${cas}
            RETURNING ${raw(COLUMNS.replace(/r\./g, ''))}`,
      )) as unknown as ResourceRow[]
      if (rows.length === 0) await this.#missOrStale(tx, tenant, q.resourceType, q.id)
      await this.#writeUnique(tx, tenant, q.resourceType, q.id, doc, q.unique, true)
      await this.#writeValues(tx, tenant, q.resourceType, q.id, doc, true)
      const name = doc['displayName'] ?? doc['userName']
      const renamed = (typeof name === 'string' ? name : undefined) !== oldName
      const touched = members ? await this.#writeMembers(tx, tenant, q.id, members, true, renamed) : []
      if (renamed) {
        const groups = await this.#q(tx, sql`SELECT group_id FROM ${raw(this.#t.members)} WHERE tenant = ${tenant} AND member_id = ${q.id}`)
        touched.push(...groups.map((g) => g['group_id'] as string))
      }
      if (touched.length === 0) return this.#record(tx, tenant, q.events, (await this.#hydrate(tx, tenant, rows))[0]!)
      await this.#touch(tx, tenant, touched)
      return this.#record(tx, tenant, q.events, (await this.#hydrate(tx, tenant, await this.#reread(tx, tenant, rows, touched)))[0]!)
    })
  }

  async #missOrStale(tx: SqlExecutor, tenant: string, resourceType: string, id: string): Promise<never> {
    const found = await this.#q(tx, sql`SELECT version FROM ${raw(this.#t.resources)} WHERE tenant = ${tenant} AND id = ${id} AND resource_type = ${resourceType}`)
    if (found.length === 0) throw new NotFoundError(`${resourceType} ${id} not found`)
    throw new PreconditionFailedError()
  }

  async delete(q: DeleteQuery, ctx: Ctx): Promise<void> {
    const tenant = this.#tenantOf(ctx)
    await this.#write(q.signal, async (tx) => {
      const R = raw(this.#t.resources)
      const M = raw(this.#t.members)
      // Lock the row first (PostgreSQL): no membership can be added to it while we delete.
      const found = await this.#q(
        tx,
        sql`SELECT version FROM ${R} WHERE tenant = ${tenant} AND id = ${q.id} AND resource_type = ${q.resourceType}${raw(this.#pg ? ' FOR UPDATE' : '')}`,
      )
      if (found.length === 0) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
      if (q.expectedVersion !== undefined && String(found[0]!['version']) !== q.expectedVersion) throw new PreconditionFailedError()
      // ETG-002: a deleted group's members lose it from their derived groups.
      if (q.resourceType === 'Group') {
        const members = await this.#q(tx, sql`SELECT member_id FROM ${M} WHERE tenant = ${tenant} AND group_id = ${q.id}`)
        await this.#touch(tx, tenant, members.map((m) => m['member_id'] as string).filter((m) => m !== q.id))
      }
      // EP-053: leave every group; those groups change (new version, lastModified).
      const groups = await this.#q(tx, sql`SELECT group_id FROM ${M} WHERE tenant = ${tenant} AND member_id = ${q.id}`)
      await this.#run(tx, sql`DELETE FROM ${M} WHERE tenant = ${tenant} AND member_id = ${q.id}`)
      await this.#touch(tx, tenant, groups.map((g) => g['group_id'] as string).filter((g) => g !== q.id))
      const n = await this.#run(tx, sql`DELETE FROM ${R} WHERE tenant = ${tenant} AND id = ${q.id} AND resource_type = ${q.resourceType}`)
      if (n === 0) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
      await this.#record(tx, tenant, q.events, undefined)
    })
  }

  /** Close the driver (the pool or database this adapter opened). */
  async close(): Promise<void> {
    await this.driver.close()
  }
}

/** The adapter's keyset cursor: direction, and the boundary row's sort key, created (epoch ms) and id. */
interface KeysetBoundary {
  d: 'n' | 'p'
  /** The sort key as SQL computed it (absent for the default order; null: no value). */
  k?: string | number | boolean | null
  c: number
  i: string
}

/** A sort key value as it can round-trip through JSON (PostgreSQL bigint/numeric arrive as strings). */
function keysetValue(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (typeof v === 'bigint') return v.toString()
  return String(v)
}

/**
 * The boundary of a cursor this adapter issued, with the sort key checked against the type of
 * the sort expression (and converted to what the driver binds: SQLite has no booleans, and
 * PostgreSQL returns numeric and bigint keys as strings). Anything else is `invalidCursor` (RFC
 * 9865 §2.1), never a statement the database rejects: the router's signature proves who made a
 * cursor, not which version of this code made it.
 */
function parseKeysetCursor(cursor: string, sort: SortSpec | undefined, pg: boolean): KeysetBoundary {
  let b: unknown
  try {
    b = JSON.parse(cursor)
  } catch {
    throw new InvalidCursorError()
  }
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new InvalidCursorError()
  const { d, k, c, i } = b as Record<string, unknown>
  // PostgreSQL text cannot hold U+0000.
  const text = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000')
  if ((d !== 'n' && d !== 'p') || !Number.isSafeInteger(c) || !text(i)) throw new InvalidCursorError()
  const boundary: KeysetBoundary = { d, c: c as number, i }
  if (!sort) {
    if (k !== undefined) throw new InvalidCursorError()
    return boundary
  }
  const key = sortKeyValue(k, sort.attribute.def.type, pg)
  if (key === undefined) throw new InvalidCursorError()
  boundary.k = key
  return boundary
}

/** A cursor's sort key as the driver binds it for a sort expression of `type`; undefined when it cannot be one. */
function sortKeyValue(k: unknown, type: string, pg: boolean): string | number | boolean | null | undefined {
  if (k === null) return null
  switch (type) {
    case 'boolean':
      // PostgreSQL boolean; SQLite 0/1.
      if (typeof k === 'boolean') return pg ? k : Number(k)
      if (k === 0 || k === 1) return pg ? k === 1 : k
      return undefined
    case 'integer':
    case 'decimal':
      if (typeof k === 'number') return Number.isFinite(k) ? k : undefined
      if (typeof k === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(k) && Number.isFinite(Number(k))) return pg ? k : Number(k)
      return undefined
    case 'dateTime':
      // Epoch milliseconds (created, last_modified); PostgreSQL bigint arrives as a string.
      if (Number.isSafeInteger(k)) return k as number
      if (typeof k === 'string' && /^-?\d{1,16}$/.test(k) && Number.isSafeInteger(Number(k))) return pg ? k : Number(k)
      return undefined
    default:
      return typeof k === 'string' && !k.includes('\u0000') ? k : undefined
  }
}

/** Versions are integers rendered as strings; anything else never matches. */
function versionNumber(v: string): number {
  return /^\d{1,15}$/.test(v) ? Number(v) : -1
}

/** The core schema URN of a resource type, read off any non-extension attribute of a filter or sort. */
function coreSchemaOf(filter: FilterNode | undefined, sort: SortSpec | undefined): string | undefined {
  if (sort && !sort.attribute.extension) return sort.attribute.schema
  const stack = filter ? [filter] : []
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (n.type === 'and' || n.type === 'or') stack.push(...n.filters)
    else if (n.type === 'not' || n.type === 'valuePath') stack.push(n.filter)
    if ((n.type === 'compare' || n.type === 'present' || n.type === 'valuePath') && !n.attribute.extension) return n.attribute.schema
  }
  return undefined
}

/** The evaluation view (same shape as `toView`). */
function viewOf(s: StoredResource, resourceType: string, coreSchema: string): Record<string, unknown> {
  const schemas = [coreSchema]
  for (const k of Object.keys(s.attributes)) if (k.startsWith('urn:')) schemas.push(k)
  return {
    ...s.attributes,
    id: s.id,
    schemas,
    meta: { resourceType, created: s.created.toISOString(), lastModified: s.lastModified.toISOString(), version: `W/"${s.version}"` },
  }
}
