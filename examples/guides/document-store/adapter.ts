/**
 * Document-store guide (docs/guides/document-store.md): a hand-written `ScimAdapter` over a
 * MongoDB-shaped collection (collection.ts is an in-process stand-in with the driver's method
 * shapes). One document per resource:
 *
 *   { _id, tenant, type: 'User' | 'Group', version, created, lastModified,
 *     attributes,                 // what the router gives to store: canonical names, URN containers
 *     keys: { userName: [...] },  // lookup keys, folded exactly as the filter evaluator compares
 *     unique: ['userName\u0000…'] }  // the write's uniqueness keys, under a unique multikey index
 *
 * `eq` lookups on the keyed attributes (the IdP lookups) are pushed down to `find`; everything
 * else is decided in memory with the library's `compileFilter` / `compareForSort` over the
 * candidates. Writes are compare-and-swap on `version` (`findOneAndUpdate` with the version read
 * in the filter); uniqueness is the unique index, so two concurrent creates cannot both pass.
 */
import {
  compareDefault,
  compareForSort,
  compileFilter,
  foldCase,
  InvalidValueError,
  NotFoundError,
  PreconditionFailedError,
  TooManyError,
  UniquenessError,
  uuidv7,
  type CreateQuery,
  type DeleteQuery,
  type FilterNode,
  type GetQuery,
  type ListQuery,
  type ListResult,
  type ReplaceQuery,
  type ScimAdapter,
  type StoredResource,
  type UniqueConstraint,
} from '../../../src'
import { MongoServerError, type Collection, type Document, type Filter } from './collection'

/** A stored resource document. */
export interface ScimDocument extends Document {
  tenant: string
  type: string
  version: number
  created: Date
  lastModified: Date
  attributes: Record<string, unknown>
  keys: Record<string, string[]>
  unique: string[]
}

/** Keyed attributes per type (path → key field, caseExact as in RFC 7643 §4.1, §4.2): the IdP lookups. */
const LOOKUPS: Record<string, Record<string, { field: string; caseExact: boolean }>> = {
  User: {
    userName: { field: 'userName', caseExact: false },
    externalId: { field: 'externalId', caseExact: true },
    displayName: { field: 'displayName', caseExact: false },
    'emails.value': { field: 'emails', caseExact: false },
  },
  Group: {
    displayName: { field: 'displayName', caseExact: false },
    externalId: { field: 'externalId', caseExact: true },
    'members.value': { field: 'members', caseExact: false },
  },
}
const CORE: Record<string, string> = { User: 'urn:ietf:params:scim:schemas:core:2.0:User', Group: 'urn:ietf:params:scim:schemas:core:2.0:Group' }

/** A key as the filter evaluator compares strings (RFC 7644 §3.4.2.2): NFC, case-folded unless caseExact. */
const key = (v: string, caseExact: boolean): string => (caseExact ? v.normalize('NFC') : foldCase(v))

/** Values at a path (`emails.value` collects every email's value). */
function valuesAt(attributes: Record<string, unknown>, path: string): string[] {
  let vs: unknown[] = [attributes]
  for (const k of path.split('.')) vs = vs.flatMap((v) => (typeof v === 'object' && v !== null ? [(v as Record<string, unknown>)[k]] : [])).flat()
  return vs.filter((v): v is string => typeof v === 'string')
}

const memberIds = (d: { attributes: Record<string, unknown> } | null): string[] => (d ? valuesAt(d.attributes, 'members.value') : [])
const display = (d: ScimDocument): unknown => d.attributes['displayName'] ?? d.attributes['userName']

/** The indexes the adapter's queries use (MongoDB would serve each lookup from one). */
export async function createIndexes(resources: Collection<ScimDocument>): Promise<void> {
  await resources.createIndex({ tenant: 1, type: 1, unique: 1 }, { unique: true })
  await resources.createIndex({ tenant: 1, type: 1, created: 1, _id: 1 })
  for (const field of new Set(Object.values(LOOKUPS).flatMap((l) => Object.values(l).map((s) => s.field)))) {
    await resources.createIndex({ tenant: 1, type: 1, [`keys.${field}`]: 1 })
  }
}

/** A `ScimAdapter` over one collection of resource documents. */
export class DocumentStoreAdapter<Ctx = unknown> implements ScimAdapter<Ctx> {
  constructor(
    private readonly resources: Collection<ScimDocument>,
    private readonly options: { tenant?: (ctx: Ctx) => string; maxScan?: number } = {},
  ) {}

