/**
 * Group `members[].display` (RES-061): the member's `displayName`, falling back to `userName`
 * (RFC 7643 §8.4: `"display": "Babs Jensen"`), on every path that renders a Group and after the
 * member is renamed.
 */
import { GROUP, USER, VARIANTS, client, makeApp, type Client } from './harness'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

// Storage behaviour, independent of the HTTP host: one variant, on every store (SCIM_TEST_STORE).
describe.each(VARIANTS.slice(0, 1))('members[].display (RES-061, RFC 7643 §8.4): $name', (v) => {
  let c: Client
  let babs: { id: string }
  let plain: { id: string }
  const displays = (members: { value: string; display?: string }[]) => Object.fromEntries(members.map((m) => [m.value, m.display]))

  beforeEach(async () => {
    c = client(v, makeApp(v, { bulk: true }))
    babs = (await c.post('/Users', { schemas: [USER], userName: 'bjensen@example.com', displayName: 'Babs Jensen' })).body
    plain = (await c.post('/Users', { schemas: [USER], userName: 'plain@example.com' })).body
  })

  it('POST, GET, list, .search, PUT and PATCH responses show displayName, else userName', async () => {
    const want = { [babs.id]: 'Babs Jensen', [plain.id]: 'plain@example.com' }
    const created = await c.post('/Groups', { schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: babs.id }, { value: plain.id }] })
    expect(created.status).toBe(201)
    expect(displays(created.body.members)).toEqual(want)
    const id = created.body.id as string
    expect(displays((await c.get(`/Groups/${id}`)).body.members)).toEqual(want)
    expect(displays((await c.get('/Groups')).body.Resources[0].members)).toEqual(want)
    expect(displays((await c.post('/Groups/.search', { filter: 'displayName eq "Tour Guides"' })).body.Resources[0].members)).toEqual(want)
    const filtered = await c.get(`/Groups?filter=${encodeURIComponent(`members.value eq "${babs.id}"`)}`)
    expect(displays(filtered.body.Resources[0].members)).toEqual(want)
    const put = await c.put(`/Groups/${id}`, { schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: babs.id, display: 'x' }, { value: plain.id }] })
    expect(put.status).toBe(200)
    expect(displays(put.body.members)).toEqual(want)
    const patched = await c.patch(`/Groups/${id}?attributes=members`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Guides' }] })
    expect(patched.status).toBe(200)
    expect(displays(patched.body.members)).toEqual(want)
    const memberPatch = await c.patch(`/Groups/${id}?attributes=members`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${plain.id}"]` }] })
    expect(memberPatch.status).toBe(200)
    expect(displays(memberPatch.body.members)).toEqual({ [babs.id]: 'Babs Jensen' })
    const added = await c.patch(`/Groups/${id}?attributes=members`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: plain.id, display: 'plain' }] }] })
    expect(added.status).toBe(200)
    expect(displays(added.body.members)).toEqual(want)
  })

  it('Bulk: a group created and a member renamed in one request show displayName (RFC 7644 §3.7)', async () => {
    const res = await c.post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'bulk@example.com', displayName: 'Bulk Person' } },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Bulk Guides', members: [{ value: 'bulkId:u' }, { value: babs.id }] } },
      ],
    })
    expect(res.status).toBe(200)
    const [u, g] = res.body.Operations
    expect(g.status).toBe('201')
    const uid = pathOf(u.location)
    const group = await c.get(`/Groups/${pathOf(g.location)}`)
    expect(displays(group.body.members)).toEqual({ [uid]: 'Bulk Person', [babs.id]: 'Babs Jensen' })
    const renamed = await c.post('/Bulk', {
      schemas: [BULK],
      Operations: [{ method: 'PATCH', path: `/Users/${babs.id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'B. Jensen' }] } }],
    })
    expect(renamed.body.Operations[0].status).toBe('200')
    const after = await c.get(`/Groups/${pathOf(g.location)}`)
    expect(displays(after.body.members)).toEqual({ [uid]: 'Bulk Person', [babs.id]: 'B. Jensen' })
    expect(after.headers['etag']).not.toBe(group.headers['etag'])
  })

  it('ETG-002: renaming a member changes the Group members[].display and version; other edits do not', async () => {
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'Renamed', members: [{ value: babs.id }, { value: plain.id }] })).body
    const before = await c.get(`/Groups/${g.id}`)
    await c.patch(`/Users/${babs.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Guide' }] })
    expect((await c.get(`/Groups/${g.id}`)).headers['etag']).toBe(before.headers['etag'])
    await c.patch(`/Users/${babs.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Barbara Jensen' }] })
    await c.patch(`/Users/${plain.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'displayName', value: 'Plain Person' }] })
    const after = await c.get(`/Groups/${g.id}`)
    expect(displays(after.body.members)).toEqual({ [babs.id]: 'Barbara Jensen', [plain.id]: 'Plain Person' })
    expect(displays((await c.get('/Groups')).body.Resources[0].members)).toEqual({ [babs.id]: 'Barbara Jensen', [plain.id]: 'Plain Person' })
    // The representation changed, so its version did (RFC 7644 §3.14).
    expect(after.headers['etag']).not.toBe(before.headers['etag'])
    await c.patch(`/Users/${babs.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'displayName' }] })
    expect(displays((await c.get(`/Groups/${g.id}`)).body.members)[babs.id]).toBe('bjensen@example.com')
  })
})

const pathOf = (location: string): string => location.split('/').pop() as string
