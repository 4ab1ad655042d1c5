/**
 * The Kysely adapter's durable outbox (SQLite, PostgreSQL, MariaDB; the latter two when their URL
 * is set): a write that rolls back after its events were computed records none; pending events
 * are redelivered by a new adapter and router on the same database (a restart); an expired lease
 * passes to another instance; two routers on one database (PostgreSQL/MariaDB: concurrent claims
 * on several pooled connections, FOR UPDATE SKIP LOCKED) never hold the same event at the same
 * time, and deliver all.
 */
import { randomUUID } from 'node:crypto'
import { bearerToken, scimRouter, type ScimEvent, type ScimRouter } from '../../src'
import { kyselyAdapter, migrate, scimTablesMapping, type KyselyAdapter } from '../../src/kysely'
import { STORES } from './stores'

type Ctx = { tenant: string }
const ctx: Ctx = { tenant: 'default' }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fast = { dispatcher: false, backoff: { initialMs: 1, maxMs: 2 }, handlerTimeout: 200, leaseMs: 10_000 }

function router(adapter: KyselyAdapter<Ctx>, onEvent: (e: ScimEvent) => unknown, extra: Record<string, unknown> = {}): ScimRouter<Ctx> {
  return scimRouter<Ctx>(adapter, {
    authenticate: bearerToken('t'),
    context: () => ctx,
    onEvent: onEvent as never,
    eventDelivery: { ...fast, ...extra },
  })
}

