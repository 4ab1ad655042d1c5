/**
 * Issue 15 item 4: the example app's `GET /app/connections/{id}/requests` (JSON, ADMIN_TOKEN) and
 * its console at /app/console/, on whichever store the pass runs (the request log on the same
 * kind of store: memory, or a Kysely database on the kysely-* passes).
 */
import request from 'supertest'
import { Connections } from '../../src'
import { createExampleApp } from '../../examples/app'
import { USER, defaultStores } from '../e2e/harness'
import { requestLogStore } from '../e2e/request-log-store'

const TOKEN = 'static-token'
const ADMIN = 'admin-secret'

async function setup() {
  const { adapter, connections: store } = defaultStores()
  const connections = new Connections(store)
  const requestLog = await requestLogStore()
  const { app, scim } = createExampleApp({ adapter, token: TOKEN, connections, adminToken: ADMIN, requestLog })
  const created = await request(app).post('/app/connections').set('Authorization', `Bearer ${ADMIN}`).send({ tenant: 'acme' })
  const { id, token } = created.body as { id: string; token: string }
  const scimCall = (method: 'get' | 'post', path: string, body?: unknown) => {
    const r = request(app)[method](`/scim/v2/c/${id}${path}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').set('User-Agent', 'Okta SCIM Client 1.0.0')
    return body === undefined ? r : r.send(JSON.stringify(body))
  }
  const requests = async (query = '') => {
    await scim.requestLog!.flush()
    return request(app).get(`/app/connections/${id}/requests${query}`).set('Authorization', `Bearer ${ADMIN}`)
  }
  return { app, id, token, scimCall, requests }
}

describe('example app: the request log of a connection (issue 15)', () => {
  it('GET /app/connections/{id}/requests: newest first, filters by status and resource id, pages; never the token or the password', async () => {
    const t = await setup()
    const user = await t.scimCall('post', '/Users', { schemas: [USER], userName: 'eve@acme.test', password: 'Eve-Pa55word-123' })
    expect(user.status).toBe(201)
    expect((await t.scimCall('post', '/Users', { schemas: [USER], userName: 'eve@acme.test' })).status).toBe(409)
    expect((await t.scimCall('get', `/Users/${user.body.id}`)).status).toBe(200)
    // Another tenant's traffic stays out of this connection's log.
    expect((await request(t.app).get('/scim/v2/Users').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200)
    const all = await t.requests()
    expect(all.status).toBe(200)
    expect(all.body.entries.map((e: { method: string; status: number }) => `${e.method} ${e.status}`)).toEqual(['GET 200', 'POST 409', 'POST 201'])
    expect(all.body.entries[1]).toMatchObject({ scimType: 'uniqueness', idp: 'okta', tenant: 'acme', connectionId: t.id })
    const failures = await t.requests('?status=error')
    expect(failures.body.entries.map((e: { status: number }) => e.status)).toEqual([409])
    const touching = await t.requests(`?resourceId=${user.body.id}`)
    expect(touching.body.entries.map((e: { method: string }) => e.method)).toEqual(['GET', 'POST'])
    const first = await t.requests('?limit=2')
    expect(first.body.entries).toHaveLength(2)
    const rest = await t.requests(`?limit=2&cursor=${encodeURIComponent(first.body.next)}`)
    expect(rest.body.entries.map((e: { status: number }) => e.status)).toEqual([201])
    expect(rest.body.next).toBeUndefined()
    const text = JSON.stringify([all.body, touching.body])
    expect(text).not.toContain(t.token)
    expect(text).not.toContain('Eve-Pa55word-123')
  })

  it('needs ADMIN_TOKEN; an unknown connection is 404; the console is served at /app/console/ and its API needs the admin token', async () => {
    const t = await setup()
    expect((await request(t.app).get(`/app/connections/${t.id}/requests`)).status).toBe(401)
    expect((await request(t.app).get(`/app/connections/${t.id}/requests`).set('Authorization', `Bearer ${t.token}`)).status).toBe(401)
    expect((await request(t.app).get('/app/connections/unknown/requests').set('Authorization', `Bearer ${ADMIN}`)).status).toBe(404)
    const page = await request(t.app).get('/app/console/')
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect((await request(t.app).get('/app/console/api/connections')).status).toBe(401)
    const listed = await request(t.app).get('/app/console/api/connections').set('Authorization', `Bearer ${ADMIN}`)
    expect(listed.body.map((c: { id: string }) => c.id)).toContain(t.id)
    expect(JSON.stringify(listed.body)).not.toContain(t.token)
  })
})
