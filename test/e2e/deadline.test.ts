/**
 * The request deadline (`adapterTimeout`, AUTH-008; issue 11 item 3): a 503 means nothing was
 * committed, and a committed write is answered with its success response. Runs on every store
 * (`SCIM_TEST_STORE`): the slow adapter delegates to the store under test.
 */
import type { ScimAdapter } from '../../src'
import { ERROR, USER, VARIANTS, client, defaultAdapter, expectError, makeApp } from './harness'

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * A delegating adapter whose writes are slow: `before` ms before the store is called (the write
 * has not reached storage yet) and `after` ms after the store committed (a late acknowledgement).
 * Counts writes so that a test can wait until every one has settled.
 */
function slowWrites(inner: ScimAdapter<any>) {
  const state = { before: 0, after: 0, started: 0, settled: 0, abortReads: false }
  const slow = async <T>(fn: () => Promise<T>): Promise<T> => {
    state.started++
    try {
      if (state.before) await sleep(state.before)
      const out = await fn()
      if (state.after) await sleep(state.after)
      return out
    } finally {
      state.settled++
    }
  }
  const adapter: ScimAdapter<any> = {
    // abortReads: a store that stops reads once the request's signal is aborted (allowed).
    get: (q, c) => (state.abortReads && q.signal?.aborted ? Promise.reject(new Error('read stopped: signal aborted')) : inner.get(q, c)),
    list: (q, c) => inner.list(q, c),
    create: (q, c) => slow(() => inner.create(q, c)),
    replace: (q, c) => slow(() => inner.replace(q, c)),
    delete: (q, c) => slow(() => inner.delete(q, c)),
  }
  if (inner.modifyMembers) adapter.modifyMembers = (q, c) => slow(() => inner.modifyMembers!(q, c))
  if (inner.canFilter) adapter.canFilter = (f, rt) => inner.canFilter!(f, rt)
  if (inner.listByCursor) adapter.listByCursor = (q, c) => inner.listByCursor!(q, c)
  if (inner.capabilities) adapter.capabilities = inner.capabilities
  /** Resolves once every write started so far has settled (committed or not). */
  const idle = async (): Promise<void> => {
    while (state.settled < state.started) await sleep(5)
  }
  return { adapter, state, idle }
}

/**
 * Two clients over one slow store: `c` with the options under test, `setup` with the default
 * deadline for preparing data (a fresh PostgreSQL schema is created on the first write).
 */
function apps(v: (typeof VARIANTS)[number], options: Record<string, unknown>) {
  const slow = slowWrites(defaultAdapter())
  return { slow, c: client(v, makeApp(v, options, slow.adapter)), setup: client(v, makeApp(v, {}, slow.adapter)) }
}

const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }

describe.each(VARIANTS)('request deadline: $name', (v) => {
  it('AUTH-008: a write still on its way to storage at the deadline is 503, and nothing is committed', async () => {
    const { slow, c, setup } = apps(v, { adapterTimeout: 100 })
    const kept = await setup.post('/Users', { schemas: [USER], userName: 'kept' })
    expect(kept.status).toBe(201)
    slow.state.before = 400 // past the deadline and the abort grace
    const late = await c.post('/Users', { schemas: [USER], userName: 'late' })
    expectError(late, 503)
    expect(late.headers['retry-after']).toBe('5')
    const u = await c.patch(`/Users/${kept.body.id}`, deactivate)
    expectError(u, 503)
    await slow.idle() // the writes reached the store after the 503, with an aborted signal
    const listed = await c.get('/Users')
    expect(listed.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['kept'])
    const got = await c.get(`/Users/${kept.body.id}`)
    expect(got.body.active).not.toBe(false)
    expect(got.body.meta.version).toBe(kept.body.meta.version)
  })

  it('AUTH-008: a write the store acknowledges after the deadline (within the abort grace) is answered with its success', async () => {
    const { slow, c, setup } = apps(v, { adapterTimeout: 2000 })
    await setup.post('/Users', { schemas: [USER], userName: 'first' })
    // Committed by the store, acknowledged 2,050 ms later: after the deadline (2,000 ms) and within
    // its abort grace (another 2,000 ms, the most there is) as long as the store's own write takes
    // under 1,950 ms, which leaves room for a loaded CI machine.
    slow.state.after = 2050
    const r = await c.post('/Users', { schemas: [USER], userName: 'acked-late' })
    expect(r.status).toBe(201)
    expect(r.body.userName).toBe('acked-late')
    expect((await c.get(`/Users/${r.body.id}`)).status).toBe(200)
  })

  it('AUTH-008, RFC 7644 §3.7.3: a Bulk stops at the deadline, answers 200 and reports each operation not performed as 503', async () => {
    // 30 writes of at least 100 ms each cannot finish within 1,000 ms; the first one does unless
    // the store's own write takes 900 ms (a loaded CI machine on PostgreSQL stays far below).
    const { slow, c, setup } = apps(v, { adapterTimeout: 1000, bulk: { maxOperations: 100 } })
    const kept = await setup.post('/Users', { schemas: [USER], userName: 'kept' })
    slow.state.before = 100
    const n = 30
    const Operations: Record<string, unknown>[] = Array.from({ length: n }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `bulk${i}` } }))
    Operations.push({ method: 'DELETE', path: `/Users/${kept.body.id}`, bulkId: 'del' })
    const r = await c.post('/Bulk', { schemas: [BULK_REQUEST], Operations })
    expect(r.status).toBe(200)
    const ops = r.body.Operations as { bulkId: string; status: string; response?: { schemas: string[]; status: string; scimType?: string; detail: string; id?: string } }[]
    // Every operation is reported, in request order, as done (201) or not performed (503).
    expect(ops.map((o) => o.bulkId)).toEqual(Operations.map((o) => o.bulkId))
    const done = ops.filter((o) => o.status === '201')
    const notDone = ops.filter((o) => o.status === '503')
    expect(done.length + notDone.length).toBe(n + 1)
    expect(done.length).toBeGreaterThan(0)
    expect(notDone.length).toBeGreaterThan(0)
    // Done operations come first: after the deadline nothing further was attempted.
    expect(ops.slice(0, done.length).every((o) => o.status === '201')).toBe(true)
    for (const o of notDone) {
      expect(o.response?.schemas).toEqual([ERROR])
      expect(o.response?.status).toBe('503')
      expect(o.response).not.toHaveProperty('scimType')
      expect(o.response?.detail).toMatch(/deadline/)
    }
    // At most the one operation in flight at the deadline was started and stopped.
    expect(notDone.filter((o) => /while this operation ran/.test(o.response?.detail ?? '')).length).toBeLessThanOrEqual(1)
    // The DELETE after the POSTs was not attempted; it names its resource (RFC 7644 §3.7.3 location).
    const del = ops[n] as { status: string; location?: string }
    expect(del.status).toBe('503')
    expect(del.location).toMatch(new RegExp(`/Users/${kept.body.id}$`))
    await slow.idle()
    // What exists afterwards is exactly what was reported as created (plus the user not deleted).
    const listed = await c.get('/Users?count=100')
    expect(listed.body.totalResults).toBe(done.length + 1)
    expect(new Set(listed.body.Resources.map((u: { id: string }) => u.id))).toEqual(new Set([kept.body.id, ...done.map((o) => o.response?.id)]))
  })
})

