/**
 * `MemoryAdapter`: the reference storage adapter, and the template to copy when writing one.
 * Everything lives in process memory, per tenant. Writes are compare-and-swap on the version and
 * atomic (no `await` between the check and the write); `userName` uniqueness is checked
 * case-insensitively through an index; Group membership is kept consistent with the derived,
 * read-only `User.groups`. A write whose `signal` is aborted throws before it changes anything
 * (each write is synchronous from its checks to its last change, so that one check suffices).
 * @module
 */
import { uuidv7 } from './ids'
import { MemoryOutbox } from './memory-outbox'
import type {
  CreateQuery,
  CursorListQuery,
  CursorListResult,
  DeleteQuery,
  ModifyMembersQuery,
  ModifyMembersResult,
  GetQuery,
  ListQuery,
  ListResult,
  ReplaceQuery,
  ScimAdapter,
  SortSpec,
  StoredResource,
  UniqueConstraint,
  OutboxEvents,
  EventOutbox,
} from './adapter'
import { InvalidValueError, NotFoundError, PreconditionFailedError, UniquenessError } from './errors'
import type { FilterNode } from './filter/ast'
import { compileFilter } from './filter/evaluate'
import { compareForSort } from './filter/compare'
import { keysetPage } from './keyset'
import { multiValuedWork } from './schema/values'
import { foldKey, memberDisplay as displayOf, storedView } from './storage/rules'

/** Options of {@link MemoryAdapter}. */
export interface MemoryAdapterOptions<Ctx> {
  /**
   * The tenant a request belongs to. Default: `ctx.tenant` when it is a string, else `"default"`.
   * Resources of different tenants never see each other.
   */
  tenant?: (ctx: Ctx) => string
  /**
   * Allow Groups as members of Groups (RFC 7643 §4.2 permits it). Default false: a Group member
   * id is 400 invalidValue, since most apps model flat groups.
   */
  nestedGroups?: boolean
  /**
   * Keep an event outbox (default true): each write records its events in the same synchronous
   * step, and the router retries failed deliveries and serves the feed (`router.events`). In
   * memory, so nothing survives a restart. False: no outbox (delivery once, after the commit).
   */
  outbox?: boolean
}

interface Entry {
  resourceType: string
  id: string
  /** Writes to this resource so far (its own and membership-caused): 1 after create. */
  revision: number
  version: string
  created: Date
  lastModified: Date
  attributes: Record<string, unknown>
  /** Sequence number: creation order, the default sort. */
  seq: number
}

interface Tenant {
  byId: Map<string, Entry>
  /** Entries per resource type, in creation order (the default order). */
  byType: Map<string, Map<string, Entry>>
  /** `${resourceType}\u0000${path}\u0000${key}` → id, for unique and lookup indexes. */
  index: Map<string, Set<string>>
  /** userOrGroupId → ids of the groups it is a direct member of. */
  memberOf: Map<string, Set<string>>
}

/** Attributes indexed for equality lookups (the IdP lookups: userName, externalId, displayName). */
const INDEXED: Record<string, { path: string; caseExact: boolean }[]> = {
  User: [
    { path: 'userName', caseExact: false },
    { path: 'externalId', caseExact: true },
    { path: 'displayName', caseExact: false },
  ],
  Group: [
    { path: 'displayName', caseExact: false },
    { path: 'externalId', caseExact: true },
  ],
}

/**
 * RFC 7643 §9.2: a password is never stored in cleartext. MemoryAdapter keeps none at all
 * (`capabilities.changePassword` is false, so `/ServiceProviderConfig` says so).
 */
function withoutPassword(attributes: Record<string, unknown>): Record<string, unknown> {
  delete attributes['password']
  return attributes
}

/**
 * Stored values this adapter froze with everything in them ({@link deepFreeze}), safe to share
 * with a later version: the values of top-level attributes and of extension containers (depth
 * 1 and 2 below the attributes), the granularity at which a PATCH copies what it writes.
 */
const SHARED: unique symbol = Symbol('scim-router.memory-adapter.shared')
const SHARED_DEPTH = 2
const isShared = (v: object): boolean => (v as { [SHARED]?: true })[SHARED] === true

