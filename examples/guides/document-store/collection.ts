/**
 * A STAND-IN for a MongoDB client and collection, in process memory, for the document-store guide
 * (docs/guides/document-store.md). It is not MongoDB and not a driver: it mimics the shapes of the
 * official `mongodb` driver (`client.startSession()`, `session.withTransaction(fn)`, operations
 * taking `{ session }`, `find().sort().skip().limit().toArray()`, `findOne`, `countDocuments`,
 * `insertOne`, `replaceOne`, `deleteOne`, `createIndex`, duplicate keys as error code 11000) so
 * that the store reads as it would against MongoDB, and the guide's test needs no server.
 * What it supports, with MongoDB's meaning:
 * - filters: equality on (dotted) fields, `{ $in: [...] }`, `{ $gt: value }`, `{ $lt: value }` and
 *   `{ $exists: boolean }`; an array field matches when any element matches (multikey);
 * - unique indexes, also on array fields (one key per element), with an optional
 *   `partialFilterExpression` (only matching documents are indexed). Other indexes are recorded
 *   only: every query here scans, where MongoDB would use the index;
 * - transactions: the operations given a session see its writes, which become visible all at
 *   once when `withTransaction`'s callback resolves, and are dropped when it throws. The stand-in
 *   runs transactions (and writes without a session) one at a time; MongoDB runs them
 *   concurrently under snapshot isolation, aborts one of two transactions writing the same
 *   document (a write conflict, which `withTransaction` retries) and needs a replica set for them.
 * Documents are copied in and out, as the driver deserialises fresh objects.
 */

/** A stored document: `_id` plus any fields. */
export type Document = { _id: string } & Record<string, unknown>

/** A query document: `{ field: value }` or `{ field: { $in | $gt | $lt | $exists: … } }`; all must match. */
export type Filter = Record<string, unknown>

/** What the driver throws for a server error; `code` 11000 is a duplicate key. */
export class MongoServerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/** The options every operation here takes: the session of the transaction it belongs to. */
export interface OperationOptions {
  session?: ClientSession
}

/** Transactions and session-less writes run one at a time (see the module comment). */
let tail: Promise<unknown> = Promise.resolve()
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn, fn)
  tail = run.catch(() => undefined)
  return run
}

/** A driver session: `withTransaction(fn)` commits what `fn` wrote with `{ session }`, all or nothing. */
export class ClientSession {
  /** Per collection: its documents as this transaction sees them, and how to publish them. */
  readonly #working = new Map<object, { docs: Map<string, Document>; publish: () => void }>()

  /** Run `fn` in a transaction; resolves to its result once committed. */
  withTransaction<T>(fn: () => Promise<T>): Promise<T> {
    return serialised(async () => {
      try {
        const result = await fn()
        for (const w of this.#working.values()) w.publish()
        return result
      } finally {
        this.#working.clear()
      }
    })
  }

  async endSession(): Promise<void> {}

  /** @internal The transaction's copy of a collection's documents. */
  view(owner: object, open: () => { docs: Map<string, Document>; publish: () => void }): Map<string, Document> {
    let w = this.#working.get(owner)
    if (!w) this.#working.set(owner, (w = open()))
    return w.docs
  }
}

/** A driver client, for its sessions. */
export class MongoClient {
  startSession(): ClientSession {
    return new ClientSession()
  }
}

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

const equal = (a: unknown, b: unknown): boolean => a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime())

function matchesValue(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'object' && expected !== null && '$exists' in expected) return (actual !== undefined) === expected.$exists
  if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, expected))
  if (typeof expected === 'object' && expected !== null && '$in' in expected) return (expected.$in as unknown[]).some((e) => equal(actual, e))
  if (typeof expected === 'object' && expected !== null && '$gt' in expected) return typeof actual === typeof expected.$gt && (actual as string) > (expected.$gt as string)
  if (typeof expected === 'object' && expected !== null && '$lt' in expected) return typeof actual === typeof expected.$lt && (actual as string) < (expected.$lt as string)
  return equal(actual, expected)
}

const matches = (doc: Document, filter: Filter): boolean => Object.entries(filter).every(([path, v]) => matchesValue(read(doc, path), v))

/** What `find` returns: a cursor with `sort` (one field), `skip`, `limit` and `toArray`. */
export interface FindCursor<T> {
  sort(spec: Record<string, 1 | -1>): FindCursor<T>
  skip(n: number): FindCursor<T>
  limit(n: number): FindCursor<T>
  toArray(): Promise<T[]>
}

