import request from 'supertest'
import { MemoryAdapter, bearerToken, scimRouter } from '../../src'
import { GROUP, USER, VARIANTS, client, expectError, makeApp } from './harness'

const ROUTES: Array<[string, string]> = [
  ['get', '/Users'],
  ['post', '/Users'],
  ['get', '/Users/some-id'],
  ['put', '/Users/some-id'],
  ['delete', '/Users/some-id'],
  ['patch', '/Users/some-id'],
  ['get', '/Groups'],
  ['post', '/Groups/.search'],
  ['get', '/Widgets'],
  ['get', '/'],
  ['get', '/Me'],
  ['post', '/Bulk'],
]

describe.each(VARIANTS)('Authentication and tenants: $name', (v) => {
  const app = () => makeApp(v)

  it('AUTH-002: 401 with WWW-Authenticate Bearer on every route, incl. unknown endpoints', async () => {
    const a = app()
    const details = new Set<string>()
    for (const [method, path] of ROUTES) {
      for (const header of [undefined, 'non-token', 'Bearer wrong', 'Basic Z29vZC10b2tlbjo=', 'Bearer', 'Bearer good-token extra']) {
        let r = (request(a) as any)[method](v.mount + path).set('Content-Type', 'application/scim+json')
        if (header !== undefined) r = r.set('Authorization', header)
        const res = await r.send(method === 'get' || method === 'delete' ? undefined : JSON.stringify({ schemas: [USER], userName: 'x' }))
        expectError(res, 401)
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
        details.add(res.body.detail)
      }
    }
    expect(details.size).toBe(1) // AUTH-003: identical detail for every failure kind
  })

  it('AUTH-002: nothing is written by an unauthenticated request', async () => {
    const adapter = new MemoryAdapter()
    const a = makeApp(v, {}, adapter)
    await request(a).post(v.mount + '/Users').set('Authorization', 'Bearer wrong').set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName: 'x@example.com' }))
    expect((await client(v, a).get('/Users')).body.totalResults).toBe(0)
  })

  it('AUTH-002: the token is never read from the query string (RFC 7644 §7.4)', async () => {
    expectError(await request(app()).get(`${v.mount}/Users?access_token=good-token`), 401)
  })

  it('RFC 7235 §2.1: the scheme name is case-insensitive', async () => {
    const a = app()
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await request(a).get(v.mount + '/Users').set('Authorization', `${scheme} good-token`)
      expect(res.status).toBe(200)
    }
  })

  it('AUTH-001: several tokens can be valid at once (rotation)', async () => {
    const a = makeApp(v, { authenticate: bearerToken(['old-token', 'new-token']) })
    for (const t of ['old-token', 'new-token']) expect((await request(a).get(v.mount + '/Users').set('Authorization', `Bearer ${t}`)).status).toBe(200)
    expectError(await request(a).get(v.mount + '/Users').set('Authorization', 'Bearer good-token'), 401)
  })

  it("authenticate: 'none' serves without credentials on purpose", async () => {
    const a = makeApp(v, { authenticate: 'none' })
    const res = await request(a).post(v.mount + '/Users').set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName: 'open@example.com' }))
    expect(res.status).toBe(201)
  })

  it('a custom authenticate returning null → 401; throwing ForbiddenError → 403', async () => {
    const { ForbiddenError } = await import('../../src')
    const a = makeApp(v, {
      authenticate: (req: any) => {
        if (req.headers['x-role'] === 'reader' && req.method !== 'GET') throw new ForbiddenError()
        return req.headers['x-role'] ? { role: req.headers['x-role'] } : null
      },
    })
    expectError(await request(a).get(v.mount + '/Users'), 401)
    expect((await request(a).get(v.mount + '/Users').set('X-Role', 'reader')).status).toBe(200)
    expectError(await request(a).post(v.mount + '/Users').set('X-Role', 'reader').set('Content-Type', 'application/scim+json').send('{}'), 403)
  })

  it('AUTH-001/IDP-004: an authenticate that throws (its backend is down) → 503 with Retry-After, not 401; false → 401', async () => {
    let calls = 0
    const down = makeApp(v, {
      authenticate: async () => {
        calls++
        throw new Error('ECONNREFUSED 10.0.0.5:6379')
      },
    })
    const r = await request(down).get(v.mount + '/Users').set('Authorization', 'Bearer whatever')
    expectError(r, 503)
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    expect(r.headers['www-authenticate']).toBeUndefined()
    expect(JSON.stringify(r.body)).not.toContain('ECONNREFUSED') // internals never reach the client
    expect(calls).toBe(1)
    const sync = makeApp(v, {
      authenticate: () => {
        throw new TypeError('backend client not initialised')
      },
    })
    expectError(await request(sync).get(v.mount + '/Users'), 503)
    const no = makeApp(v, { authenticate: () => false })
    expectError(await request(no).get(v.mount + '/Users'), 401)
  })

  describe('AUTH-004: tenants through bearerToken({token: {tenant}})', () => {
    const make = () => {
      const a = makeApp(v, { authenticate: bearerToken({ tokA: { tenant: 'a' }, tokB: { tenant: 'b' } }) })
      const as = (tok: string) => {
        const h = { Authorization: `Bearer ${tok}` }
        const body = (b: unknown) => JSON.stringify(b)
        return {
          get: (p: string) => request(a).get(v.mount + p).set(h),
          post: (p: string, b: unknown) => request(a).post(v.mount + p).set(h).set('Content-Type', 'application/scim+json').send(body(b)),
          put: (p: string, b: unknown) => request(a).put(v.mount + p).set(h).set('Content-Type', 'application/scim+json').send(body(b)),
          delete: (p: string) => request(a).delete(v.mount + p).set(h),
        }
      }
      return { A: as('tokA'), B: as('tokB') }
    }

    it("tenant B cannot read, list, replace or delete tenant A's user", async () => {
      const { A, B } = make()
      const u = await A.post('/Users', { schemas: [USER], userName: 'alice@example.com' })
      expect(u.status).toBe(201)
      expectError(await B.get(`/Users/${u.body.id}`), 404)
      expectError(await B.put(`/Users/${u.body.id}`, { schemas: [USER], userName: 'mallory@example.com' }), 404)
      expectError(await B.delete(`/Users/${u.body.id}`), 404)
      const listB = await B.get('/Users')
      expect(listB.body.totalResults).toBe(0)
      const filtered = await B.get(`/Users?filter=${encodeURIComponent(`id eq "${u.body.id}"`)}`)
      expect(filtered.body.totalResults).toBe(0)
      const got = await A.get(`/Users/${u.body.id}`)
      expect(got.status).toBe(200)
      expect(got.body.userName).toBe('alice@example.com')
      expect(got.body.meta.version).toBe(u.body.meta.version)
    })

    it('tenant B can reuse the same userName and group displayName; members cannot cross tenants', async () => {
      const { A, B } = make()
      const ua = await A.post('/Users', { schemas: [USER], userName: 'same@example.com' })
      expect((await B.post('/Users', { schemas: [USER], userName: 'SAME@example.com' })).status).toBe(201)
      expect((await A.post('/Users', { schemas: [USER], userName: 'same@example.com' })).status).toBe(409)
      expect((await A.post('/Groups', { schemas: [GROUP], displayName: 'Admins' })).status).toBe(201)
      expect((await B.post('/Groups', { schemas: [GROUP], displayName: 'Admins' })).status).toBe(201)
      expectError(await B.post('/Groups', { schemas: [GROUP], displayName: 'X', members: [{ value: ua.body.id }] }), 400, 'invalidValue')
      expect((await A.get('/Users')).body.totalResults).toBe(1)
      expect((await B.get('/Users')).body.totalResults).toBe(1)
    })

    it('a context option receives the principal and is handed to the adapter', async () => {
      const seen: unknown[] = []
      const adapter = new MemoryAdapter<{ t: string }>({ tenant: (ctx) => ctx.t })
      const a = makeApp(
        v,
        {
          authenticate: bearerToken({ tokA: { org: 'x' }, tokB: { org: 'y' } }),
          context: (_req: unknown, p: any) => {
            seen.push(p)
            return { t: p.org }
          },
        },
        adapter as any,
      )
      await request(a).post(v.mount + '/Users').set('Authorization', 'Bearer tokA').set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName: 'c@example.com' }))
      expect(seen).toEqual([{ org: 'x' }])
      expect((await request(a).get(v.mount + '/Users').set('Authorization', 'Bearer tokB')).body.totalResults).toBe(0)
      expect((await request(a).get(v.mount + '/Users').set('Authorization', 'Bearer tokA')).body.totalResults).toBe(1)
    })
  })
})

