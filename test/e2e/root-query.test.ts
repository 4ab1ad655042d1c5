/** Root queries across resource types (RFC 7644 §3.4.2.1, §3.4.3; LST-065). */
import type { ScimAdapter } from '../../src'
import { GROUP, LIST, USER, VARIANTS, client, defaultAdapter, expectError, makeApp } from './harness'

const ids = (res: { body: { Resources: { id: string }[] } }): string[] => res.body.Resources.map((r) => r.id)
const q = (filter: string): string => `/?filter=${encodeURIComponent(filter)}`

/**
 * The store, but unable to filter (the router evaluates every filter in memory) and answering at
 * most `max` resources per `list` call, as stores with a page-size cap do.
 */
function shortPages(inner: ScimAdapter<any>, max: number): ScimAdapter<any> {
  const wrapped: ScimAdapter<any> = {
    get: (query, ctx) => inner.get(query, ctx),
    list: (query, ctx) => inner.list({ ...query, count: Math.min(query.count, max) }, ctx),
    create: (query, ctx) => inner.create(query, ctx),
    replace: (query, ctx) => inner.replace(query, ctx),
    delete: (query, ctx) => inner.delete(query, ctx),
    canFilter: () => false,
  }
  if (inner.capabilities) wrapped.capabilities = inner.capabilities
  return wrapped
}

