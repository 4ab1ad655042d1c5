/**
 * Host-configured behaviour that the RFC leaves to the service provider: sensitive filter
 * attributes (LST-012), host extensions with immutable and required attributes (RES-043,
 * EXT-004, EXT-020..022), and HEAD (ETG-022).
 */
import request from 'supertest'
import { USER, VARIANTS, client, expectError, makeApp } from './harness'

const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User'
const BADGE = 'urn:example:params:scim:schemas:extension:badge:2.0:User'

describe.each(VARIANTS)('host options: $name', (v) => {
  it('LST-012: a sensitive attribute in a GET filter is 403 sensitive; the same filter by POST .search works', async () => {
    const c = client(v, makeApp(v, { sensitiveFilterAttributes: ['name.familyName'] }))
    await c.post('/Users', { schemas: [USER], userName: 'bj', name: { familyName: 'Jensen' } })
    const get = await c.get(`/Users?filter=${encodeURIComponent('name.familyName eq "Jensen"')}`)
    expectError(get, 403, 'sensitive')
    const post = await c.post('/Users/.search', { filter: 'name.familyName eq "Jensen"' })
    expect(post.status).toBe(200)
    expect(post.body.totalResults).toBe(1)
    expect((await c.get(`/Users?filter=${encodeURIComponent('userName eq "bj"')}`)).status).toBe(200)
  })

  it('RES-043: an immutable host attribute may be set once; a different value is 400 mutability, omitting it keeps it', async () => {
    const c = client(
      v,
      makeApp(v, { extensions: [{ resourceType: 'User', schema: { id: BADGE, attributes: [{ name: 'badge', mutability: 'immutable' }] } }] }),
    )
    const u = await c.post('/Users', { schemas: [USER, BADGE], userName: 'im', [BADGE]: { badge: 'A1' } })
    expect(u.status).toBe(201)
    expectError(await c.put(`/Users/${u.body.id}`, { schemas: [USER, BADGE], userName: 'im', [BADGE]: { badge: 'B2' } }), 400, 'mutability')
    expect((await c.put(`/Users/${u.body.id}`, { schemas: [USER, BADGE], userName: 'im', [BADGE]: { badge: 'A1' } })).status).toBe(200)
    const kept = await c.put(`/Users/${u.body.id}`, { schemas: [USER], userName: 'im' })
    expect(kept.status).toBe(200)
    expect(kept.body[BADGE]).toEqual({ badge: 'A1' })
    const patch = await c.patch(`/Users/${u.body.id}`, { Operations: [{ op: 'replace', path: `${BADGE}:badge`, value: 'C3' }] })
    expectError(patch, 400, 'mutability')
  })

  it('EXT-004/EXT-020..022: a required host extension is enforced; its data is stored, advertised and filterable', async () => {
    const c = client(
      v,
      makeApp(v, {
        extensions: [{ resourceType: 'User', required: true, schema: { id: ACME, name: 'Acme', attributes: [{ name: 'tag', required: true }] } }],
      }),
    )
    expectError(await c.post('/Users', { schemas: [USER], userName: 'noext' }), 400, 'invalidValue')
    expectError(await c.post('/Users', { schemas: [USER], userName: 'notag', [ACME]: {} }), 400, 'invalidValue')
    const ok = await c.post('/Users', { schemas: [USER], userName: 'tagged', [ACME]: { tag: '701984' } })
    expect(ok.status).toBe(201)
    expect(ok.body.schemas).toEqual([USER, ACME])
    const rt = await c.get('/ResourceTypes/User')
    expect(rt.body.schemaExtensions).toContainEqual({ schema: ACME, required: true })
    expect((await c.get(`/Schemas/${ACME}`)).body.attributes[0]).toMatchObject({ name: 'tag', required: true })
    const found = await c.get(`/Users?filter=${encodeURIComponent(`${ACME}:tag eq "701984"`)}`)
    expect(found.body.totalResults).toBe(1)
    const removed = await c.patch(`/Users/${ok.body.id}`, { Operations: [{ op: 'remove', path: ACME }] })
    expectError(removed, 400, 'mutability')
  })

  it('EXT-020: an extension that redefines a core attribute is refused at startup', () => {
    expect(() => makeApp(v, { extensions: [{ resourceType: 'User', schema: { id: ACME, attributes: [{ name: 'userName' }] } }] })).toThrow(TypeError)
  })

  it('ETG-022: HEAD answers like GET without a body, with ETag', async () => {
    const app = makeApp(v)
    const c = client(v, app)
    const u = await c.post('/Users', { schemas: [USER], userName: 'head' })
    const head = await request(app).head(`${v.mount}/Users/${u.body.id}`).set('Authorization', 'Bearer good-token')
    expect(head.status).toBe(200)
    expect(head.headers['etag']).toBe(u.headers['etag'])
    expect(head.text ?? '').toBe('')
  })
})