/** An in-process collection with the MongoDB driver's method shapes (see the module comment). */
export class Collection<T extends Document> {
  #committed = new Map<string, T>()
  readonly #unique: { fields: string[]; partial: Filter | undefined }[] = []
  /** The indexes created, as `createIndex` received them (for the reader; queries scan). */
  readonly indexes: { keys: Record<string, 1 | -1>; unique: boolean }[] = []

  /** Create an index; a unique one is enforced by every later insert and replace. */
  async createIndex(keys: Record<string, 1 | -1>, options: { unique?: boolean; partialFilterExpression?: Filter } = {}): Promise<string> {
    this.indexes.push({ keys, unique: options.unique === true })
    if (options.unique) this.#unique.push({ fields: Object.keys(keys), partial: options.partialFilterExpression })
    return Object.entries(keys).map(([k, d]) => `${k}_${d}`).join('_')
  }

  /** Documents matching `filter`. */
  find(filter: Filter, options: OperationOptions = {}): FindCursor<T> {
    let found = [...this.#docs(options).values()].filter((d) => matches(d, filter))
    let from = 0
    let count = Infinity
    const cursor: FindCursor<T> = {
      sort: (spec) => {
        const [field, dir] = Object.entries(spec)[0] as [string, 1 | -1]
        found = found.sort((a, b) => dir * (String(read(a, field)) < String(read(b, field)) ? -1 : String(read(a, field)) > String(read(b, field)) ? 1 : 0))
        return cursor
      },
      skip: (n) => ((from = n), cursor),
      limit: (n) => ((count = n), cursor),
      toArray: async () => found.slice(from, from + count).map((d) => clone(d)),
    }
    return cursor
  }

  /** The first document matching `filter`, or null. */
  async findOne(filter: Filter, options: OperationOptions = {}): Promise<T | null> {
    for (const d of this.#docs(options).values()) if (matches(d, filter)) return clone(d)
    return null
  }

  /** How many documents match `filter`. */
  async countDocuments(filter: Filter, options: OperationOptions = {}): Promise<number> {
    let n = 0
    for (const d of this.#docs(options).values()) if (matches(d, filter)) n++
    return n
  }

  /** Insert a document. @throws MongoServerError 11000 on a duplicate `_id` or unique key. */
  insertOne(doc: T, options: OperationOptions = {}): Promise<{ insertedId: string }> {
    return this.#write(options, (docs) => {
      const copy = clone(doc)
      if (docs.has(copy._id)) throw new MongoServerError(11000, `E11000 duplicate key error: _id ${copy._id}`)
      this.#checkUnique(docs, copy)
      docs.set(copy._id, copy)
      return { insertedId: copy._id }
    })
  }

  /** Replace the first match by `doc` (same `_id`). @throws MongoServerError 11000 on a unique key. */
  replaceOne(filter: Filter, doc: T, options: OperationOptions = {}): Promise<{ matchedCount: number }> {
    return this.#write(options, (docs) => {
      for (const d of docs.values()) {
        if (!matches(d, filter)) continue
        const copy = { ...clone(doc), _id: d._id }
        this.#checkUnique(docs, copy)
        docs.set(d._id, copy)
        return { matchedCount: 1 }
      }
      return { matchedCount: 0 }
    })
  }

  /** Delete the first match. */
  deleteOne(filter: Filter, options: OperationOptions = {}): Promise<{ deletedCount: number }> {
    return this.#write(options, (docs) => {
      for (const d of docs.values()) if (matches(d, filter)) return { deletedCount: docs.delete(d._id) ? 1 : 0 }
      return { deletedCount: 0 }
    })
  }

  /** The documents an operation sees: its transaction's copy, or the committed ones. */
  #docs(options: OperationOptions): Map<string, T> {
    if (!options.session) return this.#committed
    const open = () => {
      const docs = new Map(this.#committed)
      return { docs: docs as Map<string, Document>, publish: () => void (this.#committed = docs) }
    }
    return options.session.view(this, open) as Map<string, T>
  }

  /** A write: inside its transaction, or alone and serialised with the transactions. */
  #write<R>(options: OperationOptions, fn: (docs: Map<string, T>) => R): Promise<R> {
    if (options.session) return Promise.resolve().then(() => fn(this.#docs(options)))
    return serialised(async () => fn(this.#committed)) // no transaction runs meanwhile, and fn checks before it changes
  }

  /** Every unique index: no other indexed document may have any of this document's keys. */
  #checkUnique(docs: Map<string, T>, doc: T): void {
    for (const { fields, partial } of this.#unique) {
      if (partial && !matches(doc, partial)) continue
      const mine = new Set(indexKeys(doc, fields))
      if (mine.size === 0) continue
      for (const other of docs.values()) {
        if (other._id === doc._id || (partial && !matches(other, partial))) continue
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
