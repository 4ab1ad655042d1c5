/**
 * Issue 14: SCIM connections created at run time (RFC 7644 §2 authentication, RFC 6750 bearer
 * tokens): tenant from the token or from the connection id in the URL, rotation with a grace
 * deadline, revocation, expiry, lastUsedAt. Runs on every store (the connection store is the
 * one that goes with the resource store, see harness.defaultStores).
 */
import { createHash, randomBytes } from 'node:crypto'
import express from 'express'
import request from 'supertest'
import { CONNECTION_TOKEN_PREFIX, Connections, Decommissioner, ServiceUnavailableError, connectionAuth, scimRouter, type ConnectionStore, type ScimEvent } from '../../src'
import { USER, defaultStores, expectError } from './harness'

function setup(options: { ttl?: number | null; lastUsedEvery?: number; rateLimit?: { perSecond: number; burst: number } | false } = {}) {
  let now = Date.parse('2026-01-01T00:00:00Z')
  const { adapter, connections: base } = defaultStores()
  let updates = 0
  // The store, counting its writes of revokedAt/lastUsedAt.
  const store: ConnectionStore = {
    insert: (c) => base.insert(c),
    get: (id) => base.get(id),
    list: () => base.list(),
    findByTokenHash: (h) => base.findByTokenHash(h),
    setTokens: (id, tokens) => base.setTokens(id, tokens),
    update: (id, fields) => {
      updates++
      return base.update(id, fields)
    },
  }
  const connections = new Connections(store, { baseUrl: 'https://app.example.com/scim/v2', now: () => now, tokenTtlSeconds: options.ttl ?? null, lastUsedEvery: options.lastUsedEvery ?? 60_000 })
  const scim = scimRouter(adapter, { authenticate: connectionAuth(connections, options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }) })
  const app = express()
  app.use('/scim/v2/c/:connection', scim)
  app.use('/scim/v2', scim)
  return {
    app,
    store,
    connections,
    updates: () => updates,
    advance: (ms: number) => {
      now += ms
    },
    get: (token: string, path = '/scim/v2/Users') => request(app).get(path).set('Authorization', `Bearer ${token}`),
    create: (token: string, userName: string, base = '/scim/v2') =>
      request(app).post(`${base}/Users`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName })),
  }
}

