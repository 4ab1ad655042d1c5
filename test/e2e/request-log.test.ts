/**
 * Issue 15: the router's `requestLog` option on whichever store the e2e pass runs (the request
 * log in memory with MemoryAdapter, in a Kysely database on the kysely-* passes): every request is
 * recorded after its answer (401, discovery and errors included) with its correlation id
 * (`X-Request-Id`, accepted or generated, echoed; the 500's correlation id), a failing log never
 * fails a request, bodies are bounded, retention runs amortised; a user's history joins requests
 * and events with their delivery state; the console's JSON endpoints are guarded and send a CSP.
 */
import express from 'express'
import request from 'supertest'
import {
  MemoryAdapter,
  MemoryRequestLog,
  REDACTED,
  bearerToken,
  resourceHistory,
  scimConsole,
  scimRouter,
  type RequestLog,
  type RequestLogOptions,
  type ScimAdapter,
  type ScimRouter,
  type ScimRouterOptions,
} from '../../src'
import { requestLogStore } from './request-log-store'
import connect from 'connect'
import { GROUP, USER, VARIANTS, client, defaultAdapter, makeApp } from './harness'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const TOKEN = 'request-log-token-1234'
const AUTH = { Authorization: `Bearer ${TOKEN}` }

async function setup(log: Partial<RequestLogOptions> = {}, options: Partial<ScimRouterOptions<any, any>> = {}, adapter: ScimAdapter<any> = defaultAdapter()) {
  const store = log.store ?? (await requestLogStore())
  const router = scimRouter(adapter, {
    authenticate: bearerToken(TOKEN),
    context: (req) => ({ tenant: typeof req.headers['x-tenant'] === 'string' ? req.headers['x-tenant'] : 'default' }),
    bulk: true,
    requestLog: { ...log, store },
    ...options,
  } as ScimRouterOptions<any, any>) as ScimRouter<any>
  const app = express()
  app.use('/scim/v2', router)
  const agent = request(app)
  const send = (method: 'post' | 'patch' | 'delete' | 'get' | 'put', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = agent[method](`/scim/v2${path}`).set(AUTH).set('Content-Type', 'application/scim+json').set(headers)
    return body === undefined ? r : r.send(JSON.stringify(body))
  }
  const entries = async () => {
    await router.requestLog!.flush()
    return (await store.query({ limit: 500 })).entries
  }
  return { router, adapter, store, app, agent, send, entries }
}

