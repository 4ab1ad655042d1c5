/** RFC 9865 cursor pagination (LST-080..084, DSC-014) over MemoryAdapter's keyset cursors. */
import { MemoryAdapter, bearerToken } from '../../src'
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