  async get(q: GetQuery, ctx: Ctx): Promise<StoredResource | null> {
    const doc = await this.resources.findOne({ _id: q.id, tenant: this.#tenant(ctx), type: q.resourceType })
    return doc ? ((await this.#export([doc], q.omit))[0] as StoredResource) : null
  }

  async list(q: ListQuery, ctx: Ctx): Promise<ListResult> {
    const docs = await this.resources.find({ tenant: this.#tenant(ctx), type: q.resourceType, ...pushdown(q.filter, q.resourceType) }).toArray()
    if (docs.length > (this.options.maxScan ?? 10_000)) throw new TooManyError('The query matches too many resources to evaluate; narrow the filter')
    const test = q.filter ? compileFilter(q.filter) : () => true
    const rows = (await this.#export(docs)).map((stored) => ({ stored, view: viewOf(q.resourceType, stored) })).filter((r) => test(r.view))
    const cmp = q.sort ? compareForSort(q.sort.attribute, q.sort.order) : compareDefault
    rows.sort((a, b) => cmp(a.view, b.view))
    return { resources: rows.slice(q.startIndex - 1, q.startIndex - 1 + q.count).map((r) => r.stored), totalResults: rows.length }
  }

  async create(q: CreateQuery, ctx: Ctx): Promise<StoredResource> {
    const tenant = this.#tenant(ctx)
    const attributes = await this.#prepare(tenant, q.resourceType, q.attributes)
    const now = new Date()
    const doc: ScimDocument = { _id: uuidv7(), tenant, type: q.resourceType, version: 1, created: now, lastModified: now, ...indexed(q.resourceType, attributes, q.unique) }
    q.signal?.throwIfAborted() // the deadline passed: commit nothing
    await this.resources.insertOne(doc).catch(duplicate)
    await this.#touch(tenant, memberIds(doc)) // the new members' `groups` changed
    return (await this.#export([doc]))[0] as StoredResource
  }

  async replace(q: ReplaceQuery, ctx: Ctx): Promise<StoredResource> {
    const tenant = this.#tenant(ctx)
    const attributes = await this.#prepare(tenant, q.resourceType, q.attributes)
    for (;;) {
      const before = await this.#current(tenant, q.resourceType, q.id, q.expectedVersion)
      const lastModified = new Date(Math.max(Date.now(), before.lastModified.getTime()))
      q.signal?.throwIfAborted()
      const after = await this.resources
        .findOneAndUpdate(
          { _id: q.id, tenant, version: before.version }, // compare-and-swap (RFC 7644 §3.14)
          { $set: { lastModified, ...indexed(q.resourceType, attributes, q.unique) }, $inc: { version: 1 } },
          { returnDocument: 'after' },
        )
        .catch(duplicate)
      if (!after) continue // written in between: read again (a stale expectedVersion fails in #current)
      // Members whose derived `groups` changed; a renamed group changes every member's.
      const renamed = before.attributes['displayName'] !== after.attributes['displayName']
      const [old, cur] = [memberIds(before), memberIds(after)]
      await this.#touch(tenant, [...cur.filter((id) => renamed || !old.includes(id)), ...old.filter((id) => !cur.includes(id))])
      // A renamed user is a new `members[].display` in its groups (RFC 7643 §8.4).
      if (q.resourceType === 'User' && display(before) !== display(after)) {
        await this.resources.updateMany({ tenant, type: 'Group', 'keys.members': q.id }, { $inc: { version: 1 }, $set: { lastModified } })
      }
      return (await this.#export([after]))[0] as StoredResource
    }
  }

  async delete(q: DeleteQuery, ctx: Ctx): Promise<void> {
    const tenant = this.#tenant(ctx)
    for (;;) {
      const before = await this.#current(tenant, q.resourceType, q.id, q.expectedVersion)
      q.signal?.throwIfAborted()
      if ((await this.resources.deleteOne({ _id: q.id, tenant, version: before.version })).deletedCount === 0) continue
      await this.#touch(tenant, memberIds(before))
      // A deleted user leaves every group it was in (RFC 7644 §3.6).
      await this.resources.updateMany(
        { tenant, type: 'Group', 'keys.members': q.id },
        { $pull: { 'attributes.members': { value: q.id }, 'keys.members': q.id }, $inc: { version: 1 }, $set: { lastModified: new Date() } },
      )
      return
    }
  }

  #tenant(ctx: Ctx): string {
    if (this.options.tenant) return this.options.tenant(ctx)
    const t = (ctx as { tenant?: unknown } | null | undefined)?.tenant
    return typeof t === 'string' ? t : 'default'
  }

  /** The stored document, checked against `expectedVersion`. */
  async #current(tenant: string, type: string, id: string, expectedVersion: string | undefined): Promise<ScimDocument> {
    const doc = await this.resources.findOne({ _id: id, tenant, type })
    if (!doc) throw new NotFoundError(`${type} ${id} not found`)
    if (expectedVersion !== undefined && String(doc.version) !== expectedVersion) throw new PreconditionFailedError()
    return doc
  }

  /** What is stored: no password (RFC 7643 §9.2: none is kept here); members are Users of the tenant. */
  async #prepare(tenant: string, type: string, given: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { password: _password, ...attributes } = given
    if (type !== 'Group' || !Array.isArray(attributes['members'])) return attributes
    const ids = (attributes['members'] as Record<string, unknown>[]).map((m) => m['value'])
    const found = new Set((await this.resources.find({ tenant, type: 'User', _id: { $in: ids } }).toArray()).map((d) => d._id))
    const missing = ids.find((id) => typeof id !== 'string' || !found.has(id))
    if (missing !== undefined) throw new InvalidValueError(`members: no User with id '${String(missing)}'`)
    attributes['members'] = ids.map((value) => ({ value, type: 'User' })) // display and $ref are derived
    return attributes
  }

  /** A change to these resources' derived values is a new version of each. */
  async #touch(tenant: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.resources.updateMany({ tenant, _id: { $in: ids } }, { $inc: { version: 1 }, $set: { lastModified: new Date() } })
  }

  /**
   * Resources as the router reads them, with the derived `User.groups` and `members[].display`:
   * one query for the Groups of all the Users, one for the members of all the Groups.
   */
  async #export(docs: ScimDocument[], omit?: readonly string[]): Promise<StoredResource[]> {
    const tenant = docs[0]?.tenant
    const users = new Set(docs.filter((d) => d.type === 'User' && !omit?.includes('groups')).map((d) => d._id))
    const groups = users.size > 0 ? await this.resources.find({ tenant, type: 'Group', 'keys.members': { $in: [...users] } }).toArray() : []
    const members = omit?.includes('members') ? [] : docs.flatMap(memberIds)
    const names = new Map((members.length > 0 ? await this.resources.find({ tenant, type: 'User', _id: { $in: members } }).toArray() : []).map((u) => [u._id, display(u)]))
    return docs.map((doc) => {
      const attributes = { ...doc.attributes }
      const of = users.has(doc._id) ? groups.filter((g) => memberIds(g).includes(doc._id)) : []
      if (of.length > 0) attributes['groups'] = of.map((g) => ({ value: g._id, display: g.attributes['displayName'], type: 'direct' }))
      if (doc.type === 'Group' && omit?.includes('members')) delete attributes['members']
      else if (doc.type === 'Group' && Array.isArray(attributes['members'])) {
        attributes['members'] = (attributes['members'] as Record<string, unknown>[]).map((m) => ({ ...m, display: names.get(m['value'] as string) }))
      }
      return { id: doc._id, version: String(doc.version), created: doc.created, lastModified: doc.lastModified, attributes }
    })
  }
}

/** The lookup and uniqueness keys of an attribute set, beside it. */
function indexed(type: string, attributes: Record<string, unknown>, unique: readonly UniqueConstraint[]) {
  const keys: Record<string, string[]> = {}
  for (const [path, { field, caseExact }] of Object.entries(LOOKUPS[type] ?? {})) keys[field] = valuesAt(attributes, path).map((v) => key(v, caseExact))
  // RFC 7643 §2.2 `uniqueness: server`: one index key per constraint, folded like the lookups.
  const uniqueKeys = unique.flatMap((u) => valuesAt(attributes, u.path).map((v) => `${u.path}\u0000${key(v, u.caseExact)}`))
  return { attributes, keys, unique: uniqueKeys }
}

/** An `eq` lookup on a keyed attribute (alone or in an `and`) as a query on its key field. */
function pushdown(filter: FilterNode | undefined, type: string): Filter {
  for (const term of filter?.type === 'and' ? filter.filters : filter ? [filter] : []) {
    if (term.type !== 'compare' || term.op !== 'eq' || typeof term.value !== 'string') continue
    if (term.attribute.path === 'id') return { _id: term.value }
    const spec = LOOKUPS[type]?.[term.attribute.path]
    // Only where the key was folded as the schema compares this attribute.
    if (spec && spec.caseExact === term.attribute.def.caseExact) return { [`keys.${spec.field}`]: key(term.value, spec.caseExact) }
  }
  return {}
}

/** The evaluation view `compileFilter` and `compareForSort` read: attributes plus id, schemas, meta. */
function viewOf(type: string, r: StoredResource): Record<string, unknown> {
  const schemas = [CORE[type] ?? type, ...Object.keys(r.attributes).filter((k) => k.startsWith('urn:'))]
  const meta = { resourceType: type, created: r.created.toISOString(), lastModified: r.lastModified.toISOString(), version: `W/"${r.version}"` }
  return { ...r.attributes, id: r.id, schemas, meta }
}

function duplicate(e: unknown): never {
  if (e instanceof MongoServerError && e.code === 11000) throw new UniquenessError('A unique attribute value is already in use (RFC 7643 §2.2)')
  throw e
}
