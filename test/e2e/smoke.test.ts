import { VARIANTS, USER, LIST, client, expectError, makeApp } from './harness'

describe.each(VARIANTS)('mounting: $name', (v) => {
  it('creates, reads, lists and deletes a User (RFC 7644 §3.3, §3.4, §3.6)', async () => {
    const c = client(v, makeApp(v))
    const created = await c.post('/Users', { schemas: [USER], userName: 'bjensen@example.com' })
    expect(created.status).toBe(201)
    expect(created.headers['location']).toBe(created.body.meta.location)
    expect(created.headers['location']).toMatch(new RegExp(`${v.mount}/Users/${created.body.id}$`))
    const got = await c.get(`/Users/${created.body.id}`)
    expect(got.status).toBe(200)
    expect(got.body.userName).toBe('bjensen@example.com')
    const list = await c.get('/Users?filter=userName%20eq%20%22BJENSEN@example.com%22')
    expect(list.body).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 })
    expect((await c.delete(`/Users/${created.body.id}`)).status).toBe(204)
    expectError(await c.get(`/Users/${created.body.id}`), 404)
  })
})