/**
 * Freeze a stored value and everything in it, so reads can share it instead of copying it.
 * `depth` is where the value sits below a resource's attributes (0: the attributes object).
 */
function deepFreeze<T>(value: T, depth = 0): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    // A non-enumerable symbol: invisible to JSON, Object.keys and structuredClone (copies are unmarked).
    if (depth > 0 && depth <= SHARED_DEPTH) Object.defineProperty(value, SHARED, { value: true })
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v, depth + 1)
  }
  return value
}

/**
 * A copy of written attributes to store: values that are already stored and frozen (the
 * attributes a PATCH did not write, shared with the version it read) are kept as they are, and
 * everything else is copied, so a write costs what it changed, not the size of the resource.
 */
function copyToStore(attributes: Record<string, unknown>): Record<string, unknown> {
  const copy = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object' || (depth <= SHARED_DEPTH && isShared(v))) return v
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1))
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v)) {
      const x = copy((v as Record<string, unknown>)[k], depth + 1)
      // A JSON `__proto__` member stays an own property (assignment would set the prototype).
      if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true })
      else out[k] = x
    }
    return out
  }
  return copy({ ...attributes }, 0) as Record<string, unknown>
}

type Entryish = { resourceType: string; attributes: Record<string, unknown> }

function memberSet(e: Entryish | undefined): Set<string> {
  const members = e?.resourceType === 'Group' ? (e.attributes['members'] as { value: string }[] | undefined) : undefined
  return new Set((members ?? []).map((m) => m.value))
}

/** Ids whose derived `groups` change when a group goes from `before` to `after`. */
function membershipChange(before: Entryish | undefined, after: Entryish | undefined): string[] {
  const old = memberSet(before)
  const cur = memberSet(after)
  const renamed = before?.attributes['displayName'] !== after?.attributes['displayName']
  const out: string[] = []
  for (const id of cur) if (!old.has(id) || renamed) out.push(id)
  for (const id of old) if (!cur.has(id)) out.push(id)
  return out
}

/** What a Group shows as `members[].display` for this resource: displayName, else userName. */
function memberDisplay(e: Entryish): unknown {
  return displayOf(e.attributes)
}

/**
 * The key of an indexed value, prepared exactly as the filter evaluator prepares strings
 * (RFC 7644 §3.4.2.2, §5): NFC when caseExact, else `foldCase` (NFC and full case folding, so
 * `STRASSE` finds `straße`). An index lookup then finds what a scan would, and uniqueness agrees
 * with lookups.
 */
const indexKey = (rt: string, path: string, value: string, caseExact: boolean): string => `${rt}\u0000${path}\u0000${foldKey(value, caseExact)}`

function readPath(attributes: Record<string, unknown>, path: string): unknown {
  const dot = path.indexOf('.')
  if (dot < 0) return attributes[path]
  const parent = attributes[path.slice(0, dot)]
  return typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[path.slice(dot + 1)] : undefined
}

/**
 * Move an entry to its next version. Versions count the entry's own writes (1 after create,
 * membership-caused changes included), so an ETag says nothing about other resources or
 * tenants (RFC 7232 §2.3: an entity tag identifies one representation of one resource). Ids are
 * never reused, so a version never repeats for an id.
 */
function bump(e: Entry): void {
  e.revision += 1
  e.version = String(e.revision)
}

/**
 * An in-memory {@link ScimAdapter}: complete, fast, and the reference for adapter authors.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { scimRouter, MemoryAdapter, bearerToken } from 'scim-router'
 * const app = express()
 * app.use('/scim/v2', scimRouter(new MemoryAdapter(), {
 *   baseUrl: 'https://app.example.com/scim/v2',
 *   authenticate: bearerToken(process.env.SCIM_TOKEN!),
 * }))
 * ```
 */
export class MemoryAdapter<Ctx = unknown> implements ScimAdapter<Ctx> {
  readonly capabilities = { sort: true, changePassword: false }
  readonly #tenants = new Map<string, Tenant>()
  readonly #tenantOf: (ctx: Ctx) => string
  #seq = 0

  readonly #nestedGroups: boolean
  /** The event outbox (see {@link MemoryAdapterOptions.outbox}); absent when disabled. */
  readonly outbox?: EventOutbox<Ctx>
  readonly #outbox: MemoryOutbox<Ctx> | undefined

