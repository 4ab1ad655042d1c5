/**
 * The record-level storage contract, {@link RecordStore}, and {@link recordAdapter}, which turns one
 * into a complete {@link ScimAdapter}. A store keeps records and answers four reads and one atomic
 * commit; the library keeps every SCIM rule of storage on top of it: the derived `User.groups`,
 * member `display` and `type`, new versions for the resources a membership change, a rename or a
 * delete alters (RFC 7644 §3.14), a deleted User leaving its Groups, uniqueness and lookup keys
 * folded as the filter evaluator compares (RFC 7643 §2.1, RFC 7644 §5), compare-and-swap with
 * retries, filtering and sorting in memory over lookup candidates, and keyset cursors (RFC 9865).
 *
 * Derived values are kept denormalised in the records, written in the same commit as the change
 * that alters them: a User record holds its `groups` (`value`, `display`, `type`), a Group record
 * its members with `display` and `type`. A read is then one record, with no join, and a write
 * rewrites the records it affects, linear in the members it touches.
 * @module
 */
import type {
  AdapterQuery,
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
  StoredResource,
  UniqueConstraint,
} from '../adapter'
import { InvalidCursorError, InvalidValueError, NotFoundError, PreconditionFailedError, ScimError, TooManyError, isScimError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compareDefault, compareForSort } from '../filter/compare'
import { compileFilter } from '../filter/evaluate'
import { uuidv7 } from '../ids'
import { keysetPage } from '../keyset'
import { foldKey, memberDisplay, storedView, valuesAt } from './rules'

/**
 * One stored resource as a {@link RecordStore} keeps it. The store persists every field as given
 * and returns it unchanged; only `recordAdapter` interprets them.
 */
export interface StoredRecord {
  /** The resource id (a UUIDv7 made by `recordAdapter`, unique across types and tenants). */
  id: string
  /** Resource type name, e.g. `User`. */
  type: string
  /** 1 after the insert, one more per write; the store compares it on update and delete. */
  version: number
  created: Date
  lastModified: Date
  /**
   * The resource's attributes with their derived values (a User's `groups`, a Group's members
   * with `display` and `type`). Plain JSON data: keep it as a document (MongoDB) or a JSON column.
   */
  attributes: Record<string, unknown>
  /**
   * Uniqueness keys: no two records of one type in one tenant may share a string of `keys`
   * (enforce it with a unique index, atomically with the write; see {@link RecordStore.commit}).
   */
  keys: string[]
  /** Lookup keys, the strings {@link RecordStore.findByLookup} finds the record by (index them). */
  lookups: string[]
}

/** What every {@link RecordStore} query names. */
export interface RecordQuery extends AdapterQuery {
  /** Resource type name, e.g. `User`. */
  type: string
}

/** Arguments of {@link RecordStore.get}. */
export interface RecordGetQuery extends RecordQuery {
  /** Ids to read; ids that do not exist (or are of another type or tenant) are left out of the answer. */
  ids: readonly string[]
}

/** Arguments of {@link RecordStore.findByLookup}. */
export interface RecordLookupQuery extends RecordQuery {
  /** One lookup key: the answer is every record of the type whose `lookups` contain it. */
  lookup: string
}

/** Arguments of {@link RecordStore.scan}. */
export interface RecordScanQuery extends RecordQuery {
  /** Only records whose id is greater than this one (code-point order, as SQL's `C` collation and MongoDB compare). */
  after?: string
  /**
   * Only records whose id is less than this one, in descending id order (the page before a cursor).
   * Never given together with `after` or `offset`.
   */
  before?: string
  /** Records to skip before the first returned (index paging: `startIndex - 1`). */
  offset?: number
  /** Most records to return. */
  limit: number
}

/** One write of a {@link RecordStore.commit}. */
export type RecordWrite =
  | {
      op: 'insert'
      record: StoredRecord
    }
  | {
      /** Replace the whole stored record by `record` when the stored version is `expectedVersion`. */
      op: 'update'
      record: StoredRecord
      expectedVersion: number
    }
  | {
      op: 'delete'
      type: string
      id: string
      expectedVersion: number
    }

/** Arguments of {@link RecordStore.commit}. */
export interface RecordCommit extends AdapterQuery {
  /** The writes, applied all or none. */
  writes: readonly RecordWrite[]
}