describe.each(VARIANTS)('request deadline after a commit: $name', (v) => {
  it('AUTH-008: a committed member PATCH whose re-read is stopped by the deadline still answers 200', async () => {
    const { slow, c, setup } = apps(v, { adapterTimeout: 2000, groupPatchResponse: 200 })
    if (!slow.adapter.modifyMembers) return // the re-read only follows modifyMembers
    const u = await setup.post('/Users', { schemas: [USER], userName: 'member' })
    const g = await setup.post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'team' })
    slow.state.after = 2050 // committed at once, acknowledged after the deadline (within the grace)
    slow.state.abortReads = true
    const add = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u.body.id }] }] }
    const r = await c.patch(`/Groups/${g.body.id}`, add)
    expect(r.status).toBe(200)
    expect(r.body.id).toBe(g.body.id)
    slow.state.abortReads = false
    const got = await setup.get(`/Groups/${g.body.id}`)
    expect(got.body.members.map((m: { value: string }) => m.value)).toEqual([u.body.id])
  })
})

describe.each(VARIANTS)('request deadline and lifecycle events: $name', (v) => {
  it('AUTH-008: a hanging onEvent handler (awaitEvents) does not turn a committed deactivation into a 503', async () => {
    const events: string[] = []
    const { c, setup } = apps(v, {
      adapterTimeout: 1000,
      eventTimeout: 1500, // longer than the deadline: the response must still be the success
      onEvent: (e: { type: string }) => {
        events.push(e.type)
        return e.type === 'user.deprovisioned' ? new Promise<void>(() => undefined) : undefined
      },
    })
    const u = await setup.post('/Users', { schemas: [USER], userName: 'hang' })
    const r = await c.patch(`/Users/${u.body.id}`, deactivate)
    expect(r.status).toBe(200)
    expect(r.body.active).toBe(false)
    expect(events).toContain('user.deprovisioned')
    expect((await c.get(`/Users/${u.body.id}`)).body.active).toBe(false)
  })

  it('AUTH-008: with eventTimeout shorter than the deadline the response does not wait for a hanging handler', async () => {
    const { c, setup } = apps(v, { adapterTimeout: 5000, eventTimeout: 50, onEvent: () => new Promise<void>(() => undefined) })
    const u = await setup.post('/Users', { schemas: [USER], userName: 'hang2' })
    expect(u.status).toBe(201)
    const r = await c.delete(`/Users/${u.body.id}`)
    expect(r.status).toBe(204)
    expect((await c.get(`/Users/${u.body.id}`)).status).toBe(404)
  })

  it('AUTH-008: a throwing or rejecting handler (awaitEvents) answers the deactivation 200', async () => {
    for (const onEvent of [
      () => {
        throw new Error('hook exploded')
      },
      () => Promise.reject(new Error('hook rejected')),
    ]) {
      const { c, setup } = apps(v, { adapterTimeout: 1000, onEvent })
      const u = await setup.post('/Users', { schemas: [USER], userName: 'throws' })
      const r = await c.patch(`/Users/${u.body.id}`, deactivate)
      expect(r.status).toBe(200)
      expect((await c.get(`/Users/${u.body.id}`)).body.active).toBe(false)
    }
  })
})