  constructor(options: MemoryAdapterOptions<Ctx> = {}) {
    this.#nestedGroups = options.nestedGroups === true
    const tenantOf =
      options.tenant ??
      ((ctx: Ctx) => {
        const t = (ctx as { tenant?: unknown } | null | undefined)?.tenant
        return typeof t === 'string' ? t : 'default'
      })
    this.#tenantOf = tenantOf
    this.#outbox = options.outbox !== false ? new MemoryOutbox<Ctx>(tenantOf) : undefined
    if (this.#outbox) this.outbox = this.#outbox
  }

  /** Record a write's events in the same synchronous step as the write (ScimAdapter.outbox). */
  #record<R>(ctx: Ctx, events: OutboxEvents<R> | undefined, result: R): void {
    if (events && this.#outbox) this.#outbox.record(this.#tenantOf(ctx), events(result))
  }

  #tenant(ctx: Ctx): Tenant {
    const name = this.#tenantOf(ctx)
    let t = this.#tenants.get(name)
    if (!t) this.#tenants.set(name, (t = { byId: new Map(), byType: new Map(), index: new Map(), memberOf: new Map() }))
    return t
  }

  async get(q: GetQuery, ctx: Ctx): Promise<StoredResource | null> {
    const t = this.#tenant(ctx)
    const e = t.byId.get(q.id)
    if (!e || e.resourceType !== q.resourceType) return null
    return this.#export(t, e, q.omit ? new Set(q.omit) : undefined)
  }

  /** Always true: `list` and `listByCursor` sort by any attribute with `compareForSort`. */
  canSort(_sort: SortSpec, _resourceType: string): boolean {
    return true
  }