/**
 * Record-level storage for {@link recordAdapter}: reads and writes of {@link StoredRecord}s, per
 * tenant. Everything a store reads or writes is scoped by the tenant `ctx` names (the router's
 * `context` option); nothing is shared between tenants. Records of one type are found by id, by a
 * lookup key, or in id order; nothing else is asked of the store.
 *
 * A store must have multi-record transactions: `commit` changes several records at once (a Group
 * and its members), and without atomicity a crash or a concurrent writer leaves derived values
 * and versions wrong. MongoDB offers them on a replica set (`session.withTransaction`); SQL
 * databases always do. A store without them cannot be correct; use the low-level `ScimAdapter`.
 *
 * Reads return fresh objects (as a driver deserialises them); `recordAdapter` never mutates what
 * it receives, and the store must not keep references to what it is given.
 *
 * @typeParam Ctx - the per-request context produced by the router's `context` option.
 */
export interface RecordStore<Ctx = unknown> {
  /** The records of a type with these ids (in any order). */
  get(query: RecordGetQuery, ctx: Ctx): Promise<StoredRecord[]>
  /**
   * The records of a type whose `lookups` contain `lookup` (in any order). Serve it from an index:
   * a multikey index on `lookups` in MongoDB, a side table `(tenant, type, lookup, id)` in SQL.
   */
  findByLookup(query: RecordLookupQuery, ctx: Ctx): Promise<StoredRecord[]>
  /** Records of a type in ascending id order after `after` (descending before `before`), skipping `offset`, at most `limit`. */
  scan(query: RecordScanQuery, ctx: Ctx): Promise<StoredRecord[]>
  /** How many records of the type the tenant has. */
  count(query: RecordQuery, ctx: Ctx): Promise<number>
  /**
   * Apply the writes atomically: all of them or, when one fails, none. Check `signal` right
   * before committing, and roll back when it aborts mid-transaction (see `AdapterQuery.signal`).
   * @throws PreconditionFailedError when an update's or delete's `expectedVersion` differs from
   *   the stored version (compare-and-swap inside the transaction, e.g. `WHERE version = ?`).
   * @throws NotFoundError when an update or delete finds no record of that type and id in the tenant.
   * @throws UniquenessError when, after the writes, two records of one type in one tenant share a
   *   string of `keys` — enforced by the database (a unique index on (tenant, type, key)),
   *   atomically with the write; never check first and insert after.
   */
  commit(query: RecordCommit, ctx: Ctx): Promise<void>
}

/** Options of {@link recordAdapter}. */
export interface RecordAdapterOptions {
  /**
   * Most records a filter that no lookup serves, or a sort, reads and evaluates in memory
   * (default 10,000, the router's `scanLimit` default); more is 400 `tooMany`.
   */
  maxScan?: number
}

/** A lookup: an attribute path whose values become {@link StoredRecord.lookups}, and how they are folded. */
interface Lookup {
  path: string
  caseExact: boolean
}

/** The IdP lookups per type (caseExact as RFC 7643 §4.1, §4.2 define it); other types: `externalId`. */
const LOOKUPS: Readonly<Record<string, readonly Lookup[]>> = {
  User: [
    { path: 'userName', caseExact: false },
    { path: 'externalId', caseExact: true },
    { path: 'displayName', caseExact: false },
    { path: 'emails.value', caseExact: false },
  ],
  Group: [
    { path: 'displayName', caseExact: false },
    { path: 'externalId', caseExact: true },
    { path: 'members.value', caseExact: false },
  ],
}
const OTHER_LOOKUPS: readonly Lookup[] = [{ path: 'externalId', caseExact: true }]

/** The lookup key of a value at a path: `path`, U+0000, the folded value. */
const lookupKey = (path: string, value: string, caseExact: boolean): string => `${path}\u0000${foldKey(value, caseExact)}`

function lookupsFor(type: string, attributes: Record<string, unknown>): string[] {
  const out = new Set<string>()
  for (const l of LOOKUPS[type] ?? OTHER_LOOKUPS) for (const v of valuesAt(attributes, l.path)) out.add(lookupKey(l.path, v, l.caseExact))
  return [...out]
}