describe('connections (issue 14)', () => {
  it('two connections created at run time provision at once with no cross-visibility (RFC 7644 §2, MT-001)', async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const b = await t.connections.create('globex')
    expect(a.token.startsWith(CONNECTION_TOKEN_PREFIX)).toBe(true)
    expect(a.baseUrl).toBe(`https://app.example.com/scim/v2/c/${a.id}`)
    const [ra, rb] = await Promise.all([t.create(a.token, 'alice@acme.test'), t.create(b.token, 'bob@globex.test', `/scim/v2/c/${b.id}`)])
    expect(ra.status).toBe(201)
    expect(rb.status).toBe(201)
    const la = await t.get(a.token)
    expect(la.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['alice@acme.test'])
    const lb = await t.get(b.token, `/scim/v2/c/${b.id}/Users`)
    expect(lb.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['bob@globex.test'])
    expectError(await t.get(a.token, `/scim/v2/Users/${rb.body.id}`), 404)
    // meta.location follows the per-connection mount.
    expect(rb.body.meta.location).toContain(`/scim/v2/c/${b.id}/Users/`)
  })

  it("a token of connection A on connection B's URL gets 401 (RFC 7644 §2)", async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const b = await t.connections.create('globex')
    expectError(await t.get(a.token, `/scim/v2/c/${b.id}/Users`), 401)
    expectError(await t.get(a.token, `/scim/v2/c/nope/Users`), 401)
    expect((await t.get(a.token, `/scim/v2/c/${a.id}/Users`)).status).toBe(200)
    expectError(await t.get('scimct_not-a-token'), 401)
    expectError(await t.get(a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A')), 401)
  })

  it('the token is stored only as its SHA-256 hash; list shows neither token nor hash', async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const stored = await t.store.get(a.id)
    expect(stored?.tokens.map((x) => x.hash)).toEqual([createHash('sha256').update(a.token).digest('hex')])
    // The Kysely stores on PostgreSQL/MariaDB share one database per file: look at this test's own.
    const list = (await t.connections.list()).filter((c) => c.id === a.id)
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ id: a.id, tenant: 'acme', baseUrl: a.baseUrl, revokedAt: null, lastUsedAt: null, tokens: [{ expiresAt: null }] })
    const text = JSON.stringify(list)
    expect(text).not.toContain(a.token)
    expect(text).not.toContain(stored!.tokens[0]!.hash)
  })

  it('a rotated token keeps working exactly until its deadline; the new one works at once; at most two active', async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const r1 = await t.connections.rotate(a.id, 60)
    expect(r1?.token).toMatch(/^scimct_/)
    expect((await t.get(r1!.token)).status).toBe(200)
    t.advance(59_999)
    expect((await t.get(a.token)).status).toBe(200)
    t.advance(1)
    expectError(await t.get(a.token), 401)
    expect((await t.get(r1!.token)).status).toBe(200)
    // Rotating twice: the first token stops at once, only the previous one gets the grace.
    const r2 = await t.connections.rotate(a.id, 3600)
    const r3 = await t.connections.rotate(a.id, 3600)
    expectError(await t.get(r1!.token), 401)
    expect((await t.get(r2!.token)).status).toBe(200)
    expect((await t.get(r3!.token)).status).toBe(200)
    expect((await t.store.get(a.id))!.tokens).toHaveLength(2)
    // graceSeconds 0: the old token stops now.
    const r4 = await t.connections.rotate(a.id, 0)
    expectError(await t.get(r3!.token), 401)
    expect((await t.get(r4!.token)).status).toBe(200)
    await expect(t.connections.rotate(a.id, -1)).rejects.toThrow(TypeError)
    expect(await t.connections.rotate('missing', 10)).toBeNull()
  })

  it('a revoked connection gets 401 on the next request, with every token; it cannot be rotated', async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const r = await t.connections.rotate(a.id, 3600)
    expect((await t.get(a.token)).status).toBe(200)
    expect(await t.connections.revoke(a.id)).toBe(true)
    expectError(await t.get(a.token), 401)
    expectError(await t.get(r!.token), 401)
    expect(await t.connections.rotate(a.id, 10)).toBeNull()
    expect(await t.connections.revoke('missing')).toBe(false)
    expect((await t.connections.get(a.id))?.revokedAt).toBe('2026-01-01T00:00:00.000Z')
  })

  it('tokens expire after tokenTtlSeconds', async () => {
    const t = setup({ ttl: 90 * 86400 })
    const a = await t.connections.create('acme')
    t.advance(90 * 86400_000 - 1)
    expect((await t.get(a.token)).status).toBe(200)
    t.advance(1)
    expectError(await t.get(a.token), 401)
    expect((await t.connections.get(a.id))!.tokens).toEqual([])
  })

  it('lastUsedAt is recorded, written at most once per lastUsedEvery (count writes)', async () => {
    const t = setup({ lastUsedEvery: 60_000 })
    const a = await t.connections.create('acme')
    for (let i = 0; i < 5; i++) expect((await t.get(a.token)).status).toBe(200)
    expect(t.updates()).toBe(1)
    expect((await t.connections.get(a.id))?.lastUsedAt).toBe('2026-01-01T00:00:00.000Z')
    t.advance(60_000)
    await t.get(a.token)
    await t.get(a.token)
    expect(t.updates()).toBe(2)
    expect((await t.connections.get(a.id))?.lastUsedAt).toBe('2026-01-01T00:01:00.000Z')
  })

  it('rate limit per connection (default 50/s, burst 100): beyond it 429 with Retry-After and a SCIM error (RFC 6585 §4, RFC 7644 §3.12)', async () => {
    const t = setup()
    const a = await t.connections.create('acme')
    const b = await t.connections.create('globex')
    for (let i = 0; i < 100; i++) expect((await t.get(a.token, '/scim/v2/Users?count=1')).status).toBe(200)
    const limited = await t.get(a.token)
    expectError(limited, 429)
    expect(limited.headers['retry-after']).toBe('1')
    expect(limited.body.detail).toMatch(/50 requests\/s, burst 100/)
    // Another connection has its own bucket.
    expect((await t.get(b.token)).status).toBe(200)
    // 20 ms refill one request at 50/s (injected clock, no sleep).
    t.advance(20)
    expect((await t.get(a.token)).status).toBe(200)
    expectError(await t.get(a.token), 429)
  })

  it('rateLimit: false turns the limit off; a bad rateLimit is refused at startup', async () => {
    const t = setup({ rateLimit: false })
    const a = await t.connections.create('acme')
    for (let i = 0; i < 120; i++) expect((await t.get(a.token, '/scim/v2/Users?count=1')).status).toBe(200)
    expect(() => connectionAuth(t.connections, { rateLimit: { perSecond: 0, burst: 1 } })).toThrow(TypeError)
  })
})

