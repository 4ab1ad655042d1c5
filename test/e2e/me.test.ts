/**
 * /Me (scim-requirements §1.7, RFC 7644 §3.11): 501 without a resolver (EP-060); with one, the
 * authenticated principal's own User, served in place with Location = the real resource (EP-061).
 */
import request from 'supertest'
import { MemoryAdapter, bearerToken } from '../../src'
import { USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { pathOf } from './fixtures'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

describe.each(VARIANTS)('/Me: $name', (v) => {
  it('EP-060: without `me`, every method on /Me → 501 with the error envelope', async () => {
    const c = client(v, makeApp(v))
    expectError(await c.get('/Me'), 501)
    expectError(await c.post('/Me', { schemas: [USER], userName: 'x' }), 501)
    expectError(await c.put('/Me', { schemas: [USER], userName: 'x' }), 501)
    expectError(await c.patch('/Me', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }), 501)
    expectError(await c.delete('/Me'), 501)
    // still authenticated first
    expect((await c.raw.get(c.path('/Me'))).status).toBe(401)
  })

  describe('EP-061: with a resolver mapping the token principal to a User', () => {
    let c: Client
    let other: ReturnType<typeof request>
    let aliceId: string
    let bobId: string
    const seen: unknown[] = []
    const ids = new Map<string, string>()

    beforeEach(async () => {
      seen.length = 0
      ids.clear()
      const adapter = new MemoryAdapter()
      const app = makeApp(
        v,
        {
          authenticate: bearerToken({ 'good-token': { sub: 'alice' }, 'bob-token': { sub: 'bob' }, 'ghost-token': { sub: 'ghost' } }),
          me: (principal: { sub: string }, ctx: unknown) => {
            seen.push(ctx)
            return ids.get(principal.sub) ?? null
          },
        },
        adapter,
      )
      c = client(v, app)
      other = request(app)
      aliceId = (await c.post('/Users', { schemas: [USER], userName: 'alice', displayName: 'Alice' })).body.id
      bobId = (await c.post('/Users', { schemas: [USER], userName: 'bob' })).body.id
      ids.set('alice', aliceId)
      ids.set('bob', bobId)
    })

    it('GET /Me → 200, the mapped user, Location = /Users/<id>', async () => {
      const res = await c.get('/Me')
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
      expect(res.body.id).toBe(aliceId)
      expect(res.body.userName).toBe('alice')
      expect(pathOf(res.headers['location'] as string)).toBe(`${v.mount}/Users/${aliceId}`)
      expect(pathOf(res.body.meta.location)).toBe(`${v.mount}/Users/${aliceId}`)
      expect(res.headers['etag']).toBe(res.body.meta.version)
      expect(seen[0]).toMatchObject({ principal: { sub: 'alice' } })
      // another principal sees its own user
      const bob = await other.get(`${v.mount}/Me`).set('Authorization', 'Bearer bob-token')
      expect(bob.body.id).toBe(bobId)
    })

    it('GET /Me honours attributes and If-None-Match like GET /Users/<id>', async () => {
      const first = await c.get('/Me?attributes=displayName')
      expect(first.body).toMatchObject({ id: aliceId, displayName: 'Alice' })
      expect(first.body).not.toHaveProperty('userName')
      const nm = await c.get('/Me').set('If-None-Match', first.headers['etag'] as string)
      expect(nm.status).toBe(304)
    })

    it('PUT /Me replaces the mapped user', async () => {
      const res = await c.put('/Me', { schemas: [USER], userName: 'alice', title: 'Boss' })
      expect(res.status).toBe(200)
      expect(res.body.id).toBe(aliceId)
      expect(pathOf(res.headers['location'] as string)).toBe(`${v.mount}/Users/${aliceId}`)
      expect((await c.get(`/Users/${aliceId}`)).body.title).toBe('Boss')
      expect((await c.get(`/Users/${aliceId}`)).body).not.toHaveProperty('displayName')
      expect((await c.get(`/Users/${bobId}`)).body).not.toHaveProperty('title')
    })

    it('PATCH /Me modifies the mapped user; If-Match applies', async () => {
      const res = await c.patch('/Me', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'Al' }] })
      expect(res.status).toBe(200)
      expect(res.body.id).toBe(aliceId)
      expect(res.body.nickName).toBe('Al')
      expect(pathOf(res.headers['location'] as string)).toBe(`${v.mount}/Users/${aliceId}`)
      expect((await c.get(`/Users/${aliceId}`)).body.nickName).toBe('Al')
      const stale = await c.patch('/Me', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'X' }] }).set('If-Match', 'W/"stale"')
      expectError(stale, 412)
    })

    it('DELETE /Me deletes the mapped user; afterwards GET /Me → 404', async () => {
      const res = await c.delete('/Me')
      expect(res.status).toBe(204)
      expect((await c.get(`/Users/${aliceId}`)).status).toBe(404)
      expect((await c.get(`/Users/${bobId}`)).status).toBe(200)
      expectError(await c.get('/Me'), 404)
    })

    it('POST /Me → 501; nested paths → 404', async () => {
      expectError(await c.post('/Me', { schemas: [USER], userName: 'new' }), 501)
      expect((await c.get('/Users?count=0')).body.totalResults).toBe(2)
      expectError(await c.get(`/Me/${aliceId}`), 404)
    })

    it('a resolver returning null → 404 on every method', async () => {
      const ghost = (r: request.Test) => r.set('Authorization', 'Bearer ghost-token').set('Content-Type', 'application/scim+json')
      expectError(await ghost(other.get(`${v.mount}/Me`)), 404)
      expectError(await ghost(other.put(`${v.mount}/Me`)).send({ schemas: [USER], userName: 'ghost' }), 404)
      expectError(
        await ghost(other.patch(`${v.mount}/Me`)).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }),
        404,
      )
      expectError(await ghost(other.delete(`${v.mount}/Me`)), 404)
      expect((await c.get('/Users?count=0')).body.totalResults).toBe(2)
    })

    it('a resolver naming an id that does not exist → 404', async () => {
      ids.set('alice', '00000000-0000-4000-8000-000000000000')
      expectError(await c.get('/Me'), 404)
    })

    it('an unauthenticated /Me → 401, the resolver is not called', async () => {
      expect((await c.raw.get(c.path('/Me'))).status).toBe(401)
      expect(seen).toHaveLength(0)
    })
  })

  it('EP-061: an async resolver works too', async () => {
    let id = ''
    const c = client(v, makeApp(v, { me: async () => id }))
    id = (await c.post('/Users', { schemas: [USER], userName: 'async' })).body.id
    const res = await c.get('/Me')
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(id)
  })
})
