/**
 * One write path (issue 12 item 1, `src/storage/write.ts`): PUT, PATCH and DELETE, single or as
 * Bulk operations, read the resource, check the client's conditions on the version read
 * (RFC 7644 §3.14), write with that version as a compare-and-swap, and retry a lost race with a
 * fresh read (ETG-030, CAS retry) unless the client pinned the version with If-Match, which then
 * gets exactly the 412 (RFC 7232 §3.1). Runs on every store (SCIM_TEST_STORE).
 */
import { PreconditionFailedError, type ScimAdapter } from '../../src'
import { USER, VARIANTS, client, defaultAdapter, expectError, makeApp } from './harness'

const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** The store, where the next `losses` writes (replace or delete) lose a race to a concurrent writer. */
function racing(inner: ScimAdapter<any>): { adapter: ScimAdapter<any>; lose: (n: number) => void; reads: () => number; writes: () => number } {
  let losses = 0
  let reads = 0
  let writes = 0
  const lost = (): boolean => {
    writes++
    if (losses === 0) return false
    losses--
    return true
  }
  const adapter: ScimAdapter<any> = {
    get: (query, ctx) => {
      reads++
      return inner.get(query, ctx)
    },
    list: (query, ctx) => inner.list(query, ctx),
    create: (query, ctx) => inner.create(query, ctx),
    replace: async (query, ctx) => {
      if (lost()) throw new PreconditionFailedError()
      return inner.replace(query, ctx)
    },
    delete: async (query, ctx) => {
      if (lost()) throw new PreconditionFailedError()
      return inner.delete(query, ctx)
    },
  }
  if (inner.canFilter) adapter.canFilter = (f, rt) => inner.canFilter!(f, rt)
  if (inner.capabilities) adapter.capabilities = inner.capabilities
  return { adapter, lose: (n) => (losses = n), reads: () => reads, writes: () => writes }
}

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

describe.each(VARIANTS)('one write path: $name', (v) => {
  async function setup() {
    const store = racing(defaultAdapter())
    const c = client(v, makeApp(v, { bulk: true }, store.adapter))
    const created = await c.post('/Users', { schemas: [USER], userName: 'writer' })
    expect(created.status).toBe(201)
    return { c, store, id: created.body.id as string }
  }

  it('PUT, PATCH and DELETE that lose a compare-and-swap are retried with a fresh read and succeed', async () => {
    const { c, store, id } = await setup()
    store.lose(2)
    const before = store.reads()
    const put = await c.put(`/Users/${id}`, { schemas: [USER], userName: 'writer', title: 'put' })
    expect(put.status).toBe(200)
    expect(put.body.title).toBe('put')
    store.lose(1)
    const patch = await c.patch(`/Users/${id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'patched' }] })
    expect(patch.status).toBe(200)
    expect(patch.body.title).toBe('patched')
    store.lose(1)
    expect((await c.delete(`/Users/${id}`)).status).toBe(204)
    expect(store.reads() - before).toBe(7) // 3 rounds for PUT, 2 for PATCH, 2 for DELETE
    expect((await c.get(`/Users/${id}`)).status).toBe(404)
  })

  it('RFC 7232 §3.1: with If-Match the lost race is the client\'s 412 (not retried) for PUT, PATCH and DELETE', async () => {
    const { c, store, id } = await setup()
    const etag = (await c.get(`/Users/${id}`)).headers['etag'] as string
    for (const send of [
      () => c.put(`/Users/${id}`, { schemas: [USER], userName: 'writer', title: 'x' }).set('If-Match', etag),
      () => c.patch(`/Users/${id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'y' }] }).set('If-Match', etag),
      () => c.delete(`/Users/${id}`).set('If-Match', etag),
    ]) {
      store.lose(1)
      const writes = store.writes()
      expectError(await send(), 412)
      expect(store.writes() - writes).toBe(1)
    }
    expect((await c.get(`/Users/${id}`)).body.title).toBeUndefined()
  })

  it('RFC 7644 §3.7: Bulk PUT, PATCH and DELETE operations take the same path (retried, then done)', async () => {
    const { c, store, id } = await setup()
    store.lose(3)
    const res = await c.post('/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'PUT', path: `/Users/${id}`, data: { schemas: [USER], userName: 'writer', title: 'bulk' } },
        { method: 'PATCH', path: `/Users/${id}`, data: { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'B' }] } },
        { method: 'DELETE', path: `/Users/${id}` },
      ],
    })
    expect(res.status).toBe(200)
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['200', '200', '204'])
    expect((await c.get(`/Users/${id}`)).status).toBe(404)
  })
})
