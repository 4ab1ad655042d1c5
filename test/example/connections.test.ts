/**
 * Issue 14: the example app's admin API at /app/connections (ADMIN_TOKEN) and the SCIM_TOKEN of
 * the default tenant working beside per-connection tokens (RFC 7644 §2 authentication).
 */
import request from 'supertest'
import { Connections } from '../../src'
import { createExampleApp } from '../../examples/app'
import { USER, defaultStores } from '../e2e/harness'

const TOKEN = 'static-token'
const ADMIN = 'admin-secret'

function setup() {
  let now = Date.parse('2026-01-01T00:00:00Z')
  const { adapter, connections: store } = defaultStores()
  const connections = new Connections(store, { now: () => now })
  const { app } = createExampleApp({ adapter, token: TOKEN, connections, adminToken: ADMIN })
  const admin = {
    post: (path: string, body?: unknown) => request(app).post(`/app/connections${path}`).set('Authorization', `Bearer ${ADMIN}`).send(body as object),
    get: () => request(app).get('/app/connections').set('Authorization', `Bearer ${ADMIN}`),
  }
  const scim = (token: string, path = '/scim/v2/Users') => request(app).get(path).set('Authorization', `Bearer ${token}`)
  const provision = (token: string, userName: string, base = '/scim/v2') =>
    request(app).post(`${base}/Users`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName }))
  return { app, admin, scim, provision, advance: (ms: number) => (now += ms) }
}

describe('example app: /app/connections (issue 14)', () => {
  it('POST creates 201 {id, tenant, baseUrl, token}; GET lists without token; the token provisions its own tenant only', async () => {
    const t = setup()
    const created = await t.admin.post('', { tenant: 'acme' })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['baseUrl', 'id', 'tenant', 'token'])
    expect(created.body.baseUrl).toMatch(new RegExp(`/scim/v2/c/${created.body.id}$`))
    const { id, token } = created.body
    expect((await t.provision(token, 'a@acme.test', `/scim/v2/c/${id}`)).status).toBe(201)
    expect((await t.provision(TOKEN, 'default@x.test')).status).toBe(201)
    const mine = await t.scim(token, `/scim/v2/c/${id}/Users`)
    expect(mine.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['a@acme.test'])
    // SCIM_TOKEN: the default tenant, as before; not on a connection's URL.
    const def = await t.scim(TOKEN)
    expect(def.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['default@x.test'])
    expect((await t.scim(TOKEN, `/scim/v2/c/${id}/Users`)).status).toBe(401)
    const list = await t.admin.get()
    expect(list.status).toBe(200)
    const mineListed = list.body.filter((c: { id: string }) => c.id === id)
    expect(mineListed).toEqual([expect.objectContaining({ id, tenant: 'acme', baseUrl: expect.stringMatching(new RegExp(`/scim/v2/c/${id}$`)), lastUsedAt: '2026-01-01T00:00:00.000Z' })])
    expect(mineListed[0].tokens).toEqual([{ createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null }])
    expect(JSON.stringify(list.body)).not.toContain(token)
  })

  it('rotate 200 {token}: the old one works graceSeconds more; revoke 204: both stop at once', async () => {
    const t = setup()
    const { id, token } = (await t.admin.post('', { tenant: 'acme' })).body
    const rotated = await t.admin.post(`/${id}/rotate`, { graceSeconds: 30 })
    expect(rotated.status).toBe(200)
    expect(Object.keys(rotated.body)).toEqual(['token'])
    t.advance(29_999)
    expect((await t.scim(token)).status).toBe(200)
    t.advance(1)
    expect((await t.scim(token)).status).toBe(401)
    expect((await t.scim(rotated.body.token)).status).toBe(200)
    expect((await t.admin.post(`/${id}/revoke`)).status).toBe(204)
    expect((await t.scim(rotated.body.token)).status).toBe(401)
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: 1 })).status).toBe(404)
    expect((await t.admin.post('/missing/revoke')).status).toBe(404)
  })

  it('the admin API needs ADMIN_TOKEN and refuses bad input with 400', async () => {
    const t = setup()
    expect((await request(t.app).get('/app/connections')).status).toBe(401)
    expect((await request(t.app).get('/app/connections').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(401)
    expect((await request(t.app).post('/app/connections').set('Authorization', 'Bearer nope').send({ tenant: 'x' })).status).toBe(401)
    expect((await t.admin.post('', {})).status).toBe(400)
    expect((await t.admin.post('', { tenant: "a'; DROP TABLE x" })).status).toBe(400)
    const { id } = (await t.admin.post('', { tenant: 'acme' })).body
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: -5 })).status).toBe(400)
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: 'soon' })).status).toBe(400)
  })
})
