/**
 * Document-store guide (docs/guides/document-store.md): a `RecordStore` over a MongoDB-shaped
 * collection (collection.ts is an in-process stand-in with the driver's method shapes), turned into
 * a complete SCIM adapter by the library's `recordAdapter`. One document per resource:
 *
 *   { _id, tenant, type: 'User' | 'Group', version, created, lastModified,
 *     attributes,                        // the resource, derived values (groups, members' display) included
 *     keys: ['userName\u0000ada@…'],     // uniqueness keys, under a unique multikey index (absent when none)
 *     lookups: ['userName\u0000ada@…'] } // lookup keys, under a multikey index
 *
 * The store only reads by id, by lookup key and in id order, and commits writes in one
 * transaction with compare-and-swap on `version`; every SCIM rule is `recordAdapter`'s.
 */
import { NotFoundError, PreconditionFailedError, recordAdapter, UniquenessError } from '../../../src'
import type { RecordCommit, RecordGetQuery, RecordLookupQuery, RecordQuery, RecordScanQuery, RecordStore, ScimAdapter, StoredRecord } from '../../../src'
import { MongoServerError, type Collection, type Document, type Filter, type MongoClient } from './collection'

/** A stored record document. */
export interface RecordDocument extends Document {
  tenant: string
  type: string
  version: number
  created: Date
  lastModified: Date
  attributes: Record<string, unknown>
  keys?: string[]
  lookups: string[]
}

/** The indexes the store's queries use: uniqueness (partial: documents without keys never collide), lookups, id order. */
export async function createIndexes(records: Collection<RecordDocument>): Promise<void> {
  await records.createIndex({ tenant: 1, type: 1, keys: 1 }, { unique: true, partialFilterExpression: { keys: { $exists: true } } })
  await records.createIndex({ tenant: 1, type: 1, lookups: 1 })
  await records.createIndex({ tenant: 1, type: 1, _id: 1 })
}

const toRecord = ({ _id, tenant: _tenant, keys, ...rest }: RecordDocument): StoredRecord => ({ id: _id, ...rest, keys: keys ?? [] })
function toDocument(tenant: string, { id, keys, ...rest }: StoredRecord): RecordDocument {
  return { _id: id, tenant, ...rest, ...(keys.length > 0 ? { keys } : {}) }
}

/** A `RecordStore` over one collection of record documents; `tenant` names the tenant of a request (default `ctx.tenant`). */
export class MongoRecordStore<Ctx = unknown> implements RecordStore<Ctx> {
  constructor(
    private readonly client: MongoClient,
    private readonly records: Collection<RecordDocument>,
    private readonly tenant: (ctx: Ctx) => string = (ctx) => String((ctx as { tenant?: unknown } | null)?.tenant ?? 'default'),
  ) {}

  async get(q: RecordGetQuery, ctx: Ctx): Promise<StoredRecord[]> {
    return this.#find({ tenant: this.tenant(ctx), type: q.type, _id: { $in: q.ids } })
  }

  async findByLookup(q: RecordLookupQuery, ctx: Ctx): Promise<StoredRecord[]> {
    return this.#find({ tenant: this.tenant(ctx), type: q.type, lookups: q.lookup })
  }

  async scan(q: RecordScanQuery, ctx: Ctx): Promise<StoredRecord[]> {
    const filter: Filter = { tenant: this.tenant(ctx), type: q.type }
    if (q.after !== undefined || q.before !== undefined) filter['_id'] = q.before !== undefined ? { $lt: q.before } : { $gt: q.after }
    return (await this.records.find(filter).sort({ _id: q.before !== undefined ? -1 : 1 }).skip(q.offset ?? 0).limit(q.limit).toArray()).map(toRecord)
  }

  async count(q: RecordQuery, ctx: Ctx): Promise<number> {
    return this.records.countDocuments({ tenant: this.tenant(ctx), type: q.type })
  }

  /** All writes in one transaction (on MongoDB: a replica set), each a compare-and-swap on `version`. */
  async commit(q: RecordCommit, ctx: Ctx): Promise<void> {
    const tenant = this.tenant(ctx)
    const session = this.client.startSession()
    try {
      await session.withTransaction(async () => {
        for (const w of q.writes) {
          if (w.op === 'insert') {
            await this.records.insertOne(toDocument(tenant, w.record), { session })
            continue
          }
          const [id, type] = w.op === 'delete' ? [w.id, w.type] : [w.record.id, w.record.type]
          const swap = { _id: id, tenant, type, version: w.expectedVersion }
          const done = w.op === 'delete'
            ? (await this.records.deleteOne(swap, { session })).deletedCount
            : (await this.records.replaceOne(swap, toDocument(tenant, w.record), { session })).matchedCount
          if (done === 0) throw (await this.records.findOne({ _id: id, tenant, type }, { session })) ? new PreconditionFailedError() : new NotFoundError(`${type} ${id} not found`)
        }
        q.signal?.throwIfAborted() // the request's deadline passed: abort, nothing is committed
      })
    } catch (e) {
      if (e instanceof MongoServerError && e.code === 11000) throw new UniquenessError('A unique attribute value is already in use (RFC 7643 §2.2)')
      throw e
    } finally {
      await session.endSession()
    }
  }

  async #find(filter: Filter): Promise<StoredRecord[]> {
    return (await this.records.find(filter).toArray()).map(toRecord)
  }
}

/** The SCIM adapter of the guide: the library's rules over the store. */
export function documentStoreAdapter<Ctx = unknown>(client: MongoClient, records: Collection<RecordDocument>): ScimAdapter<Ctx> {
  return recordAdapter(new MongoRecordStore<Ctx>(client, records))
}
