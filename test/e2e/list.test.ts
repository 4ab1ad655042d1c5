import { MemoryAdapter } from '../../src'
import { ENTERPRISE, GROUP, LIST, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { seed, type Seeded } from './fixtures'

const names = (res: { body: any }) => res.body.Resources.map((r: any) => r.userName)

describe.each(VARIANTS)('List and query: $name', (v) => {
  let c: Client
  let s: Seeded
  beforeEach(async () => {
    c = client(v, makeApp(v))
    s = await seed(c, true)
  })

  describe('ListResponse (RFC 7644 §3.4.2, LST-001..007)', () => {
    it('LST-001/002/004/005/MT-030: GET /Users has all five members, integers, creation order', async () => {
      const res = await c.get('/Users')
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
      expect(Object.keys(res.body).sort()).toEqual(['Resources', 'itemsPerPage', 'schemas', 'startIndex', 'totalResults'])
      expect(res.body.schemas).toEqual([LIST])
      expect(res.body.totalResults).toBe(3)
      expect(res.body.startIndex).toBe(1)
      expect(res.body.itemsPerPage).toBe(3)
      for (const k of ['totalResults', 'startIndex', 'itemsPerPage']) expect(Number.isInteger(res.body[k])).toBe(true)
      expect(names(res)).toEqual(['JSmith@Example.com', 'bjensen@example.com', 'omalley'])
      for (const r of res.body.Resources) {
        expect(r.schemas).toContain(USER)
        expect(typeof r.id).toBe('string')
        expect(r.meta.resourceType).toBe('User')
      }
      expect(res.body).not.toHaveProperty('resources')
    })

    it('LST-001: GET /Groups is a ListResponse of Groups', async () => {
      const res = await c.get('/Groups')
      expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 2, startIndex: 1, itemsPerPage: 2 })
      expect(res.body.Resources.map((g: any) => g.displayName)).toEqual(['Tour Guides', 'Employees'])
    })

    it('LST-003: a query with no match is 200, totalResults 0, Resources []', async () => {
      const res = await c.get('/Users?filter=userName%20eq%20%222b6f1a0e-0000-4c1e-9d1e-6a1f0c3f7e55%22')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] })
    })

    it('LST-011: totalResults counts every match, not only the page', async () => {
      const res = await c.get('/Users?filter=userName%20ew%20%22example.com%22&count=1')
      expect(res.body.totalResults).toBe(2)
      expect(res.body.itemsPerPage).toBe(1)
      expect(res.body.Resources).toHaveLength(1)
    })

    it('EP-023: inactive users are listed and found by filter', async () => {
      const res = await c.get('/Users?filter=userName%20eq%20%22jsmith@example.com%22')
      expect(res.body.totalResults).toBe(1)
      expect(res.body.Resources[0].active).toBe(false)
    })
  })

  describe('Index pagination (RFC 7644 §3.4.2.4, LST-020..025)', () => {
    it('LST-020: startIndex below 1 is treated as 1', async () => {
      const r0 = await c.get('/Users?startIndex=0&count=2')
      expect(r0.status).toBe(200)
      expect(r0.body.startIndex).toBe(1)
      expect(names(r0)).toEqual(['JSmith@Example.com', 'bjensen@example.com'])
      const rneg = await c.get('/Users?startIndex=-5')
      expect(rneg.body.startIndex).toBe(1)
      expect(rneg.body.itemsPerPage).toBe(3)
    })

    it('LST-021: count=0 and negative counts return totalResults only', async () => {
      for (const q of ['count=0', 'count=-1']) {
        const res = await c.get(`/Users?${q}`)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({ schemas: [LIST], totalResults: 3, startIndex: 1, itemsPerPage: 0, Resources: [] })
      }
    })

    it('LST-022: count above the maximum is clamped, not rejected', async () => {
      const c2 = client(v, makeApp(v, { maxPageSize: 2 }))
      await seed(c2)
      const res = await c2.get('/Users?count=50')
      expect(res.status).toBe(200)
      expect(res.body.itemsPerPage).toBe(2)
      expect(res.body.totalResults).toBe(3)
      const noCount = await c2.get('/Users') // LST-007: default page size ≤ max
      expect(noCount.body.itemsPerPage).toBe(2)
      const huge = await c.get('/Users?count=99999999999999')
      expect(huge.status).toBe(200)
      expect(huge.body.itemsPerPage).toBe(3)
    })

    it('LST-007: defaultPageSize applies without count', async () => {
      const c2 = client(v, makeApp(v, { defaultPageSize: 1 }))
      await seed(c2)
      const res = await c2.get('/Users')
      expect(res.body).toMatchObject({ totalResults: 3, itemsPerPage: 1, startIndex: 1 })
      expect((await c2.get('/Users?count=3')).body.itemsPerPage).toBe(3)
    })

    it('LST-023: startIndex past the end is 200, [], real totalResults, startIndex echoed', async () => {
      const res = await c.get('/Users?startIndex=4&count=100')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ schemas: [LIST], totalResults: 3, startIndex: 4, itemsPerPage: 0, Resources: [] })
    })

    it('LST-006: pages follow startIndex and count', async () => {
      const res = await c.get('/Users?startIndex=2&count=1')
      expect(res.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 })
      expect(names(res)).toEqual(['bjensen@example.com'])
    })

    it.each(['count=abc', 'count=1.5', 'startIndex=', 'count=', 'startIndex=1e2', 'count=0x10', 'startIndex=one'])(
      'LST-025: %s is 400 invalidValue',
      async (q) => {
        expectError(await c.get(`/Users?${q}`), 400, 'invalidValue')
      },
    )

    it('LST-025: leading zeros and + are decimal integers (count=010, startIndex=+2)', async () => {
      const res = await c.get('/Users?count=010&startIndex=%2B2')
      expect(res.status).toBe(200)
      expect(res.body.startIndex).toBe(2)
      expect(res.body.itemsPerPage).toBe(2)
    })
  })

  describe('Sorting (RFC 7644 §3.4.2.3, LST-030..034)', () => {
    it('LST-030: sortBy=userName is case-insensitive, ascending by default', async () => {
      expect(names(await c.get('/Users?sortBy=userName'))).toEqual(['bjensen@example.com', 'JSmith@Example.com', 'omalley'])
      expect(names(await c.get('/Users?sortBy=userName&sortOrder=descending'))).toEqual(['omalley', 'JSmith@Example.com', 'bjensen@example.com'])
      expect(names(await c.get('/Users?sortBy=USERNAME&sortOrder=DESCENDING'))).toEqual(['omalley', 'JSmith@Example.com', 'bjensen@example.com'])
    })

    it('LST-030/031: missing values last ascending, first descending, ties by creation order', async () => {
      expect(names(await c.get('/Users?sortBy=title'))).toEqual(['bjensen@example.com', 'JSmith@Example.com', 'omalley'])
      expect(names(await c.get('/Users?sortBy=title&sortOrder=descending'))).toEqual(['JSmith@Example.com', 'omalley', 'bjensen@example.com'])
      expect(names(await c.get(`/Users?sortBy=${ENTERPRISE}:employeeNumber`))).toEqual(['bjensen@example.com', 'JSmith@Example.com', 'omalley'])
    })

    it('LST-030: sub-attribute and multi-valued sorts', async () => {
      expect(names(await c.get('/Users?sortBy=name.familyName'))).toEqual(['bjensen@example.com', 'omalley', 'JSmith@Example.com'])
      // U1 primary bjensen@example.com, U2 jsmith@example.org, U3 none (last)
      expect(names(await c.get('/Users?sortBy=emails.value'))).toEqual(['bjensen@example.com', 'JSmith@Example.com', 'omalley'])
    })

    it('LST-030: sorting applies before paging', async () => {
      const res = await c.get('/Users?sortBy=userName&startIndex=2&count=1')
      expect(names(res)).toEqual(['JSmith@Example.com'])
    })

    it('LST-032: bad sortOrder or unknown sortBy is 400 invalidValue; sortOrder alone is ignored', async () => {
      expectError(await c.get('/Users?sortBy=userName&sortOrder=up'), 400, 'invalidValue')
      expectError(await c.get('/Users?sortBy=noSuchAttribute'), 400, 'invalidValue')
      const res = await c.get('/Users?sortOrder=descending')
      expect(res.status).toBe(200)
      expect(names(res)).toEqual(['JSmith@Example.com', 'bjensen@example.com', 'omalley'])
    })

    it('LST-034: sortBy a complex attribute without sub-attribute is 400 invalidValue', async () => {
      expectError(await c.get('/Users?sortBy=name'), 400, 'invalidValue')
      expectError(await c.get('/Users?sortBy=emails'), 400, 'invalidValue')
    })

    it('LST-034: boolean sorts false before true', async () => {
      expect(names(await c.get('/Users?sortBy=active'))).toEqual(['JSmith@Example.com', 'bjensen@example.com', 'omalley'])
    })
  })

  describe('Projection (RFC 7644 §3.4.2.5, §3.9, LST-040..049)', () => {
    it('LST-041: attributes=userName returns exactly schemas, id, userName', async () => {
      const res = await c.get(`/Users/${s.u1.id}?attributes=userName`)
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['id', 'schemas', 'userName'])
      expect(res.body.userName).toBe('bjensen@example.com')
      expect(res.headers['etag']).toBe(s.u1.meta.version) // LST-049
      const list = await c.get('/Users?attributes=userName')
      for (const r of list.body.Resources) expect(Object.keys(r).sort()).toEqual(['id', 'schemas', 'userName'])
      expect(list.body.totalResults).toBe(3)
    })

    it('LST-042: sub-attribute paths keep the parent structure', async () => {
      const fam = await c.get(`/Users/${s.u1.id}?attributes=name.familyName`)
      expect(fam.body.name).toEqual({ familyName: 'Jensen' })
      expect(Object.keys(fam.body).sort()).toEqual(['id', 'name', 'schemas'])
      const em = await c.get(`/Users/${s.u1.id}?attributes=emails.value`)
      expect(em.body.emails).toEqual([{ value: 'bjensen@example.com' }, { value: 'babs@jensen.org' }])
      const ml = await c.get(`/Users/${s.u1.id}?attributes=meta.lastModified`)
      expect(ml.body.meta).toEqual({ lastModified: s.u1.meta.lastModified })
    })

    it('LST-042/EXT-003: enterprise sub-attribute and whole extension', async () => {
      const dep = await c.get(`/Users/${s.u1.id}?attributes=${ENTERPRISE}:department`)
      expect(dep.body[ENTERPRISE]).toEqual({ department: 'Tour Operations' })
      expect(dep.body.schemas).toEqual([USER, ENTERPRISE])
      expect(dep.body).not.toHaveProperty('userName')
      const whole = await c.get(`/Users/${s.u1.id}?attributes=${ENTERPRISE}`)
      expect(Object.keys(whole.body[ENTERPRISE]).sort()).toEqual(['department', 'employeeNumber', 'manager'])
      expect(whole.body[ENTERPRISE].manager.value).toBe(s.u2.id)
      expect(whole.body).not.toHaveProperty('userName')
      const mgr = await c.get(`/Users/${s.u1.id}?attributes=${ENTERPRISE}:manager.value`)
      expect(mgr.body[ENTERPRISE]).toEqual({ manager: { value: s.u2.id } })
    })

    it('LST-040: case-insensitive names, trimmed lists, repeated parameters', async () => {
      const res = await c.get(`/Users/${s.u1.id}?attributes=USERNAME,%20displayName&attributes=title`)
      expect(Object.keys(res.body).sort()).toEqual(['displayName', 'id', 'schemas', 'title', 'userName'])
    })

    it('LST-043/044: excludedAttributes removes from the default set but never id or schemas', async () => {
      const res = await c.get(`/Users/${s.u1.id}?excludedAttributes=id,userName,schemas,emails`)
      expect(res.body.id).toBe(s.u1.id)
      expect(res.body.schemas).toEqual([USER, ENTERPRISE])
      expect(res.body).not.toHaveProperty('userName')
      expect(res.body).not.toHaveProperty('emails')
      expect(res.body.displayName).toBe('Babs Jensen')
      const sub = await c.get(`/Users/${s.u1.id}?excludedAttributes=name.givenName`)
      expect(sub.body.name).toEqual({ familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III' })
      const ext = await c.get(`/Users/${s.u1.id}?excludedAttributes=${ENTERPRISE}`)
      expect(ext.body).not.toHaveProperty(ENTERPRISE)
      expect(ext.body.schemas).toEqual([USER])
    })

    it('LST-047: both parameters → 400 invalidValue; unknown names are ignored', async () => {
      expectError(await c.get('/Users?attributes=userName&excludedAttributes=title'), 400, 'invalidValue')
      const res = await c.get(`/Users/${s.u1.id}?attributes=userName,noSuchThing`)
      expect(Object.keys(res.body).sort()).toEqual(['id', 'schemas', 'userName'])
    })

    it('LST-048: a valuePath in attributes is treated as its attribute', async () => {
      const res = await c.get(`/Users/${s.u1.id}?attributes=${encodeURIComponent('emails[type eq "work"]')}`)
      expect(res.body.emails).toHaveLength(2)
    })

    it('LST-040: projection applies to POST 201 and PUT 200', async () => {
      const p = await c.post('/Users?attributes=userName', { schemas: [USER], userName: 'proj@example.com', title: 'T' })
      expect(p.status).toBe(201)
      expect(Object.keys(p.body).sort()).toEqual(['id', 'schemas', 'userName'])
      expect(p.headers['location']).toMatch(new RegExp(`/Users/${p.body.id}$`))
      const u = await c.put(`/Users/${p.body.id}?excludedAttributes=title`, { schemas: [USER], userName: 'proj@example.com', title: 'T2' })
      expect(u.status).toBe(200)
      expect(u.body).not.toHaveProperty('title')
      expect(u.body.userName).toBe('proj@example.com')
    })
  })

  describe('POST /{Type}/.search (RFC 7644 §3.4.3, LST-060..064)', () => {
    const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'

    it('LST-060: 200 ListResponse with projection, filter and paging from the body', async () => {
      const res = await c.post('/Users/.search', {
        schemas: [SEARCH],
        attributes: ['displayName', 'userName'],
        filter: 'displayName sw "babs"',
        startIndex: 1,
        count: 10,
      })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 })
      expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['displayName', 'id', 'schemas', 'userName'])
    })

    it('LST-060: POST /Groups/.search works too, and sorting', async () => {
      const res = await c.post('/Groups/.search', { sortBy: 'displayName' })
      expect(res.status).toBe(200)
      expect(res.body.Resources.map((g: any) => g.displayName)).toEqual(['Employees', 'Tour Guides'])
    })

    it('LST-061/062: comma strings, numeric strings, no schemas, case-insensitive members', async () => {
      const res = await c.post('/Users/.search', { Attributes: 'userName, title', COUNT: '1', startIndex: '2' })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 })
      expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'title', 'userName'])
      expect(res.body.Resources[0].userName).toBe('bjensen@example.com')
    })

    it('LST-063: errors match the GET form; non-object bodies are invalidSyntax', async () => {
      expectError(await c.post('/Users/.search', { filter: 'userName eq' }), 400, 'invalidFilter')
      expectError(await c.post('/Users/.search', { sortBy: 'userName', sortOrder: 'sideways' }), 400, 'invalidValue')
      expectError(await c.post('/Users/.search', { count: 1.5 }), 400, 'invalidValue')
      expectError(await c.post('/Users/.search', '[1,2]'), 400, 'invalidSyntax')
      expectError(await c.post('/Users/.search', '{"filter":'), 400, 'invalidSyntax')
    })

    it('LST-064: query-string parameters on .search are ignored', async () => {
      const res = await c.post('/Users/.search?count=1&filter=userName%20eq%20%22omalley%22', {})
      expect(res.status).toBe(200)
      expect(res.body.totalResults).toBe(3)
      expect(res.body.itemsPerPage).toBe(3)
    })

    it('EP-063: GET/PUT/DELETE on .search is 501 or 405 with the envelope', async () => {
      for (const r of [await c.get('/Users/.search'), await c.put('/Users/.search', {}), await c.delete('/Users/.search')]) {
        expect([405, 501]).toContain(r.status)
        expectError(r, r.status)
      }
    })
  })

  describe('Compatibility', () => {
    it('EP-070: unknown query parameters are ignored', async () => {
      const res = await c.get('/Users?foo=bar&startIndex=1')
      expect(res.status).toBe(200)
      expect(res.body.totalResults).toBe(3)
      expect((await c.get(`/Users/${s.u1.id}?foo=bar`)).status).toBe(200)
    })

    it('EP-002: a trailing slash is accepted (MS reference collection)', async () => {
      const res = await c.get('/Users/?filter=userName%20eq%20%22bjensen@example.com%22')
      expect(res.status).toBe(200)
      expect(res.body.totalResults).toBe(1)
      expect((await c.get(`/Users/${s.u1.id}/`)).body.id).toBe(s.u1.id)
    })

    it('LST-008: filter on a single-resource path is ignored', async () => {
      const res = await c.get(`/Users/${s.u1.id}?filter=userName%20eq%20%22nobody%22`)
      expect(res.status).toBe(200)
      expect(res.body.id).toBe(s.u1.id)
    })

    it('SEQ-001: Entra test connection (random GUID userName, Groups by displayName) → 200 totalResults 0', async () => {
      const u = await c.get('/Users?filter=userName+eq+%22a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d%22')
      expect(u.status).toBe(200)
      expect(u.body).toMatchObject({ totalResults: 0, Resources: [] })
      const g = await c.get('/Groups?excludedAttributes=members&filter=displayName+eq+%22a1b2c3d4-e5f6%22')
      expect(g.status).toBe(200)
      expect(g.body.totalResults).toBe(0)
    })

    it('LST-010: Okta percent-encoded filter with paging', async () => {
      const res = await c.get('/Users?filter=userName%20eq%20%22bjensen%40example.com%22&startIndex=1&count=100')
      expect(res.body.totalResults).toBe(1)
      expect(res.body.Resources[0].id).toBe(s.u1.id)
    })

    it('LST-010/FLT-003: "+" decodes to a space in filters', async () => {
      const res = await c.get('/Users?filter=displayName+eq+%22Babs+Jensen%22')
      expect(res.body.totalResults).toBe(1)
      const ext = await c.get('/Users?filter=externalId+eq+%22ext-bjensen%22')
      expect(ext.body.totalResults).toBe(1)
      const caseExact = await c.get('/Users?filter=externalId+eq+%22EXT-BJENSEN%22') // RES-006
      expect(caseExact.body.totalResults).toBe(0)
    })

    it('EXT-009: Entra manager check filter', async () => {
      const hit = await c.get(`/Users?filter=${encodeURIComponent(`id eq "${s.u1.id}" and manager eq "${s.u2.id}"`)}&attributes=id`)
      expect(hit.body.totalResults).toBe(1)
      expect(Object.keys(hit.body.Resources[0]).sort()).toEqual(['id', 'schemas'])
      const miss = await c.get(`/Users?filter=${encodeURIComponent(`id eq "${s.u1.id}" and manager eq "${s.u3.id}"`)}`)
      expect(miss.body.totalResults).toBe(0)
    })

    it('a malformed filter is 400 invalidFilter', async () => {
      expectError(await c.get('/Users?filter=userName%20eq'), 400, 'invalidFilter')
    })

    it('Groups are not listed under /Users and vice versa', async () => {
      const res = await c.get(`/Users?filter=${encodeURIComponent(`id eq "${s.g1.id}"`)}`)
      expect(res.body.totalResults).toBe(0)
      expect((await c.get('/Groups')).body.Resources.every((g: any) => g.schemas[0] === GROUP)).toBe(true)
    })
  })
})

