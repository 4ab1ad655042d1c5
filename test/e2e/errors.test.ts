import express5 from 'express'
import request from 'supertest'
import { MemoryAdapter } from '../../src'
import { AUTH, ERROR, GROUP, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { noHost } from './fixtures'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express5

describe.each(VARIANTS)('Errors and media types: $name', (v) => {
  let c: Client
  let app: ReturnType<typeof makeApp>
  let adapter: MemoryAdapter
  beforeEach(() => {
    adapter = new MemoryAdapter()
    app = makeApp(v, { maxBodyBytes: 2048 }, adapter)
    c = client(v, app)
  })
  const send = (method: 'post' | 'put', path: string, body: string | Buffer, type?: string) => {
    let r = request(app)[method](v.mount + path).set(AUTH)
    if (type !== undefined) r = r.set('Content-Type', type)
    return r.send(body)
  }
  const count = async () => (await c.get('/Users')).body.totalResults

  describe('MT-010/EP-015: malformed bodies → 400 invalidSyntax, storage unchanged', () => {
    it.each([
      ['malformed JSON', '{"acve": tre,'],
      ['a JSON array', '[{"userName":"a"}]'],
      ['a JSON string', '"hello"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
      ['JSON true', 'true'],
    ])('POST /Users with %s', async (_l, body) => {
      expectError(await c.post('/Users', body), 400, 'invalidSyntax')
      expect(await count()).toBe(0)
    })

    it('an empty body on POST and PUT', async () => {
      expectError(await c.post('/Users'), 400, 'invalidSyntax')
      expectError(await c.post('/Users', ''), 400, 'invalidSyntax')
      const u = await c.post('/Users', { schemas: [USER], userName: 'u@example.com' })
      expectError(await c.put(`/Users/${u.body.id}`, ''), 400, 'invalidSyntax')
      expect(await count()).toBe(1)
    })

    it('invalid UTF-8 (MT-002)', async () => {
      const bad = Buffer.concat([Buffer.from('{"userName":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
      // write() sends the bytes as they are (send() would JSON-serialise a Buffer for a JSON type)
      const r = request(app).post(v.mount + '/Users').set(AUTH).set('Content-Type', 'application/scim+json')
      r.write(bad)
      const res = await r
      expectError(res, 400, 'invalidSyntax')
      expect(res.body.detail).toMatch(/UTF-8/)
      expect(await count()).toBe(0)
    })

    it('malformed JSON on PUT leaves the resource unchanged', async () => {
      const u = await c.post('/Users', { schemas: [USER], userName: 'u@example.com', title: 'T' })
      expectError(await c.put(`/Users/${u.body.id}`, '{"userName":'), 400, 'invalidSyntax')
      expect(noHost((await c.get(`/Users/${u.body.id}`)).body)).toEqual(noHost(u.body))
    })
  })

  describe('Content types (RFC 7644 §3.1, §3.8)', () => {
    it.each([
      'application/scim+json',
      'application/scim+json; charset=utf-8',
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/SCIM+JSON',
      'Application/Json; Charset=UTF-8',
    ])('MT-003: %s is accepted', async (type) => {
      const res = await send('post', '/Users', JSON.stringify({ schemas: [USER], userName: 'ct@example.com' }), type)
      expect(res.status).toBe(201)
      expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8')
    })

    it('MT-004: a body without Content-Type is parsed as JSON', async () => {
      const res = await request(app)
        .post(v.mount + '/Users')
        .set(AUTH)
        .send(Buffer.from(JSON.stringify({ schemas: [USER], userName: 'noct@example.com' })))
        .unset('Content-Type')
      expect((res as any).req.getHeader('content-type')).toBeUndefined()
      expect(res.status).toBe(201)
      expect(res.body.userName).toBe('noct@example.com')
    })

    it.each(['application/xml', 'application/x-www-form-urlencoded', 'text/plain'])('MT-012: %s → 415, no scimType, nothing stored', async (type) => {
      expectError(await send('post', '/Users', JSON.stringify({ schemas: [USER], userName: 'x@example.com' }), type), 415)
      expect(await count()).toBe(0)
    })

    it.each([undefined, 'application/scim+json', 'application/json', '*/*', 'text/html', 'application/scim+json; charset=utf-8'])(
      'MT-005: Accept %s is never 406; responses are scim+json',
      async (accept) => {
        let r = request(app).get(v.mount + '/Users').set(AUTH)
        if (accept) r = r.set('Accept', accept)
        const res = await r
        expect(res.status).toBe(200)
        expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
      },
    )
  })

  describe('Limits and endpoints', () => {
    it('MT-020: a body over maxBodyBytes → 413 naming the limit, nothing stored', async () => {
      const big = JSON.stringify({ schemas: [USER], userName: 'big@example.com', title: 'x'.repeat(4000) })
      const res = await c.post('/Users', big)
      expectError(res, 413)
      expect(res.body.detail).toContain('2048')
      expect(await count()).toBe(0)
      // chunked (no Content-Length): the limit is enforced while reading
      const streamed = request(app).post(v.mount + '/Users').set(AUTH).set('Content-Type', 'application/scim+json')
      streamed.write(big.slice(0, 1500))
      streamed.write(big.slice(1500))
      const chunked = await streamed
      expect((chunked as any).req.getHeader('content-length')).toBeUndefined()
      expectError(chunked, 413)
      expect(await count()).toBe(0)
    })

    it('EP-005: unknown endpoints → 404 envelope', async () => {
      expectError(await c.get('/Widgets'), 404)
      expectError(await c.post('/Widgets', {}), 404)
      expectError(await c.get('/Users/a/b'), 404)
      expectError(await c.get('/Userss'), 404)
    })

    it('EP-006: unsupported methods → 501/405 with the envelope', async () => {
      const u = await c.post('/Users', { schemas: [USER], userName: 'm@example.com' })
      const rs = [await c.delete('/Users'), await c.put('/Users', {}), await c.post(`/Users/${u.body.id}`, {})]
      for (const r of rs) {
        expect([405, 501]).toContain(r.status)
        expectError(r, r.status)
      }
      expect(await count()).toBe(1)
    })

    it('EP-060/EP-062: /Me and /Bulk (not enabled) → 501; EP-063/LST-065: root .search is served', async () => {
      expectError(await c.get('/Me'), 501)
      expectError(await c.post('/Bulk', {}), 501)
      const root = await c.post('/.search', {})
      expect(root.status).toBe(200)
      expect(root.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
    })
  })

  describe('CONVENTIONS §6.5: __proto__, constructor and prototype are never written', () => {
    afterEach(() => {
      expect(({} as any).polluted).toBeUndefined()
      expect((Object.prototype as any).polluted).toBeUndefined()
    })

    it.each([
      ['top-level __proto__', `{"schemas":["${USER}"],"userName":"p1@example.com","__proto__":{"polluted":"yes"}}`],
      ['constructor.prototype', `{"schemas":["${USER}"],"userName":"p1@example.com","constructor":{"prototype":{"polluted":"yes"}}}`],
      ['prototype', `{"schemas":["${USER}"],"userName":"p1@example.com","prototype":{"polluted":"yes"}}`],
      ['nested __proto__ in name', `{"schemas":["${USER}"],"userName":"p1@example.com","name":{"__proto__":{"polluted":"yes"},"givenName":"P"}}`],
      ['__proto__ in emails', `{"schemas":["${USER}"],"userName":"p1@example.com","emails":[{"__proto__":{"polluted":"yes"},"value":"a@b.c"}]}`],
      ['__proto__ in extension', `{"schemas":["${USER}"],"userName":"p1@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"__proto__":{"polluted":"yes"},"department":"D"}}`],
    ])('POST with %s', async (_l, body) => {
      const res = await c.post('/Users', body)
      expect(res.status).toBe(201)
      expect(res.text).not.toContain('polluted')
      const got = await c.get(`/Users/${res.body.id}`)
      expect(got.text).not.toContain('polluted')
      const stored = await adapter.get({ resourceType: 'User', id: res.body.id }, { principal: { token: 0 } } as any)
      expect(JSON.stringify(stored!.attributes)).not.toContain('polluted')
      // (structuredClone creates objects in another realm than jest's, so compare by content)
      expect(Object.getPrototypeOf(Object.getPrototypeOf(stored!.attributes))).toBeNull()
      expect(Object.getOwnPropertyNames(Object.getPrototypeOf(stored!.attributes))).toContain('hasOwnProperty')
      expect(Object.getPrototypeOf(stored!.attributes).polluted).toBeUndefined()
      expect(Object.keys(stored!.attributes).filter((k) => ['__proto__', 'constructor', 'prototype'].includes(k))).toEqual([])
      expect((stored!.attributes as any).polluted).toBeUndefined()
      expect(((stored!.attributes as any).name ?? {}).polluted).toBeUndefined()
    })

    it('PUT, .search and filter with prototype keys', async () => {
      const u = await c.post('/Users', { schemas: [USER], userName: 'p2@example.com' })
      const put = await c.put(`/Users/${u.body.id}`, `{"schemas":["${USER}"],"userName":"p2@example.com","__proto__":{"polluted":"yes"}}`)
      expect(put.status).toBe(200)
      expect((await c.post('/Users/.search', '{"__proto__":{"polluted":"yes"},"count":1}')).status).toBe(200)
      expect((await c.post('/Users/.search', '{"constructor":{"prototype":{"polluted":"yes"}}}')).status).toBe(200)
      const f = await c.get('/Users?filter=__proto__%20eq%20%22x%22')
      expect([200, 400]).toContain(f.status)
      const g = await c.get(`/Users?attributes=__proto__,constructor&sortBy=userName`)
      expect(g.status).toBe(200)
      expect(await count()).toBe(1)
    })
  })

  describe('ERR-030: unexpected adapter errors', () => {
    it('a plain Error → 500 with a generic detail, no message or stack leak', async () => {
      const broken = new MemoryAdapter()
      ;(broken as any).get = async () => {
        throw new Error('SELECT * FROM secret_table failed at db.internal:5432')
      }
      ;(broken as any).list = async () => {
        throw new TypeError('cannot read properties of undefined (reading "rows")')
      }
      const c2 = client(v, makeApp(v, {}, broken))
      for (const res of [await c2.get('/Users/x'), await c2.get('/Users')]) {
        expectError(res, 500)
        expect(res.body.detail).toMatch(/^Internal server error/)
        expect(res.text).not.toMatch(/secret_table|5432|rows|at \w|\.ts:/)
        expect(Object.keys(res.body).sort()).toEqual(['detail', 'schemas', 'status'])
      }
    })

    it('RES-002: an adapter returning an invalid id → 500', async () => {
      const bad = new MemoryAdapter()
      ;(bad as any).get = async () => ({ id: 'has-bulkId', version: '1', created: new Date(), lastModified: new Date(), attributes: { userName: 'x' } })
      expectError(await client(v, makeApp(v, {}, bad)).get('/Users/x'), 500)
    })
  })

  it('ERR-001: every error body has exactly schemas, status, detail (and scimType when set)', async () => {
    const res = await c.post('/Users', { schemas: [USER] })
    expect(Object.keys(res.body).sort()).toEqual(['detail', 'schemas', 'scimType', 'status'])
    expect(res.body.schemas).toEqual([ERROR])
  })
})

describe.each(VARIANTS.filter((v) => v.host !== 'connect'))('express.json() before the router: $name', (v) => {
  const jsonFirst = (app: any) => app.use(v.host === 'express4' ? express4.json() : express5.json())

  it('application/json and application/scim+json bodies still work', async () => {
    const app = makeApp(v, {}, new MemoryAdapter(), jsonFirst)
    const c = client(v, app)
    const a = await request(app)
      .post(v.mount + '/Users')
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ schemas: [USER], userName: 'json@example.com', name: { givenName: 'J' } }))
    expect(a.status).toBe(201)
    expect(a.body.name).toEqual({ givenName: 'J' })
    const b = await c.post('/Users', { schemas: [USER], userName: 'scim@example.com' })
    expect(b.status).toBe(201)
    const put = await request(app)
      .put(`${v.mount}/Users/${a.body.id}`)
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ schemas: [USER], userName: 'json2@example.com' }))
    expect(put.status).toBe(200)
    expect(put.body.userName).toBe('json2@example.com')
    const search = await request(app)
      .post(v.mount + '/Users/.search')
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ filter: 'userName eq "scim@example.com"' }))
    expect(search.body.totalResults).toBe(1)
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'G', members: [{ value: b.body.id }] })
    expect(g.status).toBe(201)
    // a JSON array parsed upstream is still refused with a SCIM envelope
    const arr = await request(app).post(v.mount + '/Users').set(AUTH).set('Content-Type', 'application/json').send('[1]')
    expectError(arr, 400, 'invalidSyntax')
  })
})