// ---------------------------------------------------------------------------------------------
// Issue 14 items 2 and 3: per-connection settings and guards, decommissioning.

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
/** A tenant name of its own per test: the Kysely stores on PostgreSQL/MariaDB share one database per file. */
const tenantName = (label: string) => `${label}-${randomBytes(4).toString('hex')}`

function policySetup() {
  const { adapter, connections: store } = defaultStores()
  const connections = new Connections(store, { baseUrl: 'https://app.example.com/scim/v2' })
  const delivered: ScimEvent[] = []
  const scim = scimRouter(adapter, {
    authenticate: connectionAuth(connections),
    eventDelivery: { dispatcher: false },
    onEvent: (e) => {
      delivered.push(e)
    },
  })
  const app = express()
  app.use('/scim/v2/c/:connection', scim)
  app.use('/scim/v2', scim)
  const send = (token: string, method: 'post' | 'put' | 'patch' | 'delete' | 'get', path: string, body?: unknown) => {
    const r = request(app)[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`)
    return body === undefined ? r : r.set('Content-Type', 'application/scim+json').send(JSON.stringify(body))
  }
  const createUser = (token: string, userName: string, extra: Record<string, unknown> = {}) => send(token, 'post', '/Users', { schemas: [USER], userName, ...extra })
  const patch = (token: string, id: string, operations: unknown[]) => send(token, 'patch', `/Users/${id}`, { schemas: [PATCH_OP], Operations: operations })
  /** `user.deprovisioned` events of the tenant in the durable outbox, by user id. */
  const deprovisioned = async (tenant: string): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>()
    let after: string | undefined
    for (;;) {
      const page = await scim.events.list(after === undefined ? { limit: 1000 } : { after, limit: 1000 }, { tenant } as never)
      for (const e of page.events) if (e.type === 'user.deprovisioned') out.set(e.resourceId, [...(out.get(e.resourceId) ?? []), e.id])
      if (!page.next || page.events.length === 0) return out
      after = page.next
    }
  }
  return { adapter, store, connections, scim, app, send, createUser, patch, delivered, deprovisioned }
}

describe('per-connection settings and guards (issue 14 item 2)', () => {
  it('settings are stored with the connection, shown by get/list, changed by updateSettings (null: back to the default), validated', async () => {
    const t = policySetup()
    const a = await t.connections.create(tenantName('acme'), { strict: true, groupPatchResponse: 200, allowedEmailDomains: ['Acme.TEST', 'acme.test'], seatCap: 10, rateLimit: { perSecond: 5, burst: 10 } })
    expect((await t.connections.get(a.id))?.settings).toEqual({ strict: true, groupPatchResponse: 200, allowedEmailDomains: ['acme.test'], seatCap: 10, rateLimit: { perSecond: 5, burst: 10 } })
    expect((await t.connections.list()).find((c) => c.id === a.id)?.decommission).toBeNull()
    const updated = await t.connections.updateSettings(a.id, { seatCap: 20, strict: null })
    expect(updated?.settings).toEqual({ groupPatchResponse: 200, allowedEmailDomains: ['acme.test'], seatCap: 20, rateLimit: { perSecond: 5, burst: 10 } })
    expect((await t.store.get(a.id))?.settings).toEqual(updated?.settings)
    expect(await t.connections.updateSettings('missing', { seatCap: 1 })).toBeNull()
    for (const bad of [{ seatCap: -1 }, { seatCap: 1.5 }, { allowedEmailDomains: [] }, { allowedEmailDomains: ['not a domain'] }, { groupPatchResponse: 201 }, { strict: 'yes' }, { rateLimit: { perSecond: 0, burst: 1 } }]) {
      await expect(t.connections.create('x', bad as never)).rejects.toThrow(TypeError)
      await expect(t.connections.updateSettings(a.id, bad as never)).rejects.toThrow(TypeError)
    }
    expect(() => scimRouter(t.adapter, { authenticate: 'none', seatCap: -2 })).toThrow(TypeError)
  })

  it('allowedEmailDomains: a userName or emails value outside them is 400 invalidValue naming the domain; create, PUT and PATCH (RFC 7644 §3.12)', async () => {
    const t = policySetup()
    const a = await t.connections.create(tenantName('acme'), { allowedEmailDomains: ['acme.test'] })
    const other = await t.connections.create(tenantName('globex'))
    const refused = await t.createUser(a.token, 'mallory@evil.test')
    expectError(refused, 400, 'invalidValue')
    expect(refused.body.detail).toBe("The domain 'evil.test' of userName is not allowed for this tenant (allowed: acme.test)")
    expectError(await t.createUser(a.token, 'mallory'), 400, 'invalidValue')
    const viaEmail = await t.createUser(a.token, 'eve@acme.test', { emails: [{ value: 'eve@evil.test', type: 'work' }] })
    expectError(viaEmail, 400, 'invalidValue')
    expect(viaEmail.body.detail).toContain("'evil.test' of emails.value")
    // Case-insensitive; subdomains are not included.
    expect((await t.createUser(a.token, 'Alice@ACME.test', { emails: [{ value: 'alice@acme.test' }] })).status).toBe(201)
    expectError(await t.createUser(a.token, 'bob@eu.acme.test'), 400, 'invalidValue')
    const bob = await t.createUser(a.token, 'bob@acme.test')
    expect(bob.status).toBe(201)
    expectError(await t.send(a.token, 'put', `/Users/${bob.body.id}`, { schemas: [USER], userName: 'bob@evil.test' }), 400, 'invalidValue')
    expectError(await t.patch(a.token, bob.body.id, [{ op: 'replace', path: 'userName', value: 'bob@evil.test' }]), 400, 'invalidValue')
    expectError(await t.patch(a.token, bob.body.id, [{ op: 'add', path: 'emails', value: [{ value: 'bob@evil.test' }] }]), 400, 'invalidValue')
    expect((await t.send(a.token, 'get', `/Users/${bob.body.id}`)).body.userName).toBe('bob@acme.test')
    // Another connection has no such rule.
    expect((await t.createUser(other.token, 'mallory@evil.test')).status).toBe(201)
    // A user from before the rule keeps working: values it has are not judged again.
    await t.connections.updateSettings(a.id, { allowedEmailDomains: ['acme.example'] })
    expect((await t.patch(a.token, bob.body.id, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200)
    expect((await t.patch(a.token, bob.body.id, [{ op: 'replace', path: 'displayName', value: 'Bob' }])).status).toBe(200)
  })

  it('seatCap: a create beyond it is 403 with a clear detail; inactive users count; a delete frees a seat (RFC 7644 §3.12)', async () => {
    const t = policySetup()
    const a = await t.connections.create(tenantName('acme'), { seatCap: 2 })
    const u1 = await t.createUser(a.token, 'u1@acme.test')
    expect(u1.status).toBe(201)
    expect((await t.createUser(a.token, 'u2@acme.test', { active: false })).status).toBe(201)
    const full = await t.createUser(a.token, 'u3@acme.test')
    expectError(full, 403)
    expect(full.body.detail).toBe('Seat cap reached: this tenant may have at most 2 users and has 2; delete a user to free a seat')
    expect(full.body.scimType).toBeUndefined()
    expect((await t.send(a.token, 'delete', `/Users/${u1.body.id}`)).status).toBe(204)
    expect((await t.createUser(a.token, 'u3@acme.test')).status).toBe(201)
    // Raising the cap takes effect on the next request.
    await t.connections.updateSettings(a.id, { seatCap: 3 })
    expect((await t.createUser(a.token, 'u4@acme.test')).status).toBe(201)
    expectError(await t.createUser(a.token, 'u5@acme.test'), 403)
  })

  it('seatCap under concurrency: 12 parallel creates with 4 seats left give exactly 4 × 201 and 8 × 403', async () => {
    const t = policySetup()
    const a = await t.connections.create(tenantName('acme'), { seatCap: 5 })
    expect((await t.createUser(a.token, 'first@acme.test')).status).toBe(201)
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.createUser(a.token, `p${i}@acme.test`)))
    expect(results.filter((r) => r.status === 201)).toHaveLength(4)
    expect(results.filter((r) => r.status === 403)).toHaveLength(8)
    expect((await t.send(a.token, 'get', '/Users?count=0')).body.totalResults).toBe(5)
  })

  it('strict and groupPatchResponse per connection override the router options for its requests only', async () => {
    const t = policySetup()
    const strict = await t.connections.create(tenantName('strict'), { strict: true, groupPatchResponse: 200 })
    const lax = await t.connections.create(tenantName('lax'))
    // RES-012 COMPAT: "True" as a boolean is accepted unless strict.
    expectError(await t.createUser(strict.token, 's@x.test', { active: 'True' }), 400, 'invalidValue')
    expect((await t.createUser(lax.token, 'l@x.test', { active: 'True' })).status).toBe(201)
    const groupPatch = async (token: string) => {
      const g = await t.send(token, 'post', '/Groups', { schemas: [GROUP], displayName: 'Team' })
      expect(g.status).toBe(201)
      return t.send(token, 'patch', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Team 2' }] })
    }
    const p200 = await groupPatch(strict.token)
    expect(p200.status).toBe(200)
    expect(p200.body.displayName).toBe('Team 2')
    expect((await groupPatch(lax.token)).status).toBe(204)
  })

  it('cursors (RFC 9865) are bound to the connection: changed settings and a rotated token keep them; another connection gets invalidCursor (LST-082)', async () => {
    const t = policySetup()
    const tenant = tenantName('pages')
    const a = await t.connections.create(tenant)
    for (let i = 0; i < 3; i++) expect((await t.createUser(a.token, `p${i}@pages.test`)).status).toBe(201)
    const first = await t.send(a.token, 'get', '/Users?cursor&count=1')
    expect(first.status).toBe(200)
    const next = first.body.nextCursor as string
    expect(typeof next).toBe('string')
    await t.connections.updateSettings(a.id, { strict: true })
    const rotated = await t.connections.rotate(a.id, 0)
    const second = await t.send(rotated!.token, 'get', `/Users?cursor=${next}&count=1`)
    expect(second.status).toBe(200)
    expect(second.body.Resources).toHaveLength(1)
    const b = await t.connections.create(tenant)
    expectError(await t.send(b.token, 'get', `/Users?cursor=${next}&count=1`), 400, 'invalidCursor')
  })

  it('a rate limit per connection overrides the default: 429 with Retry-After beyond it; other connections keep the default', async () => {
    const t = policySetup()
    const slow = await t.connections.create(tenantName('slow'), { rateLimit: { perSecond: 1, burst: 2 } })
    const other = await t.connections.create(tenantName('other'))
    expect((await t.send(slow.token, 'get', '/Users?count=0')).status).toBe(200)
    expect((await t.send(slow.token, 'get', '/Users?count=0')).status).toBe(200)
    const limited = await t.send(slow.token, 'get', '/Users?count=0')
    expectError(limited, 429)
    expect(limited.body.detail).toMatch(/1 requests\/s, burst 2/)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < 5; i++) expect((await t.send(other.token, 'get', '/Users?count=0')).status).toBe(200)
  })
})

describe('decommissioning (issue 14 item 3)', () => {
  /** A connection with `n` users, the last `inactive` of them deactivated by the IdP beforehand. */
  async function populated(t: ReturnType<typeof policySetup>, n: number, inactive = 0) {
    const tenant = tenantName('leaving')
    const c = await t.connections.create(tenant)
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await t.createUser(c.token, `user${i}@leaving.test`)
      expect(r.status).toBe(201)
      ids.push(r.body.id)
    }
    for (const id of ids.slice(n - inactive)) expect((await t.patch(c.token, id, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200)
    // A group with members: deleting users must leave it consistent.
    const g = await t.send(c.token, 'post', '/Groups', { schemas: [GROUP], displayName: 'All', members: ids.slice(0, 3).map((value) => ({ value })) })
    expect(g.status).toBe(201)
    return { tenant, c, ids, groupId: g.body.id as string }
  }
  const ctxOf = (tenant: string) => ({ principal: undefined, tenant })

  it("users: 'deactivate' revokes at once, deactivates every user in batches through the write path, one user.deprovisioned each (already inactive: none more)", async () => {
    const t = policySetup()
    const { tenant, c, ids } = await populated(t, 7, 2)
    const before = await t.deprovisioned(tenant)
    expect([...before.values()].map((v) => v.length)).toEqual([1, 1])
    const decommissions = new Decommissioner(t.connections, t.scim, { batchSize: 2 })
    const started = await decommissions.decommission(c.id, { users: 'deactivate' })
    expect(started?.revokedAt).not.toBeNull()
    expect(started?.decommission).toMatchObject({ users: 'deactivate', state: 'running' })
    expectError(await t.send(c.token, 'get', '/Users'), 401)
    await decommissions.settled()
    const info = await t.connections.get(c.id)
    expect(info?.decommission).toMatchObject({ users: 'deactivate', state: 'done', deprovisioned: 5, failed: 0, lastError: null, pass: 2 })
    expect(typeof info?.decommission?.finishedAt).toBe('number')
    for (const id of ids) expect((await t.adapter.get({ resourceType: 'User', id }, ctxOf(tenant)))?.attributes['active']).toBe(false)
    const events = await t.deprovisioned(tenant)
    expect([...events.keys()].sort()).toEqual([...ids].sort())
    for (const id of ids) expect(events.get(id)).toHaveLength(1)
    // Delivered to onEvent too, with the tenant, as an IdP's deactivation is.
    const live = t.delivered.filter((e) => e.type === 'user.deprovisioned' && e.tenant === tenant)
    expect(live).toHaveLength(7)
    expect(live.every((e) => e.type === 'user.deprovisioned' && e.reason === 'deactivated')).toBe(true)
    // Decommissioning again changes nothing: no second event.
    await decommissions.decommission(c.id, { users: 'deactivate' })
    await decommissions.settled()
    expect((await t.connections.get(c.id))?.decommission).toMatchObject({ state: 'done', deprovisioned: 0, pass: 1 })
    for (const id of ids) expect((await t.deprovisioned(tenant)).get(id)).toHaveLength(1)
  })

  it("users: 'delete' deletes every user (groups keep no dangling members), one user.deprovisioned (deleted) each", async () => {
    const t = policySetup()
    const { tenant, c, ids, groupId } = await populated(t, 5)
    const decommissions = new Decommissioner(t.connections, t.scim, { batchSize: 2 })
    await decommissions.decommission(c.id, { users: 'delete' })
    await decommissions.settled()
    expect((await t.connections.get(c.id))?.decommission).toMatchObject({ users: 'delete', state: 'done', deprovisioned: 5, failed: 0 })
    expect((await t.adapter.list({ resourceType: 'User', startIndex: 1, count: 10 }, ctxOf(tenant))).totalResults).toBe(0)
    const group = await t.adapter.get({ resourceType: 'Group', id: groupId }, ctxOf(tenant))
    expect(group?.attributes['members'] ?? []).toEqual([])
    const events = await t.deprovisioned(tenant)
    for (const id of ids) expect(events.get(id)).toHaveLength(1)
    expect(t.delivered.filter((e) => e.type === 'user.deprovisioned' && e.tenant === tenant).every((e) => e.type === 'user.deprovisioned' && e.reason === 'deleted')).toBe(true)
    // Other tenants are untouched.
    expect(await decommissions.decommission('missing', { users: 'delete' })).toBeNull()
    await expect(decommissions.decommission(c.id, { users: 'wipe' as never })).rejects.toThrow(TypeError)
  })

  it('a job stopped half way resumes from its stored cursor in a new Decommissioner; a batch redone after a crash gives no second event', async () => {
    const t = policySetup()
    const { tenant, c, ids } = await populated(t, 6)
    const first = new Decommissioner(t.connections, t.scim, { batchSize: 2, batchDelayMs: 600_000 })
    await first.decommission(c.id, { users: 'deactivate' })
    // The first batch is stored before the (long) pause; stop there, as a process that goes away.
    for (let i = 0; i < 200 && (await t.store.get(c.id))?.decommission?.position !== 2; i++) await new Promise((r) => setTimeout(r, 10))
    await first.stop()
    const stopped = (await t.store.get(c.id))?.decommission
    expect(stopped).toMatchObject({ state: 'running', position: 2, deprovisioned: 2 })
    // A crash after a batch's writes but before its progress was stored: the cursor is behind.
    await t.store.update(c.id, { decommission: { ...stopped!, position: 0, passChanges: 0, deprovisioned: 0 } })
    const second = new Decommissioner(t.connections, t.scim, { batchSize: 2 })
    expect(await second.resume()).toContain(c.id)
    await second.settled()
    expect((await t.connections.get(c.id))?.decommission).toMatchObject({ state: 'done', failed: 0 })
    for (const id of ids) expect((await t.adapter.get({ resourceType: 'User', id }, ctxOf(tenant)))?.attributes['active']).toBe(false)
    const events = await t.deprovisioned(tenant)
    for (const id of ids) expect(events.get(id)).toHaveLength(1)
    expect(await new Decommissioner(t.connections, t.scim).resume()).not.toContain(c.id)
  })

  it('a failing read is retried; a failing write is counted in failed with lastError and skipped, the rest go on', async () => {
    const t = policySetup()
    const { tenant, c, ids } = await populated(t, 4)
    let reads = 0
    const flaky = Object.assign(() => undefined, {
      events: t.scim.events,
      execute: async (op: Parameters<typeof t.scim.execute>[0]) => {
        if (op.method === 'GET' && reads++ === 0) throw new Error('database down')
        if (op.method === 'PATCH' && op.path === `/Users/${ids[1]}`) throw new ServiceUnavailableError(1, 'storage busy')
        return t.scim.execute(op)
      },
    }) as unknown as typeof t.scim
    const decommissions = new Decommissioner(t.connections, flaky, { batchSize: 3, retryDelayMs: 0 })
    await decommissions.decommission(c.id, { users: 'deactivate' })
    await decommissions.settled()
    expect(reads).toBeGreaterThan(1)
    const job = (await t.connections.get(c.id))?.decommission
    expect(job).toMatchObject({ state: 'done', deprovisioned: 3, failed: 1, lastError: `PATCH /Users/${ids[1]}: 503 storage busy` })
    const active = await Promise.all(ids.map(async (id) => (await t.adapter.get({ resourceType: 'User', id }, ctxOf(tenant)))?.attributes['active']))
    expect(active.map((a) => a === false)).toEqual([true, false, true, true])
  })

  it('ScimRouter.execute runs an operation through the same handlers as HTTP (validation errors thrown as ScimError)', async () => {
    const t = policySetup()
    await t.connections.list() // the SQLite store of the harness migrates with its first connection-store call
    const tenant = tenantName('exec')
    const created = await t.scim.execute({ method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'x@exec.test' }, ctx: ctxOf(tenant) as never })
    expect(created.status).toBe(201)
    expect((created.body as { meta: { location: string } }).meta.location).toMatch(/^http:\/\/localhost\/Users\//)
    await expect(t.scim.execute({ method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'x@exec.test' }, ctx: ctxOf(tenant) as never })).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' })
    await expect(t.scim.execute({ method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'y@evil.test' }, ctx: ctxOf(tenant) as never, settings: { allowedEmailDomains: ['exec.test'] } })).rejects.toMatchObject({ status: 400, scimType: 'invalidValue' })
    await expect(t.scim.execute({ method: 'GET', path: '/Nope', ctx: ctxOf(tenant) as never })).rejects.toMatchObject({ status: 404 })
    const list = await t.scim.execute({ method: 'GET', path: '/Users?filter=userName%20eq%20%22x@exec.test%22', ctx: ctxOf(tenant) as never, baseUrl: 'https://h.test/scim/v2' })
    expect((list.body as { totalResults: number }).totalResults).toBe(1)
  })
})
