import request from 'supertest'
import { ENTERPRISE, ERROR, GROUP, LIST, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { pathOf } from './fixtures'

const SPC = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
const RT = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema'
const CHARACTERISTICS = ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness']

function walk(attrs: any[], visit: (a: any, path: string) => void, prefix = ''): void {
  for (const a of attrs) {
    visit(a, prefix + a.name)
    if (a.subAttributes) walk(a.subAttributes, visit, `${prefix}${a.name}.`)
  }
}

describe.each(VARIANTS)('Discovery: $name', (v) => {
  let c: Client
  let app: ReturnType<typeof makeApp>
  beforeEach(() => {
    app = makeApp(v)
    c = client(v, app)
  })
  const anon = (path: string) => request(app).get(v.mount + path)

  it('DSC-001/010/013: ServiceProviderConfig shape', async () => {
    const res = await c.get('/ServiceProviderConfig')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
    const b = res.body
    expect(b.schemas).toEqual([SPC])
    expect(typeof b.patch.supported).toBe('boolean')
    expect(b.bulk).toEqual({ supported: false, maxOperations: 0, maxPayloadSize: 0 })
    expect(b.filter.supported).toBe(true)
    expect(Number.isInteger(b.filter.maxResults)).toBe(true)
    expect(b.filter.maxResults).toBe(100)
    expect(typeof b.changePassword.supported).toBe('boolean')
    expect(b.sort).toEqual({ supported: true })
    expect(b.etag).toEqual({ supported: true })
    expect(b.pagination).toEqual({ cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 100, cursorTimeout: 600 })
    expect(b.authenticationSchemes).toEqual([
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication scheme using the OAuth Bearer Token Standard',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ])
    expect(b.meta.resourceType).toBe('ServiceProviderConfig')
    expect(pathOf(b.meta.location)).toBe(`${v.mount}/ServiceProviderConfig`)
    expect(JSON.stringify(b)).not.toContain('null')
  })

  it('DSC-010/EP-041: patch.supported is true and PATCH is served', async () => {
    const spc = await c.get('/ServiceProviderConfig')
    const u = await c.post('/Users', { schemas: [USER], userName: 'p@example.com' })
    const res = await c.patch(`/Users/${u.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'T' }],
    })
    expect(spc.body.patch).toEqual({ supported: true })
    expect(res.status).toBe(200)
    expect(res.body.title).toBe('T')
  })

  it('DSC-010/LST-022: page size options are advertised', async () => {
    const c2 = client(v, makeApp(v, { maxPageSize: 50, defaultPageSize: 20 }))
    const b = (await c2.get('/ServiceProviderConfig')).body
    expect(b.filter.maxResults).toBe(50)
    expect(b.pagination).toMatchObject({ defaultPageSize: 20, maxPageSize: 50 })
  })

  it('DSC-020/021/022: ResourceTypes in order User, Group', async () => {
    const res = await c.get('/ResourceTypes')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 2, startIndex: 1, itemsPerPage: 2 })
    const [user, group] = res.body.Resources
    expect({ ...user, meta: undefined }).toEqual({
      schemas: [RT],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER,
      schemaExtensions: [{ schema: ENTERPRISE, required: false }],
      meta: undefined,
    })
    expect(user.meta.resourceType).toBe('ResourceType')
    expect(pathOf(user.meta.location)).toBe(`${v.mount}/ResourceTypes/User`)
    expect(group).toMatchObject({ name: 'Group', endpoint: '/Groups', schema: GROUP, description: 'Group' })
  })

  it('DSC-023: single ResourceType, case-insensitive; unknown → 404', async () => {
    const res = await c.get('/ResourceTypes/User')
    expect(res.status).toBe(200)
    expect(res.body.schemas).toEqual([RT])
    expect(res.body.endpoint).toBe('/Users')
    expect(res.body).not.toHaveProperty('Resources')
    expect((await c.get('/ResourceTypes/group')).body.endpoint).toBe('/Groups')
    expectError(await c.get('/ResourceTypes/Unknown'), 404)
  })

  it('DSC-030: Schemas list contains User, Group, Enterprise; text contains "User Account"', async () => {
    const res = await c.get('/Schemas')
    expect(res.status).toBe(200)
    expect(res.body.schemas).toEqual([LIST])
    expect(res.body.totalResults).toBeGreaterThanOrEqual(3)
    expect(res.body.itemsPerPage).toBe(res.body.Resources.length)
    const ids = res.body.Resources.map((s: any) => s.id)
    expect(ids).toEqual(expect.arrayContaining([USER, GROUP, ENTERPRISE]))
    expect(res.text).toContain('User Account')
    for (const s of res.body.Resources) {
      expect(s.schemas).toEqual([SCHEMA])
      expect(typeof s.name).toBe('string')
      expect(typeof s.description).toBe('string')
      expect(Array.isArray(s.attributes)).toBe(true)
      expect(s.meta.resourceType).toBe('Schema')
      expect(pathOf(s.meta.location)).toBe(`${v.mount}/Schemas/${s.id}`)
    }
    const byId = Object.fromEntries(res.body.Resources.map((s: any) => [s.id, s]))
    expect(byId[USER].description).toBe('User Account')
    expect(byId[GROUP].description).toBe('Group')
    expect(byId[ENTERPRISE].description).toBe('Enterprise User')
  })

  it('DSC-032: every attribute definition states every characteristic, camelCase, no nulls', async () => {
    const res = await c.get('/Schemas')
    expect(res.text).not.toContain('null')
    for (const s of res.body.Resources) {
      walk(s.attributes, (a, path) => {
        for (const k of CHARACTERISTICS) expect({ path, has: k in a }).toEqual({ path, has: true })
        expect(['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary']).toContain(a.type)
        expect(['readWrite', 'readOnly', 'writeOnly', 'immutable']).toContain(a.mutability)
        expect(['always', 'never', 'default', 'request']).toContain(a.returned)
        expect(['none', 'server', 'global']).toContain(a.uniqueness)
        if (a.type === 'complex') expect({ path, sub: Array.isArray(a.subAttributes) }).toEqual({ path, sub: true })
        if ('canonicalValues' in a) expect(a.canonicalValues.length).toBeGreaterThan(0)
        if ('referenceTypes' in a) expect(a.referenceTypes.length).toBeGreaterThan(0)
      })
    }
  })

  it('RFC 7643 §4, §8.7.1: key characteristics of the core schemas', async () => {
    const user = (await c.get(`/Schemas/${USER}`)).body
    const attr = (s: any, name: string) => s.attributes.find((a: any) => a.name === name)
    expect(attr(user, 'userName')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false })
    expect(attr(user, 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' })
    expect(attr(user, 'groups')).toMatchObject({ mutability: 'readOnly', multiValued: true })
    const group = (await c.get(`/Schemas/${GROUP}`)).body
    expect(attr(group, 'displayName')).toMatchObject({ required: true, uniqueness: 'server' }) // RES-030, RES-022
    const ent = (await c.get(`/Schemas/${ENTERPRISE}`)).body
    const mgr = attr(ent, 'manager')
    expect(mgr.type).toBe('complex')
    expect(mgr.subAttributes.find((a: any) => a.name === 'displayName').mutability).toBe('readOnly')
    expect(mgr.subAttributes.find((a: any) => a.name === '$ref').referenceTypes).toEqual(['User'])
  })

  it('DSC-031: single Schema by URN, percent-decoded, case-insensitive; unknown → 404', async () => {
    const res = await c.get(`/Schemas/${USER}`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(USER)
    expect(res.body.schemas).toEqual([SCHEMA])
    expect((await c.get(`/Schemas/${encodeURIComponent(USER)}`)).body.id).toBe(USER)
    expect((await c.get(`/Schemas/${ENTERPRISE.toUpperCase()}`)).body.id).toBe(ENTERPRISE)
    expectError(await c.get('/Schemas/urn:example:nope'), 404)
  })

  it('DSC-003: paging/sorting/projection parameters are ignored on discovery lists', async () => {
    const res = await c.get('/Schemas?count=1&startIndex=2&sortBy=name&attributes=id')
    expect(res.status).toBe(200)
    expect(res.body.totalResults).toBeGreaterThanOrEqual(3)
    expect(res.body.Resources).toHaveLength(res.body.totalResults)
    expect(res.body.startIndex).toBe(1)
    expect(res.body.Resources[0]).toHaveProperty('attributes')
  })

  it.each(['/ResourceTypes?filter=name%20eq%20%22User%22', '/Schemas?filter=id%20eq%20%22x%22', '/ServiceProviderConfig?filter=x'])(
    'DSC-004: %s → 403 without scimType',
    async (path) => {
      expectError(await c.get(path), 403)
    },
  )

  it('DSC-002: discovery is public; credentials still work; publicDiscovery:false requires auth', async () => {
    for (const p of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/User', '/Schemas', `/Schemas/${USER}`]) {
      expect((await anon(p)).status).toBe(200)
      expect((await anon(p).set('Authorization', 'Bearer wrong')).status).toBe(200)
    }
    const closed = makeApp(v, { publicDiscovery: false })
    const r = await request(closed).get(`${v.mount}/ServiceProviderConfig`)
    expectError(r, 401)
    expect(r.headers['www-authenticate']).toMatch(/^Bearer/)
    expect((await client(v, closed).get('/ServiceProviderConfig')).status).toBe(200)
  })

  it('DSC-001/EP-006: other methods on discovery endpoints → 501 or 405 with the envelope', async () => {
    const responses = [
      await c.raw.delete(v.mount + '/ServiceProviderConfig'),
      await c.post('/Schemas', {}),
      await c.put('/ResourceTypes/User', {}),
      await c.patch('/ServiceProviderConfig', {}),
    ]
    for (const r of responses) {
      expect([405, 501]).toContain(r.status)
      expectError(r, r.status)
      expect(r.body.schemas).toEqual([ERROR])
    }
  })

  it('EP-005: unknown discovery sub-paths → 404', async () => {
    expectError(await c.get('/ServiceProviderConfig/x'), 404)
    expectError(await c.get('/Schemas/a/b'), 404)
  })

  it('EXT-020: a host extension is listed in ResourceTypes and Schemas', async () => {
    const EXT = 'urn:ietf:params:scim:schemas:extension:Acme:2.0:User'
    const c2 = client(
      v,
      makeApp(v, { extensions: [{ resourceType: 'User', schema: { id: EXT, name: 'Acme', attributes: [{ name: 'tag', type: 'string' } as any] } }] }),
    )
    const rt = await c2.get('/ResourceTypes/User')
    expect(rt.body.schemaExtensions).toEqual([
      { schema: ENTERPRISE, required: false },
      { schema: EXT, required: false },
    ])
    const sch = await c2.get(`/Schemas/${EXT}`)
    expect(sch.status).toBe(200)
    const tag = sch.body.attributes[0]
    for (const k of CHARACTERISTICS) expect(tag).toHaveProperty(k)
    // EXT-022: data accepted even when schemas omits the URN
    const u = await c2.post('/Users', { schemas: [USER], userName: 'acme@example.com', [EXT]: { tag: '701984' } })
    expect(u.status).toBe(201)
    expect(u.body.schemas).toEqual([USER, EXT])
    const f = await c2.get(`/Users?filter=${encodeURIComponent(`${EXT}:tag eq "701984"`)}`)
    expect(f.body.totalResults).toBe(1)
  })
})
