/**
 * A STAND-IN for a MongoDB collection, in process memory, for the document-store guide
 * (docs/guides/document-store.md). It is not MongoDB and not a driver: it mimics the shape of the
 * official `mongodb` driver's `Collection` (`find().toArray()`, `findOne`, `insertOne`,
 * `findOneAndUpdate`, `updateMany`, `deleteOne`, `createIndex`, duplicate keys as error code
 * 11000) so that the adapter reads as it would against MongoDB, and the guide's test needs no
 * server. What it supports, with MongoDB's meaning:
 * - filters: equality on (dotted) fields and `{ $in: [...] }`; an array field matches when any
 *   element matches (multikey);
 * - updates: `$set`, `$inc`, and `$pull` of array elements equal to (or, for objects, having) the
 *   given fields;
 * - unique indexes, also on array fields (one key per element); documents missing a field are
 *   left out, as with `sparse: true`. Other indexes are recorded only: every query here scans,
 *   where MongoDB would use the index;
 * - each call is atomic, as a single-document operation is in MongoDB. There are no transactions.
 * Documents are copied in and out, as the driver deserialises fresh objects.
 */

/** A stored document: `_id` plus any fields. */
export type Document = { _id: string } & Record<string, unknown>

/** A query document: `{ field: value }` or `{ field: { $in: values } }`, all of them must match. */
export type Filter = Record<string, unknown>

/** An update document. */
export interface UpdateFilter {
  $set?: Record<string, unknown>
  $inc?: Record<string, number>
  $pull?: Record<string, unknown>
}

/** What the driver throws for a server error; `code` 11000 is a duplicate key. */
export class MongoServerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/** A deep copy of plain data (objects, arrays, Dates, primitives). */
function clone<T>(v: T): T {
  if (v instanceof Date) return new Date(v.getTime()) as T
  if (Array.isArray(v)) return v.map(clone) as T
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T
  return v
}

function read(doc: unknown, path: string): unknown {
  let v = doc
  for (const k of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined
  return v
}

function parentOf(doc: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  const keys = path.split('.')
  let o = doc
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>
  return [o, keys[keys.length - 1] as string]
}

const equal = (a: unknown, b: unknown): boolean => a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime())

function matchesValue(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, expected))
  if (typeof expected === 'object' && expected !== null && '$in' in expected) return (expected.$in as unknown[]).some((e) => equal(actual, e))
  if (typeof expected === 'object' && expected !== null && !(expected instanceof Date)) {
    return typeof actual === 'object' && actual !== null && Object.entries(expected).every(([k, v]) => matchesValue((actual as Record<string, unknown>)[k], v))
  }
  return equal(actual, expected)
}

const matches = (doc: Document, filter: Filter): boolean => Object.entries(filter).every(([path, v]) => matchesValue(read(doc, path), v))

/** An in-process collection with the MongoDB driver's method shapes (see the module comment). */
export class Collection<T extends Document> {
  readonly #docs = new Map<string, T>()
  readonly #unique: string[][] = []
  /** The indexes created, as `createIndex` received them (for the reader; queries scan). */
  readonly indexes: { keys: Record<string, 1 | -1>; unique: boolean }[] = []

  /** Create an index; a unique one is enforced by every later insert and update. */
  async createIndex(keys: Record<string, 1 | -1>, options: { unique?: boolean } = {}): Promise<string> {
    this.indexes.push({ keys, unique: options.unique === true })
    if (options.unique) this.#unique.push(Object.keys(keys))
    return Object.entries(keys).map(([k, d]) => `${k}_${d}`).join('_')
  }

  /** Documents matching `filter`. */
  find(filter: Filter): { toArray(): Promise<T[]> } {
    const found = [...this.#docs.values()].filter((d) => matches(d, filter)).map((d) => clone(d))
    return { toArray: async () => found }
  }

  /** The first document matching `filter`, or null. */
  async findOne(filter: Filter): Promise<T | null> {
    for (const d of this.#docs.values()) if (matches(d, filter)) return clone(d)
    return null
  }

  /** Insert a document. @throws MongoServerError 11000 on a duplicate `_id` or unique key. */
  async insertOne(doc: T): Promise<{ insertedId: string }> {
    const copy = clone(doc)
    if (this.#docs.has(copy._id)) throw new MongoServerError(11000, `E11000 duplicate key error: _id ${copy._id}`)
    this.#checkUnique(copy)
    this.#docs.set(copy._id, copy)
    return { insertedId: copy._id }
  }

  /** Update the first match; returns it after the update, or null when nothing matched. @throws MongoServerError 11000. */
  async findOneAndUpdate(filter: Filter, update: UpdateFilter, _options: { returnDocument: 'after' }): Promise<T | null> {
    for (const d of this.#docs.values()) {
      if (!matches(d, filter)) continue
      const next = this.#apply(d, update)
      this.#docs.set(next._id, next)
      return clone(next)
    }
    return null
  }

  /** Update every match (each document atomically, not all together). */
  async updateMany(filter: Filter, update: UpdateFilter): Promise<{ modifiedCount: number }> {
    let modifiedCount = 0
    for (const d of [...this.#docs.values()]) {
      if (!matches(d, filter)) continue
      this.#docs.set(d._id, this.#apply(d, update))
      modifiedCount++
    }
    return { modifiedCount }
  }

  /** Delete the first match. */
  async deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    for (const d of this.#docs.values()) if (matches(d, filter)) return { deletedCount: this.#docs.delete(d._id) ? 1 : 0 }
    return { deletedCount: 0 }
  }

  #apply(doc: T, update: UpdateFilter): T {
    const next = clone(doc) as Record<string, unknown>
    for (const [path, v] of Object.entries(update.$set ?? {})) {
      const [o, k] = parentOf(next, path)
      o[k] = clone(v)
    }
    for (const [path, n] of Object.entries(update.$inc ?? {})) {
      const [o, k] = parentOf(next, path)
      o[k] = ((o[k] as number | undefined) ?? 0) + n
    }
    for (const [path, cond] of Object.entries(update.$pull ?? {})) {
      const [o, k] = parentOf(next, path)
      if (Array.isArray(o[k])) o[k] = (o[k] as unknown[]).filter((e) => !matchesValue(e, cond))
    }
    this.#checkUnique(next as T, doc._id)
    return next as T
  }

  /** Every unique index: no other document may have any of this document's keys. */
  #checkUnique(doc: T, self = doc._id): void {
    for (const fields of this.#unique) {
      const mine = new Set(indexKeys(doc, fields))
      if (mine.size === 0) continue
      for (const other of this.#docs.values()) {
        if (other._id === self) continue
        if (indexKeys(other, fields).some((k) => mine.has(k))) throw new MongoServerError(11000, `E11000 duplicate key error: ${fields.join(', ')}`)
      }
    }
  }
}

/** The keys a document has in a compound index: one per element of an array field. */
function indexKeys(doc: Document, fields: string[]): string[] {
  let keys: unknown[][] = [[]]
  for (const f of fields) {
    const v = read(doc, f)
    if (v === undefined) return []
    keys = keys.flatMap((k) => (Array.isArray(v) ? v : [v]).map((e) => [...k, e]))
  }
  return keys.map((k) => JSON.stringify(k))
}
