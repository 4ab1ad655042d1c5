/**
 * Issue 13: the event outbox and durable delivery, on whichever store the e2e pass runs
 * (MemoryAdapter; the Kysely adapter on SQLite, PostgreSQL and MariaDB with SCIM_TEST_STORE). Events are recorded atomically with
 * the change, delivered at least once (retries with backoff, dead state, redelivery), in commit
 * order per resource, and readable as a per-tenant feed with retention. RFC 7644 §3.5.2 (PATCH
 * deactivation), §3.6 (DELETE) and §3.12 (a committed change is answered with its success status).
 */
import express from 'express'
import request from 'supertest'
import { MemoryAdapter, bearerToken, scimRouter, type ScimAdapter, type ScimEvent, type ScimRouter, type ScimRouterOptions } from '../../src'
import { STORE_HAS_OUTBOX, USER, defaultAdapter } from './harness'

// The durable-delivery suites need a store with an outbox: MemoryAdapter and the Kysely adapter
// both have one. A store without one gets the after-commit fallback that `event outbox retention
// and capability` below pins.
const DURABLE = STORE_HAS_OUTBOX
const describeDurable = DURABLE ? describe : describe.skip

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }
const AUTH = { Authorization: 'Bearer outbox-token' }

function setup(options: Partial<ScimRouterOptions<any, any>>, adapter: ScimAdapter<any> = defaultAdapter()) {
  const router = scimRouter(adapter, {
    authenticate: bearerToken('outbox-token'),
    context: (req) => ({ tenant: typeof req.headers['x-tenant'] === 'string' ? req.headers['x-tenant'] : 'default' }),
    ...options,
  } as ScimRouterOptions<any, any>) as ScimRouter<any>
  const app = express()
  app.use(router)
  const agent = request(app)
  const send = (method: 'post' | 'patch' | 'delete' | 'get', path: string, body?: unknown, tenant = 'default') => {
    const r = agent[method](path).set(AUTH).set('X-Tenant', tenant).set('Content-Type', 'application/scim+json')
    return body === undefined ? r : r.send(JSON.stringify(body))
  }
  return { router, adapter, send }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Poll the dispatcher until `done()` or 200 rounds (counted, not timed). */
async function pollUntil(router: ScimRouter<any>, done: () => Promise<boolean> | boolean): Promise<number> {
  for (let round = 1; round <= 200; round++) {
    if (await done()) return round
    await sleep(3)
    await router.events.poll()
  }
  throw new Error('not done after 200 dispatcher rounds')
}

const fast = { dispatcher: false, backoff: { initialMs: 1, maxMs: 2 }, handlerTimeout: 100, leaseMs: 5000 }

describeDurable('event outbox (issue 13)', () => {
  it('a committed deactivation records exactly its events, each with the id onEvent received; a rejected write records none', async () => {
    const received: ScimEvent[] = []
    const { router, send } = setup({ onEvent: (e: ScimEvent) => void received.push(e), eventDelivery: fast })
    expect(router.events.durable).toBe(true)
    const u = await send('post', '/Users', { schemas: [USER], userName: 'atomic', active: true })
    expect(u.status).toBe(201)
    // Rejected writes: 409 uniqueness (RFC 7644 §3.3), 412 If-Match (§3.14), 400 invalid PATCH.
    expect((await send('post', '/Users', { schemas: [USER], userName: 'ATOMIC' })).status).toBe(409)
    expect((await send('patch', `/Users/${u.body.id}`, deactivate).set('If-Match', 'W/"999"')).status).toBe(412)
    expect((await send('patch', `/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'bogus' }] })).status).toBe(400)
    expect((await router.events.list({}, { tenant: 'default' })).events.map((e) => e.type)).toEqual(['user.created'])
    const r = await send('patch', `/Users/${u.body.id}`, deactivate)
    expect(r.status).toBe(200)
    const feed = (await router.events.list({}, { tenant: 'default' })).events
    expect(feed.map((e) => [e.type, e.resourceId, e.state])).toEqual([
      ['user.created', u.body.id, 'delivered'],
      ['user.updated', u.body.id, 'delivered'],
      ['user.deactivated', u.body.id, 'delivered'],
      ['user.deprovisioned', u.body.id, 'delivered'],
    ])
    expect(received.map((e) => e.eventId)).toEqual(feed.map((e) => e.id))
    expect(new Set(feed.map((e) => e.id)).size).toBe(4)
    expect(feed[3]?.payload).toMatchObject({ type: 'user.deprovisioned', reason: 'deactivated', id: u.body.id, tenant: 'default' })
    await router.events.stop()
  })

  it('a throwing handler is retried with backoff; later events of the resource wait for it (commit order per resource)', async () => {
    const log: string[] = []
    let failures = 0
    const { router, send } = setup({
      onEvent: (e: ScimEvent) => {
        log.push(`${e.type}#${e.attempt}`)
        if (e.type === 'user.deactivated' && failures < 2) {
          failures++
          throw new Error('session store unavailable')
        }
      },
      eventDelivery: fast,
    })
    const u = await send('post', '/Users', { schemas: [USER], userName: 'retry', active: true })
    const r = await send('patch', `/Users/${u.body.id}`, deactivate)
    expect(r.status).toBe(200) // a failing handler never turns a committed change into an error
    expect(log).toEqual(['user.created#1', 'user.updated#1', 'user.deactivated#1'])
    const dead = async () => (await router.events.list({}, { tenant: 'default' })).events.every((e) => e.state === 'delivered')
    await pollUntil(router, dead)
    expect(log).toEqual(['user.created#1', 'user.updated#1', 'user.deactivated#1', 'user.deactivated#2', 'user.deactivated#3', 'user.deprovisioned#1'])
    const deact = (await router.events.list({}, { tenant: 'default' })).events.find((e) => e.type === 'user.deactivated')
    expect(deact).toMatchObject({ state: 'delivered', attempts: 3, lastError: 'session store unavailable' })
  })

  it('the first attempt is claimed in the write itself (no claim round trip) and marked delivered in one statement', async () => {
    const adapter = defaultAdapter()
    const outbox = adapter.outbox!
    const counts = { claim: 0, complete: 0 }
    const claim = outbox.claim.bind(outbox)
    const complete = outbox.complete.bind(outbox)
    outbox.claim = (q) => (counts.claim++, claim(q))
    outbox.complete = (q) => (counts.complete++, complete(q))
    const seen: string[] = []
    const { router, send } = setup({ onEvent: (e: ScimEvent) => void seen.push(e.type), eventDelivery: fast }, adapter)
    const u = await send('post', '/Users', { schemas: [USER], userName: 'granted', active: true })
    expect((await send('patch', `/Users/${u.body.id}`, deactivate)).status).toBe(200)
    expect(seen).toEqual(['user.created', 'user.updated', 'user.deactivated', 'user.deprovisioned'])
    expect(counts).toEqual({ claim: 0, complete: 2 }) // one per write, however many events it had
    expect((await router.events.list({}, { tenant: 'default' })).events.every((e) => e.state === 'delivered' && e.attempts === 1)).toBe(true)
  })

  it("a new write's events wait while an earlier event of the same resource is pending (commit order across writes)", async () => {
    const log: string[] = []
    let fail = true
    const { router, send } = setup({
      onEvent: (e: ScimEvent) => {
        if (fail && e.type === 'user.deprovisioned') throw new Error('later')
        log.push(e.type)
      },
      eventDelivery: { ...fast, backoff: { initialMs: 60_000, maxMs: 60_000 } },
    })
    const u = await send('post', '/Users', { schemas: [USER], userName: 'order', active: true })
    await send('patch', `/Users/${u.body.id}`, deactivate) // user.deprovisioned fails: pending, retry in 60 s
    await send('patch', `/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] })
    expect(log).toEqual(['user.created', 'user.updated', 'user.deactivated']) // the title's user.updated waits
    const pending = (await router.events.list({ state: 'pending' }, { tenant: 'default' })).events
    expect(pending.map((e) => e.type)).toEqual(['user.deprovisioned', 'user.updated'])
    fail = false
    expect(await router.events.redeliver([pending[0]!.id], { tenant: 'default' })).toBe(0) // pending: nothing to redeliver
  })

  it('after maxAttempts an event is dead, listed by state, and redelivered on request', async () => {
    let broken = true
    const delivered: string[] = []
    const { router, send } = setup({
      onEvent: (e: ScimEvent) => {
        if (broken && e.type === 'user.deprovisioned') throw new Error('down')
        delivered.push(e.type)
      },
      eventDelivery: { ...fast, maxAttempts: 2 },
    })
    const u = await send('post', '/Users', { schemas: [USER], userName: 'dead', active: true })
    expect((await send('delete', `/Users/${u.body.id}`)).status).toBe(204)
    const deadOnes = async () => (await router.events.list({ state: 'dead' }, { tenant: 'default' })).events
    await pollUntil(router, async () => (await deadOnes()).length === 1)
    const [d] = await deadOnes()
    expect(d).toMatchObject({ type: 'user.deprovisioned', attempts: 2, lastError: 'down', resourceId: u.body.id })
    broken = false
    expect(await router.events.redeliver([d!.id], { tenant: 'other' })).toBe(0) // another tenant's event
    expect(await router.events.redeliver([d!.id], { tenant: 'default' })).toBe(1)
    await pollUntil(router, () => delivered.includes('user.deprovisioned'))
    expect((await router.events.list({}, { tenant: 'default' })).events.find((e) => e.id === d!.id)).toMatchObject({ state: 'delivered', attempts: 1 })
  })

  it('a hanging handler: the IdP gets 200 after eventTimeout; the attempt times out and is retried', async () => {
    let hang = true
    const calls: number[] = []
    const { router, send } = setup({
      eventTimeout: 10,
      onEvent: (e: ScimEvent) => {
        if (e.type !== 'user.deprovisioned') return undefined
        calls.push(e.attempt ?? 0)
        return hang ? new Promise<void>(() => undefined) : undefined
      },
      eventDelivery: { ...fast, handlerTimeout: 50 },
    })
    const u = await send('post', '/Users', { schemas: [USER], userName: 'hang', active: true })
    const r = await send('patch', `/Users/${u.body.id}`, deactivate)
    expect(r.status).toBe(200)
    expect(r.body.active).toBe(false)
    hang = false
    await pollUntil(router, () => calls.length >= 2)
    const e = (await router.events.list({}, { tenant: 'default' })).events.find((x) => x.type === 'user.deprovisioned')
    expect(calls).toEqual([1, 2])
    expect(e?.lastError).toMatch(/did not finish within 50 ms/)
    await pollUntil(router, async () => (await router.events.list({}, { tenant: 'default' })).events.every((x) => x.state === 'delivered'))
  })

  it('the feed: per tenant, in commit order, paged by cursor; retention keeps the newest N delivered', async () => {
    const { router, send } = setup({ eventDelivery: { dispatcher: false } }) // no onEvent: feed only
    for (let i = 0; i < 5; i++) expect((await send('post', '/Users', { schemas: [USER], userName: `a${i}` }, 'acme')).status).toBe(201)
    for (let i = 0; i < 2; i++) expect((await send('post', '/Users', { schemas: [USER], userName: `b${i}` }, 'beta')).status).toBe(201)
    const names: string[] = []
    let cursor: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await router.events.list(cursor === undefined ? { limit: 2 } : { after: cursor, limit: 2 }, { tenant: 'acme' })
      if (page.events.length === 0) break
      names.push(...page.events.map((e) => (e.payload['resource'] as { userName: string }).userName))
      cursor = page.next
    }
    expect(names).toEqual(['a0', 'a1', 'a2', 'a3', 'a4'])
    expect((await router.events.list({}, { tenant: 'beta' })).events.map((e) => e.tenant)).toEqual(['beta', 'beta'])
    await expect(router.events.list({ after: 'x; DROP TABLE' }, { tenant: 'acme' })).rejects.toThrow(TypeError)
  })
})

describeDurable('event outbox retention and capability (issue 13)', () => {
  it('prune deletes delivered events beyond the newest maxEvents per tenant and never pending ones', async () => {
    const adapter = defaultAdapter()
    const { router, send } = setup({ eventDelivery: { dispatcher: false, retention: { maxEvents: 3 } } }, adapter)
    for (let i = 0; i < 6; i++) await send('post', '/Users', { schemas: [USER], userName: `p${i}` }, 'acme')
    await send('post', '/Users', { schemas: [USER], userName: 'q0' }, 'beta')
    expect(await router.events.prune()).toBe(3)
    const left = (await router.events.list({}, { tenant: 'acme' })).events.map((e) => (e.payload['resource'] as { userName: string }).userName)
    expect(left).toEqual(['p3', 'p4', 'p5'])
    expect((await router.events.list({}, { tenant: 'beta' })).events).toHaveLength(1)
    // Pending events are kept whatever their number: a handler that always fails.
    const { router: r2, send: send2 } = setup(
      { onEvent: () => Promise.reject(new Error('no')), eventDelivery: { dispatcher: false, retention: { maxEvents: 1 } } },
      adapter,
    )
    await send2('post', '/Users', { schemas: [USER], userName: 'kept' }, 'gamma')
    await send2('post', '/Users', { schemas: [USER], userName: 'kept2' }, 'gamma')
    await r2.events.prune()
    expect((await r2.events.list({}, { tenant: 'gamma' })).events.map((e) => e.state)).toEqual(['pending', 'pending'])
  })

})

describe('event delivery without an outbox (issue 13)', () => {
  it('an adapter without an outbox keeps delivery once after the commit; the feed API says it has no store', async () => {
    const seen: string[] = []
    // The store under test when it has no outbox (the Kysely adapter), else MemoryAdapter without one.
    const adapter = DURABLE ? new MemoryAdapter({ outbox: false }) : defaultAdapter()
    const { router, send } = setup({ onEvent: (e: ScimEvent) => void seen.push(e.type) }, adapter)
    expect(router.events.durable).toBe(false)
    await send('post', '/Users', { schemas: [USER], userName: 'plain' })
    expect(seen).toEqual(['user.created'])
    await expect(router.events.list({}, { tenant: 'default' })).rejects.toThrow(/no outbox/)
  })
})
