/**
 * Endpoint names match case-insensitively (EP-002 [COMPAT]): the Microsoft reference collection
 * sends `GET /users`. RFC 7644 §3.2 names the endpoints; ids stay case-exact (EP-022, RFC 7643
 * §3.1), and Location / meta.location keep the canonical spelling (RFC 7644 §3.1).
 */
import { GROUP, LIST, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { pathOf } from './fixtures'

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

describe.each(VARIANTS)('endpoint names are case-insensitive (EP-002): $name', (v) => {
  let c: Client
  let user: { id: string }
  beforeEach(async () => {
    c = client(v, makeApp(v, { bulk: true, me: () => user.id }))
    user = (await c.post('/Users', { schemas: [USER], userName: 'case@example.com', displayName: 'Case' })).body
  })

  it('GET /users, /USERS/{id}, /groups, .SEARCH and /.search answer like the canonical names', async () => {
    const list = await c.get(`/users?filter=${encodeURIComponent('userName eq "case@example.com"')}`)
    expect(list.status).toBe(200)
    expect(list.body).toMatchObject({ schemas: [LIST], totalResults: 1 })
    expect(pathOf(list.body.Resources[0].meta.location)).toBe(`${v.mount}/Users/${user.id}`)
    const one = await c.get(`/USERS/${user.id}`)
    expect(one.status).toBe(200)
    expect(pathOf(one.headers['location'] as string)).toBe(`${v.mount}/Users/${user.id}`)
    expect(pathOf(one.body.meta.location)).toBe(`${v.mount}/Users/${user.id}`)
    expect((await c.get('/groups')).status).toBe(200)
    const search = await c.post('/uSeRs/.SEARCH', { filter: 'userName eq "case@example.com"' })
    expect(search.status).toBe(200)
    expect(search.body.totalResults).toBe(1)
    const root = await c.post('/.Search', { filter: 'userName eq "case@example.com"' })
    expect(root.status).toBe(200)
    expect(root.body.totalResults).toBe(1)
  })

  it('writes through lower-case endpoints answer Location and meta.location with the canonical name', async () => {
    const created = await c.post('/groups', { schemas: [GROUP], displayName: 'Lower', members: [{ value: user.id }] })
    expect(created.status).toBe(201)
    expect(pathOf(created.headers['location'] as string)).toBe(`${v.mount}/Groups/${created.body.id}`)
    expect(pathOf(created.body.meta.location)).toBe(`${v.mount}/Groups/${created.body.id}`)
    expect(pathOf(created.body.members[0].$ref)).toBe(`${v.mount}/Users/${user.id}`)
    const put = await c.put(`/GROUPS/${created.body.id}`, { schemas: [GROUP], displayName: 'Lower 2' })
    expect(put.status).toBe(200)
    expect(pathOf(put.body.meta.location)).toBe(`${v.mount}/Groups/${created.body.id}`)
    const patched = await c.patch(`/users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'T' }] })
    expect(patched.status).toBe(200)
    expect(pathOf(patched.headers['location'] as string)).toBe(`${v.mount}/Users/${user.id}`)
    expect((await c.delete(`/groups/${created.body.id}`)).status).toBe(204)
  })

  it('discovery, /bulk and /me in any case; bulk operation paths too', async () => {
    const spc = await c.get('/serviceproviderconfig')
    expect(spc.status).toBe(200)
    expect(spc.body.patch).toEqual({ supported: true })
    expect((await c.get('/SERVICEPROVIDERCONFIGS')).body.patch).toEqual({ supported: true })
    const types = await c.get('/resourcetypes')
    expect(types.body.Resources.map((r: { endpoint: string }) => r.endpoint)).toEqual(['/Users', '/Groups'])
    expect((await c.get('/resourceTypes/user')).body.endpoint).toBe('/Users')
    expect((await c.get('/schemas')).body.totalResults).toBeGreaterThan(0)
    expect((await c.get(`/SCHEMAS/${USER.toUpperCase()}`)).body.id).toBe(USER)
    const me = await c.get('/me')
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(user.id)
    expect(pathOf(me.headers['location'] as string)).toBe(`${v.mount}/Users/${user.id}`)
    const bulk = await c.post('/bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Bulk lower' } },
        { method: 'PATCH', path: `/USERS/${user.id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'B' }] } },
      ],
    })
    expect(bulk.status).toBe(200)
    expect(bulk.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '200'])
    expect(pathOf(bulk.body.Operations[0].location)).toMatch(new RegExp(`^${v.mount}/Groups/[^/]+$`))
    expect(pathOf(bulk.body.Operations[1].location)).toBe(`${v.mount}/Users/${user.id}`)
  })

  it('EP-022: ids stay case-exact; unknown names are still 404', async () => {
    const changed = user.id.toUpperCase() === user.id ? user.id.toLowerCase() : user.id.toUpperCase()
    expectError(await c.get(`/users/${changed}`), 404)
    expectError(await c.get('/widgets'), 404)
    expectError(await c.get('/Userss'), 404)
  })
})