describe('construction-time checks (issue 2 §3, §9)', () => {
  it('scimRouter() without authenticate throws TypeError', () => {
    expect(() => scimRouter(new MemoryAdapter(), {} as any)).toThrow(TypeError)
    expect(() => scimRouter(new MemoryAdapter(), {} as any)).toThrow(/authenticate/)
    expect(() => scimRouter(new MemoryAdapter(), undefined as any)).toThrow(TypeError)
    expect(() => scimRouter(new MemoryAdapter(), { authenticate: 'yes' } as any)).toThrow(TypeError)
  })

  it('an adapter missing methods throws TypeError naming them', () => {
    const partial = { get: async () => null, list: async () => ({ resources: [], totalResults: 0 }) }
    expect(() => scimRouter(partial as any, { authenticate: 'none' })).toThrow(TypeError)
    expect(() => scimRouter(partial as any, { authenticate: 'none' })).toThrow(/create.*replace.*delete/)
    expect(() => scimRouter(null as any, { authenticate: 'none' })).toThrow(TypeError)
  })

  it('bad options throw TypeError', () => {
    expect(() => scimRouter(new MemoryAdapter(), { authenticate: 'none', maxPageSize: 0 })).toThrow(TypeError)
    expect(() => scimRouter(new MemoryAdapter(), { authenticate: 'none', baseUrl: 'not a url' })).toThrow(TypeError)
    expect(() => bearerToken('')).toThrow(TypeError)
    expect(() => bearerToken([])).toThrow(TypeError)
  })
})