/** Uniqueness keys (RFC 7643 §2.2 `uniqueness: server`): one per constraint and value, folded like the lookups. */
function keysFor(attributes: Record<string, unknown>, unique: readonly UniqueConstraint[]): string[] {
  const out = new Set<string>()
  for (const u of unique) for (const v of valuesAt(attributes, u.path)) out.add(lookupKey(u.path, v, u.caseExact))
  return [...out]
}

/**
 * What a filter can be served by: `id eq` (a read by id) or `eq` on a lookup attribute, alone or as
 * a conjunct of an `and` (the whole filter is then decided in memory over those candidates).
 */
function lookupOf(type: string, filter: FilterNode | undefined): { id: string } | { lookup: string } | undefined {
  if (!filter) return undefined
  for (const term of filter.type === 'and' ? filter.filters : [filter]) {
    if (term.type !== 'compare' || term.op !== 'eq' || typeof term.value !== 'string') continue
    const path = term.attribute.path
    if (path === 'id') return { id: term.value.normalize('NFC') }
    const l = (LOOKUPS[type] ?? OTHER_LOOKUPS).find((x) => x.path === path)
    // Only where the key was folded as this resource type's schema compares the attribute.
    if (l && l.caseExact === term.attribute.def.caseExact) return { lookup: lookupKey(path, term.value, l.caseExact) }
  }
  return undefined
}

/** A derived reference: a User's `groups` element, or a Group's `members` element. */
interface Ref {
  value: string
  display?: string
  type: string
}

const refsOf = (r: StoredRecord, attribute: 'groups' | 'members'): Ref[] => (r.attributes[attribute] as Ref[] | undefined) ?? []

/** Attributes with `list` as `attribute`, or without it when empty (an empty group has no `members`). */
function withRefs(attributes: Record<string, unknown>, attribute: 'groups' | 'members', list: Ref[]): Record<string, unknown> {
  const { [attribute]: _old, ...rest } = attributes
  return list.length > 0 ? { ...rest, [attribute]: list } : rest
}

function ref(value: string, display: unknown, type: string): Ref {
  return typeof display === 'string' ? { value, display, type } : { value, type }
}

/** A Group as its members' `groups` show it (RFC 7643 §4.1.2: direct membership). */
const groupRef = (id: string, attributes: Record<string, unknown>): Ref => ref(id, attributes['displayName'], 'direct')
/** A User as a Group's `members` show it. */
const memberRef = (user: StoredRecord): Ref => ref(user.id, memberDisplay(user.attributes), 'User')

/** The creation time inside a UUIDv7 (its first 48 bits), so id order is the default order (created, then id). */
const createdOf = (id: string): Date => new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16))

/** Not earlier than `previous`: lastModified never goes back (clock steps, same millisecond). */
const later = (previous: Date): Date => new Date(Math.max(Date.now(), previous.getTime()))

/** The record after a write that changed its attributes: a new version, lookups recomputed. */
function next(r: StoredRecord, attributes: Record<string, unknown>, keys = r.keys): StoredRecord {
  return { ...r, version: r.version + 1, lastModified: later(r.lastModified), attributes, keys, lookups: lookupsFor(r.type, attributes) }
}

const update = (before: StoredRecord, record: StoredRecord): RecordWrite => ({ op: 'update', record, expectedVersion: before.version })

/** What a client may have sent that is derived here: a User's `groups`, and `password` (never stored, RFC 7643 §9.2). */
function clean(type: string, attributes: Record<string, unknown>): Record<string, unknown> {
  const { password: _password, ...rest } = attributes
  if (type === 'User') delete rest['groups']
  return rest
}

/** The distinct member ids of a Group's attributes, in order. @throws InvalidValueError for a member without a string value. */
function memberIds(attributes: Record<string, unknown>): string[] {
  const members = attributes['members']
  if (members === undefined) return []
  if (!Array.isArray(members)) throw new InvalidValueError('members must be an array')
  const ids = new Set<string>()
  for (const m of members) {
    const value = (m as { value?: unknown } | null)?.value
    if (typeof value !== 'string') throw new InvalidValueError(`members: no User with id '${String(value)}'`)
    ids.add(value)
  }
  return [...ids]
}

/** One attempt of a write: what to commit and what the write then returns. */
interface Round<T> {
  writes: RecordWrite[]
  result: T
}