  async list(q: ListQuery, ctx: Ctx): Promise<ListResult> {
    const t = this.#tenant(ctx)
    const omit = q.omit ? new Set(q.omit) : undefined
    const ofType = t.byType.get(q.resourceType) ?? new Map<string, Entry>()
    const start = q.startIndex - 1
    if (!q.filter && !q.sort) {
      // Creation order is the map's order: walk only as far as the page reaches.
      const page: StoredResource[] = []
      let i = 0
      for (const e of ofType.values()) {
        if (i >= start + q.count) break
        if (i++ >= start) page.push(this.#export(t, e, omit))
      }
      return { resources: page, totalResults: ofType.size }
    }
    const narrowed = q.filter ? this.#lookup(t, q.resourceType, q.filter) : undefined
    const candidates: Iterable<Entry> = narrowed ?? ofType.values()
    const matches: { entry: Entry; view: Record<string, unknown> }[] = []
    const test = q.filter ? compileFilter(q.filter) : undefined
    for (const e of candidates) {
      if (e.resourceType !== q.resourceType) continue
      const view = this.#view(t, e)
      if (test && !test(view)) continue
      matches.push({ entry: e, view })
    }
    if (q.sort) {
      const cmp = compareForSort(q.sort.attribute, q.sort.order)
      matches.sort((a, b) => cmp(a.view, b.view))
    } else if (narrowed) {
      matches.sort((a, b) => a.entry.seq - b.entry.seq)
    }
    const page = matches.slice(start, start + q.count).map((m) => this.#export(t, m.entry, omit))
    return { resources: page, totalResults: matches.length }
  }

  /**
   * RFC 9865 keyset pages: the cursor remembers the boundary resource's sort key (not a position),
   * so pages stay correct while resources are inserted and deleted between requests.
   */
  async listByCursor(q: CursorListQuery, ctx: Ctx): Promise<CursorListResult> {
    const t = this.#tenant(ctx)
    const test = q.filter ? compileFilter(q.filter) : undefined
    const matches: { entry: Entry; view: Record<string, unknown> }[] = []
    for (const e of t.byType.get(q.resourceType)?.values() ?? []) {
      const view = this.#view(t, e)
      if (!test || test(view)) matches.push({ entry: e, view })
    }
    const { page, ...cursors } = keysetPage(matches, q.sort, q.count, q.cursor)
    return { resources: page.map((m) => this.#export(t, m.entry)), ...cursors }
  }

  async create(q: CreateQuery, ctx: Ctx): Promise<StoredResource> {
    const t = this.#tenant(ctx)
    const attributes = withoutPassword(copyToStore(q.attributes))
    this.#checkUnique(t, q.resourceType, attributes, q.unique, undefined)
    this.#checkMembers(t, q.resourceType, attributes)
    deepFreeze(attributes)
    q.signal?.throwIfAborted() // the request's deadline passed: commit nothing (AdapterQuery.signal)
    const now = new Date()
    const e: Entry = {
      resourceType: q.resourceType,
      id: uuidv7(),
      revision: 1,
      version: '1',
      created: now,
      lastModified: now,
      attributes,
      seq: ++this.#seq,
    }
    t.byId.set(e.id, e)
    let ofType = t.byType.get(e.resourceType)
    if (!ofType) t.byType.set(e.resourceType, (ofType = new Map()))
    ofType.set(e.id, e)
    this.#indexEntry(t, e, true)
    this.#touchMembers(t, membershipChange(undefined, e))
    const out = this.#export(t, e)
    this.#record(ctx, q.events, out)
    return out
  }

  async replace(q: ReplaceQuery, ctx: Ctx): Promise<StoredResource> {
    const t = this.#tenant(ctx)
    const e = t.byId.get(q.id)
    if (!e || e.resourceType !== q.resourceType) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
    if (q.expectedVersion !== undefined && q.expectedVersion !== e.version) throw new PreconditionFailedError()
    const attributes = withoutPassword(copyToStore(q.attributes))
    this.#checkUnique(t, q.resourceType, attributes, q.unique, e.id)
    this.#checkMembers(t, q.resourceType, attributes)
    deepFreeze(attributes)
    q.signal?.throwIfAborted()
    this.#indexEntry(t, e, false)
    const before = { ...e }
    e.attributes = attributes
    bump(e)
    const now = Date.now()
    e.lastModified = new Date(Math.max(now, e.lastModified.getTime()))
    this.#indexEntry(t, e, true)
    this.#touchMembers(t, membershipChange(before, e))
    // ETG-002: a new displayName (or userName) is a new members[].display in every group it is in.
    if (memberDisplay(before) !== memberDisplay(e)) this.#touchMembers(t, t.memberOf.get(e.id) ?? [])
    const out = this.#export(t, e)
    this.#record(ctx, q.events, out)
    return out
  }

  /**
   * A member's representation (its derived `groups`) changed, so its version and
   * `lastModified` change too.
   */
  #touchMembers(t: Tenant, ids: Iterable<string>): void {
    for (const id of ids) {
      const m = t.byId.get(id)
      if (!m) continue
      bump(m)
      m.lastModified = new Date(Math.max(Date.now(), m.lastModified.getTime()))
    }
  }

  /**
   * Add/remove Group members in place (commutative; no version check needed). Membership checks
   * use the member index, so the cost per change does not depend on the group's size beyond one
   * copy of its member list.
   */
  async modifyMembers(q: ModifyMembersQuery, ctx: Ctx): Promise<ModifyMembersResult> {
    const t = this.#tenant(ctx)
    const e = t.byId.get(q.id)
    if (!e || e.resourceType !== q.resourceType) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
    const isMember = (id: string): boolean => t.memberOf.get(id)?.has(e.id) === true
    const added = [...new Set(q.add)].filter((id) => !isMember(id))
    const removed = [...new Set(q.remove)].filter(isMember)
    const fresh = added.map((value) => ({ value }))
    this.#checkMembers(t, q.resourceType, { members: fresh })
    if (added.length === 0 && removed.length === 0) {
      const same: ModifyMembersResult = { resource: this.#export(t, e, new Set(['members'])), added: [], removed: [] }
      this.#record(ctx, q.events, same)
      return same
    }
    q.signal?.throwIfAborted()
    // The member list never leaves the adapter uncopied (#derived maps it, or omits it), so after
    // one copy of a frozen list it is edited in place: an add costs O(1) whatever the group size.
    const stored = e.attributes['members'] as { value: string }[] | undefined
    const members = stored && !Object.isFrozen(stored) ? stored : [...(stored ?? [])]
    if (removed.length > 0) {
      // One pass over the list (a findIndex + splice per removed id was O(n·k)).
      const gone = new Set(removed)
      let w = 0
      for (const m of members) if (!gone.has(m.value)) members[w++] = m
      multiValuedWork.count += members.length + removed.length
      members.length = w
    }
    for (const m of fresh) members.push(deepFreeze(m, 2))
    const { members: _old, ...rest } = e.attributes
    e.attributes = Object.freeze(members.length > 0 ? { ...rest, members } : rest)
    bump(e)
    e.lastModified = new Date(Math.max(Date.now(), e.lastModified.getTime()))
    for (const id of added) {
      let set = t.memberOf.get(id)
      if (!set) t.memberOf.set(id, (set = new Set()))
      set.add(e.id)
    }
    for (const id of removed) {
      const set = t.memberOf.get(id)
      set?.delete(e.id)
      if (set?.size === 0) t.memberOf.delete(id)
    }
    this.#touchMembers(t, [...added, ...removed])
    const out: ModifyMembersResult = { resource: this.#export(t, e, new Set(['members'])), added, removed }
    this.#record(ctx, q.events, out)
    return out
  }

  async delete(q: DeleteQuery, ctx: Ctx): Promise<void> {
    const t = this.#tenant(ctx)
    const e = t.byId.get(q.id)
    if (!e || e.resourceType !== q.resourceType) throw new NotFoundError(`${q.resourceType} ${q.id} not found`)
    if (q.expectedVersion !== undefined && q.expectedVersion !== e.version) throw new PreconditionFailedError()
    q.signal?.throwIfAborted()
    this.#indexEntry(t, e, false)
    t.byId.delete(e.id)
    t.byType.get(e.resourceType)?.delete(e.id)
    this.#touchMembers(t, membershipChange(e, undefined))
    // EP-053: a deleted resource leaves every group it was a member of.
    const groups = t.memberOf.get(e.id)
    if (groups) {
      for (const gid of [...groups]) {
        const g = t.byId.get(gid)
        if (!g) continue
        this.#indexEntry(t, g, false)
        const members = (g.attributes['members'] as { value: string }[] | undefined) ?? []
        const kept = members.filter((m) => m.value !== e.id)
        const { members: _gone, ...rest } = g.attributes
        g.attributes = deepFreeze(kept.length > 0 ? { ...rest, members: kept } : rest)
        bump(g)
        g.lastModified = new Date(Math.max(Date.now(), g.lastModified.getTime()))
        this.#indexEntry(t, g, true)
      }
      t.memberOf.delete(e.id)
    }
    this.#record(ctx, q.events, undefined)
  }

  /** Candidate entries from an index when the filter pins an indexed attribute with `eq` (or `id eq`). */
  #lookup(t: Tenant, rt: string, filter: FilterNode): Entry[] | undefined {
    const terms = filter.type === 'and' ? filter.filters : [filter]
    for (const term of terms) {
      if (term.type !== 'compare' || term.op !== 'eq' || typeof term.value !== 'string') continue
      const path = term.attribute.path
      if (path === 'id') {
        const e = t.byId.get(term.value.normalize('NFC'))
        return e ? [e] : []
      }
      if (rt === 'Group' && path === 'members.value') {
        // The membership index answers "which groups is this id in" without a scan. It is keyed by
        // the stored member ids, which this adapter generates in lower case; `members.value` is
        // caseExact: false, so a differently cased operand must find them too (FLT-020).
        const key = foldKey(term.value, term.attribute.def.caseExact)
        const out: Entry[] = []
        for (const gid of t.memberOf.get(key) ?? []) {
          const e = t.byId.get(gid)
          if (e) out.push(e)
        }
        return out
      }
      const spec = INDEXED[rt]?.find((i) => i.path === path)
      if (!spec) continue
      const ids = t.index.get(indexKey(rt, path, term.value, spec.caseExact))
      const out: Entry[] = []
      if (ids) for (const id of ids) { const e = t.byId.get(id); if (e) out.push(e) }
      return out
    }
    return undefined
  }

  #checkUnique(t: Tenant, rt: string, attrs: Record<string, unknown>, unique: readonly UniqueConstraint[], self: string | undefined): void {
    for (const u of unique) {
      const v = readPath(attrs, u.path)
      if (typeof v !== 'string') continue
      const ids = t.index.get(indexKey(rt, `unique:${u.path}`, v, u.caseExact))
      if (ids) for (const id of ids) if (id !== self) throw new UniquenessError(`${u.path} '${v}' is already in use`)
    }
    // Index unique paths under a reserved prefix so lookups and constraints never mix.
    this.#unique.set(rt, unique)
  }

  readonly #unique = new Map<string, readonly UniqueConstraint[]>()

  #checkMembers(t: Tenant, rt: string, attrs: Record<string, unknown>): void {
    if (rt !== 'Group') return
    const members = attrs['members'] as Record<string, unknown>[] | undefined
    if (!members) return
    for (const m of members) {
      const id = m['value']
      const target = typeof id === 'string' ? t.byId.get(id) : undefined
      if (!target || (target.resourceType !== 'User' && !(target.resourceType === 'Group' && this.#nestedGroups))) {
        throw new InvalidValueError(`members: no ${this.#nestedGroups ? 'User or Group' : 'User'} with id '${String(id)}'`)
      }
      // Written only when needed: an unchanged member element may be a stored, frozen one.
      if (m['type'] !== target.resourceType) m['type'] = target.resourceType
      if ('display' in m) delete m['display']
      if ('$ref' in m) delete m['$ref']
    }
  }

  #indexEntry(t: Tenant, e: Entry, add: boolean): void {
    const edit = (key: string): void => {
      let set = t.index.get(key)
      if (add) {
        if (!set) t.index.set(key, (set = new Set()))
        set.add(e.id)
      } else if (set) {
        set.delete(e.id)
        if (set.size === 0) t.index.delete(key)
      }
    }
    for (const spec of INDEXED[e.resourceType] ?? []) {
      const v = readPath(e.attributes, spec.path)
      if (typeof v === 'string') edit(indexKey(e.resourceType, spec.path, v, spec.caseExact))
    }
    for (const u of this.#unique.get(e.resourceType) ?? []) {
      const v = readPath(e.attributes, u.path)
      if (typeof v === 'string') edit(indexKey(e.resourceType, `unique:${u.path}`, v, u.caseExact))
    }
    if (e.resourceType === 'Group') {
      for (const m of (e.attributes['members'] as { value: string }[] | undefined) ?? []) {
        let set = t.memberOf.get(m.value)
        if (add) {
          if (!set) t.memberOf.set(m.value, (set = new Set()))
          set.add(e.id)
        } else if (set) {
          set.delete(e.id)
          if (set.size === 0) t.memberOf.delete(m.value)
        }
      }
    }
  }

  /** Derived, read-only values: User.groups and members[].display. */
  #derived(t: Tenant, e: Entry, omit?: ReadonlySet<string>): Record<string, unknown> {
    // Stored values are deep-frozen, so a shallow copy is a safe snapshot: nothing can mutate them.
    const attributes: Record<string, unknown> = { ...e.attributes }
    if (e.resourceType === 'User') {
      const groups = omit?.has('groups') ? undefined : t.memberOf.get(e.id)
      if (groups && groups.size > 0) {
        attributes['groups'] = [...groups].map((gid) => {
          const g = t.byId.get(gid)
          const out: Record<string, unknown> = { value: gid, type: 'direct' }
          const display = g?.attributes['displayName']
          if (typeof display === 'string') out['display'] = display
          return out
        })
      }
    } else if (e.resourceType === 'Group') {
      const members = attributes['members'] as Record<string, unknown>[] | undefined
      if (members && omit?.has('members')) delete attributes['members']
      else if (members) {
        attributes['members'] = members.map((m) => {
          const target = t.byId.get(m['value'] as string)
          const display = target ? memberDisplay(target) : undefined
          return typeof display === 'string' ? { ...m, display } : m
        })
      }
    }
    return attributes
  }

  #export(t: Tenant, e: Entry, omit?: ReadonlySet<string>): StoredResource {
    return { id: e.id, version: e.version, created: e.created, lastModified: e.lastModified, attributes: this.#derived(t, e, omit) }
  }

  /** The plain-object view the filter evaluator and sort comparator read (see compileFilter). */
  #view(t: Tenant, e: Entry): Record<string, unknown> {
    return storedView(e.resourceType, { ...e, attributes: this.#derived(t, e) })
  }
}