describe('LST-024: Okta paging visits every resource exactly once (express5 at /scim/v2)', () => {
  it('250 users + 3 fixtures over startIndex 1, 101, 201 with count=100', async () => {
    const v = VARIANTS.find((x) => x.host === 'express5' && x.mount !== '')!
    const adapter = new MemoryAdapter()
    const c = client(v, makeApp(v, {}, adapter))
    await seed(c)
    const ctx = { principal: { token: 0 } }
    for (let i = 0; i < 250; i++) {
      await adapter.create({ resourceType: 'User', attributes: { userName: `bulk${i}@example.com` }, unique: [{ path: 'userName', caseExact: false }] }, ctx)
    }
    const ids: string[] = []
    const sizes: number[] = []
    for (const start of [1, 101, 201]) {
      const res = await c.get(`/Users?startIndex=${start}&count=100`)
      expect(res.body.totalResults).toBe(253)
      expect(res.body.startIndex).toBe(start)
      sizes.push(res.body.itemsPerPage)
      ids.push(...res.body.Resources.map((r: any) => r.id))
    }
    expect(sizes).toEqual([100, 100, 53])
    expect(new Set(ids).size).toBe(253)
    // the same order with a different page size (Okta: "regardless of count and startIndex")
    const all: string[] = []
    for (let start = 1; start <= 253; start += 37) {
      all.push(...(await c.get(`/Users?startIndex=${start}&count=37`)).body.Resources.map((r: any) => r.id))
    }
    expect(all).toEqual(ids)
  })
})