describe.each(STORES)('Kysely adapter outbox on $name (EVT, RFC 7644 §3 writes)', ({ make, skip }) => {
  if (skip) {
    it.skip(`skipped: ${skip}`, () => undefined)
    return
  }
  let store: Awaited<ReturnType<typeof make>>
  let open: () => KyselyAdapter<Ctx>
  beforeEach(async () => {
    store = await make()
    await migrate(store.db, scimTablesMapping(), { createTables: true })
    // A new adapter (and router) over the same database: what a restart or another instance sees.
    open = () => kyselyAdapter<Ctx>({ db: store.db, mapping: scimTablesMapping() })
  })
  afterEach(async () => {
    await store.drop()
  })

  it('a write whose transaction rolls back after its events were computed records neither the change nor an event', async () => {
    const adapter = open()
    const controller = new AbortController()
    const attempt = adapter.create(
      {
        resourceType: 'User',
        attributes: { userName: 'rolled-back' },
        unique: [{ path: 'userName', caseExact: false }],
        signal: controller.signal,
        events: (s) => {
          controller.abort(new Error('deadline')) // the commit step sees the abort: ROLLBACK
          return [{ id: randomUUID(), type: 'user.created', resourceType: 'User', resourceId: s.id, payload: {}, state: 'pending' }]
        },
      },
      ctx,
    )
    await expect(attempt).rejects.toThrow('deadline')
    expect((await adapter.list({ resourceType: 'User', startIndex: 1, count: 10 }, ctx)).totalResults).toBe(0)
    expect(await adapter.outbox!.list({ limit: 10 }, ctx)).toEqual([])
    // The same write committed records exactly its event.
    const id = randomUUID()
    const s = await adapter.create(
      {
        resourceType: 'User',
        attributes: { userName: 'committed' },
        unique: [],
        events: (r) => [{ id, type: 'user.created', resourceType: 'User', resourceId: r.id, payload: { x: 1 }, state: 'pending' }],
      },
      ctx,
    )
    expect((await adapter.outbox!.list({ limit: 10 }, ctx)).map((e) => [e.id, e.resourceId, e.state, e.payload])).toEqual([[id, s.id, 'pending', { x: 1 }]])
  })

  it('pending events are redelivered by a new adapter and router on the same database (restart), with the same event ids', async () => {
    const first = open()
    const r1 = router(first, () => {
      throw new Error('crashing before ack')
    })
    const u = await first.create({ resourceType: 'User', attributes: { userName: 'restart', active: true }, unique: [] }, ctx)
    const app1 = (await import('supertest')).default(r1 as never)
    const res = await app1.patch(`/Users/${u.id}`).set('Authorization', 'Bearer t').set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }))
    expect(res.status).toBe(200)
    const before = await first.outbox!.list({ limit: 10 }, ctx)
    expect(before.map((e) => [e.type, e.state])).toEqual([
      ['user.updated', 'pending'],
      ['user.deactivated', 'pending'],
      ['user.deprovisioned', 'pending'],
    ])
    await r1.events.stop()
    // "Restart": a new connection, a new router, a working handler.
    const second = open()
    const got: ScimEvent[] = []
    const r2 = router(second, (e) => void got.push(e))
    for (let i = 0; i < 100 && got.length < 3; i++) {
      await sleep(3)
      await r2.events.poll()
    }
    expect(got.map((e) => [e.type, e.id, e.eventId])).toEqual(before.map((e) => [e.type, u.id, e.id]))
    expect(got[2]).toMatchObject({ type: 'user.deprovisioned', reason: 'deactivated', ctx: { tenant: 'default' }, tenant: 'default' })
    expect((await second.outbox!.list({ limit: 10 }, ctx)).every((e) => e.state === 'delivered')).toBe(true)
  })

  it("a dead instance's lease expires and another instance delivers the event", async () => {
    const a = open()
    await a.create({ resourceType: 'User', attributes: { userName: 'lease' }, unique: [], events: () => [{ id: randomUUID(), type: 'user.created', resourceType: 'User', resourceId: 'x', payload: {}, state: 'pending' }] }, ctx)
    // Instance A claims with a short lease and "dies" (never completes).
    // The lease is long enough that a loaded machine still opens B and asks within it.
    const b = open()
    await b.outbox!.list({ limit: 1 }, ctx) // B's connection is open before the lease starts
    const claimed = await a.outbox!.claim({ owner: 'dead-instance', leaseMs: 1500, limit: 10 })
    expect(claimed).toHaveLength(1)
    expect(await b.outbox!.claim({ owner: 'live', leaseMs: 10_000, limit: 10 })).toEqual([]) // still leased
    let again: unknown[] = []
    for (let i = 0; i < 200 && again.length === 0; i++) {
      await sleep(25)
      again = await b.outbox!.claim({ owner: 'live', leaseMs: 10_000, limit: 10 })
    }
    expect(again).toMatchObject([{ id: claimed[0]!.id, leaseOwner: 'live', attempts: 2 }])
  })

  it('two routers on one database deliver every event, never the same one at the same time', async () => {
    const writer = open()
    const N = 60
    const ids: string[] = []
    for (let i = 0; i < N; i++) {
      await writer.create(
        {
          resourceType: 'User',
          attributes: { userName: `two-${i}` },
          unique: [],
          events: (r) => {
            const id = randomUUID()
            ids.push(id)
            return [{ id, type: 'user.created', resourceType: 'User', resourceId: r.id, payload: { type: 'user.created', id: r.id }, state: 'pending' }]
          },
        },
        ctx,
      )
    }
    const holding = new Set<string>()
    const delivered = new Map<string, number>()
    let overlaps = 0
    const handler = async (e: ScimEvent) => {
      if (holding.has(e.eventId)) overlaps++
      holding.add(e.eventId)
      await sleep(Math.floor(Math.random() * 4))
      holding.delete(e.eventId)
      delivered.set(e.eventId, (delivered.get(e.eventId) ?? 0) + 1)
    }
    const adapters = [open(), open()]
    const routers = adapters.map((a) => router(a, handler, { batchSize: 7 }))
    const claimedBy = [0, 0]
    await Promise.all(
      routers.map(async (r, k) => {
        for (let round = 0; round < 200 && delivered.size < N; round++) claimedBy[k]! += await r.events.poll()
      }),
    )
    expect(overlaps).toBe(0)
    expect([...delivered.keys()].sort()).toEqual([...ids].sort())
    expect([...delivered.values()].every((n) => n === 1)).toBe(true) // leases never expired here: exactly once
    expect(claimedBy[0]! + claimedBy[1]!).toBe(N)
  })
})
