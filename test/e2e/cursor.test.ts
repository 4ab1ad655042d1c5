/** RFC 9865 cursor pagination (LST-080..084, DSC-014) over MemoryAdapter's keyset cursors. */
import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { MemoryAdapter, bearerToken, jwtBearer } from '../../src'
import { LIST, USER, VARIANTS, client, expectError, makeApp } from './harness'
import request from 'supertest'

const CURSOR = /^[A-Za-z0-9._~-]+$/

async function seed(c: ReturnType<typeof client>, names: string[]): Promise<void> {
  for (const userName of names) expect((await c.post('/Users', { schemas: [USER], userName })).status).toBe(201)
}

describe.each(VARIANTS)('cursor pagination: $name', (v) => {
  it('LST-080: first page has nextCursor and no previousCursor or startIndex; last page has no nextCursor', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['u1', 'u2', 'u3'])
    const p1 = await c.get('/Users?cursor&count=2')
    expect(p1.status).toBe(200)
    expect(p1.body.schemas).toEqual([LIST])
    expect(p1.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['u1', 'u2'])
    expect(p1.body.itemsPerPage).toBe(2)
    expect(p1.body.totalResults).toBe(3)
    expect(p1.body.nextCursor).toMatch(CURSOR)
    expect(p1.body).not.toHaveProperty('previousCursor')
    expect(p1.body).not.toHaveProperty('startIndex')
    const p2 = await c.get(`/Users?cursor=${p1.body.nextCursor}&count=2`)
    expect(p2.status).toBe(200)
    expect(p2.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['u3'])
    expect(p2.body).not.toHaveProperty('nextCursor')
    expect(p2.body.previousCursor).toMatch(CURSOR)
    const back = await c.get(`/Users?cursor=${p2.body.previousCursor}&count=2`)
    expect(back.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['u1', 'u2'])
    expect(back.body).not.toHaveProperty('previousCursor')
  })

  it('LST-080: `cursor=` and POST .search with "cursor": "" start a cursor query', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['a1', 'a2'])
    const g = await c.get('/Users?cursor=&count=1')
    expect(g.body.nextCursor).toMatch(CURSOR)
    const s = await c.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], cursor: '', count: 1 })
    expect(s.status).toBe(200)
    expect(s.body.nextCursor).toMatch(CURSOR)
    const s2 = await c.post('/Users/.search', { cursor: s.body.nextCursor, count: 1 })
    expect(s2.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['a2'])
  })

  it('keyset: inserts and deletes between pages neither skip nor repeat resources', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['k1', 'k2', 'k3', 'k4'])
    const p1 = await c.get('/Users?cursor&count=2')
    const first = p1.body.Resources as { id: string; userName: string }[]
    await c.delete(`/Users/${first[0]?.id}`) // delete something already seen
    await seed(c, ['k5']) // insert after the boundary
    const p2 = await c.get(`/Users?cursor=${p1.body.nextCursor}&count=2`)
    expect(p2.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['k3', 'k4'])
    const p3 = await c.get(`/Users?cursor=${p2.body.nextCursor}&count=2`)
    expect(p3.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['k5'])
  })

  it('LST-081: invalidCursor, invalidCount, and changed query parameters', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['x1', 'x2', 'x3'])
    expectError(await c.get('/Users?cursor=!!!&count=2'), 400, 'invalidCursor')
    const p1 = await c.get('/Users?cursor&count=2')
    const next = p1.body.nextCursor as string
    expectError(await c.get(`/Users?cursor=${next}&count=3`), 400, 'invalidCount')
    expectError(await c.get(`/Users?cursor=${next.slice(0, -2)}xx&count=2`), 400, 'invalidCursor') // tampered
    expectError(await c.get(`/Users?cursor=${next.slice(0, 20)}&count=2`), 400, 'invalidCursor') // truncated
    expectError(await c.get(`/Users?cursor=${next}&count=2&filter=userName%20pr`), 400, 'invalidCursor')
    expectError(await c.get('/Users?cursor&count=1000'), 400, 'invalidCount')
  })

  it('LST-083: startIndex with cursor is 400 invalidValue; negative count is 0', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['n1'])
    expectError(await c.get('/Users?cursor&startIndex=1'), 400, 'invalidValue')
    const zero = await c.get('/Users?cursor&count=-5')
    expect(zero.status).toBe(200)
    expect(zero.body.Resources).toEqual([])
    expect(zero.body.totalResults).toBe(1)
  })

  it('DSC-014: ServiceProviderConfig advertises cursor pagination and cursorTimeout', async () => {
    const c = client(v, makeApp(v, { cursorTimeout: 120 }))
    const spc = await c.get('/ServiceProviderConfig')
    expect(spc.body.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: 100,
      maxPageSize: 100,
      cursorTimeout: 120,
    })
  })
})

