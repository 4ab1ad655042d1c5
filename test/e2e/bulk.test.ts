/**
 * Bulk (scim-requirements §9, RFC 7644 §3.7): envelope, per-operation semantics, bulkId references
 * (data, paths, filters, forward, circular), failOnErrors, limits, and advertising (EP-062, BLK-051).
 */
import { ENTERPRISE, GROUP, USER, VARIANTS, client, defaultAdapter, expectError, makeApp, type Client } from './harness'
import { pathOf, seed } from './fixtures'

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'

const req = (Operations: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [BULK_REQUEST], ...extra, Operations })
const postUser = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: { schemas: [USER], userName, ...extra },
})

async function userCount(c: Client): Promise<number> {
  const res = await c.get('/Users?count=0')
  return res.body.totalResults
}
async function groupCount(c: Client): Promise<number> {
  const res = await c.get('/Groups?count=0')
  return res.body.totalResults
}

describe.each(VARIANTS)('Bulk disabled: $name', (v) => {
  it('EP-062: POST /Bulk → 501 when bulk is off; BLK-051: SPC bulk {supported:false,0,0}', async () => {
    const c = client(v, makeApp(v))
    const res = await c.post('/Bulk', req([postUser('a', 'a')]))
    expectError(res, 501)
    expect(await userCount(c)).toBe(0)
    const spc = await c.get('/ServiceProviderConfig')
    expect(spc.body.bulk).toEqual({ supported: false, maxOperations: 0, maxPayloadSize: 0 })
  })
})