describe.each(VARIANTS)('root queries: $name', (v) => {
  async function seeded() {
    const c = client(v, makeApp(v))
    const u1 = await c.post('/Users', { schemas: [USER], userName: 'root1', displayName: 'Alpha' })
    const u2 = await c.post('/Users', { schemas: [USER], userName: 'root2', displayName: 'Beta' })
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'Alpha team', members: [{ value: u1.body.id }] })
    return { c, u1: u1.body, u2: u2.body, g: g.body }
  }

  it('GET {base}/ lists every resource type with exact totals and paging', async () => {
    const { c } = await seeded()
    const all = await c.get('/')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({ schemas: [LIST], totalResults: 3, startIndex: 1, itemsPerPage: 3 })
    expect(all.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType)).toEqual(['User', 'User', 'Group'])
    const page = await c.get('/?startIndex=2&count=2')
    expect(page.body.totalResults).toBe(3)
    expect(page.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType)).toEqual(['User', 'Group'])
  })

  it('LST-065: displayName filter spans types; meta.resourceType restricts them', async () => {
    const { c, u1, g } = await seeded()
    const both = await c.get(`/?filter=${encodeURIComponent('displayName sw "Alpha"')}`)
    expect(both.body.Resources.map((r: { id: string }) => r.id)).toEqual([u1.id, g.id])
    const onlyGroups = await c.post('/.search', { filter: '(meta.resourceType eq "Group") and displayName sw "Alpha"' })
    expect(onlyGroups.status).toBe(200)
    expect(onlyGroups.body.Resources.map((r: { id: string }) => r.id)).toEqual([g.id])
  })

  it('an attribute one type lacks has no value there; one no type has is 400 invalidFilter (FLT-013)', async () => {
    const { c, u2 } = await seeded()
    const users = await c.get(`/?filter=${encodeURIComponent('userName eq "root2"')}`)
    expect(users.body.totalResults).toBe(1)
    expect(users.body.Resources[0].id).toBe(u2.id)
    expectError(await c.get(`/?filter=${encodeURIComponent('nosuch eq "x"')}`), 400, 'invalidFilter')
    expectError(await c.get(q('userName eq "root2" or nosuch eq "x"')), 400, 'invalidFilter')
    expectError(await c.get(`/?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter')
  })

  // RFC 7644 §3.4.2.2: "If the specified attribute in a filter expression is not defined … the
  // comparison is evaluated as if there is no attribute value": false per comparison, not per type.
  it('LST-065/FLT-013: a comparison on an attribute a type lacks is false for that type, the rest still counts', async () => {
    const { c, u1, u2, g } = await seeded()
    const either = await c.post('/.search', { filter: 'userName eq "root1" or displayName eq "Alpha team"' })
    expect(either.status).toBe(200)
    expect(ids(either)).toEqual([u1.id, g.id])
    expect(either.body.totalResults).toBe(2)
    const groups = await c.get(q('not (userName pr)'))
    expect(ids(groups)).toEqual([g.id])
    expect(ids(await c.get(q('members pr or userName eq "root2"')))).toEqual([u2.id, g.id])
    expect(ids(await c.get(q('userName eq null')))).toEqual([g.id])
    expect(ids(await c.get(q('displayName sw "Alpha" and not (members pr)')))).toEqual([u1.id])
    expect(ids(await c.get(q(`members[value eq "${u1.id}"] or emails pr`)))).toEqual([g.id])
    expect((await c.get(q('userName ne "nobody"'))).body.totalResults).toBe(2) // ne on no value is false (FLT-027)
  })

  it('LST-012: a root GET filter on a sensitive attribute is 403 sensitive; POST /.search is not', async () => {
    const c = client(v, makeApp(v, { sensitiveFilterAttributes: ['userName'] }))
    const u = (await c.post('/Users', { schemas: [USER], userName: 'secret@example.com' })).body
    for (const filter of ['userName eq "secret@example.com"', 'displayName pr or userName sw "secret"', 'not (userName pr) and members pr']) {
      const res = await c.get(q(filter))
      expectError(res, 403, 'sensitive')
      expect(res.body.detail).toContain('.search')
    }
    const posted = await c.post('/.search', { filter: 'userName eq "secret@example.com"' })
    expect(posted.status).toBe(200)
    expect(ids(posted)).toEqual([u.id])
    expect((await c.get(q('displayName pr'))).status).toBe(200)
  })

  it('LST-013: a sorted root query over more than scanLimit matches is 400 tooMany, never a short page', async () => {
    const c = client(v, makeApp(v, { scanLimit: 2 }))
    await c.post('/Users', { schemas: [USER], userName: 's1', displayName: 'C' })
    await c.post('/Users', { schemas: [USER], userName: 's2', displayName: 'A' })
    await c.post('/Groups', { schemas: [GROUP], displayName: 'B' })
    expectError(await c.get('/?sortBy=displayName'), 400, 'tooMany')
    expectError(await c.post('/.search', { sortBy: 'displayName', count: 1 }), 400, 'tooMany')
    const narrowed = await c.get(`${q('displayName ne "C"')}&sortBy=displayName`)
    expect(narrowed.status).toBe(200)
    expect(narrowed.body.Resources.map((r: { displayName: string }) => r.displayName)).toEqual(['A', 'B'])
    const unsorted = await c.get('/?count=10')
    expect(unsorted.body.totalResults).toBe(3) // paging without sortBy needs no scan
  })

  it('RFC 7644 §3.4.2.3: sortBy an attribute only one type has keeps the other types, ordered as on one type (unassigned last ascending)', async () => {
    const { c, u1, u2, g } = await seeded()
    const desc = await c.get('/?sortBy=userName&sortOrder=descending')
    expect(desc.body.totalResults).toBe(3)
    expect(ids(desc)).toEqual([g.id, u2.id, u1.id])
    expect(ids(await c.get('/?sortBy=userName'))).toEqual([u1.id, u2.id, g.id])
  })

  it('the in-memory scan reads on past a short page from the store (residual filter, root and /Users)', async () => {
    const c = client(v, makeApp(v, {}, shortPages(defaultAdapter(), 2)))
    const made: string[] = []
    for (let i = 0; i < 5; i++) made.push((await c.post('/Users', { schemas: [USER], userName: `short${i}`, displayName: 'Short' })).body.id)
    const listed = await c.get(`/Users?filter=${encodeURIComponent('displayName eq "Short"')}`)
    expect(listed.body.totalResults).toBe(5)
    expect(ids(listed)).toEqual(made)
    const root = await c.get(q('displayName eq "Short"'))
    expect(root.body.totalResults).toBe(5)
    expect(ids(await c.get(`${q('displayName eq "Short"')}&sortBy=userName&sortOrder=descending`))).toEqual([...made].reverse())
  })

  it('sortBy across types; unsupported methods on the root answer 501', async () => {
    const { c } = await seeded()
    const sorted = await c.get('/?sortBy=displayName&sortOrder=descending')
    expect(sorted.body.Resources.map((r: { displayName: string }) => r.displayName)).toEqual(['Beta', 'Alpha team', 'Alpha'])
    expectError(await c.raw.delete(c.path('/')).set('Authorization', 'Bearer good-token'), 501)
    expectError(await c.get('/.search'), 501)
  })
})

describe.each(VARIANTS)('meta.location in filters (FLT-014): $name', (v) => {
  it('eq and ne on meta.location compare the resource location; other operators are invalidFilter', async () => {
    // A fixed baseUrl: supertest serves every request on a new port, so Host-derived locations differ.
    const c = client(v, makeApp(v, { baseUrl: 'https://scim.example.com/tenant-a/v2' }))
    const a = await c.post('/Users', { schemas: [USER], userName: 'loc-a' })
    const b = await c.post('/Users', { schemas: [USER], userName: 'loc-b' })
    const eq = await c.get(`/Users?filter=${encodeURIComponent(`meta.location eq "${a.body.meta.location}"`)}`)
    expect(eq.status).toBe(200)
    expect(eq.body.Resources.map((r: { id: string }) => r.id)).toEqual([a.body.id])
    const ne = await c.get(`/Users?filter=${encodeURIComponent(`meta.location ne "${a.body.meta.location}"`)}`)
    expect(ne.body.Resources.map((r: { id: string }) => r.id)).toEqual([b.body.id])
    const elsewhere = await c.get(`/Users?filter=${encodeURIComponent('meta.location eq "https://elsewhere.example/Users/x"')}`)
    expect(elsewhere.body.totalResults).toBe(0)
    expectError(await c.get(`/Users?filter=${encodeURIComponent('meta.location co "Users"')}`), 400, 'invalidFilter')
    expectError(await c.get(`/Groups?filter=${encodeURIComponent('members.$ref pr')}`), 400, 'invalidFilter')
  })
})