describe('cursor binding and expiry', () => {
  const v = VARIANTS[3]!

  it('LST-082: a cursor issued to one tenant is invalid for another, with the same detail as a forged one', async () => {
    const adapter = new MemoryAdapter()
    const app = makeApp(v, { authenticate: bearerToken({ 'tok-a': { tenant: 'a' }, 'tok-b': { tenant: 'b' } }) }, adapter)
    const a = (path: string) => request(app).get(v.mount + path).set('Authorization', 'Bearer tok-a')
    const b = (path: string) => request(app).get(v.mount + path).set('Authorization', 'Bearer tok-b')
    for (const u of ['t1', 't2']) {
      await request(app).post(`${v.mount}/Users`).set('Authorization', 'Bearer tok-a').send({ userName: u })
      await request(app).post(`${v.mount}/Users`).set('Authorization', 'Bearer tok-b').send({ userName: u })
    }
    const p1 = await a('/Users?cursor&count=1')
    const foreign = await b(`/Users?cursor=${p1.body.nextCursor}&count=1`)
    expectError(foreign, 400, 'invalidCursor')
    const forged = await b('/Users?cursor=abc.def&count=1')
    expect(foreign.body.detail).toBe(forged.body.detail)
  })

  it('LST-081: a cursor older than cursorTimeout is expiredCursor', async () => {
    const c = client(v, makeApp(v, { cursorTimeout: 1 }))
    await seed(c, ['e1', 'e2'])
    const p1 = await c.get('/Users?cursor&count=1')
    await new Promise((r) => setTimeout(r, 1100))
    expectError(await c.get(`/Users?cursor=${p1.body.nextCursor}&count=1`), 400, 'expiredCursor')
  })

  it('a cursor signed by one router instance works on another with the same cursorSecret', async () => {
    const adapter = new MemoryAdapter()
    const one = client(v, makeApp(v, { cursorSecret: 'shared' }, adapter))
    const two = client(v, makeApp(v, { cursorSecret: 'shared' }, adapter))
    const other = client(v, makeApp(v, { cursorSecret: 'different' }, adapter))
    await seed(one, ['s1', 's2'])
    const p1 = await one.get('/Users?cursor&count=1')
    expect((await two.get(`/Users?cursor=${p1.body.nextCursor}&count=1`)).body.Resources[0].userName).toBe('s2')
    expectError(await other.get(`/Users?cursor=${p1.body.nextCursor}&count=1`), 400, 'invalidCursor')
  })
})

/**
 * Cursors signed with the router's key but not made by it: the inner (adapter) cursor or the
 * token's own fields are malformed. RFC 9865 §2.1: a cursor the service provider cannot use is
 * 400 `invalidCursor`, never a 500, on every store.
 */
