/**
 * `KyselyAdapter`: a `ScimAdapter` over any tables described by a {@link KyselyMapping}, through a
 * Kysely instance on PostgreSQL, MySQL/MariaDB or SQLite. See the entry point's TSDoc for the model.
 * @module
 */
import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely'
import type {
  CreateQuery,
  CursorListQuery,
  CursorListResult,
  DeleteQuery,
  GetQuery,
  ListQuery,
  ListResult,
  ModifyMembersQuery,
  ModifyMembersResult,
  ReplaceQuery,
  ScimAdapter,
  SortSpec,
  StoredResource,
  UniqueConstraint,
  OutboxEvents,
} from '../adapter'
import { InvalidCursorError, InvalidValueError, NotFoundError, PreconditionFailedError, TooManyError, UniquenessError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compareDefault, compareForSort } from '../filter/compare'
import { compileFilter } from '../filter/evaluate'
import { hasForbiddenChar } from '../http/strings'
import { uuidv7 } from '../ids'
import { keysetPage } from '../keyset'
import { detectDialect, isDuplicateKey, isRetryable } from './dialect'
import { resolveMapping, type KyselyDialectName, type KyselyMapping, type ResolvedResource } from './mapping'
import { migrate, type MigrationOptions } from './migrate'
import { KyselyOutbox } from './outbox'
import { planFilter, type Plan } from './plan'
import { decodeAttributes, decodeInstant, decodeRow, encodeInstant, encodeRecord, lookupKey, readPath, readStrings, uniqueKey, type EncodedRecord } from './records'

type Db = Kysely<any> | Transaction<any>
type Row = Record<string, unknown>

/** Options of {@link kyselyAdapter}. */
export interface KyselyAdapterOptions<Ctx> {
  /** The app's Kysely instance (PostgresDialect with pg, MysqlDialect with mysql2, SqliteDialect with better-sqlite3). */
  db: Kysely<any>
  /** Dialect of `db`. Default: detected from its Kysely adapter. */
  dialect?: KyselyDialectName
  /** Where each resource type lives. `scimTablesMapping()` is a complete SCIM-owned layout. */
  mapping: KyselyMapping
  /** The tenant of a request. Default: `ctx.tenant` when it is a string, else `"default"`. */
  tenant?: (ctx: Ctx) => string
  /** Allow Groups as members of Groups. Default false: a Group member id is 400 invalidValue. */
  nestedGroups?: boolean
  /**
   * Most candidate rows a query decides in memory (filters SQL only narrows, sorts other than the
   * default order). Default 10,000; over it, `list` throws TooManyError (400 tooMany).
   */
  maxInMemory?: number
  /** Run {@link migrate} (with these options) before the first operation. Default false. */
  migrate?: boolean | MigrationOptions
  /**
   * The durable event outbox (default true): events are written to `<sideTablePrefix>events`
   * (created by {@link migrate}) in each write's transaction, and `adapter.outbox` gives the router
   * at-least-once delivery and the event feed (RFC 7644 §3 writes, delivered after commit).
   * `{ table }` names another events table (create it with `outboxStatements`). False: no outbox;
   * the router delivers events once after the commit.
   */
  outbox?: boolean | { table: string }
}

const CHUNK = 500

/** Most statements kept compiled by `KyselyAdapter.#run` (least recently used dropped first). */
const COMPILED_MAX = 500

/** Marks a slot of a statement compiled once (`KyselyAdapter.#run`); no value starts with NUL. */
const SLOT = '\0scim-slot:'

/** Alias of the member id in the rows of a user's groups (read beside the group's own columns). */
const MEMBER = '__scim_member'
/** Prefix of the column holding a row's groups of one group type as JSON (#byIdWithGroups). */
const JOINED = '__scim_groups_'

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK))
  return out
}

/** A side-table key as one string: `path`, NUL, `value_key` (paths never contain NUL). */
const sideKey = (path: string, key: string): string => `${path}\0${key}`

/** The uniqueness keys `attrs` claim (`path NUL key` → the key and the value it folds). */
function uniqueKeysOf(r: ResolvedResource, attrs: Record<string, unknown>, unique: readonly UniqueConstraint[]): Map<string, { path: string; key: string; value: string }> {
  const out = new Map<string, { path: string; key: string; value: string }>()
  for (const u of unique) {
    const v = readPath(attrs, u.path)
    if (typeof v !== 'string') continue
    const key = uniqueKey(r.name, u.path, v, u.caseExact)
    out.set(sideKey(u.path, key), { path: u.path, key, value: v })
  }
  return out
}

/** The lookup keys (the values table's rows) of `attrs`, by `path NUL key`. */
function lookupKeysOf(r: ResolvedResource, attrs: Record<string, unknown>): Map<string, { path: string; key: string }> {
  const out = new Map<string, { path: string; key: string }>()
  for (const l of r.lookups) {
    for (const v of readStrings(attrs, l.path)) {
      const key = lookupKey(r.name, l.path, v, l.caseExact)
      out.set(sideKey(l.path, key), { path: l.path, key })
    }
  }
  return out
}

const sameStrings = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])
const sameKeys = (a: Map<string, unknown>, b: Map<string, unknown>): boolean => a.size === b.size && [...a.keys()].every((k) => b.has(k))

/** Versions are integers rendered as strings; anything else never matches. */
const versionNumber = (v: string): number => (/^\d{1,15}$/.test(v) ? Number(v) : -1)

/**
 * A `ScimAdapter` derived from a declarative mapping. Make one with {@link kyselyAdapter}.
 * @typeParam Ctx - the router's per-request context.
 */
export class KyselyAdapter<Ctx = unknown> implements ScimAdapter<Ctx> {
  readonly capabilities = { sort: true, changePassword: false }
  readonly dialect: KyselyDialectName
  readonly #db: Kysely<any>
  readonly #resources: Map<string, ResolvedResource>
  readonly #values: string
  readonly #unique: string
  readonly #tenantOf: (ctx: Ctx) => string
  readonly #nested: boolean
  readonly #maxInMemory: number
  readonly #mapping: KyselyMapping
  readonly #migrate: MigrationOptions | undefined
  #ready: Promise<void> | undefined
  /** The durable event outbox (`ScimAdapter.outbox`), unless the option `outbox: false`. */
  readonly outbox?: KyselyOutbox<Ctx>

  constructor(options: KyselyAdapterOptions<Ctx>) {
    this.#db = options.db
    this.dialect = options.dialect ?? detectDialect(options.db)
    this.#mapping = options.mapping
    const { resources, prefix } = resolveMapping(options.mapping)
    this.#resources = resources
    this.#memberTypes = [...resources.values()].filter((r) => r.name === 'User' || (options.nestedGroups === true && r.members))
    this.#groupTypes = [...resources.values()].filter((r) => r.members)
    this.#values = `${prefix}values`
    this.#unique = `${prefix}unique`
    this.#nested = options.nestedGroups === true
    this.#maxInMemory = options.maxInMemory ?? 10_000
    this.#migrate = options.migrate === true ? {} : options.migrate === false || options.migrate === undefined ? undefined : options.migrate
    this.#tenantOf =
      options.tenant ??
      ((ctx: Ctx) => {
        const t = (ctx as { tenant?: unknown } | null | undefined)?.tenant
        return typeof t === 'string' ? t : 'default'
      })
    if (options.outbox !== false) {
      const table = typeof options.outbox === 'object' ? options.outbox.table : `${prefix}events`
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) throw new TypeError(`kyselyAdapter: invalid outbox table '${table}'`)
      this.outbox = new KyselyOutbox<Ctx>(this.#db, this.dialect, table, this.#tenantOf, () => this.init())
    }
  }

