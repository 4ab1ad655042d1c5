/**
 * Issue 7 item 5: the example app ends a user's sessions when the IdP deprovisions the user,
 * however the deprovisioning arrives, before the IdP's request is answered.
 */
import request from 'supertest'
import { MemoryAdapter } from '../../src'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { kyselyAdapter, scimTablesMapping } from '../../src/kysely'
import { createExampleApp } from '../../examples/app'

const TOKEN = 'example-token'
const AUTH = { Authorization: `Bearer ${TOKEN}` }

const STORES = [
  { name: 'memory', make: () => new MemoryAdapter() },
  // What `npm run example` serves: the Kysely adapter on the SCIM-owned tables, with its outbox.
  {
    name: 'sqlite (kysely, scimTablesMapping)',
    make: () =>
      kyselyAdapter({ db: new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }), mapping: scimTablesMapping(), migrate: { createTables: true } }),
  },
]

describe.each(STORES)('example app on $name: deprovisioning ends sessions', ({ make }) => {
  async function setup() {
    const example = createExampleApp({ adapter: make(), token: TOKEN })
    const user = await request(example.app)
      .post('/scim/v2/Users')
      .set(AUTH)
      .set('Content-Type', 'application/scim+json; charset=utf-8')
      .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'jo@example.com', active: true }))
    expect(user.status).toBe(201)
    const login = await request(example.app).post('/app/login').send({ userId: user.body.id })
    expect(login.status).toBe(201)
    const session = `Session ${login.body.session}`
    expect((await request(example.app).get('/app/me').set('Authorization', session)).status).toBe(200)
    return { ...example, id: user.body.id as string, session }
  }

  const patch = (ops: unknown[]) => JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops })

  it.each([
    ['Entra legacy dialect: Replace active "False"', [{ op: 'Replace', path: 'active', value: 'False' }]],
    ['Entra aadOptscim062020: replace active false', [{ op: 'replace', path: 'active', value: false }]],
    ['Okta: path-less replace {"active": false}', [{ op: 'replace', value: { active: false } }]],
  ])('%s', async (_name, ops) => {
    const ex = await setup()
    const res = await request(ex.app).patch(`/scim/v2/Users/${ex.id}`).set(AUTH).set('Content-Type', 'application/scim+json').send(patch(ops))
    expect(res.status).toBe(200)
    expect(res.body.active).toBe(false)
    // The session is gone as soon as the IdP has its answer (awaitEvents).
    expect([...ex.sessions.values()].some((s) => s.userId === ex.id)).toBe(false)
    expect((await request(ex.app).get('/app/me').set('Authorization', ex.session)).status).toBe(401)
    expect((await request(ex.app).post('/app/login').send({ userId: ex.id })).status).toBe(403)
    expect(ex.events.filter((e) => e.type === 'user.deprovisioned').map((e) => e.id)).toEqual([ex.id])
  })

  it('PUT with active false and DELETE end sessions too', async () => {
    const ex = await setup()
    const put = await request(ex.app)
      .put(`/scim/v2/Users/${ex.id}`)
      .set(AUTH)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'jo@example.com', active: false }))
    expect(put.status).toBe(200)
    expect((await request(ex.app).get('/app/me').set('Authorization', ex.session)).status).toBe(401)

    const other = await setup()
    expect((await request(other.app).delete(`/scim/v2/Users/${other.id}`).set(AUTH)).status).toBe(204)
    expect((await request(other.app).get('/app/me').set('Authorization', other.session)).status).toBe(401)
    expect(other.events.find((e) => e.type === 'user.deprovisioned')).toMatchObject({ id: other.id, reason: 'deleted' })
  })

  it('an update that does not deactivate keeps the session', async () => {
    const ex = await setup()
    const res = await request(ex.app)
      .patch(`/scim/v2/Users/${ex.id}`)
      .set(AUTH)
      .set('Content-Type', 'application/scim+json')
      .send(patch([{ op: 'replace', path: 'title', value: 'Lead' }]))
    expect(res.status).toBe(200)
    expect((await request(ex.app).get('/app/me').set('Authorization', ex.session)).status).toBe(200)
  })
})