describe('validly signed but malformed cursors', () => {
  const v = VARIANTS[3]!
  const SECRET = 'test-cursor-secret'
  const key = createHash('sha256').update(SECRET).digest()
  const sign = (fields: unknown): string => {
    const payload = Buffer.from(JSON.stringify(fields)).toString('base64url')
    return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`
  }
  /** The fields of a real token, after checking that `sign` reproduces its signature. */
  const fieldsOf = (token: string): [string, string, number, string, number] => {
    const fields = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
    expect(sign(fields)).toBe(token)
    return fields
  }

  it.each([
    ['default order', ''],
    ['sortBy=userName', '&sortBy=userName'],
    ['sortBy=active (boolean)', '&sortBy=active'],
    ['sortBy=meta.lastModified (dateTime)', '&sortBy=meta.lastModified&sortOrder=descending'],
    ['sortBy=groups.display (sorted in memory on SQL)', '&sortBy=groups.display'],
  ])('RFC 9865 §2.1: a malformed adapter cursor is 400 invalidCursor, not 500 (%s)', async (_n, sort) => {
    const c = client(v, makeApp(v, { cursorSecret: SECRET }))
    await seed(c, ['m1', 'm2', 'm3'])
    const p1 = await c.get(`/Users?cursor&count=1${sort}`)
    expect(p1.status).toBe(200)
    const [inner, query, count, caller, issued] = fieldsOf(p1.body.nextCursor)
    // The real inner cursor works when re-signed (the helper is faithful).
    expect((await c.get(`/Users?cursor=${sign([inner, query, count, caller, issued])}&count=1${sort}`)).status).toBe(200)
    const malformed = [
      'null',
      '[]',
      '"n"',
      '42',
      'not json',
      '{}',
      '{"d":"n"}',
      '{"d":"n","k":{}}',
      '{"d":"n","k":null}',
      '{"d":"p","k":{"id":5,"meta":{"created":[]}}}',
      '{"d":"n","c":"x","i":"a"}',
      '{"d":"n","c":1,"i":"a\\u0000b"}',
      '{"d":"n","c":1e300,"i":"a"}',
      '{"d":"n","c":1,"i":"a","k":"not-a-value-of-that-type"}',
      '{"d":"n","c":1,"i":"a","k":{"x":1}}',
      '{"d":"n","c":1,"i":"a","k":"\\u0000"}',
      '{"d":"n","c":1,"i":"a","k":12345678901234567890}',
      '{"d":"n","c":1,"i":"a","k":true}',
    ]
    for (const m of malformed) {
      const r = await c.get(`/Users?cursor=${sign([m, query, count, caller, Date.now()])}&count=1${sort}`)
      if (r.status === 200) continue // some shapes are a usable boundary for some stores (e.g. a key of the right type)
      expect([m, r.status, r.body.scimType]).toEqual([m, 400, 'invalidCursor'])
    }
    // A non-string inner cursor, or wrong types in the token's own fields.
    for (const fields of [
      [42, query, count, caller, issued],
      [{ d: 'n' }, query, count, caller, issued],
      [inner, query, String(count), caller, issued],
      [inner, query, count, caller, 'yesterday'],
      [inner, query, count, caller, null],
      [inner, query, count, caller],
    ]) {
      expectError(await c.get(`/Users?cursor=${sign(fields)}&count=1${sort}`), 400, 'invalidCursor')
    }
  })
})

describe('cursor lifetime and caller binding', () => {
  const v = VARIANTS[3]!

  it('RFC 9865 §2.1 / LST-081: a cursor stamped in the future is rejected, not valid for ever', async () => {
    const c = client(v, makeApp(v))
    await seed(c, ['f1', 'f2'])
    const real = Date.now
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => real() + 24 * 3600 * 1000)
    let p1
    try {
      p1 = await c.get('/Users?cursor&count=1')
    } finally {
      spy.mockRestore()
    }
    expect(p1.status).toBe(200)
    expectError(await c.get(`/Users?cursor=${p1.body.nextCursor}&count=1`), 400, 'invalidCursor')
    // A cursor issued now still works (the check is not simply "reject everything").
    const p2 = await c.get('/Users?cursor&count=1')
    expect((await c.get(`/Users?cursor=${p2.body.nextCursor}&count=1`)).status).toBe(200)
  })

  it('LST-082 (RFC 9865 §5.2): cursors are bound to the subject and tenant, so a renewed JWT keeps them; another subject or tenant is rejected', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const ISS = 'https://issuer.example/'
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'ES256', use: 'sig' }
    const token = (claims: Record<string, unknown>): string => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const head = enc({ alg: 'ES256', typ: 'JWT', kid: 'k' })
      const body = enc({ iss: ISS, aud: 'scim', ...claims })
      return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
    }
    const app = makeApp(v, {
      authenticate: jwtBearer({ jwks: { keys: [jwk] }, issuer: ISS, audience: 'scim' }),
      context: (_req: unknown, p: { claims: Record<string, unknown> }) => ({ tenant: String(p.claims['tid']) }),
    })
    const as = (t: string) => (path: string) => request(app).get(v.mount + path).set('Authorization', `Bearer ${t}`)
    const t0 = Math.floor(Date.now() / 1000)
    const first = as(token({ sub: 'svc', tid: 't1', iat: t0 - 10, exp: t0 + 60, jti: 'a' }))
    for (const userName of ['j1', 'j2', 'j3']) {
      expect((await request(app).post(`${v.mount}/Users`).set('Authorization', `Bearer ${token({ sub: 'svc', tid: 't1', exp: t0 + 60 })}`).send({ userName })).status).toBe(201)
    }
    const p1 = await first('/Users?cursor&count=1')
    expect(p1.status).toBe(200)
    const renewed = as(token({ sub: 'svc', tid: 't1', iat: t0, exp: t0 + 3600, jti: 'b', scp: 'x' }))
    const p2 = await renewed(`/Users?cursor=${p1.body.nextCursor}&count=1`)
    expect(p2.status).toBe(200)
    expect(p2.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['j2'])
    expectError(await as(token({ sub: 'someone-else', tid: 't1', exp: t0 + 60 }))(`/Users?cursor=${p1.body.nextCursor}&count=1`), 400, 'invalidCursor')
    expectError(await as(token({ sub: 'svc', tid: 't2', exp: t0 + 60 }))(`/Users?cursor=${p1.body.nextCursor}&count=1`), 400, 'invalidCursor')
  })
})
