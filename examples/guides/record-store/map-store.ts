/**
 * README, "Writing an adapter": the smallest `RecordStore`, records per tenant in a `Map`, turned
 * into a SCIM adapter by `recordAdapter`. One process only; its lookups and uniqueness check scan
 * the tenant's records where a database uses an index. `commit` is atomic because it runs without
 * an `await` from its first check to its last change. test/storage/record-adapter.test.ts runs the
 * conformance kit on it.
 */
import { NotFoundError, PreconditionFailedError, UniquenessError } from '../../../src' // from 'scim-router'
import type { RecordCommit, RecordGetQuery, RecordLookupQuery, RecordQuery, RecordScanQuery, RecordStore, StoredRecord } from '../../../src'

type Ctx = { tenant?: string } | undefined

/** A `RecordStore` keeping each tenant's records in a `Map` (see the module comment). */
export class MapRecordStore implements RecordStore<Ctx> {
  readonly #tenants = new Map<string, Map<string, StoredRecord>>()

  #records(ctx: Ctx, type: string): StoredRecord[] {
    return [...(this.#tenants.get(ctx?.tenant ?? 'default')?.values() ?? [])].filter((r) => r.type === type)
  }

  async get(q: RecordGetQuery, ctx: Ctx) {
    return this.#records(ctx, q.type).filter((r) => q.ids.includes(r.id)).map((r) => structuredClone(r))
  }
  async findByLookup(q: RecordLookupQuery, ctx: Ctx) {
    return this.#records(ctx, q.type).filter((r) => r.lookups.includes(q.lookup)).map((r) => structuredClone(r))
  }
  async scan(q: RecordScanQuery, ctx: Ctx) {
    const { after, before, offset = 0 } = q
    const side = this.#records(ctx, q.type).filter((r) => (after === undefined || r.id > after) && (before === undefined || r.id < before))
    const order = before === undefined ? 1 : -1 // before: descending, the page before a cursor
    return side.sort((a, b) => (a.id < b.id ? -order : order)).slice(offset, offset + q.limit).map((r) => structuredClone(r))
  }
  async count(q: RecordQuery, ctx: Ctx) {
    return this.#records(ctx, q.type).length
  }

  async commit(q: RecordCommit, ctx: Ctx) {
    const tenant = ctx?.tenant ?? 'default'
    const next = new Map(this.#tenants.get(tenant))
    for (const w of q.writes) {
      const [id, type] = w.op === 'delete' ? [w.id, w.type] : [w.record.id, w.record.type]
      const current = next.get(id)
      if (w.op !== 'insert' && current?.type !== type) throw new NotFoundError(`${type} ${id} not found`)
      if (w.op !== 'insert' && current?.version !== w.expectedVersion) throw new PreconditionFailedError()
      if (w.op === 'delete') next.delete(id)
      else next.set(id, structuredClone(w.record))
    }
    const keys = new Set<string>()
    for (const r of next.values()) {
      for (const k of r.keys) {
        if (keys.has(`${r.type}\u0000${k}`)) throw new UniquenessError('A unique attribute value is already in use')
        keys.add(`${r.type}\u0000${k}`)
      }
    }
    q.signal?.throwIfAborted()
    this.#tenants.set(tenant, next)
  }
}
