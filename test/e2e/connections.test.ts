/**
 * Issue 14: SCIM connections created at run time (RFC 7644 §2 authentication, RFC 6750 bearer
 * tokens): tenant from the token or from the connection id in the URL, rotation with a grace
 * deadline, revocation, expiry, lastUsedAt. Runs on every store (the connection store is the
 * one that goes with the resource store, see harness.defaultStores).
 */
import { createHash } from 'node:crypto'
import express from 'express'
import request from 'supertest'
import { CONNECTION_TOKEN_PREFIX, Connections, connectionAuth, scimRouter, type ConnectionStore } from '../../src'
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
