import { ENTERPRISE, GROUP, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { noHost, pathOf, seed, u1Body } from './fixtures'

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

describe.each(VARIANTS)('Users: $name', (v) => {
  let c: Client
  beforeEach(() => {
    c = client(v, makeApp(v))
  })

  const post = (body: Record<string, unknown>) => c.post('/Users', { schemas: [USER], ...body })

  describe('POST /Users (RFC 7644 §3.3)', () => {
    it('EP-010/EP-011: 201, Location == meta.location, ETag, created == lastModified, resourceType User', async () => {
      const res = await post({
        userName: 'new1@example.com',
        name: { givenName: 'New', familyName: 'One' },
        emails: [{ value: 'new1@example.com', type: 'work', primary: true }],
        active: true,
      })
      expect(res.status).toBe(201)
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
      expect(typeof res.body.id).toBe('string')
      expect(res.body.id.length).toBeGreaterThan(0)
      expect(res.headers['location']).toBe(res.body.meta.location)
      expect(res.headers['location']).toMatch(new RegExp(`^http://[^/]+${v.mount}/Users/${res.body.id}$`))
      expect(res.headers['etag']).toBe(res.body.meta.version)
      expect(res.headers['etag']).toMatch(/^W\/".+"$/)
      expect(res.body.meta.resourceType).toBe('User')
      expect(res.body.meta.created).toMatch(DATE)
      expect(res.body.meta.lastModified).toBe(res.body.meta.created)
      expect(res.body.userName).toBe('new1@example.com')
      expect(res.body.active).toBe(true)
      expect(res.body.schemas).toEqual([USER])
      expect(res.body.name).toEqual({ givenName: 'New', familyName: 'One' })
    })

    it('EP-012/RES-001: client-supplied id and meta are ignored', async () => {
      const res = await post({
        id: 'client-chosen',
        userName: 'idtest@example.com',
        meta: { created: '2019-09-18T18:15:26Z', resourceType: 'Group', location: 'http://evil/x' },
      })
      expect(res.status).toBe(201)
      expect(res.body.id).not.toBe('client-chosen')
      expect(res.body.meta.created.startsWith('2019')).toBe(false)
      expect(res.body.meta.resourceType).toBe('User')
      expect(res.body.meta.location).not.toBe('http://evil/x')
      expectError(await c.get('/Users/client-chosen'), 404)
    })

    it('EP-013/RES-020: duplicate userName, exact or in another case, is 409 uniqueness', async () => {
      expect((await post({ userName: 'bjensen@example.com' })).status).toBe(201)
      expectError(await post({ userName: 'bjensen@example.com' }), 409, 'uniqueness')
      expectError(await post({ userName: 'BJENSEN@EXAMPLE.COM' }), 409, 'uniqueness')
      const list = await c.get('/Users')
      expect(list.body.totalResults).toBe(1)
    })

    // The requirements text writes "Zoe\u0301" (e + combining ACUTE, i.e. "Zoé"); the NFD form of "Zoë" is
    // "Zoe\u0308" (combining DIAERESIS), which is what RES-021 means.
    it('RES-021: userName comparison is NFC + case-insensitive ("Zoe\\u0308" vs "Zoë", OMALLEY vs omalley)', async () => {
      expect((await post({ userName: 'Zo\u00eb' })).status).toBe(201)
      expectError(await post({ userName: 'Zoe\u0308' }), 409, 'uniqueness')
      expect((await post({ userName: 'Zoe\u0301' })).status).toBe(201) // "Zoé" is a different name
      expectError(await post({ userName: 'ZOË' }), 409, 'uniqueness')
      expect((await post({ userName: 'omalley' })).status).toBe(201)
      expectError(await post({ userName: 'OMALLEY' }), 409, 'uniqueness')
    })

    it('EP-014/RES-030: missing, null or empty userName is 400 invalidValue', async () => {
      expectError(await post({ name: { givenName: 'x' } }), 400, 'invalidValue')
      expectError(await post({ userName: '' }), 400, 'invalidValue')
      expectError(await post({ userName: null }), 400, 'invalidValue')
      expect((await c.get('/Users')).body.totalResults).toBe(0)
    })

    it('RES-050: password is accepted and never returned, even with attributes=password', async () => {
      const res = await post({ userName: 'pw@example.com', password: '1mz050nq' })
      expect(res.status).toBe(201)
      expect(res.body).not.toHaveProperty('password')
      expect(JSON.stringify(res.body)).not.toContain('1mz050nq')
      const got = await c.get(`/Users/${res.body.id}?attributes=password`)
      expect(got.status).toBe(200)
      expect(got.body).not.toHaveProperty('password')
      const got2 = await c.get(`/Users/${res.body.id}?attributes=password,userName`)
      expect(got2.body.userName).toBe('pw@example.com')
      expect(got2.body).not.toHaveProperty('password')
      const list = await c.get('/Users?attributes=password')
      expect(JSON.stringify(list.body)).not.toContain('1mz050nq')
      const put = await c.put(`/Users/${res.body.id}`, { schemas: [USER], userName: 'pw@example.com', password: 'other-secret' })
      expect(put.status).toBe(200)
      expect(put.body).not.toHaveProperty('password')
    })

    it('RES-004: attribute names are case-insensitive on input, canonical on output', async () => {
      const res = await c.post('/Users', {
        schemas: [USER],
        UserName: 'casey@example.com',
        NAME: { GivenName: 'Casey' },
        Emails: [{ Value: 'casey@example.com', Type: 'work', Primary: true }],
        ACTIVE: true,
      })
      expect(res.status).toBe(201)
      expect(res.body.userName).toBe('casey@example.com')
      expect(res.body.name).toEqual({ givenName: 'Casey' })
      expect(res.body.emails).toEqual([{ value: 'casey@example.com', type: 'work', primary: true }])
      expect(res.body.active).toBe(true)
      expect(res.body).not.toHaveProperty('UserName')
      expect(res.body).not.toHaveProperty('Emails')
    })

    it('RES-004: the same name twice in different case is 400 invalidSyntax', async () => {
      expectError(await c.post('/Users', `{"schemas":["${USER}"],"userName":"a@x.com","USERNAME":"b@x.com"}`), 400, 'invalidSyntax')
      expectError(
        await c.post('/Users', `{"schemas":["${USER}"],"userName":"a@x.com","name":{"givenName":"a","GIVENNAME":"b"}}`),
        400,
        'invalidSyntax',
      )
      expect((await c.get('/Users')).body.totalResults).toBe(0)
    })

    it('RES-010: nulls and empty arrays are unassigned and omitted from output', async () => {
      const res = await post({
        userName: 'nulls@example.com',
        title: null,
        phoneNumbers: null,
        addresses: [],
        name: { givenName: 'N', middleName: null },
      })
      expect(res.status).toBe(201)
      expect(res.body).not.toHaveProperty('title')
      expect(res.body).not.toHaveProperty('phoneNumbers')
      expect(res.body).not.toHaveProperty('addresses')
      expect(res.body.name).toEqual({ givenName: 'N' })
      expect(JSON.stringify(res.body)).not.toMatch(/:null|\[\]|\{\}/)
    })

    it('MT-011: Unicode and quotes round-trip exactly (U3)', async () => {
      const res = await post({ userName: 'omalley', displayName: 'Zoë Ångström', nickName: 'Bob "The Builder"', name: { familyName: "O'Malley" } })
      expect(res.status).toBe(201)
      const got = await c.get(`/Users/${res.body.id}`)
      expect(got.body.displayName).toBe('Zoë Ångström')
      expect(got.body.nickName).toBe('Bob "The Builder"')
      expect(got.body.name.familyName).toBe("O'Malley")
      // stored as given: not normalised to NFD or NFC
      const nfd = await post({ userName: 'nfd', displayName: 'Zoe\u0301' })
      expect((await c.get(`/Users/${nfd.body.id}`)).body.displayName).toBe('Zoe\u0301')
    })

    it('EXT-002/EXT-003: enterprise extension container is stored and its URN listed in schemas', async () => {
      const res = await post({ userName: 'ent@example.com', [ENTERPRISE]: { department: 'Sales', employeeNumber: '7' } })
      expect(res.status).toBe(201)
      expect(res.body.schemas).toEqual([USER, ENTERPRISE])
      expect(res.body[ENTERPRISE]).toEqual({ employeeNumber: '7', department: 'Sales' })
    })

    it('EXT-005: flat URN-qualified keys are folded into the container; the flat key wins', async () => {
      const res = await post({
        userName: 'flat@example.com',
        [`${ENTERPRISE}:employeeNumber`]: '42',
      })
      expect(res.status).toBe(201)
      expect(res.body[ENTERPRISE]).toEqual({ employeeNumber: '42' })
      expect(res.body.schemas).toContain(ENTERPRISE)
      expect(res.body).not.toHaveProperty(`${ENTERPRISE}:employeeNumber`)
      const both = await post({
        userName: 'flat2@example.com',
        [ENTERPRISE]: { department: 'Container', costCenter: 'c1' },
        [`${ENTERPRISE}:department`]: 'Flat',
      })
      expect(both.status).toBe(201)
      expect(both.body[ENTERPRISE]).toEqual({ department: 'Flat', costCenter: 'c1' })
    })

    it('EXT-006: a bare extension attribute name at top level is folded; Entra nulls are fine', async () => {
      const res = await c.post('/Users', {
        schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'],
        userName: 'entra@example.com',
        department: null,
        manager: null,
      })
      expect(res.status).toBe(201)
      expect(res.body.schemas).toEqual([USER])
      const r2 = await post({ userName: 'entra2@example.com', department: 'Ops' })
      expect(r2.body[ENTERPRISE]).toEqual({ department: 'Ops' })
    })

    it('RES-005: unknown attributes and unknown extension containers are ignored', async () => {
      const res = await post({
        userName: 'unknown@example.com',
        favouriteColour: 'blue',
        'urn:example:unknown:2.0:User': { x: 1 },
        name: { givenName: 'U', nonsense: 'x' },
      })
      expect(res.status).toBe(201)
      expect(res.body).not.toHaveProperty('favouriteColour')
      expect(res.body).not.toHaveProperty('urn:example:unknown:2.0:User')
      expect(res.body.name).toEqual({ givenName: 'U' })
      expect(res.body.schemas).toEqual([USER])
    })

    it('RES-070: schemas order and duplicates do not matter; output lists each URN once', async () => {
      const res = await c.post('/Users', {
        schemas: [ENTERPRISE, USER, USER],
        userName: 'order@example.com',
        [ENTERPRISE]: { department: 'X' },
      })
      expect(res.status).toBe(201)
      expect(res.body.schemas).toEqual([USER, ENTERPRISE])
      const noData = await c.post('/Users', { schemas: [USER, ENTERPRISE], userName: 'nodata@example.com' })
      expect(noData.body.schemas).toEqual([USER]) // RES-071
    })

    it('RES-032: schemas without the core User URN is 400 invalidValue; missing schemas is accepted', async () => {
      expectError(await c.post('/Users', { schemas: [GROUP], userName: 'g@example.com' }), 400, 'invalidValue')
      expectError(await c.post('/Users', { schemas: [ENTERPRISE], userName: 'g@example.com' }), 400, 'invalidValue')
      const ok = await c.post('/Users', { userName: 'noschemas@example.com' })
      expect(ok.status).toBe(201)
      expect(ok.body.schemas).toEqual([USER])
    })

    it.each([
      ['a string', USER],
      ['an array with a number', [USER, 7]],
      ['an object', { 0: USER }],
      ['a number', 1],
    ])('schemas as %s is 400 invalidSyntax (issue 2 "Bad input")', async (_label, schemas) => {
      expectError(await c.post('/Users', { schemas, userName: 'bad@example.com' }), 400, 'invalidSyntax')
      expect((await c.get('/Users')).body.totalResults).toBe(0)
    })

    it('MT-031/PAT-070: "True"/"False" strings are accepted and returned as JSON booleans', async () => {
      const t = await post({ userName: 't@example.com', active: 'True', emails: [{ value: 't@x.com', primary: 'True' }] })
      expect(t.status).toBe(201)
      expect(t.body.active).toBe(true)
      expect(t.body.emails[0].primary).toBe(true)
      const f = await post({ userName: 'f@example.com', active: 'False' })
      expect(f.body.active).toBe(false)
      expect((await c.get(`/Users/${f.body.id}`)).body.active).toBe(false)
    })

    it.each([
      ['active "maybe"', { active: 'maybe' }],
      ['active "yes"', { active: 'yes' }],
      ['active 1', { active: 1 }],
      ['userName as object', { userName: { value: 'x' } }],
      ['userName as number', { userName: 7 }],
      ['emails as a string', { emails: 'x@example.com' }],
      ['x509Certificates not base64', { x509Certificates: [{ value: 'not base64!' }] }],
      ['name as a string', { name: 'Barbara' }],
    ])('RES-012: %s is 400 invalidValue and stores nothing', async (_label, extra) => {
      expectError(await post({ userName: 'typed@example.com', ...extra }), 400, 'invalidValue')
      expect((await c.get('/Users')).body.totalResults).toBe(0)
    })

    it('RES-012 COMPAT: a single object where an array is expected is wrapped', async () => {
      const res = await post({ userName: 'wrap@example.com', emails: { value: 'w@example.com', type: 'work' } })
      expect(res.status).toBe(201)
      expect(res.body.emails).toEqual([{ value: 'w@example.com', type: 'work' }])
    })

    it('RES-080: at most one primary; the last one wins', async () => {
      const res = await post({
        userName: 'primary@example.com',
        emails: [
          { value: 'a@x.com', primary: true },
          { value: 'b@x.com', primary: true },
        ],
      })
      expect(res.status).toBe(201)
      const primaries = res.body.emails.filter((e: any) => e.primary === true)
      expect(primaries).toHaveLength(1)
      expect(primaries[0].value).toBe('b@x.com')
      expect(res.body.emails.find((e: any) => e.value === 'a@x.com').primary).toBe(false)
    })

    it('RES-081: duplicate multi-valued elements are merged', async () => {
      const res = await post({
        userName: 'dupes@example.com',
        emails: [
          { value: 'a@x.com', type: 'work' },
          { value: 'a@x.com', type: 'work' },
        ],
      })
      expect(res.body.emails).toEqual([{ value: 'a@x.com', type: 'work' }])
    })

    it.each([
      ['a bare string', '123456'],
      ['an object', { value: '123456' }],
      ['a one-element array', [{ value: '123456', $ref: 'ignored' }]],
      ['OneLogin managerId', { managerId: '123456' }],
    ])('EXT-007: manager as %s is stored as {value}', async (_label, manager) => {
      const res = await post({ userName: 'report@example.com', [ENTERPRISE]: { manager } })
      expect(res.status).toBe(201)
      expect(res.body[ENTERPRISE].manager.value).toBe('123456')
      expect(res.body[ENTERPRISE].manager).not.toHaveProperty('displayName')
    })

    it('EXT-007: manager "" or null unassigns', async () => {
      const res = await post({ userName: 'nomgr@example.com', [ENTERPRISE]: { manager: '', department: 'D' } })
      expect(res.status).toBe(201)
      expect(res.body[ENTERPRISE]).toEqual({ department: 'D' })
    })

    it('EXT-007: manager $ref is generated for an existing manager User', async () => {
      const boss = await post({ userName: 'boss@example.com' })
      const res = await post({ userName: 'worker@example.com', [ENTERPRISE]: { manager: boss.body.id } })
      expect(res.body[ENTERPRISE].manager.value).toBe(boss.body.id)
      expect(res.body[ENTERPRISE].manager.$ref).toMatch(new RegExp(`${v.mount}/Users/${boss.body.id}$`))
    })

    it('EXT-008: manager referential integrity is not enforced', async () => {
      const res = await post({ userName: 'suzzy@example.com', [ENTERPRISE]: { Manager: { Value: 'SuzzyQ' } } })
      expect(res.status).toBe(201)
      expect(res.body[ENTERPRISE].manager.value).toBe('SuzzyQ')
    })

    it('RES-006: externalId is not unique and is caseExact', async () => {
      expect((await post({ userName: 'e1@example.com', externalId: 'same' })).status).toBe(201)
      const r = await post({ userName: 'e2@example.com', externalId: 'same' })
      expect(r.status).toBe(201)
      expect(r.body.externalId).toBe('same')
    })

    it('RES-042: readOnly groups in a POST body are ignored', async () => {
      const res = await post({ userName: 'ro@example.com', groups: [{ value: 'g-1', display: 'x' }] })
      expect(res.status).toBe(201)
      expect(res.body).not.toHaveProperty('groups')
    })
  })

  describe('GET /Users/{id} (RFC 7644 §3.4.1)', () => {
    it('EP-020/RES-008: 200 with Location, Content-Location and ETag', async () => {
      const created = await post({ userName: 'get@example.com' })
      const res = await c.get(`/Users/${created.body.id}`)
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
      expect(noHost(res.body)).toEqual(noHost(created.body))
      expect(res.headers['location']).toBe(res.body.meta.location)
      expect(res.headers['content-location']).toBe(res.body.meta.location)
      expect(pathOf(res.body.meta.location)).toBe(`${v.mount}/Users/${created.body.id}`)
      expect(res.headers['etag']).toBe(created.body.meta.version)
    })

    it('EP-021: unknown id is 404 with the error envelope', async () => {
      expectError(await c.get('/Users/00919288221112222'), 404)
    })

    it('EP-022: ids are case-exact', async () => {
      const created = await post({ userName: 'case@example.com' })
      const id: string = created.body.id
      const swapped = id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase()
      expectError(await c.get(`/Users/${swapped}`), 404)
    })

    it('EP-023: inactive users stay readable', async () => {
      const created = await post({ userName: 'inactive@example.com', active: false })
      const res = await c.get(`/Users/${created.body.id}`)
      expect(res.status).toBe(200)
      expect(res.body.active).toBe(false)
    })

    it('a Group id under /Users is 404', async () => {
      const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'G' })
      expectError(await c.get(`/Users/${g.body.id}`), 404)
    })
  })

  describe('PUT /Users/{id} (RFC 7644 §3.5.1)', () => {
    it('RES-040: PUT replaces readWrite attributes; omitted ones are cleared', async () => {
      const s = await seed(c, true)
      await new Promise((r) => setTimeout(r, 5))
      const res = await c.put(`/Users/${s.u1.id}`, {
        schemas: [USER],
        userName: 'bjensen@example.com',
        name: { givenName: 'Barbara', familyName: 'Jensen' },
        active: true,
        emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
      })
      expect(res.status).toBe(200)
      for (const k of ['title', 'displayName', 'phoneNumbers', 'userType', 'externalId', ENTERPRISE]) expect(res.body).not.toHaveProperty(k)
      expect(res.body.emails).toHaveLength(1)
      expect(res.body.name).toEqual({ givenName: 'Barbara', familyName: 'Jensen' })
      expect(res.body.schemas).toEqual([USER])
      expect(res.body.id).toBe(s.u1.id)
      expect(res.body.meta.created).toBe(s.u1.meta.created)
      expect(Date.parse(res.body.meta.lastModified)).toBeGreaterThan(Date.parse(s.u1.meta.lastModified))
      expect(res.body.meta.version).not.toBe(s.u1.meta.version)
      expect(res.headers['etag']).toBe(res.body.meta.version)
      expect(pathOf(res.headers['location'] as string)).toBe(pathOf(s.u1.meta.location))
      expect(res.headers['content-location']).toBe(res.body.meta.location)
      // EP-032: the response is the stored resource
      expect(noHost((await c.get(`/Users/${s.u1.id}`)).body)).toEqual(noHost(res.body))
    })

    it('RES-041: active and password omitted from a PUT are kept', async () => {
      const created = await post({ userName: 'keep@example.com', active: false, title: 'T' })
      const res = await c.put(`/Users/${created.body.id}`, { schemas: [USER], userName: 'keep@example.com' })
      expect(res.status).toBe(200)
      expect(res.body.active).toBe(false)
      expect(res.body).not.toHaveProperty('title')
    })

    it('RES-042: readOnly groups and meta in a PUT body are ignored', async () => {
      const s = await seed(c, true)
      const res = await c.put(`/Users/${s.u1.id}`, {
        ...u1Body(s.u2.id),
        groups: [{ value: s.g2.id }],
        meta: { created: '1999-01-01T00:00:00Z', resourceType: 'Group' },
      })
      expect(res.status).toBe(200)
      expect(res.body.groups.map((g: any) => g.value)).toEqual([s.g1.id])
      expect(res.body.meta.created).toBe(s.u1.meta.created)
      expect(res.body.meta.resourceType).toBe('User')
    })

    it('RES-044: a PUT without userName is 400 invalidValue and changes nothing', async () => {
      const created = await post({ userName: 'req@example.com', title: 'Keep' })
      expectError(await c.put(`/Users/${created.body.id}`, { schemas: [USER], title: 'New' }), 400, 'invalidValue')
      expect(noHost((await c.get(`/Users/${created.body.id}`)).body)).toEqual(noHost(created.body))
    })

    it('EP-031/RES-045: PUT on an unknown id is 404 and creates nothing', async () => {
      expectError(await c.put('/Users/unknown-id', { schemas: [USER], userName: 'ghost@example.com' }), 404)
      expect((await c.get('/Users')).body.totalResults).toBe(0)
    })

    it('RES-048: a body id differing from the path id is ignored', async () => {
      const a = await post({ userName: 'a@example.com' })
      const b = await post({ userName: 'b@example.com' })
      const res = await c.put(`/Users/${a.body.id}`, { schemas: [USER], id: b.body.id, userName: 'a2@example.com' })
      expect(res.status).toBe(200)
      expect(res.body.id).toBe(a.body.id)
      expect(res.body.userName).toBe('a2@example.com')
      expect((await c.get(`/Users/${b.body.id}`)).body.userName).toBe('b@example.com')
    })

    it('RES-048: a PUT whose schemas names Group is 400 invalidValue', async () => {
      const a = await post({ userName: 'a@example.com' })
      expectError(await c.put(`/Users/${a.body.id}`, { schemas: [GROUP], userName: 'a@example.com' }), 400, 'invalidValue')
    })

    it('RES-009: a no-op PUT keeps lastModified and ETag', async () => {
      const s = await seed(c)
      await new Promise((r) => setTimeout(r, 5))
      const res = await c.put(`/Users/${s.u1.id}`, u1Body(s.u2.id))
      expect(res.status).toBe(200)
      expect(res.body.meta.lastModified).toBe(s.u1.meta.lastModified)
      expect(res.body.meta.version).toBe(s.u1.meta.version)
      expect(res.headers['etag']).toBe(s.u1.meta.version)
      // Okta-style: resend the GET body (with id, meta, groups) unchanged
      const got = await c.get(`/Users/${s.u1.id}`)
      const again = await c.put(`/Users/${s.u1.id}`, got.body)
      expect(again.body.meta.version).toBe(s.u1.meta.version)
    })

    it('RES-020: PUT to another user\'s userName (different case) is 409; own name in new case is fine', async () => {
      const s = await seed(c)
      expectError(await c.put(`/Users/${s.u3.id}`, { schemas: [USER], userName: 'jsmith@example.com' }), 409, 'uniqueness')
      expect((await c.get(`/Users/${s.u3.id}`)).body.userName).toBe('omalley')
      const own = await c.put(`/Users/${s.u3.id}`, { schemas: [USER], userName: 'OMalley' })
      expect(own.status).toBe(200)
      expect(own.body.userName).toBe('OMalley')
    })

    it('RES-046: null or [] in a PUT clears', async () => {
      const created = await post({ userName: 'clr@example.com', title: 'T', emails: [{ value: 'x@x.com' }] })
      const res = await c.put(`/Users/${created.body.id}`, { schemas: [USER], userName: 'clr@example.com', title: null, emails: [] })
      expect(res.body).not.toHaveProperty('title')
      expect(res.body).not.toHaveProperty('emails')
    })
  })

  describe('DELETE /Users/{id} (RFC 7644 §3.6)', () => {
    it('EP-050/EP-051/EP-054: 204 with no body, then 404 for GET, PUT, PATCH, DELETE; gone from queries', async () => {
      const s = await seed(c)
      const del = await c.delete(`/Users/${s.u3.id}`)
      expect(del.status).toBe(204)
      expect(del.text).toBeFalsy()
      expectError(await c.get(`/Users/${s.u3.id}`), 404)
      expectError(await c.put(`/Users/${s.u3.id}`, { schemas: [USER], userName: 'omalley' }), 404)
      const patch = await c.patch(`/Users/${s.u3.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'x' }],
      })
      expectError(patch, 404)
      expectError(await c.delete(`/Users/${s.u3.id}`), 404)
      const list = await c.get('/Users?filter=userName%20eq%20%22omalley%22')
      expect(list.body.totalResults).toBe(0)
      expect((await c.get('/Users')).body.totalResults).toBe(2)
    })

    it('EP-054: DELETE of an unknown id is 404', async () => {
      expectError(await c.delete('/Users/does-not-exist'), 404)
    })

    it('EP-052/RES-024: a deleted userName can be reused', async () => {
      const s = await seed(c)
      expect((await c.delete(`/Users/${s.u3.id}`)).status).toBe(204)
      const again = await post({ userName: 'OMALLEY' })
      expect(again.status).toBe(201)
      expect(again.body.id).not.toBe(s.u3.id)
    })
  })
})