describe.each(VARIANTS)('Bulk enabled: $name', (v) => {
  let c: Client
  beforeEach(() => {
    c = client(v, makeApp(v, { bulk: true }))
  })

  it('BLK-051: SPC advertises supported true with the default limits; custom limits are advertised', async () => {
    const spc = await c.get('/ServiceProviderConfig')
    expect(spc.body.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1048576 })
    const c2 = client(v, makeApp(v, { bulk: { maxOperations: 5, maxPayloadSize: 4096 } }))
    expect((await c2.get('/ServiceProviderConfig')).body.bulk).toEqual({ supported: true, maxOperations: 5, maxPayloadSize: 4096 })
  })

  it('BLK-001: the RFC example: a user and a group referencing it by bulkId', async () => {
    const res = await c.post('/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'qwerty', data: { schemas: [USER], userName: 'Alice' } },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'ytrewq',
          data: { schemas: [GROUP], displayName: 'Bulk Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] },
        },
      ],
    })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
    expect(res.body.schemas).toEqual([BULK_RESPONSE])
    const [u, g] = res.body.Operations
    expect(u).toMatchObject({ method: 'POST', bulkId: 'qwerty', status: '201' })
    expect(g).toMatchObject({ method: 'POST', bulkId: 'ytrewq', status: '201' })
    expect(u.response.id).toEqual(expect.any(String))
    expect(pathOf(u.location)).toBe(`${v.mount}/Users/${u.response.id}`)
    expect(pathOf(g.location)).toBe(`${v.mount}/Groups/${g.response.id}`)
    expect(u.version).toBe(u.response.meta.version)
    const group = await c.get(`/Groups/${g.response.id}`)
    expect(group.body.members).toHaveLength(1)
    expect(group.body.members[0].value).toBe(u.response.id)
    expect(group.body.members[0].type).toBe('User')
    const user = await c.get(`/Users/${u.response.id}`)
    expect(user.body.groups.map((x: any) => x.value)).toEqual([g.response.id])
  })

  it('BLK-002: status is a string for success and failure; PUT/PATCH/DELETE carry location and version', async () => {
    const s = await seed(c)
    const res = await c.post(
      '/Bulk',
      req([
        postUser('n', 'new-user'),
        { method: 'PUT', path: `/Users/${s.u3.id}`, data: { schemas: [USER], userName: 'omalley', title: 'T' } },
        { method: 'PATCH', path: `/Users/${s.u3.id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'N' }] } },
        { method: 'DELETE', path: `/Users/${s.u2.id}` },
        { method: 'DELETE', path: '/Users/00000000-0000-4000-8000-000000000000' },
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['201', '200', '200', '204', '404'])
    for (const o of ops) expect(typeof o.status).toBe('string')
    expect(ops.map((o: any) => o.method)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE', 'DELETE'])
    expect(pathOf(ops[1].location)).toBe(`${v.mount}/Users/${s.u3.id}`)
    expect(ops[1].version).toMatch(/^W\/"/)
    expect(ops[2].version).toMatch(/^W\/"/)
    expect(ops[2].version).not.toBe(ops[1].version)
    expect(pathOf(ops[3].location)).toBe(`${v.mount}/Users/${s.u2.id}`)
    expect(ops[4].response.schemas).toEqual([ERROR])
    expect(ops[4].response.status).toBe('404')
    const u3 = await c.get(`/Users/${s.u3.id}`)
    expect(u3.body).toMatchObject({ title: 'T', nickName: 'N' })
    expect(u3.headers['etag']).toBe(ops[2].version)
    expect((await c.get(`/Users/${s.u2.id}`)).status).toBe(404)
  })

  describe('BLK-003: envelope errors → whole-request 400 invalidSyntax, nothing created', () => {
    const cases: [string, unknown][] = [
      ['missing schemas', { Operations: [postUser('a', 'a')] }],
      ['wrong schemas', { schemas: [PATCH_OP], Operations: [postUser('a', 'a')] }],
      ['missing Operations', { schemas: [BULK_REQUEST] }],
      ['empty Operations', req([])],
      ['Operations not an array', { schemas: [BULK_REQUEST], Operations: postUser('a', 'a') }],
      ['operation not an object', req([postUser('a', 'a'), 'x'])],
      ['bad method', req([postUser('a', 'a'), { method: 'GET', path: '/Users/x' }])],
      ['method not a string', req([postUser('a', 'a'), { method: 1, path: '/Users/x' }])],
      ['missing path', req([postUser('a', 'a'), { method: 'DELETE' }])],
      ['POST without bulkId', req([postUser('a', 'a'), { method: 'POST', path: '/Users', data: { schemas: [USER], userName: 'b' } }])],
      ['duplicate bulkIds', req([postUser('a', 'a'), postUser('a', 'b')])],
      ['POST path with an id', req([postUser('a', 'a'), { method: 'POST', path: '/Users/123', bulkId: 'b', data: { schemas: [USER], userName: 'b' } }])],
      ['PUT path without an id', req([postUser('a', 'a'), { method: 'PUT', path: '/Users', data: { schemas: [USER], userName: 'b' } }])],
      ['DELETE path without an id', req([postUser('a', 'a'), { method: 'DELETE', path: '/Users' }])],
      ['missing data on POST', req([postUser('a', 'a'), { method: 'POST', path: '/Users', bulkId: 'b' }])],
      ['missing data on PUT', req([postUser('a', 'a'), { method: 'PUT', path: '/Users/1' }])],
      ['missing data on PATCH', req([postUser('a', 'a'), { method: 'PATCH', path: '/Users/1' }])],
      ['path with a query string', req([postUser('a', 'a'), { method: 'POST', path: '/Users?x=1', bulkId: 'b', data: { schemas: [USER], userName: 'b' } }])],
      ['relative path', req([postUser('a', 'a'), { method: 'DELETE', path: 'Users/1' }])],
    ]
    it.each(cases)('%s', async (_name, body) => {
      const res = await c.post('/Bulk', body)
      expectError(res, 400, 'invalidSyntax')
      expect(await userCount(c)).toBe(0)
    })

    it('a body that is not an object → 400 invalidSyntax', async () => {
      expectError(await c.post('/Bulk', [postUser('a', 'a')]), 400, 'invalidSyntax')
      expectError(await c.post('/Bulk', '{"schemas":'), 400, 'invalidSyntax')
    })

    it('member names are case-insensitive (operations, bulkid, failonerrors)', async () => {
      const res = await c.post('/Bulk', {
        SCHEMAS: [BULK_REQUEST.toLowerCase()],
        failonerrors: 5,
        operations: [{ METHOD: 'post', PATH: '/Users', BULKID: 'a', DATA: { schemas: [USER], userName: 'ci' } }],
      })
      expect(res.status).toBe(200)
      expect(res.body.Operations[0]).toMatchObject({ status: '201', bulkId: 'a', method: 'POST' })
    })

    it('GET /Bulk → 501', async () => {
      expectError(await c.get('/Bulk'), 501)
    })
  })

  it('BLK-004: operations have single-request semantics: 409 uniqueness, 400 invalidValue, version as If-Match → 412', async () => {
    const s = await seed(c)
    const current = (await c.get(`/Users/${s.u3.id}`)).headers['etag']
    const res = await c.post(
      '/Bulk',
      req([
        postUser('dup', 'BJENSEN@example.com'),
        { method: 'POST', path: '/Users', bulkId: 'noname', data: { schemas: [USER] } },
        { method: 'PATCH', path: `/Users/${s.u3.id}`, version: 'W/"stale"', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'X' }] } },
        { method: 'DELETE', path: `/Users/${s.u3.id}`, version: 'W/"stale"' },
        { method: 'PATCH', path: `/Users/${s.u3.id}`, version: current, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Y' }] } },
        { method: 'PUT', path: `/Users/${s.u3.id}`, version: current, data: { schemas: [USER], userName: 'omalley' } },
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['409', '400', '412', '412', '200', '412'])
    expect(ops[0].response).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' })
    expect(ops[0]).not.toHaveProperty('location') // failed POST
    expect(ops[0].bulkId).toBe('dup')
    expect(ops[1].response.scimType).toBe('invalidValue')
    expect(ops[2].response).toMatchObject({ status: '412' })
    expect(ops[2].response).not.toHaveProperty('scimType')
    expect(ops[2].response.detail).toMatch(/changed on the server/i)
    expect(pathOf(ops[2].location)).toBe(`${v.mount}/Users/${s.u3.id}`)
    const u3 = await c.get(`/Users/${s.u3.id}`)
    expect(u3.body.title).toBe('Y')
    expect(u3.headers['etag']).toBe(ops[4].version)
    expect(await userCount(c)).toBe(3)
  })

  it('BLK-005: PATCH data may be a bare array of operations', async () => {
    const s = await seed(c)
    const res = await c.post('/Bulk', req([{ method: 'PATCH', path: `/Users/${s.u3.id}`, data: [{ op: 'replace', path: 'title', value: 'Bare' }] }]))
    expect(res.body.Operations[0].status).toBe('200')
    expect((await c.get(`/Users/${s.u3.id}`)).body.title).toBe('Bare')
  })

  it('BLK-010: bulkId in manager.value, in a later PATCH path, and in a valuePath filter', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        postUser('a', 'alice'),
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER, ENTERPRISE], userName: 'bob', [ENTERPRISE]: { manager: { value: 'bulkId:a' } } } },
        { method: 'PATCH', path: '/Users/bulkId:a', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'G', members: [{ value: 'bulkId:a' }, { value: 'bulkId:b' }] } },
        {
          method: 'PATCH',
          path: '/Groups/bulkId:g',
          data: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members[value eq "bulkId:a"]' }] },
        },
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201', '200', '201', '204'])
    const aId = ops[0].response.id
    const bId = ops[1].response.id
    const gId = ops[3].response.id
    expect(ops[1].response[ENTERPRISE].manager.value).toBe(aId)
    expect(pathOf(ops[2].location)).toBe(`${v.mount}/Users/${aId}`)
    expect(pathOf(ops[4].location)).toBe(`${v.mount}/Groups/${gId}`)
    expect((await c.get(`/Users/${aId}`)).body.title).toBe('Lead')
    expect((await c.get(`/Users/${bId}`)).body[ENTERPRISE].manager.value).toBe(aId)
    expect((await c.get(`/Groups/${gId}`)).body.members.map((m: any) => m.value)).toEqual([bId])
  })

  it('BLK-010: free text mentioning bulkId: is not a reference; exact values and quoted filter values are', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        postUser('a', 'text', { nickName: 'ask bulkId:nobody later', title: 'prefix "bulkId:" only', displayName: 'x bulkId:a y' }),
        { method: 'PATCH', path: '/Users/bulkId:a', data: [{ op: 'replace', path: 'profileUrl', value: 'https://example.com/bulkId:a' }] },
      ]),
    )
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['201', '200'])
    const u = (await c.get(`/Users/${res.body.Operations[0].response.id}`)).body
    expect(u.nickName).toBe('ask bulkId:nobody later')
    expect(u.title).toBe('prefix "bulkId:" only')
    expect(u.displayName).toBe('x bulkId:a y')
    expect(u.profileUrl).toBe('https://example.com/bulkId:a')
  })

  it('BLK-052: a path with a malformed percent-encoding fails that operation with "400"', async () => {
    const res = await c.post('/Bulk', req([{ method: 'DELETE', path: '/Users/%E0%A4%A' }, postUser('ok', 'ok')]))
    expect(res.status).toBe(200)
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['400', '201'])
    expect(res.body.Operations[0].response.scimType).toBe('invalidSyntax')
  })

  it('BLK-011: a forward reference (group before the user it contains) waits for the POST', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Fwd', members: [{ value: 'bulkId:u' }] } },
        postUser('u', 'later'),
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    // reported in request order
    expect(ops.map((o: any) => o.bulkId)).toEqual(['g', 'u'])
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201'])
    const group = await c.get(`/Groups/${ops[0].response.id}`)
    expect(group.body.members.map((m: any) => m.value)).toEqual([ops[1].response.id])
  })

  it('BLK-012: an unknown bulkId, or one whose POST failed → "409" invalidValue; the others continue', async () => {
    const s = await seed(c)
    const res = await c.post(
      '/Bulk',
      req([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'X', members: [{ value: 'bulkId:nope' }] } },
        postUser('dup', 'omalley'),
        { method: 'POST', path: '/Groups', bulkId: 'g2', data: { schemas: [GROUP], displayName: 'Y', members: [{ value: 'bulkId:dup' }] } },
        { method: 'PATCH', path: '/Users/bulkId:nope', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] } },
        postUser('ok', 'fine'),
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['409', '409', '409', '409', '201'])
    expect(ops[0].response).toMatchObject({ status: '409', scimType: 'invalidValue' })
    expect(ops[0].response.detail).toContain('nope')
    expect(ops[1].response.scimType).toBe('uniqueness')
    expect(ops[2].response).toMatchObject({ scimType: 'invalidValue' })
    expect(ops[2].response.detail).toContain('dup')
    expect(ops[3].response).toMatchObject({ scimType: 'invalidValue' })
    expect(await groupCount(c)).toBe(0)
    expect(await userCount(c)).toBe(4)
    void s
  })

  it('BLK-040: a manager cycle is resolved: both "201", each manager set', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        { method: 'POST', path: '/Users', bulkId: 'x', data: { schemas: [USER, ENTERPRISE], userName: 'x', [ENTERPRISE]: { manager: { value: 'bulkId:y' } } } },
        { method: 'POST', path: '/Users', bulkId: 'y', data: { schemas: [USER, ENTERPRISE], userName: 'y', [ENTERPRISE]: { manager: { value: 'bulkId:x' } } } },
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201'])
    expect(ops.map((o: any) => o.bulkId)).toEqual(['x', 'y'])
    const xId = ops[0].response.id
    const yId = ops[1].response.id
    const x = await c.get(`/Users/${xId}`)
    const y = await c.get(`/Users/${yId}`)
    expect(x.body[ENTERPRISE].manager.value).toBe(yId)
    expect(y.body[ENTERPRISE].manager.value).toBe(xId)
    // the reported version and response are those of the final state
    expect(ops[0].version).toBe(x.headers['etag'])
    expect(ops[0].response.meta.version).toBe(x.headers['etag'])
    expect(ops[0].response[ENTERPRISE].manager.value).toBe(yId)
  })

  const mgr = (bulkId: string, userName: string, manager: string) => ({
    method: 'POST',
    path: '/Users',
    bulkId,
    data: { schemas: [USER, ENTERPRISE], userName, [ENTERPRISE]: { manager: { value: `bulkId:${manager}` } } },
  })

  it('BLK-040: a three-user cycle and a group waiting on the cycle are resolved', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'C', members: [{ value: 'bulkId:x' }] } },
        mgr('x', 'x', 'y'),
        mgr('y', 'y', 'z'),
        mgr('z', 'z', 'x'),
      ]),
    )
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201', '201', '201'])
    const id = (i: number) => ops[i].response.id
    for (const [i, m] of [[1, 2], [2, 3], [3, 1]] as const) {
      expect((await c.get(`/Users/${id(i)}`)).body[ENTERPRISE].manager.value).toBe(id(m))
      expect(ops[i].response[ENTERPRISE].manager.value).toBe(id(m))
    }
    expect((await c.get(`/Groups/${id(0)}`)).body.members.map((m: any) => m.value)).toEqual([id(1)])
  })

  it('BLK-040: when the cycle cannot be closed, the half-created POST is undone and reported failed', async () => {
    await c.post('/Users', { schemas: [USER], userName: 'taken' })
    const res = await c.post(
      '/Bulk',
      req([
        mgr('x', 'x', 'y'),
        mgr('y', 'taken', 'x'),
        { method: 'PATCH', path: '/Users/bulkId:x', data: [{ op: 'replace', path: 'title', value: 'T' }] },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'G', members: [{ value: 'bulkId:x' }] } },
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['409', '409', '409', '409'])
    expect(ops[0]).not.toHaveProperty('location') // a failed POST has none
    expect(ops[0].response.scimType).toBe('invalidValue')
    expect(ops[1].response.scimType).toBe('uniqueness')
    expect(ops[2].response.detail).toContain("'x'")
    expect(ops[2]).not.toHaveProperty('location')
    expect((await c.get('/Users?filter=userName eq "x"')).body.totalResults).toBe(0)
    expect(await userCount(c)).toBe(1)
    expect(await groupCount(c)).toBe(0)
  })

  it('BLK-030 + BLK-040: failOnErrors stopping mid-cycle leaves nothing half-created', async () => {
    await c.post('/Users', { schemas: [USER], userName: 'taken' })
    const res = await c.post('/Bulk', req([mgr('x', 'x', 'y'), mgr('y', 'taken', 'x')], { failOnErrors: 1 }))
    expect(res.status).toBe(200)
    expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([['y', '409']])
    expect(await userCount(c)).toBe(1)
  })

  const twoGroupCycle = req([
    { method: 'POST', path: '/Groups', bulkId: 'qwerty', data: { schemas: [GROUP], displayName: 'Group A', members: [{ type: 'Group', value: 'bulkId:ytrewq' }] } },
    { method: 'POST', path: '/Groups', bulkId: 'ytrewq', data: { schemas: [GROUP], displayName: 'Group B', members: [{ type: 'Group', value: 'bulkId:qwerty' }] } },
  ])

  it('BLK-040/PAT-064: without nested groups the RFC two-group cycle fails and leaves no half-created group', async () => {
    const res = await c.post('/Bulk', twoGroupCycle)
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.length).toBe(2)
    for (const o of ops) {
      expect(o.status).not.toBe('201')
      expect(o.response.schemas).toEqual([ERROR])
    }
    expect(await groupCount(c)).toBe(0)
  })

  it('BLK-040: with nested groups the RFC two-group cycle is resolved; each group lists the other', async () => {
    const nested = client(v, makeApp(v, { bulk: true }, defaultAdapter({ nestedGroups: true })))
    const res = await nested.post('/Bulk', twoGroupCycle)
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['201', '201'])
    const a = await nested.get(`/Groups/${ops[0].response.id}`)
    const b = await nested.get(`/Groups/${ops[1].response.id}`)
    expect(a.body.members).toEqual([expect.objectContaining({ value: ops[1].response.id, type: 'Group' })])
    expect(b.body.members).toEqual([expect.objectContaining({ value: ops[0].response.id, type: 'Group' })])
  })

  it('BLK-040: a self-reference is not a cycle that can be created (409)', async () => {
    const res = await c.post(
      '/Bulk',
      req([{ method: 'POST', path: '/Users', bulkId: 's', data: { schemas: [USER, ENTERPRISE], userName: 's', [ENTERPRISE]: { manager: { value: 'bulkId:s' } } } }]),
    )
    expect(res.status).toBe(200)
    expect(res.body.Operations[0].status).toBe('409')
    expect(await userCount(c)).toBe(0)
  })

  it('BLK-030: failOnErrors:1 stops after the first failure', async () => {
    await seed(c)
    const res = await c.post('/Bulk', req([postUser('dup', 'bjensen@example.com'), postUser('ok', 'never')], { failOnErrors: 1 }))
    expect(res.status).toBe(200)
    expect(res.body.Operations).toHaveLength(1)
    expect(res.body.Operations[0]).toMatchObject({ status: '409', bulkId: 'dup' })
    expect(res.body.Operations[0].response.scimType).toBe('uniqueness')
    expect((await c.get('/Users?filter=userName eq "never"')).body.totalResults).toBe(0)
  })

  it('BLK-030: failOnErrors:2 continues past the first failure; without it every operation runs', async () => {
    await seed(c)
    const ops = [postUser('d1', 'bjensen@example.com'), postUser('a', 'a1'), postUser('d2', 'omalley'), postUser('b', 'b1')]
    const two = await c.post('/Bulk', req(ops, { failOnErrors: 2 }))
    expect(two.body.Operations.map((o: any) => o.status)).toEqual(['409', '201', '409'])
    const all = await c.post('/Bulk', req([postUser('d1', 'bjensen@example.com'), postUser('d2', 'omalley'), postUser('c', 'c1')]))
    expect(all.body.Operations.map((o: any) => o.status)).toEqual(['409', '409', '201'])
  })

  it.each([[0], [-1], ['x'], [1.5], [true]])('BLK-030: failOnErrors %p → 400 invalidValue, nothing created', async (f) => {
    const res = await c.post('/Bulk', req([postUser('a', 'a')], { failOnErrors: f }))
    expectError(res, 400, 'invalidValue')
    expect(await userCount(c)).toBe(0)
  })

  it('BLK-050: 1001 operations → 413 naming maxOperations and 1000, nothing created', async () => {
    const ops = Array.from({ length: 1001 }, (_, i) => postUser(`u${i}`, `user${i}`))
    const res = await c.post('/Bulk', req(ops))
    expectError(res, 413)
    expect(res.body.detail).toContain('maxOperations')
    expect(res.body.detail).toContain('1000')
    expect(await userCount(c)).toBe(0)
  })

  it('BLK-050: a body over maxPayloadSize → 413 naming maxPayloadSize, nothing created', async () => {
    const filler = 'x'.repeat(1048576)
    const res = await c.post('/Bulk', req([postUser('a', 'a', { title: filler })]))
    expectError(res, 413)
    expect(res.body.detail).toContain('maxPayloadSize')
    expect(await userCount(c)).toBe(0)
    // custom limits
    const small = client(v, makeApp(v, { bulk: { maxOperations: 2, maxPayloadSize: 600 } }))
    const tooMany = await small.post('/Bulk', req([postUser('a', 'a'), postUser('b', 'b'), postUser('c', 'c')]))
    expectError(tooMany, 413)
    expect(tooMany.body.detail).toContain('maxOperations')
    expect(tooMany.body.detail).toContain('2')
    const tooBig = await small.post('/Bulk', req([postUser('a', 'a', { title: 'y'.repeat(700) })]))
    expectError(tooBig, 413)
    expect(tooBig.body.detail).toContain('maxPayloadSize')
    expect(tooBig.body.detail).toContain('600')
    expect(await userCount(small)).toBe(0)
  })

  it('BLK-052: a nested /Bulk path or an unknown endpoint fails that operation with "400" invalidSyntax', async () => {
    const res = await c.post(
      '/Bulk',
      req([
        { method: 'POST', path: '/Bulk', bulkId: 'nested', data: req([postUser('inner', 'inner')]) },
        { method: 'POST', path: '/Widgets', bulkId: 'w', data: { name: 'w' } },
        { method: 'DELETE', path: '/Widgets/1' },
        { method: 'POST', path: '/ServiceProviderConfig', bulkId: 'spc', data: {} },
        postUser('ok', 'outer'),
      ]),
    )
    expect(res.status).toBe(200)
    const ops = res.body.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['400', '400', '400', '400', '201'])
    for (const o of ops.slice(0, 4)) expect(o.response).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' })
    expect((await c.get('/Users?filter=userName eq "inner"')).body.totalResults).toBe(0)
    expect(await userCount(c)).toBe(1)
  })

  it('prototype-pollution keys inside bulk data and envelope do not pollute', async () => {
    const text = `{"schemas":["${BULK_REQUEST}"],"__proto__":{"polluted":1},"Operations":[
      {"method":"POST","path":"/Users","bulkId":"p","__proto__":{"polluted":2},
       "data":{"schemas":["${USER}"],"userName":"proto","__proto__":{"polluted":3},"constructor":{"prototype":{"polluted":4}},
               "name":{"__proto__":{"polluted":5},"givenName":"P"}}},
      {"method":"PATCH","path":"/Users/bulkId:p","data":[{"op":"add","path":"__proto__.polluted","value":6},{"op":"replace","value":{"__proto__":{"polluted":7}}}]}
    ]}`
    const res = await c.post('/Bulk', text)
    expect(res.status).toBe(200)
    expect(res.body.Operations[0].status).toBe('201')
    expect(({} as any).polluted).toBeUndefined()
    expect((Object.prototype as any).polluted).toBeUndefined()
    const u = await c.get(`/Users/${res.body.Operations[0].response.id}`)
    expect(u.body.userName).toBe('proto')
    expect(u.body.name.givenName).toBe('P')
    expect(({} as any).polluted).toBeUndefined()
  })

  it('an inherited-looking __proto__ member gives an operation no bulkId, data or method', async () => {
    const text = `{"schemas":["${BULK_REQUEST}"],"Operations":[
      {"method":"POST","path":"/Users","__proto__":{"bulkid":"sneaky","data":{"schemas":["${USER}"],"userName":"sneaky"}}}]}`
    expectError(await c.post('/Bulk', text), 400, 'invalidSyntax')
    expect(await userCount(c)).toBe(0)
  })

  it('bulk and single requests behave identically for the same input', async () => {
    const single = await c.post('/Users', { schemas: [USER], userName: 'same', emails: 'not-an-array' })
    const bulk = await c.post('/Bulk', req([postUser('s', 'same', { emails: 'not-an-array' })]))
    expect(bulk.body.Operations[0].status).toBe(String(single.status))
    expect(bulk.body.Operations[0].response.scimType).toBe(single.body.scimType)
  })
})

describe('Bulk: 1,000 operations (999 users + 1 group referencing all by bulkId)', () => {
  const v = VARIANTS[0]!
  it('completes with all statuses "201" and the group holds every user', async () => {
    const c = client(v, makeApp(v, { bulk: true }))
    const ops: unknown[] = Array.from({ length: 999 }, (_, i) => postUser(`u${i}`, `bulk-user-${i}`))
    ops.push({
      method: 'POST',
      path: '/Groups',
      bulkId: 'all',
      data: { schemas: [GROUP], displayName: 'Everyone', members: Array.from({ length: 999 }, (_, i) => ({ value: `bulkId:u${i}` })) },
    })
    const res = await c.post('/Bulk', req(ops))
    expect(res.status).toBe(200)
    expect(res.body.Operations).toHaveLength(1000)
    expect(res.body.Operations.every((o: any) => o.status === '201')).toBe(true)
    const gid = res.body.Operations[999].response.id
    const g = await c.get(`/Groups/${gid}`)
    expect(g.body.members).toHaveLength(999)
    expect(new Set(g.body.members.map((m: any) => m.value))).toEqual(new Set(res.body.Operations.slice(0, 999).map((o: any) => o.response.id)))
  }, 60000)

  it('the same with the group first (all forward references)', async () => {
    const c = client(v, makeApp(v, { bulk: true }))
    const ops: unknown[] = [
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'all',
        data: { schemas: [GROUP], displayName: 'Everyone', members: Array.from({ length: 999 }, (_, i) => ({ value: `bulkId:u${i}` })) },
      },
      ...Array.from({ length: 999 }, (_, i) => postUser(`u${i}`, `bulk-user-${i}`)),
    ]
    const res = await c.post('/Bulk', req(ops))
    expect(res.status).toBe(200)
    expect(res.body.Operations.every((o: any) => o.status === '201')).toBe(true)
    expect((await c.get(`/Groups/${res.body.Operations[0].response.id}`)).body.members).toHaveLength(999)
  }, 60000)
})