/** Attempts of a write whose commit lost a race on a record it only derives values of (see `#write`). */
const MAX_ATTEMPTS = 50

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A {@link ScimAdapter} over a {@link RecordStore}: the store keeps records, this keeps the SCIM
 * rules of storage (see the module documentation and the README, "Writing an adapter").
 *
 * - Filters: `eq` on `userName`, `externalId`, `displayName` and `emails.value` (Users),
 *   `displayName`, `externalId` and `members.value` (Groups) and `id eq` — alone or as a conjunct
 *   of an `and` — read their candidates by lookup (`findByLookup`, `get`); any other filter, and
 *   any sort, reads the type's records with `scan`, at most `maxScan`. The candidates are then
 *   decided by the library's filter evaluator (`compileFilter`) and ordered by `compareForSort`,
 *   so results equal the in-memory evaluator's exactly (the lookup keys are folded the same way).
 * - Unfiltered, unsorted pages are a `scan` with `offset` (and `count` for `totalResults`); their
 *   cursor pages a `scan` after the previous page's last id (or before its first, walking back).
 *   Other cursor pages are keyset pages over the in-memory order (RFC 9865).
 * - Members must be Users of the tenant (nested groups are not supported: 400 `invalidValue`).
 * - No event outbox: the router delivers events once after each commit (at most once).
 * - Passwords are not stored (`capabilities.changePassword` is false).
 *
 * @example
 * ```ts
 * import { recordAdapter, scimRouter, bearerToken } from 'scim-router'
 * const adapter = recordAdapter(new MyMongoRecordStore(client, db.collection('scim_records')))
 * app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken(process.env.SCIM_TOKEN!) }))
 * ```
 */
export function recordAdapter<Ctx = unknown>(store: RecordStore<Ctx>, options: RecordAdapterOptions = {}): ScimAdapter<Ctx> {
  return new RecordAdapter(store, options.maxScan ?? 10_000)
}

class RecordAdapter<Ctx> implements ScimAdapter<Ctx> {
  readonly capabilities = { sort: true, changePassword: false }

  constructor(
    private readonly store: RecordStore<Ctx>,
    private readonly maxScan: number,
  ) {}

  async get(q: GetQuery, ctx: Ctx): Promise<StoredResource | null> {
    const r = await this.#one(q.resourceType, q.id, ctx, q.signal)
    return r ? exported(r, q.omit) : null
  }

  async list(q: ListQuery, ctx: Ctx): Promise<ListResult> {
    const signal = q.signal
    if (!q.filter && !q.sort) {
      const totalResults = await this.store.count(withSignal({ type: q.resourceType }, signal), ctx)
      const page = q.count > 0 ? await this.store.scan(withSignal({ type: q.resourceType, offset: q.startIndex - 1, limit: q.count }, signal), ctx) : []
      return { resources: page.map((r) => exported(r, q.omit)), totalResults }
    }
    const matches = await this.#matches(q.resourceType, q.filter, ctx, signal)
    const cmp = q.sort ? compareForSort(q.sort.attribute, q.sort.order) : compareDefault
    matches.sort((a, b) => cmp(a.view, b.view))
    const from = q.startIndex - 1
    return { resources: matches.slice(from, from + q.count).map((m) => exported(m.record, q.omit)), totalResults: matches.length }
  }