  /** Record a write's events in its transaction, as its last statement (ScimAdapter.outbox). */
  async #record<R>(tx: Db, tenant: string, events: OutboxEvents<R> | undefined, result: R): Promise<R> {
    if (events && this.outbox) await this.outbox.record(tx, tenant, events(result))
    return result
  }

  /** Run the configured migration once (a no-op without the `migrate` option). */
  init(): Promise<void> {
    if (!this.#migrate) return Promise.resolve()
    this.#ready ??= migrate(this.#db, this.#mapping, { ...this.#migrate, dialect: this.dialect }).catch((err) => {
      this.#ready = undefined
      throw err
    })
    return this.#ready
  }

  // ------------------------------------------------------------------ helpers

  #res(resourceType: string): ResolvedResource {
    const r = this.#resources.get(resourceType)
    if (!r) throw new TypeError(`KyselyAdapter: resource type '${resourceType}' is not in the mapping`)
    return r
  }

  /** Resource types whose rows may be members of a group. */
  readonly #memberTypes: readonly ResolvedResource[]

  /** Resource types with a membership table. */
  readonly #groupTypes: readonly ResolvedResource[]

  /** The columns a resource is read from, unqualified (computed once per resource type). */
  readonly #columns = new Map<ResolvedResource, string[]>()

  #bareColumnsOf(r: ResolvedResource): string[] {
    let cols = this.#columns.get(r)
    if (!cols) {
      cols = [...new Set([r.id, r.version, r.created, r.lastModified, ...r.columns.map((c) => c.column), ...(r.rest ? [r.rest] : [])])]
      this.#columns.set(r, cols)
    }
    return cols
  }

  #columnsOf(r: ResolvedResource): string[] {
    return this.#bareColumnsOf(r).map((c) => `r.${c}`)
  }

  /** SQL compiled once per statement shape (see {@link #run}), at most {@link COMPILED_MAX}. */
  readonly #compiled = new Map<string, { sql: string; parameters: readonly unknown[] }>()

  /**
   * Run a statement of a fixed shape: Kysely builds and compiles it the first time, with a slot for
   * each of `values`; later calls only fill the slots. The SQL text is the same on every call, so a
   * driver's statement cache (`sqliteStatementCache`) reuses the prepared statement.
   */
  async #run(db: Db, key: string, build: (slots: string[]) => { compile(): CompiledQuery }, values: readonly unknown[]): Promise<Row[]> {
    let c = this.#compiled.get(key)
    if (c) {
      this.#compiled.delete(key) // most recently used last
    } else {
      const q = build(values.map((_, i) => `${SLOT}${i}`)).compile()
      c = { sql: q.sql, parameters: q.parameters }
      // Bounded: filter shapes come from requests, so their number is not.
      if (this.#compiled.size >= COMPILED_MAX) this.#compiled.delete(this.#compiled.keys().next().value as string)
    }
    this.#compiled.set(key, c)
    const parameters = c.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? values[Number(p.slice(SLOT.length))] : p))
    return (await db.executeQuery<Row>(CompiledQuery.raw(c.sql, parameters))).rows
  }

  /** The row of `id`, optionally locked for update. */
  #byId(db: Db, r: ResolvedResource, tenant: string, id: string, lock?: 'update'): Promise<Row[]> {
    return this.#run(
      db,
      `${r.name}:id:${lock ?? ''}`,
      ([t, i]) => {
        let q = db.selectFrom(`${r.table} as r`).select(this.#columnsOf(r)).where(`r.${r.id}`, '=', i!)
        if (r.tenant) q = q.where(`r.${r.tenant}`, '=', t!)
        return lock ? this.#lock(q, lock) : q
      },
      [tenant, id],
    )
  }

  /** `SELECT <columns> FROM table r WHERE tenant = ?`. */
  #select(db: Db, r: ResolvedResource, tenant: string) {
    let q = db.selectFrom(`${r.table} as r`).select(this.#columnsOf(r))
    if (r.tenant) q = q.where(`r.${r.tenant}`, '=', tenant)
    return q
  }

  /** A row lock suffix (`FOR UPDATE` / shared) where the database has row locks. */
  #lock<Q extends { forUpdate(): Q; modifyEnd(s: ReturnType<typeof sql.raw>): Q }>(q: Q, mode: 'update' | 'share'): Q {
    if (this.dialect === 'sqlite') return q // transactions are serial
    if (mode === 'update') return q.forUpdate()
    return q.modifyEnd(sql.raw(this.dialect === 'mysql' ? 'lock in share mode' : 'for share'))
  }

  #idOrder(col: string) {
    return this.dialect === 'postgres' ? sql`${sql.ref(col)} collate "C"` : sql.ref(col)
  }

  /**
   * One write transaction, retried on deadlock or serialization failure. `signal` is the request's
   * deadline (AdapterQuery.signal): aborted before the transaction, nothing starts; aborted while it
   * runs, the last step before COMMIT throws its reason, so the transaction rolls back and nothing
   * commits.
   */
  async #tx<T>(fn: (tx: Transaction<any>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.init()
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted()
      try {
        return await this.#db.transaction().execute(async (tx) => {
          const out = await fn(tx)
          signal?.throwIfAborted()
          return out
        })
      } catch (err) {
        if (signal?.aborted) throw signal.reason
        if (isRetryable(err) && attempt < 4) continue
        throw err
      }
    }
  }

  /** Ids of the groups (of every group type) that `memberId` is a member of, per group type. */
  async #groupsOf(tx: Db, tenant: string, memberId: string): Promise<Array<[ResolvedResource, string[]]>> {
    const out: Array<[ResolvedResource, string[]]> = []
    for (const g of this.#groupTypes) {
      const m = g.members!
      let sel = tx.selectFrom(`${m.table} as m`).select(`m.${m.group} as g`).where(`m.${m.member}`, '=', memberId)
      if (m.tenant) sel = sel.where(`m.${m.tenant}`, '=', tenant)
      out.push([g, (await sel.execute()).map((x) => String(x['g'])).filter((id) => id !== memberId)])
    }
    return out
  }

  // ------------------------------------------------------------------ reads

  /** Rows → resources, with derived `members` (Groups) and `groups` (Users) unless omitted. */
  async #hydrate(db: Db, r: ResolvedResource, tenant: string, rows: Row[], omit?: readonly string[]): Promise<StoredResource[]> {
    const out = rows.map((row) => decodeRow(r, row))
    if (out.length === 0) return out
    const byId = new Map(out.map((s) => [s.id, s]))
    if (r.members && !omit?.includes('members')) {
      const m = r.members
      const pairs: Row[] = []
      for (const ids of chunks([...byId.keys()])) {
        let q = db.selectFrom(`${m.table} as m`).select([`m.${m.group} as g`, `m.${m.member} as u`]).where(`m.${m.group}`, 'in', ids)
        if (m.tenant) q = q.where(`m.${m.tenant}`, '=', tenant)
        if (m.order) q = q.orderBy(`m.${m.order}`)
        pairs.push(...(await q.orderBy(this.#idOrder(`m.${m.member}`)).execute()))
      }
      const info = await this.#memberInfo(db, tenant, [...new Set(pairs.map((p) => String(p['u'])))])
      for (const p of pairs) {
        const s = byId.get(String(p['g']))!
        const id = String(p['u'])
        const i = info.get(id)
        const member: Record<string, unknown> = { value: id, type: i?.type ?? 'User' }
        if (i?.display !== undefined) member['display'] = i.display
        ;((s.attributes['members'] ??= []) as unknown[]).push(member)
      }
    }
    if (this.#memberTypes.includes(r) && !omit?.includes('groups')) {
      const found: { member: string; group: GroupRef }[] = []
      for (const g of this.#groupTypes) {
        const groups = new Map<string, GroupRef>()
        const joined = `${JOINED}${g.name}`
        // Read with the rows (#byIdWithGroups), else one query per chunk of members: the membership rows joined to their groups' rows.
        const fetched: Row[][] = []
        if (rows.every((row) => typeof row[joined] === 'string' || Array.isArray(row[joined]))) {
          const names = this.#groupRefColumns(g).map((c) => c.slice(2))
          for (const row of rows) {
            const list = (typeof row[joined] === 'string' ? JSON.parse(row[joined]) : row[joined]) as unknown[][] // the pg driver parses json itself
            fetched.push(list.map((values) => ({ ...Object.fromEntries(names.map((n, i) => [n, values[i]])), [MEMBER]: row[r.id] })))
          }
        } else {
          for (const ids of chunks([...byId.keys()])) {
            fetched.push(await this.#run(db, `${g.name}:groupsOf:${ids.length}`, ([t, ...slots]) => this.#groupsOfMembers(db, g, t!, slots), [tenant, ...ids]))
          }
        }
        for (const part of fetched) {
          for (const row of part) {
            const id = String(row[g.id])
            let group = groups.get(id)
            if (!group) {
              const display = decodeAttributes(g, row)['displayName']
              groups.set(id, (group = { id, created: decodeInstant(row[g.created]).getTime(), display: typeof display === 'string' ? display : undefined }))
            }
            found.push({ member: String(row[MEMBER]), group })
          }
        }
      }
      found.sort((a, b) => a.group.created - b.group.created || (a.group.id < b.group.id ? -1 : a.group.id > b.group.id ? 1 : 0))
      for (const f of found) {
        const s = byId.get(f.member)
        if (!s) continue
        const entry: Record<string, unknown> = { value: f.group.id, type: 'direct' }
        if (f.group.display !== undefined) entry['display'] = f.group.display
        ;((s.attributes['groups'] ??= []) as unknown[]).push(entry)
      }
    }
    return out
  }

  /**
   * What a member's `groups` entry needs of a group: id, created (the order) and what holds its
   * displayName (its column, else the JSON column); not the whole row, which is read once per
   * membership (a 10,000-member group's JSON column would be parsed for every member on a page).
   */
  #groupRefColumns(g: ResolvedResource): string[] {
    const display = g.columns.find((c) => c.path === 'displayName')
    // A column with a default may hold it for an absent displayName: the JSON column says which.
    const rest = g.rest && (!display || display.default !== undefined) ? [g.rest] : []
    return [...new Set([g.id, g.created, ...(display ? [display.column] : []), ...rest])].map((c) => `r.${c}`)
  }

  /** The rows of the groups of type `g` that `memberIds` are in, each with the member's id as {@link MEMBER}. */
  #groupsOfMembers(db: Db, g: ResolvedResource, tenant: string, memberIds: readonly string[]) {
    const m = g.members!
    let q = db
      .selectFrom(`${m.table} as m`)
      .innerJoin(`${g.table} as r`, `r.${g.id}`, `m.${m.group}`)
      .select([...this.#groupRefColumns(g), `m.${m.member} as ${MEMBER}`])
      .where(`m.${m.member}`, 'in', memberIds)
    if (m.tenant) q = q.where(`m.${m.tenant}`, '=', tenant)
    // The group's tenant as a join condition when both tables have one: SQLite then reads each
    // group row once per membership row instead of re-checking a parameter (measured twice as fast).
    if (g.tenant) q = m.tenant ? q.whereRef(`r.${g.tenant}`, '=', `m.${m.tenant}`) : q.where(`r.${g.tenant}`, '=', tenant)
    return q
  }

  /** Type and `display` (displayName, else userName) of member ids. */
  async #memberInfo(db: Db, tenant: string, ids: string[]): Promise<Map<string, { type: string; display: string | undefined }>> {
    const info = new Map<string, { type: string; display: string | undefined }>()
    for (const t of this.#memberTypes) {
      for (const part of chunks(ids.filter((id) => !info.has(id)))) {
        for (const row of await this.#select(db, t, tenant).where(`r.${t.id}`, 'in', part).execute()) {
          const s = decodeRow(t, row)
          const d = s.attributes['displayName'] ?? s.attributes['userName']
          info.set(s.id, { type: t.name, display: typeof d === 'string' ? d : undefined })
        }
      }
    }
    return info
  }

  async get(q: GetQuery, ctx: Ctx): Promise<StoredResource | null> {
    await this.init()
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const rows = this.#joinsGroups(r, q.omit) ? await this.#byIdWithGroups(r, tenant, q.id) : await this.#byId(this.#db, r, tenant, q.id)
    return (await this.#hydrate(this.#db, r, tenant, rows, q.omit))[0] ?? null
  }

  /**
   * Whether a read of one `r` fetches its derived `groups` in the same statement (SQLite and
   * PostgreSQL: a subquery per group type aggregating the group rows into JSON, the shape of
   * {@link #groupsOfMembers} row for row; one statement and round trip fewer per GET and per
   * PATCH/PUT read). MySQL/MariaDB keep the batched query.
   */
  #joinsGroups(r: ResolvedResource, omit?: readonly string[]): boolean {
    return this.dialect !== 'mysql' && this.#groupTypes.length > 0 && this.#memberTypes.includes(r) && !omit?.includes('groups')
  }

  /** The row of `id` with, per group type `g`, its groups' {@link #groupRefColumns} as a JSON array of arrays in `JOINED + g.name`. */
  #byIdWithGroups(r: ResolvedResource, tenant: string, id: string): Promise<Row[]> {
    return this.#run(
      this.#db,
      `${r.name}:id+groups`,
      ([t, i]) => {
        let q = this.#db
          .selectFrom(`${r.table} as r`)
          .select(this.#columnsOf(r))
          .select(this.#groupTypes.map((g) => this.#joinedGroups(g, r, t!).as(`${JOINED}${g.name}`)))
          .where(`r.${r.id}`, '=', i!)
        if (r.tenant) q = q.where(`r.${r.tenant}`, '=', t!)
        return q
      },
      [tenant, id],
    )
  }

  /** `(SELECT json_group_array(json_array(<group ref columns>)) FROM members m JOIN groups gr …)` for the outer row `r` (PostgreSQL: `json_agg(json_build_array(…))`). */
  #joinedGroups(g: ResolvedResource, r: ResolvedResource, tenant: string) {
    const m = g.members!
    const cols = this.#groupRefColumns(g).map((c) => sql.ref(`gr.${c.slice(2)}`))
    const conditions = [sql`${sql.ref(`m.${m.member}`)} = ${sql.ref(`r.${r.id}`)}`]
    if (m.tenant) conditions.push(sql`${sql.ref(`m.${m.tenant}`)} = ${tenant}`)
    if (g.tenant) conditions.push(m.tenant ? sql`${sql.ref(`gr.${g.tenant}`)} = ${sql.ref(`m.${m.tenant}`)}` : sql`${sql.ref(`gr.${g.tenant}`)} = ${tenant}`)
    // SQLite answers '[]' for no rows; PostgreSQL's json_agg answers NULL, hence the coalesce.
    const agg = this.dialect === 'postgres' ? sql`coalesce(json_agg(json_build_array(${sql.join(cols)})), '[]'::json)` : sql`json_group_array(json_array(${sql.join(cols)}))`
    return sql<string>`(select ${agg} from ${sql.table(m.table)} as m inner join ${sql.table(g.table)} as gr on ${sql.ref(`gr.${g.id}`)} = ${sql.ref(`m.${m.group}`)} where ${sql.join(conditions, sql` and `)})`
  }

  #plan(r: ResolvedResource, tenant: string, filter: FilterNode | undefined, param?: (v: unknown) => unknown): Plan {
    if (!filter) return { where: undefined, exact: true, shape: '' }
    return planFilter(filter, { resource: r, tenant, valuesTable: this.#values, memberOf: this.#memberTypes.includes(r) ? this.#groupTypes.map((group) => ({ group })) : [], ...(param ? { param } : {}) })
  }

  /**
   * A plan whose values are slots of {@link #run} (slot 0 the tenant, then the plan's values),
   * for statements compiled once per filter shape; `values` are what fills the slots.
   */
  #slottedPlan(r: ResolvedResource, tenant: string, filter: FilterNode | undefined): { plan: Plan; values: unknown[] } {
    const values: unknown[] = [tenant]
    const plan = this.#plan(r, `${SLOT}0`, filter, (v) => `${SLOT}${values.push(v) - 1}`)
    return { plan, values }
  }

  /** `FROM table r WHERE tenant AND <plan>` as a select of the resource columns. */
  #base(db: Db, r: ResolvedResource, tenant: string, plan: Plan) {
    const q = this.#select(db, r, tenant)
    return plan.where ? q.where(plan.where) : q
  }

  #count(db: Db, r: ResolvedResource, tenant: string, plan: Plan) {
    let q = db.selectFrom(`${r.table} as r`).select((eb) => eb.fn.countAll().as('n'))
    if (r.tenant) q = q.where(`r.${r.tenant}`, '=', tenant)
    if (plan.where) q = q.where(plan.where)
    return q
  }

  /**
   * Always true: every filter is answered here. The parts an index serves (lookup keys, `id`,
   * membership, `meta.created`/`meta.lastModified` ranges) narrow the rows in SQL; anything else
   * is decided with `compileFilter` on those candidates (at most `maxInMemory` of them).
   */
  canFilter(_filter: FilterNode, resourceType: string): boolean {
    return this.#resources.has(resourceType)
  }

  /**
   * True when SQL orders by the sort exactly: `meta.created` and `meta.lastModified` (their own
   * columns). Any other attribute (string folding, multi-valued primaries, derived `groups`, values
   * kept in the JSON column) answers false, and the router sorts the filtered candidates in memory
   * with `compareForSort` (`list` still sorts them itself when called directly).
   */
  canSort(sort: SortSpec, resourceType: string): boolean {
    const r = this.#resources.get(resourceType)
    return r !== undefined && this.#sortColumn(r, sort) !== undefined
  }

  /** The SQL `list` runs for a query (the page query when SQL decides it, else the candidates query), compiled. */
  compileList(q: ListQuery, ctx: Ctx): { sql: string; parameters: readonly unknown[]; inMemory: boolean } {
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const plan = this.#plan(r, tenant, q.filter)
    const sortColumn = this.#sortColumn(r, q.sort)
    const inMemory = !plan.exact || sortColumn === undefined
    const base = this.#base(this.#db, r, tenant, plan)
    const query = inMemory ? base : this.#ordered(base, r, false, sortColumn).limit(Math.max(q.count, 0)).offset(q.startIndex - 1)
    const c = query.compile()
    return { sql: c.sql, parameters: c.parameters, inMemory }
  }

  /**
   * The column SQL can sort by exactly: none for the default order (`''`), the created or
   * lastModified column for `meta.created`/`meta.lastModified` (instants, never missing), else
   * undefined (sorted in memory with compareForSort: string folding and multi-valued primaries).
   */
  #sortColumn(r: ResolvedResource, sort: SortSpec | undefined): { column: string; desc: boolean } | '' | undefined {
    if (!sort) return ''
    const a = sort.attribute
    if (!a.parent?.common || a.parent.def.name !== 'meta') return undefined
    const column = a.def.name === 'created' ? r.created : a.def.name === 'lastModified' ? r.lastModified : undefined
    return column ? { column, desc: sort.order === 'descending' } : undefined
  }

  /** ORDER BY the sort column (if any), then created and id ascending (LST-031), all reversed for a backwards page. */
  #ordered<Q extends { orderBy(e: unknown, d?: 'asc' | 'desc'): Q }>(q: Q, r: ResolvedResource, reverse: boolean, sort: { column: string; desc: boolean } | '' = ''): Q {
    const dir = reverse ? 'desc' : 'asc'
    if (sort) q = q.orderBy(`r.${sort.column}`, sort.desc !== reverse ? 'desc' : 'asc')
    return q.orderBy(`r.${r.created}`, dir).orderBy(sql`${this.#idOrder(`r.${r.id}`)} ${sql.raw(dir)}`)
  }

  async list(q: ListQuery, ctx: Ctx): Promise<ListResult> {
    await this.init()
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const plan = this.#plan(r, tenant, q.filter)
    const sortColumn = this.#sortColumn(r, q.sort)
    if (!plan.exact || sortColumn === undefined) {
      const items = await this.#candidates(r, tenant, plan, q.filter)
      const cmp = q.sort ? compareForSort(q.sort.attribute, q.sort.order) : compareDefault
      items.sort((a, b) => cmp(a.view, b.view))
      const from = q.startIndex - 1
      return { resources: items.slice(from, from + Math.max(0, q.count)).map((i) => i.s), totalResults: items.length }
    }
    // Both statements compiled once per filter shape and sort (the common IdP lookups: once each).
    const slotted = this.#slottedPlan(r, tenant, q.filter)
    const sp = slotted.plan
    const values = slotted.values
    const sortKey = sortColumn ? `${sortColumn.column}:${sortColumn.desc ? 'd' : 'a'}` : ''
    const count = async () => Number((await this.#run(this.#db, `${r.name}:count:${sp.shape}`, ([t]) => this.#count(this.#db, r, t!, sp), values))[0]?.['n'] ?? 0)
    if (q.count <= 0) return { resources: [], totalResults: await count() }
    const page = () =>
      this.#run(
        this.#db,
        `${r.name}:page:${sortKey}:${sp.shape}`,
        (slots) => this.#ordered(this.#base(this.#db, r, slots[0]!, sp), r, false, sortColumn).limit(slots[values.length] as never).offset(slots[values.length + 1] as never),
        [...values, q.count, q.startIndex - 1],
      )
    let rows: Row[]
    let total: number
    if (q.startIndex === 1) {
      // A first page that is not full holds every match (an IdP lookup: 0 or 1 rows): no COUNT.
      rows = await page()
      total = rows.length < q.count ? rows.length : await count()
    } else [total, rows] = await Promise.all([count(), page()])
    return { resources: await this.#hydrate(this.#db, r, tenant, rows, q.omit), totalResults: total }
  }

  /** The rows SQL selects for a plan, with their evaluation views, filtered exactly in memory. */
  async #candidates(r: ResolvedResource, tenant: string, plan: Plan, filter: FilterNode | undefined): Promise<{ s: StoredResource; view: Record<string, unknown> }[]> {
    const n = Number((await this.#count(this.#db, r, tenant, plan).executeTakeFirst())?.['n'] ?? 0)
    if (n > this.#maxInMemory) throw new TooManyError(`The query would evaluate ${n} resources in memory; narrow the filter`)
    const rows = await this.#base(this.#db, r, tenant, plan).execute()
    const stored = await this.#hydrate(this.#db, r, tenant, rows)
    let items = stored.map((s) => ({ s, view: viewOf(s, r) }))
    if (filter && !plan.exact) {
      const test = compileFilter(filter)
      items = items.filter((i) => test(i.view))
    }
    return items
  }

  /**
   * RFC 9865 cursors. Default order with a filter SQL decides: a keyset query on (created, id)
   * (`WHERE (created, id) > boundary ORDER BY created, id LIMIT count + 1`), correct while rows are
   * inserted and deleted. Otherwise the same keyset semantics over the candidates in memory.
   */
  async listByCursor(q: CursorListQuery, ctx: Ctx): Promise<CursorListResult> {
    await this.init()
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const plan = this.#plan(r, tenant, q.filter)
    if (!plan.exact || q.sort) {
      const items = await this.#candidates(r, tenant, plan, q.filter)
      const { page, ...cursors } = keysetPage(items, q.sort, q.count, q.cursor)
      return { resources: page.map((m) => m.s), ...cursors }
    }
    const boundary = q.cursor === undefined ? undefined : parseCursor(q.cursor)
    const count = Math.max(0, q.count)
    const total = Number((await this.#count(this.#db, r, tenant, plan).executeTakeFirst())?.['n'] ?? 0)
    const result: CursorListResult = { resources: [], totalResults: total }
    if (count === 0) return result
    const C = `r.${r.created}`
    const beyond = (b: Boundary, later: boolean) => {
      const c = encodeInstant(b.c, r.timestamps)
      const op = later ? '>' : '<'
      return (eb: any) => eb.or([eb(C, op, c), eb.and([eb(C, '=', c), eb(this.#idOrder(`r.${r.id}`), op, b.i)])])
    }
    const backwards = boundary?.d === 'p'
    let page = this.#base(this.#db, r, tenant, plan)
    if (boundary) page = page.where(beyond(boundary, !backwards))
    let rows = await this.#ordered(page, r, backwards).limit(count + 1).execute()
    const more = rows.length > count
    rows = rows.slice(0, count)
    if (backwards) rows.reverse()
    const resources = await this.#hydrate(this.#db, r, tenant, rows)
    const first = resources[0]
    const last = resources[resources.length - 1]
    if (!first || !last) return result
    const edge = (s: StoredResource): Boundary => ({ d: 'n', c: s.created.getTime(), i: s.id })
    const exists = async (b: Boundary, later: boolean) => (await this.#base(this.#db, r, tenant, plan).where(beyond(b, later)).limit(1).execute()).length > 0
    const hasNext = backwards ? await exists(edge(last), true) : more
    const hasPrevious = backwards ? more : boundary !== undefined && (await exists(edge(first), false))
    if (hasNext) result.nextCursor = JSON.stringify({ ...edge(last), d: 'n' })
    if (hasPrevious) result.previousCursor = JSON.stringify({ ...edge(first), d: 'p' })
    result.resources = resources
    return result
  }

  /**
   * The query plan of the statement `list` runs (SQLite `EXPLAIN QUERY PLAN`; PostgreSQL `EXPLAIN`
   * with sequential scans disabled, so the plan shows whether an index *can* serve the query on a
   * small table; MySQL/MariaDB `EXPLAIN`, one line per table: `table type key`). For tests and diagnostics.
   */
  async explain(q: ListQuery, ctx: Ctx): Promise<string> {
    await this.init()
    const c = this.compileList(q, ctx)
    return this.#db.transaction().execute(async (tx) => {
      if (this.dialect === 'postgres') await sql`SET LOCAL enable_seqscan = off`.execute(tx)
      const prefix = this.dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN '
      const rows = (await tx.executeQuery(CompiledQuery.raw(prefix + c.sql, [...c.parameters]))).rows as Row[]
      if (this.dialect === 'sqlite') return rows.map((x) => String(x['detail'])).join('\n')
      if (this.dialect === 'postgres') return rows.map((x) => String(x['QUERY PLAN'])).join('\n')
      return rows.map((x) => `${String(x['table'])} ${String(x['type'])} ${String(x['key'])}`).join('\n')
    })
  }

  // ------------------------------------------------------------------ writes

  /**
   * The side-table keys a resource has now (`path NUL value_key`), both tables in one query, so a
   * replace writes only the keys that changed (none for most PATCHes: `active`, `title`, …).
   */
  async #sideKeys(tx: Db, tenant: string, r: ResolvedResource, id: string): Promise<{ unique: Set<string>; values: Set<string> }> {
    const of = (table: string, s: 'u' | 'v', t: string, i: string) =>
      tx.selectFrom(table).select([sql<string>`${sql.lit(s)}`.as('s'), 'path', 'value_key']).where('tenant', '=', t).where('resource_type', '=', r.name).where('resource_id', '=', i)
    const out = { unique: new Set<string>(), values: new Set<string>() }
    const rows = await this.#run(tx, `${r.name}:sideKeys`, ([t, i]) => of(this.#unique, 'u', t!, i!).unionAll(of(this.#values, 'v', t!, i!)), [tenant, id])
    for (const row of rows) {
      const key = row['value_key']
      const k = sideKey(String(row['path']), Buffer.isBuffer(key) ? key.toString('utf8') : String(key))
      ;(String(row['s']) === 'u' ? out.unique : out.values).add(k)
    }
    return out
  }

  /** Delete the side-table rows of `id` whose `path NUL value_key` is in `stale`. */
  async #deleteKeys(tx: Db, table: string, tenant: string, r: ResolvedResource, id: string, stale: readonly string[]): Promise<void> {
    for (const part of chunks(stale)) {
      await tx
        .deleteFrom(table)
        .where('tenant', '=', tenant)
        .where('resource_type', '=', r.name)
        .where('resource_id', '=', id)
        .where((eb) => eb.or(part.map((k) => eb.and([eb('path', '=', k.slice(0, k.indexOf('\0'))), eb('value_key', '=', k.slice(k.indexOf('\0') + 1))]))))
        .execute()
    }
  }

  /**
   * Uniqueness keys of a write, inserted in its transaction (the primary key decides a race:
   * 409 uniqueness). `existing`: the keys the resource has now (a replace); only changes are written.
   */
  async #writeUnique(tx: Db, tenant: string, r: ResolvedResource, id: string, attrs: Record<string, unknown>, unique: readonly UniqueConstraint[], existing?: Set<string>): Promise<void> {
    const wanted = uniqueKeysOf(r, attrs, unique)
    if (existing) await this.#deleteKeys(tx, this.#unique, tenant, r, id, [...existing].filter((k) => !wanted.has(k)))
    for (const [k, u] of wanted) {
      if (existing?.has(k)) continue
      try {
        await tx.insertInto(this.#unique).values({ tenant, resource_type: r.name, path: u.path, value_key: u.key, resource_id: id }).execute()
      } catch (err) {
        if (isDuplicateKey(err)) throw new UniquenessError(`${u.path} '${u.value}' is already in use`, { cause: err })
        throw err
      }
    }
  }

  /** Lookup keys of a write; `existing` as for {@link #writeUnique}. */
  async #writeLookups(tx: Db, tenant: string, r: ResolvedResource, id: string, attrs: Record<string, unknown>, existing?: Set<string>): Promise<void> {
    const wanted = lookupKeysOf(r, attrs)
    if (existing) await this.#deleteKeys(tx, this.#values, tenant, r, id, [...existing].filter((k) => !wanted.has(k)))
    const rows = [...wanted]
      .filter(([k]) => !existing?.has(k))
      .map(([, l]) => ({ tenant, resource_type: r.name, path: l.path, value_key: l.key, resource_id: id }))
    for (const part of chunks(rows)) await tx.insertInto(this.#values).values(part).execute()
  }

  /** Resource type of each member id; all must exist in this tenant (locked against deletion). */
  async #checkMembers(tx: Db, tenant: string, ids: readonly string[]): Promise<void> {
    const found = new Set<string>()
    for (const t of this.#memberTypes) {
      for (const part of chunks(ids.filter((id) => !found.has(id)))) {
        let q = tx.selectFrom(`${t.table} as r`).select(`r.${t.id} as id`).where(`r.${t.id}`, 'in', part)
        if (t.tenant) q = q.where(`r.${t.tenant}`, '=', tenant)
        for (const row of await this.#lock(q, 'share').execute()) found.add(String(row['id']))
      }
    }
    for (const id of ids) if (!found.has(id)) throw new InvalidValueError(`members: no ${this.#nested ? 'User or Group' : 'User'} with id '${id}'`)
  }

  async #currentMembers(tx: Db, r: ResolvedResource, tenant: string, groupId: string, among?: readonly string[]): Promise<Set<string>> {
    const m = r.members!
    const out = new Set<string>()
    const run = async (ids?: string[]) => {
      let q = tx.selectFrom(`${m.table} as m`).select(`m.${m.member} as u`).where(`m.${m.group}`, '=', groupId)
      if (m.tenant) q = q.where(`m.${m.tenant}`, '=', tenant)
      if (ids) q = q.where(`m.${m.member}`, 'in', ids)
      for (const row of await q.execute()) out.add(String(row['u']))
    }
    if (among) for (const part of chunks(among)) await run(part)
    else await run()
    return out
  }

  async #addMembers(tx: Db, r: ResolvedResource, tenant: string, groupId: string, ids: readonly string[]): Promise<void> {
    const m = r.members!
    if (ids.length === 0) return
    let ord = 0
    if (m.order) {
      let q = tx.selectFrom(`${m.table} as m`).select((eb) => eb.fn.max(`m.${m.order!}`).as('n')).where(`m.${m.group}`, '=', groupId)
      if (m.tenant) q = q.where(`m.${m.tenant}`, '=', tenant)
      ord = Number((await q.executeTakeFirst())?.['n'] ?? 0)
    }
    for (const part of chunks(ids)) {
      await tx
        .insertInto(m.table)
        .values(part.map((id) => ({ [m.group]: groupId, [m.member]: id, ...(m.tenant ? { [m.tenant]: tenant } : {}), ...(m.order ? { [m.order]: ++ord } : {}) })))
        .execute()
    }
  }

  async #removeMembers(tx: Db, r: ResolvedResource, tenant: string, groupId: string, ids: readonly string[]): Promise<void> {
    const m = r.members!
    for (const part of chunks(ids)) {
      let q = tx.deleteFrom(m.table).where(m.group, '=', groupId).where(m.member, 'in', part)
      if (m.tenant) q = q.where(m.tenant, '=', tenant)
      await q.execute()
    }
  }

  /**
   * ETG-002: resources whose representation changed because a group they are in changed (their
   * derived `groups`, a member's `display`) get a new version and lastModified.
   */
  async #touch(tx: Db, tenant: string, types: readonly ResolvedResource[], ids: readonly string[]): Promise<void> {
    const sorted = [...new Set(ids)].sort() // one lock order for concurrent writers
    if (sorted.length === 0) return
    const now = Date.now()
    for (const t of types) {
      for (const part of chunks(sorted)) {
        let q = tx
          .updateTable(t.table)
          .set({ [t.version]: sql`${sql.ref(t.version)} + 1`, [t.lastModified]: encodeInstant(now, t.timestamps) })
          .where(t.id, 'in', part)
        if (t.tenant) q = q.where(t.tenant, '=', tenant)
        await q.execute()
      }
    }
  }

  async #readOne(tx: Db, r: ResolvedResource, tenant: string, id: string, omit?: readonly string[]): Promise<StoredResource> {
    const rows = await this.#byId(tx, r, tenant, id)
    const s = (await this.#hydrate(tx, r, tenant, rows, omit))[0]
    if (!s) throw new NotFoundError(`${r.name} ${id} not found`)
    return s
  }

  async create(q: CreateQuery, ctx: Ctx): Promise<StoredResource> {
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const rec = encodeRecord(r, q.attributes, this.dialect)
    const id = uuidv7()
    return this.#tx(async (tx) => {
      const now = encodeInstant(Date.now(), r.timestamps)
      await this.#writeUnique(tx, tenant, r, id, q.attributes, q.unique)
      await tx
        .insertInto(r.table)
        .values({ ...rec.columns, [r.id]: id, ...(r.tenant ? { [r.tenant]: tenant } : {}), [r.version]: 1, [r.created]: now, [r.lastModified]: now })
        .execute()
      await this.#writeLookups(tx, tenant, r, id, q.attributes)
      if (rec.members && rec.members.length > 0) {
        await this.#checkMembers(tx, tenant, rec.members)
        await this.#addMembers(tx, r, tenant, id, rec.members)
        await this.#touch(tx, tenant, this.#memberTypes, rec.members)
      }
      return this.#record(tx, tenant, q.events, await this.#readOne(tx, r, tenant, id))
    }, q.signal)
  }

  /**
   * `UPDATE table SET <names>, version = version + 1, lastModified WHERE id AND version (AND tenant)`,
   * the compare-and-swap of a replace; `values` are `[tenant, id, version, lastModified, ...names' values]`
   * (or {@link #run}'s slots for them).
   */
  #conditionalUpdate(db: Db, r: ResolvedResource, names: readonly string[], [t, id, version, lastModified, ...values]: unknown[]) {
    let upd = db
      .updateTable(r.table)
      .set({ ...Object.fromEntries(names.map((n, i) => [n, values[i]])), [r.version]: sql`${sql.ref(r.version)} + 1`, [r.lastModified]: lastModified })
      .where(r.id, '=', id)
      .where(r.version, '=', version)
    if (r.tenant) upd = upd.where(r.tenant, '=', t)
    return upd
  }

  /**
   * Whether replacing `before` by `after` changes nothing but the resource's own row: the same
   * uniqueness and lookup keys, and (for a member type) the same `display` in its groups. A PATCH of
   * `active`, `title` or a phone number is such a change.
   */
  #onlyRowChanges(r: ResolvedResource, before: Record<string, unknown>, after: Record<string, unknown>, unique: readonly UniqueConstraint[]): boolean {
    if (this.#memberTypes.includes(r) && memberDisplay(before) !== memberDisplay(after)) return false
    // The same strings at every key path have the same keys (folding is a function): compared
    // raw first, folded only when some string differs (a case-only change keeps its keys).
    const raw = unique.every((u) => readPath(before, u.path) === readPath(after, u.path)) && r.lookups.every((l) => sameStrings(readStrings(before, l.path), readStrings(after, l.path)))
    return raw || (sameKeys(uniqueKeysOf(r, before, unique), uniqueKeysOf(r, after, unique)) && sameKeys(lookupKeysOf(r, before), lookupKeysOf(r, after)))
  }

  /**
   * A replace that changes only the resource's row (see {@link #onlyRowChanges}), given the
   * resource as read at `expectedVersion`: one `UPDATE … WHERE version = expected`, whose matching
   * version proves the side tables and the derived `groups` are still those of `prev` (every
   * membership change bumps the member's version). Without events to record and with `RETURNING`,
   * the statement is its own transaction: checked against the deadline right before it runs, and
   * once it ran, committed (a write that resolves is committed, AdapterQuery.signal).
   */
  async #replaceRow(q: ReplaceQuery, r: ResolvedResource, tenant: string, rec: EncodedRecord, prev: StoredResource): Promise<StoredResource> {
    await this.init()
    const columns = rec.columns
    const names = Object.keys(columns)
    const version = versionNumber(q.expectedVersion!)
    const now = encodeInstant(Math.max(Date.now(), prev.lastModified.getTime()), r.timestamps)
    const args = [tenant, q.id, version, now, ...names.map((n) => columns[n])]
    const update = (db: Db, slots: unknown[]) => this.#conditionalUpdate(db, r, names, slots)
    const write = async (db: Db): Promise<StoredResource> => {
      let row: Row | undefined
      if (this.dialect === 'mysql') {
        // No UPDATE … RETURNING: the row is read back in the transaction that holds its lock.
        if (Number((await update(db, args).executeTakeFirst()).numUpdatedRows) > 0) row = (await this.#byId(db, r, tenant, q.id))[0]
      } else if (this.dialect === 'sqlite') {
        // SQLite stores the values as bound (no type conversion), so the row as stored is the one
        // written: decoding it is decoding what a read returns, without returning and re-parsing it.
        // RETURNING the version only: every driver answers rows, not all set `numAffectedRows`.
        const done = await this.#run(db, `${r.name}:update-version:${names.join(',')}`, (slots) => update(db, slots).returning([r.version]), args)
        if (done.length > 0) {
          row = { ...columns, [r.id]: q.id, [r.version]: version + 1, [r.created]: prev.created, [r.lastModified]: now }
          if (r.rest) row[r.rest] = rec.rest
        }
      } else {
        row = (await this.#run(db, `${r.name}:update:${names.join(',')}`, (slots) => update(db, slots).returning(this.#bareColumnsOf(r)), args))[0]
      }
      if (!row) {
        if ((await this.#byId(db, r, tenant, q.id)).length === 0) throw new NotFoundError(`${r.name} ${q.id} not found`)
        throw new PreconditionFailedError()
      }
      const after = decodeRow(r, row)
      if (prev.attributes['groups'] !== undefined && this.#memberTypes.includes(r)) after.attributes['groups'] = prev.attributes['groups']
      return this.#record(db, tenant, q.events, after)
    }
    if ((q.events && this.outbox) || this.dialect === 'mysql') return this.#tx(write, q.signal)
    q.signal?.throwIfAborted()
    return write(this.#db)
  }

  async replace(q: ReplaceQuery, ctx: Ctx): Promise<StoredResource> {
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    const rec = encodeRecord(r, q.attributes, this.dialect)
    const prev = q.previous
    if (prev && q.expectedVersion !== undefined && prev.id === q.id && prev.version === q.expectedVersion && !rec.members && this.#onlyRowChanges(r, prev.attributes, q.attributes, q.unique)) {
      return this.#replaceRow(q, r, tenant, rec, prev)
    }
    return this.#tx(async (tx) => {
      // Lock the row and read what decides the outcome (existence, version, the old name).
      const old = (await this.#byId(tx, r, tenant, q.id, 'update'))[0]
      if (!old) throw new NotFoundError(`${r.name} ${q.id} not found`)
      const before = decodeRow(r, old)
      if (q.expectedVersion !== undefined && versionNumber(q.expectedVersion) !== Number(before.version)) throw new PreconditionFailedError()
      const now = Math.max(Date.now(), before.lastModified.getTime())
      const names = Object.keys(rec.columns)
      const update = (slots: unknown[]) => this.#conditionalUpdate(tx, r, names, slots)
      const args = [tenant, q.id, Number(before.version), encodeInstant(now, r.timestamps), ...names.map((n) => rec.columns[n])]
      // PostgreSQL and SQLite return the row as stored (no re-read below); MySQL/MariaDB have no UPDATE … RETURNING.
      let updated: Row | undefined
      if (this.dialect === 'mysql') {
        if (Number((await update(args).executeTakeFirst()).numUpdatedRows) === 0) throw new PreconditionFailedError()
      } else {
        updated = (await this.#run(tx, `${r.name}:update:${names.join(',')}`, (slots) => update(slots).returning(this.#bareColumnsOf(r)), args))[0]
        if (!updated) throw new PreconditionFailedError() // SQLite has no row lock: the CAS decides
      }
      const keys = await this.#sideKeys(tx, tenant, r, q.id)
      await this.#writeUnique(tx, tenant, r, q.id, q.attributes, q.unique, keys.unique)
      await this.#writeLookups(tx, tenant, r, q.id, q.attributes, keys.values)
      if (rec.members) {
        const wanted = rec.members
        await this.#checkMembers(tx, tenant, wanted)
        const existing = await this.#currentMembers(tx, r, tenant, q.id)
        const keep = new Set(wanted)
        const removed = [...existing].filter((id) => !keep.has(id))
        const added = wanted.filter((id) => !existing.has(id))
        await this.#removeMembers(tx, r, tenant, q.id, removed)
        await this.#addMembers(tx, r, tenant, q.id, added)
        const renamed = before.attributes['displayName'] !== q.attributes['displayName']
        await this.#touch(tx, tenant, this.#memberTypes, [...(renamed ? wanted : added), ...removed].filter((id) => id !== q.id))
      }
      // A member's `display` (displayName, else userName) shows in every group it is in: when it
      // changes, those groups' representation changed, so do their versions (RFC 7644 §3.14).
      if (this.#memberTypes.includes(r) && memberDisplay(before.attributes) !== memberDisplay(q.attributes)) {
        for (const [g, ids] of await this.#groupsOf(tx, tenant, q.id)) await this.#touch(tx, tenant, [g], ids)
      }
      // The row is not touched above (its own id is left out of every #touch), so `updated` is current.
      const after = updated ? (await this.#hydrate(tx, r, tenant, [updated]))[0]! : await this.#readOne(tx, r, tenant, q.id)
      return this.#record(tx, tenant, q.events, after)
    }, q.signal)
  }

  /**
   * Add/remove Group members as join-table row inserts and deletes: the group row is locked
   * (`FOR UPDATE`; SQLite transactions are serial), and its version bumped only when membership
   * changed, so concurrent member changes to one group queue instead of failing a compare-and-swap.
   */
  async modifyMembers(q: ModifyMembersQuery, ctx: Ctx): Promise<ModifyMembersResult> {
    const r = this.#res(q.resourceType)
    if (!r.members) throw new TypeError(`KyselyAdapter: ${r.name} has no members mapping`)
    const tenant = this.#tenantOf(ctx)
    return this.#tx(async (tx) => {
      const locked = await this.#byId(tx, r, tenant, q.id, 'update')
      if (locked.length === 0) throw new NotFoundError(`${r.name} ${q.id} not found`)
      const present = await this.#currentMembers(tx, r, tenant, q.id, [...new Set([...q.add, ...q.remove])])
      const added = [...new Set(q.add)].filter((id) => !present.has(id))
      const removed = [...new Set(q.remove)].filter((id) => present.has(id))
      await this.#checkMembers(tx, tenant, added)
      if (added.length === 0 && removed.length === 0) return this.#record(tx, tenant, q.events, { resource: (await this.#hydrate(tx, r, tenant, locked, ['members']))[0]!, added, removed })
      await this.#removeMembers(tx, r, tenant, q.id, removed)
      await this.#addMembers(tx, r, tenant, q.id, added)
      await this.#touch(tx, tenant, [r], [q.id])
      await this.#touch(tx, tenant, this.#memberTypes, [...added, ...removed].filter((id) => id !== q.id))
      return this.#record(tx, tenant, q.events, { resource: await this.#readOne(tx, r, tenant, q.id, ['members']), added, removed })
    }, q.signal)
  }

  async delete(q: DeleteQuery, ctx: Ctx): Promise<void> {
    const r = this.#res(q.resourceType)
    const tenant = this.#tenantOf(ctx)
    await this.#tx(async (tx) => {
      // Lock the row first: no membership can be added to it while it is deleted.
      const found = (await this.#byId(tx, r, tenant, q.id, 'update'))[0]
      if (!found) throw new NotFoundError(`${r.name} ${q.id} not found`)
      if (q.expectedVersion !== undefined && versionNumber(q.expectedVersion) !== Number(found[r.version])) throw new PreconditionFailedError()
      if (r.members) {
        // A deleted group's members lose it from their derived groups.
        const members = [...(await this.#currentMembers(tx, r, tenant, q.id))]
        await this.#removeMembers(tx, r, tenant, q.id, members)
        await this.#touch(tx, tenant, this.#memberTypes, members.filter((id) => id !== q.id))
      }
      if (this.#memberTypes.includes(r)) {
        // A deleted member leaves every group; those groups change.
        for (const g of this.#groupTypes) {
          const m = g.members!
          let sel = tx.selectFrom(`${m.table} as m`).select(`m.${m.group} as g`).where(`m.${m.member}`, '=', q.id)
          if (m.tenant) sel = sel.where(`m.${m.tenant}`, '=', tenant)
          const groups = (await sel.execute()).map((x) => String(x['g'])).filter((id) => id !== q.id)
          let del = tx.deleteFrom(m.table).where(m.member, '=', q.id)
          if (m.tenant) del = del.where(m.tenant, '=', tenant)
          await del.execute()
          await this.#touch(tx, tenant, [g], groups)
        }
      }
      for (const side of [this.#values, this.#unique]) {
        await tx.deleteFrom(side).where('tenant', '=', tenant).where('resource_id', '=', q.id).where('resource_type', '=', r.name).execute()
      }
      let del = tx.deleteFrom(r.table).where(r.id, '=', q.id)
      if (r.tenant) del = del.where(r.tenant, '=', tenant)
      const res = await del.executeTakeFirst()
      if (Number(res.numDeletedRows) === 0) throw new NotFoundError(`${r.name} ${q.id} not found`)
      await this.#record(tx, tenant, q.events, undefined)
    }, q.signal)
  }
}

/** A group as a member's `groups` entry shows it (and orders it: created, then id). */
interface GroupRef {
  id: string
  created: number
  display: string | undefined
}

/** The adapter's keyset cursor: direction, and the boundary row's created (epoch ms) and id. */
interface Boundary {
  d: 'n' | 'p'
  c: number
  i: string
}

function parseCursor(cursor: string): Boundary {
  let b: Partial<Boundary>
  try {
    b = JSON.parse(cursor) as Partial<Boundary>
  } catch {
    throw new InvalidCursorError()
  }
  // A boundary id no stored id can equal (U+0000, a lone surrogate) would reach the database as is:
  // PostgreSQL rejects such text with an error, so it is refused here.
  if (!b || (b.d !== 'n' && b.d !== 'p') || !Number.isSafeInteger(b.c) || typeof b.i !== 'string' || hasForbiddenChar(b.i)) throw new InvalidCursorError()
  return b as Boundary
}

/** The evaluation view of a stored resource (the shape of `toView`), for in-memory decisions. */
function viewOf(s: StoredResource, r: ResolvedResource): Record<string, unknown> {
  const schemas = [r.coreSchema]
  for (const k of Object.keys(s.attributes)) if (k.startsWith('urn:')) schemas.push(k)
  return {
    ...s.attributes,
    id: s.id,
    schemas,
    meta: { resourceType: r.name, created: s.created.toISOString(), lastModified: s.lastModified.toISOString(), version: `W/"${s.version}"` },
  }
}

/**
 * Make a {@link KyselyAdapter}.
 * @throws TypeError when the mapping is invalid (unknown attribute, complex attribute on a column, …).
 */
export function kyselyAdapter<Ctx = unknown>(options: KyselyAdapterOptions<Ctx>): KyselyAdapter<Ctx> {
  return new KyselyAdapter<Ctx>(options)
}

/** What a Group shows as a member's `display` (RFC 7643 §8.4): its displayName, else its userName. */
function memberDisplay(attrs: Record<string, unknown>): unknown {
  return attrs['displayName'] ?? attrs['userName']
}