describe('requestLog option (issue 15)', () => {
  it('records every request after its answer, newest first, with status, scimType, tenant, IdP, resources and redacted bodies', async () => {
    const t = await setup()
    const created = await t.send('post', '/Users', { schemas: [USER], userName: 'ann', password: 'Ann-Pa55word!' }, { 'User-Agent': 'Okta SCIM Client 1.0.0', 'X-Tenant': 'acme' })
    expect(created.status).toBe(201)
    const id = created.body.id
    expect((await t.send('post', '/Users', { schemas: [USER], userName: 'ANN' }, { 'X-Tenant': 'acme' })).status).toBe(409)
    expect((await t.agent.get('/scim/v2/Users')).status).toBe(401)
    expect((await t.agent.get('/scim/v2/ServiceProviderConfig')).status).toBe(200)
    expect((await t.send('get', '/Users?filter=bad(', undefined, { 'X-Tenant': 'acme' })).status).toBe(400)
    const list = await t.entries()
    expect(list.map((e) => [e.method, e.status, e.scimType, e.tenant])).toEqual([
      ['GET', 400, 'invalidFilter', 'acme'],
      ['GET', 200, null, null],
      ['GET', 401, null, null],
      ['POST', 409, 'uniqueness', 'acme'],
      ['POST', 201, null, 'acme'],
    ])
    const first = list[4]!
    expect(first).toMatchObject({ idp: 'okta', path: '/scim/v2/Users', resourceIds: [id], errorType: null, connectionId: null })
    expect(first.requestBody).toContain(`"password":"${REDACTED}"`)
    expect(first.durationMs).toBeGreaterThanOrEqual(0)
    expect(list[3]).toMatchObject({ errorType: 'uniqueness', detail: expect.stringContaining('ANN') })
    expect(list[2]).toMatchObject({ errorType: '401' })
    expect(JSON.stringify(list)).not.toContain('Ann-Pa55word!')
    expect(JSON.stringify(list)).not.toContain(TOKEN)
  })

  it('X-Request-Id: a well-formed one is accepted and echoed, else one is generated; it is the entry correlation id', async () => {
    const t = await setup()
    const given = await t.send('get', '/Users', undefined, { 'X-Request-Id': 'idp-req-42' })
    expect(given.headers['x-request-id']).toBe('idp-req-42')
    const bad = await t.send('get', '/Users', undefined, { 'X-Request-Id': 'has spaces <and> more' })
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/)
    const list = await t.entries()
    expect(list.map((e) => e.correlationId)).toEqual([bad.headers['x-request-id'], 'idp-req-42'])
  })

  it("a 500's correlation id is the request's; a failing log store never fails a request", async () => {
    const failing: RequestLog = {
      append: async () => {
        throw new Error('disk full')
      },
      query: async () => ({ entries: [] }),
      stats: async () => [],
      prune: async () => 0,
    }
    const adapter = defaultAdapter()
    const broken = new Proxy(adapter, { get: (o, k, r) => (k === 'list' ? async () => Promise.reject(new Error('boom')) : Reflect.get(o, k, r)) })
    const t = await setup({ store: failing }, {}, broken)
    const res = await t.send('get', '/Users', undefined, { 'X-Request-Id': 'corr-500' })
    expect(res.status).toBe(500)
    expect(res.body.detail).toContain('corr-500')
    await t.router.requestLog!.flush()
    const ok = await setup({ store: failing })
    const created = await ok.send('post', '/Users', { schemas: [USER], userName: 'still-works' })
    expect(created.status).toBe(201)
    expect(created.headers['x-request-id']).toEqual(expect.any(String))
    await ok.router.requestLog!.flush()
    expect((await ok.send('get', `/Users/${created.body.id}`)).status).toBe(200)
  })

  it('bodies are bounded by maxBodyBytes; configured sensitive attributes are never stored', async () => {
    const t = await setup({ maxBodyBytes: 200, sensitiveAttributes: ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'] })
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    const res = await t.send('post', '/Users', { schemas: [USER, ENT], userName: 'big', displayName: 'x'.repeat(1000), [ENT]: { employeeNumber: 'EMP-778899' } })
    expect(res.status).toBe(201)
    const [e] = await t.entries()
    expect(Buffer.byteLength(e!.requestBody!)).toBeLessThanOrEqual(200)
    expect(e!.responseBody!.endsWith('…[truncated]')).toBe(true)
    expect(JSON.stringify(e)).not.toContain('EMP-778899')
    // Token-shaped strings are scrubbed before the cut: no piece of one is left at the edge.
    for (let pad = 0; pad < 24; pad += 3) {
      const title = `${'y'.repeat(pad)} ${'scimct_ABCDEFGHIJKLMNOPQRSTUV '.repeat(12)}`
      expect((await t.send('post', '/Users', { schemas: [USER], userName: `cut${pad}`, title })).status).toBe(201)
    }
    for (const x of (await t.entries()).slice(0, 8)) {
      expect(x.requestBody).not.toContain('scimct_')
      expect(x.responseBody).not.toContain('scimct_')
    }
  })

  it('retention runs after a write at most every intervalMs, not per request (age and count)', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z')
    const t = await setup({ retention: { maxEntries: 3, maxAgeMs: 3_600_000, intervalMs: 60_000 }, now: () => now })
    for (let i = 0; i < 5; i++) await t.send('get', '/Users')
    // The first batch triggered a prune (before those 5 were all written, or right after them).
    await t.router.requestLog!.flush()
    await t.router.requestLog!.prune()
    expect((await t.entries()).length).toBe(3)
    for (let i = 0; i < 3; i++) await t.send('get', '/Users')
    expect((await t.entries()).length).toBe(6) // within intervalMs: no prune yet
    now += 60_000
    await t.send('get', '/Users')
    expect((await t.entries()).length).toBe(3)
    now += 2 * 3_600_000
    await t.send('get', '/Users')
    const left = await t.entries()
    expect(left.length).toBe(1) // everything older than maxAgeMs went
  })

  it('requests that were not authenticated are kept at most unauthenticatedPerMinute (a 401 flood cannot push tenants out of the log)', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z')
    const t = await setup({ unauthenticatedPerMinute: 3, now: () => now })
    for (let i = 0; i < 10; i++) expect((await t.agent.get('/scim/v2/Users').set('Authorization', 'Bearer wrong')).status).toBe(401)
    await t.send('get', '/Users') // authenticated: always kept
    let entries = await t.entries()
    expect(entries.filter((e) => e.status === 401)).toHaveLength(3)
    expect(entries.filter((e) => e.status === 200)).toHaveLength(1)
    expect(t.router.requestLog!.dropped).toBe(7)
    now += 20_000 // a third of a minute refills one
    for (let i = 0; i < 3; i++) await t.agent.get('/scim/v2/Users').set('Authorization', 'Bearer wrong')
    entries = await t.entries()
    expect(entries.filter((e) => e.status === 401)).toHaveLength(4)
    expect(() => scimRouter(defaultAdapter(), { authenticate: bearerToken(TOKEN), requestLog: { store: t.store, unauthenticatedPerMinute: -1 } })).toThrow(TypeError)
  })

  it('resourceHistory: a user history in order — requests (incl. the Group PATCH adding it) and events with their delivery state', async () => {
    let fail = true
    const t = await setup(
      {},
      {
        onEvent: async (e: { type: string }) => {
          if (e.type === 'user.deprovisioned' && fail) throw new Error('revocation backend down')
        },
        eventDelivery: { dispatcher: false, maxAttempts: 1, backoff: { initialMs: 1, maxMs: 1 } },
      },
    )
    const u = (await t.send('post', '/Users', { schemas: [USER], userName: 'hist' })).body.id
    const g = (await t.send('post', '/Groups', { schemas: [GROUP], displayName: 'team' })).body.id
    expect((await t.send('patch', `/Groups/${g}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u }] }] })).status).toBe(204)
    expect((await t.send('patch', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200)
    expect((await t.send('get', `/Users/${u}`)).status).toBe(200)
    fail = false
    await t.router.requestLog!.flush()
    const h = await resourceHistory({ requestLog: t.store, outbox: t.adapter.outbox }, { tenant: 'default', id: u })
    const summary = h.items.map((i) => (i.kind === 'request' ? `${i.request.method} ${i.request.status}` : `${i.event.type} ${i.event.state}`))
    expect(summary).toEqual([
      'POST 201',
      'user.created delivered',
      'PATCH 204',
      'group.members.added delivered',
      'PATCH 200',
      'user.updated delivered',
      'user.deactivated delivered',
      'user.deprovisioned dead',
      'GET 200',
    ])
    const dead = h.items.find((i) => i.kind === 'event' && i.event.state === 'dead')
    expect(dead?.kind === 'event' && dead.event.lastError).toContain('revocation backend down')
    expect(h.complete).toBe(true)
  })
})

describe('requestLog option validation (issue 15)', () => {
  it.each([
    [{ store: {} }, /requestLog.store/],
    [{ store: new MemoryRequestLog(), maxBodyBytes: 10 }, /maxBodyBytes/],
    [{ store: new MemoryRequestLog(), retention: { maxAgeMs: 0 } }, /retention.maxAgeMs/],
    [{ store: new MemoryRequestLog(), retention: { maxEntries: -1 } }, /retention.maxEntries/],
    [{ store: new MemoryRequestLog(), flushIntervalMs: 1.5 }, /flushIntervalMs/],
    ['yes', /requestLog must be/],
  ])('%j is refused when the router is created', (requestLog, message) => {
    expect(() => scimRouter(new MemoryAdapter(), { authenticate: 'none', requestLog } as never)).toThrow(message)
  })
})

describe('scimConsole JSON endpoints (issue 15)', () => {
  it('guarded by authenticate (401 / 503), strict CSP on every answer, requests, stats, history and deliveries', async () => {
    const t = await setup({}, { onEvent: async () => Promise.reject(new Error('down')), eventDelivery: { dispatcher: false, maxAttempts: 1 } })
    const u = (await t.send('post', '/Users', { schemas: [USER], userName: 'con', password: 'Con-Pa55word!' })).body.id
    await t.send('post', '/Users', { schemas: [USER], userName: 'con' })
    await t.router.requestLog!.flush()
    let broken = false
    const app = express()
    app.use(
      '/console',
      scimConsole({
        requestLog: t.store,
        outbox: t.adapter.outbox,
        connections: { list: async () => [] },
        authenticate: (req) => {
          if (broken) throw new Error('session store down')
          return req.headers.authorization === 'Bearer admin'
        },
      }),
    )
    const get = (path: string, auth = 'Bearer admin') => request(app).get(`/console${path}`).set('Authorization', auth)
    const page = await request(app).get('/console/')
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    expect(page.text).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*src=)|\sstyle=|\son[a-z]+=/i)
    expect((await request(app).get('/console')).status).toBe(308)
    expect((await request(app).get('/console/console.js')).headers['content-type']).toMatch(/^text\/javascript/)
    expect((await get('/api/requests', 'Bearer nope')).status).toBe(401)
    const requests = await get('/api/requests?status=error')
    expect(requests.status).toBe(200)
    expect(requests.headers['content-security-policy']).toContain("default-src 'none'")
    expect(requests.body.entries.map((e: { status: number; scimType: string }) => [e.status, e.scimType])).toEqual([[409, 'uniqueness']])
    const stats = await get('/api/stats')
    expect(stats.body.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(2)
    const history = await get(`/api/history?tenant=default&id=${u}`)
    expect(history.body.items.map((i: { kind: string }) => i.kind)).toEqual(['request', 'event'])
    expect((await get('/api/history')).status).toBe(400)
    const deliveries = await get('/api/deliveries?tenant=default')
    expect(deliveries.body).toEqual([expect.objectContaining({ type: 'user.created', state: 'dead', lastError: expect.stringContaining('down') })])
    expect(JSON.stringify([requests.body, history.body])).not.toContain('Con-Pa55word!')
    expect((await get('/api/nothing')).status).toBe(404)
    broken = true
    expect((await get('/api/requests')).status).toBe(503)
  })
})

describe.each(VARIANTS)('requestLog and scimConsole on $name', (v) => {
  it('records the original path; the console page, its redirect and its API answer under this host', async () => {
    const store = new MemoryRequestLog()
    const app = makeApp(v, { requestLog: store })
    const c = client(v, app)
    expect((await c.get('/Users?count=1')).status).toBe(200)
    const page0 = scimConsole({ requestLog: store, authenticate: (req) => req.headers.authorization === 'Bearer admin' })
    const host: { use(path: string, fn: unknown): unknown } = v.host === 'connect' ? connect() : v.host === 'express4' ? express4() : express()
    host.use('/console', page0)
    const page = await request(host as never).get('/console/')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<script src="console.js" defer></script>')
    const redirect = await request(host as never).get('/console')
    expect(redirect.status).toBe(308)
    expect(redirect.headers['location']).toBe('console/')
    let entries: { path: string }[] = []
    for (let i = 0; i < 100 && entries.length === 0; i++) {
      entries = (await request(host as never).get('/console/api/requests').set('Authorization', 'Bearer admin')).body.entries
      if (entries.length === 0) await new Promise((r) => setTimeout(r, 20))
    }
    expect(entries.map((e) => e.path)).toEqual([`${v.mount}/Users?count=1`])
  })
})
