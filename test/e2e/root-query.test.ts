/** Root queries across resource types (RFC 7644 §3.4.2.1, §3.4.3; LST-065). */
import { GROUP, LIST, USER, VARIANTS, client, expectError, makeApp } from './harness'

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

  it('an attribute one type lacks drops that type; one no type has is 400 invalidFilter', async () => {
    const { c, u2 } = await seeded()
    const users = await c.get(`/?filter=${encodeURIComponent('userName eq "root2"')}`)
    expect(users.body.totalResults).toBe(1)
    expect(users.body.Resources[0].id).toBe(u2.id)
    expectError(await c.get(`/?filter=${encodeURIComponent('nosuch eq "x"')}`), 400, 'invalidFilter')
    expectError(await c.get(`/?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter')
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
