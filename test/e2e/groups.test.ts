import { GROUP, USER, VARIANTS, client, defaultAdapter, expectError, makeApp, type Client } from './harness'
import { pathOf, seed } from './fixtures'

describe.each(VARIANTS)('Groups: $name', (v) => {
  let c: Client
  beforeEach(() => {
    c = client(v, makeApp(v))
  })

  it('RES-060/RES-061: members are returned with value, type "User" and $ref ending /Users/<id>', async () => {
    const s = await seed(c, true)
    expect(s.g1.meta.resourceType).toBe('Group')
    const res = await c.get(`/Groups/${s.g1.id}`)
    expect(res.status).toBe(200)
    expect(res.body.schemas).toEqual([GROUP])
    expect(res.body.displayName).toBe('Tour Guides')
    expect(res.body.members).toHaveLength(2)
    for (const m of res.body.members) {
      expect([s.u1.id, s.u2.id]).toContain(m.value)
      expect(m.type).toBe('User')
      expect(pathOf(m.$ref)).toBe(`${v.mount}/Users/${m.value}`)
      expect(m.$ref).toMatch(/^http:\/\//)
    }
    expect(res.body.members.map((m: any) => m.value)).toEqual([s.u1.id, s.u2.id]) // RES-062 insertion order
    // display from displayName, else userName
    expect(res.body.members.find((m: any) => m.value === s.u1.id).display).toBe('Babs Jensen')
    expect(res.body.members.find((m: any) => m.value === s.u2.id).display).toBe('JSmith@Example.com')
  })

  it('RES-061/PAT-065: client-sent $ref, type and display on members are ignored', async () => {
    const s = await seed(c)
    const res = await c.post('/Groups', {
      schemas: [GROUP],
      displayName: 'G',
      members: [{ value: s.u1.id, $ref: 'http://evil/x', type: 'Group', display: 'Not Babs' }],
    })
    expect(res.status).toBe(201)
    expect(res.body.members).toHaveLength(1)
    expect(res.body.members[0].type).toBe('User')
    expect(pathOf(res.body.members[0].$ref)).toBe(`${v.mount}/Users/${s.u1.id}`)
    expect(res.body.members[0].display).toBe('Babs Jensen')
  })

  it('RES-063: User.groups is derived from Group members and readOnly', async () => {
    const s = await seed(c, true)
    const u1 = await c.get(`/Users/${s.u1.id}`)
    expect(u1.body.groups).toHaveLength(1)
    expect(u1.body.groups[0]).toMatchObject({ value: s.g1.id, display: 'Tour Guides', type: 'direct' })
    expect(pathOf(u1.body.groups[0].$ref)).toBe(`${v.mount}/Groups/${s.g1.id}`)
    const u3 = await c.get(`/Users/${s.u3.id}`)
    expect(u3.body).not.toHaveProperty('groups')
    // writing groups on a User is ignored
    const put = await c.put(`/Users/${s.u3.id}`, { schemas: [USER], userName: 'omalley', groups: [{ value: s.g1.id }] })
    expect(put.status).toBe(200)
    expect(put.body).not.toHaveProperty('groups')
    const g1 = await c.get(`/Groups/${s.g1.id}`)
    expect(g1.body.members.map((m: any) => m.value)).not.toContain(s.u3.id)
  })

  it('RES-030: displayName is required (missing, empty) → 400 invalidValue', async () => {
    expectError(await c.post('/Groups', { schemas: [GROUP], members: [] }), 400, 'invalidValue')
    expectError(await c.post('/Groups', { schemas: [GROUP], displayName: '' }), 400, 'invalidValue')
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'X' })
    expectError(await c.put(`/Groups/${g.body.id}`, { schemas: [GROUP] }), 400, 'invalidValue')
    expect((await c.get('/Groups')).body.totalResults).toBe(1)
  })

  it('RES-022: displayName is unique case-insensitively → 409 uniqueness', async () => {
    await seed(c, true)
    expectError(await c.post('/Groups', { schemas: [GROUP], displayName: 'tour guides' }), 409, 'uniqueness')
    expectError(await c.post('/Groups', { schemas: [GROUP], displayName: 'Tour Guides' }), 409, 'uniqueness')
    expect((await c.get('/Groups')).body.totalResults).toBe(2)
  })

  it('RES-022: groupDisplayNameUnique: false allows duplicates', async () => {
    const c2 = client(v, makeApp(v, { groupDisplayNameUnique: false }))
    expect((await c2.post('/Groups', { schemas: [GROUP], displayName: 'Same' })).status).toBe(201)
    expect((await c2.post('/Groups', { schemas: [GROUP], displayName: 'same' })).status).toBe(201)
  })

  it('a member with an unknown id is 400 invalidValue and stores nothing', async () => {
    const s = await seed(c)
    expectError(
      await c.post('/Groups', { schemas: [GROUP], displayName: 'Bad', members: [{ value: s.u1.id }, { value: 'no-such-id' }] }),
      400,
      'invalidValue',
    )
    expect((await c.get('/Groups')).body.totalResults).toBe(0)
    expect((await c.get(`/Users/${s.u1.id}`)).body).not.toHaveProperty('groups')
  })

  it('PAT-064: a Group member that is a Group is 400 invalidValue unless the adapter enables nested groups', async () => {
    const s = await seed(c, true)
    const flat = await c.post('/Groups', { schemas: [GROUP], displayName: 'Parent', members: [{ value: s.g1.id }] })
    expectError(flat, 400, 'invalidValue')
    const nested = client(v, makeApp(v, {}, defaultAdapter({ nestedGroups: true })))
    const n = await seed(nested, true)
    const res = await nested.post('/Groups', { schemas: [GROUP], displayName: 'Parent', members: [{ value: n.g1.id }] })
    expect(res.status).toBe(201)
    expect(res.body.members[0].type).toBe('Group')
    expect(pathOf(res.body.members[0].$ref)).toBe(`${v.mount}/Groups/${n.g1.id}`)
  })

  it('EP-053: deleting a User removes it from every Group', async () => {
    const s = await seed(c, true)
    const before = await c.get(`/Groups/${s.g1.id}`)
    expect((await c.delete(`/Users/${s.u2.id}`)).status).toBe(204)
    const g1 = await c.get(`/Groups/${s.g1.id}`)
    expect(g1.body.members.map((m: any) => m.value)).toEqual([s.u1.id])
    expect(g1.body.meta.version).not.toBe(before.body.meta.version)
    // the last member leaving removes `members` (RES-010)
    expect((await c.delete(`/Users/${s.u1.id}`)).status).toBe(204)
    const empty = await c.get(`/Groups/${s.g1.id}`)
    expect(empty.status).toBe(200)
    expect(empty.body).not.toHaveProperty('members')
  })

  it('RES-041: a PUT without members clears them; with members replaces them', async () => {
    const s = await seed(c, true)
    const res = await c.put(`/Groups/${s.g1.id}`, { schemas: [GROUP], displayName: 'Tour Guides' })
    expect(res.status).toBe(200)
    expect(res.body).not.toHaveProperty('members')
    expect((await c.get(`/Users/${s.u1.id}`)).body).not.toHaveProperty('groups')
    const res2 = await c.put(`/Groups/${s.g1.id}`, { schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: s.u3.id }] })
    expect(res2.body.members.map((m: any) => m.value)).toEqual([s.u3.id])
    expect((await c.get(`/Users/${s.u3.id}`)).body.groups.map((g: any) => g.value)).toEqual([s.g1.id])
  })

  it('RES-041: preserveMembersOnPut keeps members when a PUT omits them', async () => {
    const c2 = client(v, makeApp(v, { preserveMembersOnPut: true }))
    const s = await seed(c2, true)
    const res = await c2.put(`/Groups/${s.g1.id}`, { schemas: [GROUP], displayName: 'Renamed' })
    expect(res.body.displayName).toBe('Renamed')
    expect(res.body.members).toHaveLength(2)
  })

  it('LST-043: excludedAttributes=members on GET by id and on a filtered list', async () => {
    const s = await seed(c, true)
    const one = await c.get(`/Groups/${s.g1.id}?excludedAttributes=members`)
    expect(one.status).toBe(200)
    expect(one.body).not.toHaveProperty('members')
    expect(one.body).toHaveProperty('displayName', 'Tour Guides')
    expect(one.body).toHaveProperty('meta')
    const list = await c.get('/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Tour%20Guides%22')
    expect(list.status).toBe(200)
    expect(list.body.totalResults).toBe(1)
    expect(list.body.Resources[0]).not.toHaveProperty('members')
    expect(Object.keys(list.body.Resources[0]).sort()).toEqual(['displayName', 'id', 'meta', 'schemas'])
  })

  it('EP-050/EP-051: DELETE a Group → 204, then 404; Users lose the derived groups', async () => {
    const s = await seed(c, true)
    expect((await c.delete(`/Groups/${s.g1.id}`)).status).toBe(204)
    expectError(await c.get(`/Groups/${s.g1.id}`), 404)
    expectError(await c.delete(`/Groups/${s.g1.id}`), 404)
    expect((await c.get(`/Users/${s.u1.id}`)).body).not.toHaveProperty('groups')
  })

  it('EP-021: a User id under /Groups is 404', async () => {
    const s = await seed(c)
    expectError(await c.get(`/Groups/${s.u1.id}`), 404)
    expectError(await c.delete(`/Groups/${s.u1.id}`), 404)
    expect((await c.get(`/Users/${s.u1.id}`)).status).toBe(200)
  })

  it('RES-032: a Group body with the User schema is 400 invalidValue', async () => {
    expectError(await c.post('/Groups', { schemas: [USER], displayName: 'X' }), 400, 'invalidValue')
  })
})