  /**
   * RFC 9865 keyset pages. Unfiltered and unsorted: a `scan` after the last id of the previous page
   * (`nextCursor` only). Otherwise the candidates are sorted in memory and cut at the boundary's
   * sort key (`previousCursor` too), so inserts and deletes between pages neither skip nor repeat.
   */
  async listByCursor(q: CursorListQuery, ctx: Ctx): Promise<CursorListResult> {
    if (!q.filter && !q.sort) {
      let at: { after?: unknown; before?: unknown } = {}
      if (q.cursor !== undefined) {
        try {
          at = JSON.parse(q.cursor) as typeof at
        } catch {
          throw new InvalidCursorError()
        }
        const side = typeof at === 'object' && at !== null ? (typeof at.after === 'string' ? 'after' : typeof at.before === 'string' ? 'before' : undefined) : undefined
        if (!side || Object.keys(at).length !== 1) throw new InvalidCursorError()
      }
      const totalResults = await this.store.count(withSignal({ type: q.resourceType }, q.signal), ctx)
      const scan: RecordScanQuery = { type: q.resourceType, limit: q.count + 1 }
      if (typeof at.after === 'string') scan.after = at.after
      if (typeof at.before === 'string') scan.before = at.before
      const records = q.count > 0 ? await this.store.scan(withSignal(scan, q.signal), ctx) : []
      const more = records.length > q.count
      const page = scan.before !== undefined ? records.slice(0, q.count).reverse() : records.slice(0, q.count)
      const out: CursorListResult = { resources: page.map((r) => exported(r)), totalResults }
      const first = page[0]
      const last = page[page.length - 1]
      // Forward: more after this page when the scan found more; a page before it when a cursor led here.
      // Backward: more before it when the scan found more; the page it came from after it.
      if (last && (scan.before !== undefined || more)) out.nextCursor = JSON.stringify({ after: last.id })
      if (first && (scan.before !== undefined ? more : scan.after !== undefined)) out.previousCursor = JSON.stringify({ before: first.id })
      return out
    }
    const { page, ...cursors } = keysetPage(await this.#matches(q.resourceType, q.filter, ctx, q.signal), q.sort, q.count, q.cursor)
    return { resources: page.map((m) => exported(m.record)), ...cursors }
  }

  async create(q: CreateQuery, ctx: Ctx): Promise<StoredResource> {
    const given = clean(q.resourceType, q.attributes)
    return this.#write(q, ctx, async () => {
      const id = uuidv7()
      const created = createdOf(id)
      let attributes = given
      const writes: RecordWrite[] = []
      if (q.resourceType === 'Group') {
        const users = await this.#members(memberIds(given), ctx, q.signal)
        attributes = withRefs(given, 'members', [...users.values()].map(memberRef))
        const mine = groupRef(id, attributes)
        for (const u of users.values()) writes.push(update(u, next(u, withRefs(u.attributes, 'groups', [...refsOf(u, 'groups'), mine]))))
      }
      const record: StoredRecord = { id, type: q.resourceType, version: 1, created, lastModified: created, attributes, keys: keysFor(attributes, q.unique), lookups: lookupsFor(q.resourceType, attributes) }
      writes.unshift({ op: 'insert', record })
      return { writes, result: exported(record) }
    })
  }

  async replace(q: ReplaceQuery, ctx: Ctx): Promise<StoredResource> {
    const given = clean(q.resourceType, q.attributes)
    return this.#write(q, ctx, async () => {
      const before = await this.#current(q.resourceType, q.id, q.expectedVersion, ctx, q.signal)
      const writes: RecordWrite[] = []
      let attributes: Record<string, unknown>
      if (q.resourceType === 'Group') {
        attributes = await this.#groupChange(before, given, writes, ctx, q.signal)
      } else if (q.resourceType === 'User') {
        attributes = withRefs(given, 'groups', refsOf(before, 'groups'))
        const display = memberDisplay(attributes)
        if (display !== memberDisplay(before.attributes)) {
          // ETG-002: a new displayName (or userName) is a new members[].display in each of its groups.
          const groups = await this.#records('Group', refsOf(before, 'groups').map((g) => g.value), ctx, q.signal)
          for (const g of groups.values()) {
            const members = refsOf(g, 'members').map((m) => (m.value === before.id ? ref(m.value, display, m.type) : m))
            writes.push(update(g, next(g, withRefs(g.attributes, 'members', members))))
          }
        }
      } else attributes = given
      const after = next(before, attributes, keysFor(attributes, q.unique))
      writes.unshift(update(before, after))
      return { writes, result: exported(after) }
    })
  }

  async delete(q: DeleteQuery, ctx: Ctx): Promise<void> {
    return this.#write(q, ctx, async () => {
      const before = await this.#current(q.resourceType, q.id, q.expectedVersion, ctx, q.signal)
      const writes: RecordWrite[] = [{ op: 'delete', type: before.type, id: before.id, expectedVersion: before.version }]
      if (before.type === 'User') {
        // EP-053: a deleted User leaves every group it was a member of, and those groups change version.
        const groups = await this.#records('Group', refsOf(before, 'groups').map((g) => g.value), ctx, q.signal)
        for (const g of groups.values()) writes.push(update(g, next(g, withRefs(g.attributes, 'members', refsOf(g, 'members').filter((m) => m.value !== before.id)))))
      } else if (before.type === 'Group') {
        const users = await this.#records('User', refsOf(before, 'members').map((m) => m.value), ctx, q.signal)
        for (const u of users.values()) writes.push(update(u, next(u, withRefs(u.attributes, 'groups', refsOf(u, 'groups').filter((g) => g.value !== before.id)))))
      }
      return { writes, result: undefined }
    })
  }

  /** Member changes in one commit with the members' new `groups`; no version check on the group (they commute). */
  async modifyMembers(q: ModifyMembersQuery, ctx: Ctx): Promise<ModifyMembersResult> {
    return this.#write(q, ctx, async () => {
      const before = await this.#current(q.resourceType, q.id, undefined, ctx, q.signal)
      const current = new Set(refsOf(before, 'members').map((m) => m.value))
      const added = [...new Set(q.add)].filter((id) => !current.has(id))
      const removed = [...new Set(q.remove)].filter((id) => current.has(id))
      const fresh = await this.#members(added, ctx, q.signal)
      if (added.length === 0 && removed.length === 0) return { writes: [], result: { resource: exported(before, ['members']), added, removed } }
      const gone = new Set(removed)
      const members = [...refsOf(before, 'members').filter((m) => !gone.has(m.value)), ...[...fresh.values()].map(memberRef)]
      const after = next(before, withRefs(before.attributes, 'members', members))
      const mine = groupRef(before.id, after.attributes)
      const writes: RecordWrite[] = [update(before, after)]
      for (const u of fresh.values()) writes.push(update(u, next(u, withRefs(u.attributes, 'groups', [...refsOf(u, 'groups'), mine]))))
      for (const u of (await this.#records('User', removed, ctx, q.signal)).values()) {
        writes.push(update(u, next(u, withRefs(u.attributes, 'groups', refsOf(u, 'groups').filter((g) => g.value !== before.id)))))
      }
      return { writes, result: { resource: exported(after, ['members']), added, removed } }
    })
  }

  /**
   * A Group's new attributes from `given`, and (into `writes`) the new `groups` of the Users it
   * adds and removes, and of every member when it is renamed. Kept members keep their stored
   * `display` (maintained by their own renames); only the Users touched are read.
   */
  async #groupChange(before: StoredRecord, given: Record<string, unknown>, writes: RecordWrite[], ctx: Ctx, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const old = new Map(refsOf(before, 'members').map((m) => [m.value, m]))
    const wanted = memberIds(given)
    const keep = new Set(wanted)
    const added = wanted.filter((id) => !old.has(id))
    const removed = [...old.keys()].filter((id) => !keep.has(id))
    const fresh = await this.#members(added, ctx, signal)
    const attributes = withRefs(given, 'members', wanted.map((id) => old.get(id) ?? memberRef(fresh.get(id) as StoredRecord)))
    const renamed = attributes['displayName'] !== before.attributes['displayName']
    const mine = groupRef(before.id, attributes)
    const touched = await this.#records('User', [...removed, ...(renamed ? wanted.filter((id) => old.has(id)) : [])], ctx, signal)
    for (const u of fresh.values()) touched.set(u.id, u)
    for (const u of touched.values()) {
      const groups = refsOf(u, 'groups')
      const edited = !keep.has(u.id)
        ? groups.filter((g) => g.value !== before.id) // removed
        : old.has(u.id)
          ? groups.map((g) => (g.value === before.id ? mine : g)) // kept, and the group was renamed
          : [...groups.filter((g) => g.value !== before.id), mine] // added
      writes.push(update(u, next(u, withRefs(u.attributes, 'groups', edited))))
    }
    return attributes
  }

  /**
   * Run a write: `round` reads what it needs and says what to commit. A commit that fails with 412
   * or 404 lost a race with another writer (on the resource, or on a record whose derived values
   * it rewrites): the next round reads again, and itself answers 412 or 404 when the resource's
   * own `expectedVersion` no longer holds or it is gone. Under lasting contention: 503.
   */
  async #write<T>(q: AdapterQuery, ctx: Ctx, round: () => Promise<Round<T>>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { writes, result } = await round()
      if (writes.length === 0) return result
      q.signal?.throwIfAborted() // the request's deadline passed: commit nothing (AdapterQuery.signal)
      try {
        await this.store.commit(withSignal({ writes }, q.signal), ctx)
        return result
      } catch (err) {
        if (!isScimError(err) || (err.status !== 412 && err.status !== 404)) throw err
        if (attempt >= MAX_ATTEMPTS) {
          throw new ScimError(503, 'ERR_SCIM_CONTENTION', 'The resource is being modified concurrently; retry the request', undefined, { cause: err, headers: { 'Retry-After': '1' } })
        }
        await sleep(Math.random() * Math.min(100, 2 ** attempt))
      }
    }
  }

  async #one(type: string, id: string, ctx: Ctx, signal: AbortSignal | undefined): Promise<StoredRecord | undefined> {
    return (await this.store.get(withSignal({ type, ids: [id] }, signal), ctx)).find((r) => r.id === id && r.type === type)
  }

  /** The stored record, checked against `expectedVersion`. @throws NotFoundError, PreconditionFailedError. */
  async #current(type: string, id: string, expectedVersion: string | undefined, ctx: Ctx, signal: AbortSignal | undefined): Promise<StoredRecord> {
    const r = await this.#one(type, id, ctx, signal)
    if (!r) throw new NotFoundError(`${type} ${id} not found`)
    if (expectedVersion !== undefined && String(r.version) !== expectedVersion) throw new PreconditionFailedError()
    return r
  }

  /** The records of these ids that exist, by id. */
  async #records(type: string, ids: readonly string[], ctx: Ctx, signal: AbortSignal | undefined): Promise<Map<string, StoredRecord>> {
    if (ids.length === 0) return new Map()
    const found = await this.store.get(withSignal({ type, ids }, signal), ctx)
    return new Map(found.filter((r) => r.type === type).map((r) => [r.id, r]))
  }

  /** The Users of these member ids, in their order. @throws InvalidValueError for an id that is not a User of the tenant. */
  async #members(ids: readonly string[], ctx: Ctx, signal: AbortSignal | undefined): Promise<Map<string, StoredRecord>> {
    const found = await this.#records('User', ids, ctx, signal)
    const out = new Map<string, StoredRecord>()
    for (const id of ids) {
      const u = found.get(id)
      if (!u) throw new InvalidValueError(`members: no User with id '${id}'`)
      out.set(id, u)
    }
    return out
  }

  /**
   * The records matching `filter`, with their evaluation views: candidates by lookup when the
   * filter has one, else every record of the type (at most `maxScan`), decided by `compileFilter`.
   * @throws TooManyError past `maxScan`.
   */
  async #matches(type: string, filter: FilterNode | undefined, ctx: Ctx, signal: AbortSignal | undefined): Promise<{ record: StoredRecord; view: Record<string, unknown> }[]> {
    const hit = lookupOf(type, filter)
    let candidates: StoredRecord[]
    if (hit && 'id' in hit) candidates = [...(await this.#records(type, [hit.id], ctx, signal)).values()]
    else if (hit) candidates = await this.store.findByLookup(withSignal({ type, lookup: hit.lookup }, signal), ctx)
    else {
      candidates = []
      for (;;) {
        const scan: RecordScanQuery = { type, limit: Math.min(1000, this.maxScan + 1 - candidates.length) }
        const last = candidates[candidates.length - 1]
        if (last) scan.after = last.id
        const page = await this.store.scan(withSignal(scan, signal), ctx)
        candidates.push(...page)
        if (page.length < scan.limit || candidates.length > this.maxScan) break
      }
    }
    if (candidates.length > this.maxScan) {
      throw new TooManyError(`The query would evaluate more than ${this.maxScan} resources in memory; narrow the filter (an eq lookup on userName, externalId, emails.value or displayName)`)
    }
    const test = filter ? compileFilter(filter) : undefined
    const out: { record: StoredRecord; view: Record<string, unknown> }[] = []
    for (const record of candidates) {
      const view = storedView(type, exported(record))
      if (!test || test(view)) out.push({ record, view })
    }
    return out
  }
}

/** A query with the request's signal when there is one (optional properties stay absent, not undefined). */
function withSignal<Q extends object>(query: Q, signal: AbortSignal | undefined): Q & AdapterQuery {
  return signal ? { ...query, signal } : query
}

/** A record as the router reads it; `omit` drops top-level attributes the response will not show. */
function exported(r: StoredRecord, omit?: readonly string[]): StoredResource {
  let attributes = r.attributes
  if (omit && omit.length > 0) {
    attributes = { ...attributes }
    for (const name of omit) delete attributes[name]
  }
  return { id: r.id, version: String(r.version), created: r.created, lastModified: r.lastModified, attributes }
}
