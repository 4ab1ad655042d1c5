/**
 * examples/existing-tables (issue 12 item 5): the adapter over an app's own `users`, `teams` and
 * `team_members` tables (exactly the schema plus one JSON column) passes the conformance
 * kit on SQLite, PostgreSQL and MariaDB, and the example app serves two organisations at once with
 * nothing of one visible to the other (RFC 7644 §6: a client sees only its own tenant's resources).
 */
import request from 'supertest'
import { describeAdapterConformance } from '../../src/testing'
import { kyselyAdapter, migrate, type KyselyAdapter } from '../../src/kysely'
import { createExistingTablesApp } from '../../examples/existing-tables/app'
import { existingTablesMapping } from '../../examples/existing-tables/mapping'
import { createAppTables } from '../../examples/existing-tables/schema'
import { STORES, type Store } from './stores'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

for (const s of STORES) {
  if (s.skip) {
    describe.skip(`existing tables (${s.name}): ${s.skip}`, () => {
      it('conformance kit and two organisations', () => undefined)
    })
    continue
  }
  const stores = new Map<KyselyAdapter, Store>()
  describeAdapterConformance(
    `KyselyAdapter over existing tables (${s.name})`,
    async () => {
      const store = await s.make()
      const mapping = existingTablesMapping(store.dialect === 'sqlite' ? 'iso' : 'date')
      await createAppTables(store.db, store.dialect)
      await migrate(store.db, mapping)
      const adapter = kyselyAdapter({ db: store.db, mapping })
      stores.set(adapter, store)
      return adapter
    },
    { describe, it, expect },
    {
      teardown: async (a) => {
        await stores.get(a as KyselyAdapter)?.drop()
        stores.delete(a as KyselyAdapter)
      },
    },
  )

  describe(`examples/existing-tables (${s.name}): two organisations, one token each`, () => {
    let store: Store
    let app: ReturnType<typeof createExistingTablesApp>['app']
    const A = { Authorization: 'Bearer token-a', 'Content-Type': 'application/scim+json' }
    const B = { Authorization: 'Bearer token-b', 'Content-Type': 'application/scim+json' }
    beforeAll(async () => {
      store = await s.make()
      const made = createExistingTablesApp({ db: store.db, dialect: store.dialect, tokens: { a: 'token-a', b: 'token-b' } })
      await made.ready
      app = made.app
    })
    afterAll(() => store?.drop())

    it('a user and a team of org A: served to A, invisible to B (GET 404, list, filter, PATCH, PUT, DELETE, Bulk)', async () => {
      const user = { schemas: [USER, ENTERPRISE], userName: 'ann@a.test', name: { givenName: 'Ann', familyName: 'Lee' }, active: true, emails: [{ value: 'ann@a.test', type: 'work' }], [ENTERPRISE]: { department: 'Ops' } }
      const created = await request(app).post('/scim/v2/Users').set(A).send(user)
      expect(created.status).toBe(201)
      const id = created.body.id as string
      expect(created.body.name).toEqual({ givenName: 'Ann', familyName: 'Lee' })
      expect(created.body[ENTERPRISE]).toEqual({ department: 'Ops' })
      // The same userName in org B is not a collision: uniqueness is per organisation.
      const other = await request(app).post('/scim/v2/Users').set(B).send({ schemas: [USER], userName: 'ANN@a.test' })
      expect(other.status).toBe(201)
      const team = await request(app).post('/scim/v2/Groups').set(A).send({ schemas: [GROUP], displayName: 'Ops', members: [{ value: id }] })
      expect(team.status).toBe(201)
      // B cannot reach A's resources by any route.
      expect((await request(app).get(`/scim/v2/Users/${id}`).set(B)).status).toBe(404)
      expect((await request(app).get(`/scim/v2/Groups/${team.body.id}`).set(B)).status).toBe(404)
      const listed = await request(app).get('/scim/v2/Users').set(B)
      expect(listed.body.Resources.map((r: { id: string }) => r.id)).toEqual([other.body.id])
      const filtered = await request(app).get('/scim/v2/Users').query({ filter: 'userName eq "ann@a.test"' }).set(B)
      expect(filtered.body.Resources.map((r: { id: string }) => r.id)).toEqual([other.body.id])
      expect((await request(app).get('/scim/v2/Groups').query({ filter: `members.value eq "${id}"` }).set(B)).body.totalResults).toBe(0)
      const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }
      expect((await request(app).patch(`/scim/v2/Users/${id}`).set(B).send(patch)).status).toBe(404)
      expect((await request(app).put(`/scim/v2/Users/${id}`).set(B).send({ schemas: [USER], userName: 'x' })).status).toBe(404)
      expect((await request(app).delete(`/scim/v2/Users/${id}`).set(B)).status).toBe(404)
      const bulk = await request(app)
        .post('/scim/v2/Bulk')
        .set(B)
        .send({ schemas: [BULK], Operations: [{ method: 'DELETE', path: `/Users/${id}` }, { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'B team', members: [{ value: id }] } }] })
      expect(bulk.status).toBe(200)
      expect(bulk.body.Operations.map((o: { status: string }) => o.status)).toEqual(['404', '400'])
      // A's data is intact, with the derived groups.
      const mine = await request(app).get(`/scim/v2/Users/${id}`).set(A)
      expect(mine.status).toBe(200)
      expect(mine.body.active).toBe(true)
      expect(mine.body.groups.map((g: { value: string; display: string }) => [g.value, g.display])).toEqual([[team.body.id, 'Ops']])
      // A's own PATCH (Entra's deactivation) lands in the is_active column.
      const off = await request(app).patch(`/scim/v2/Users/${id}`).set(A).send(patch)
      expect(off.status).toBe(200)
      expect(off.body.active).toBe(false)
    })

    it('both organisations provisioning at once: each sees exactly its own users', async () => {
      const make = (h: typeof A, org: string, i: number) => request(app).post('/scim/v2/Users').set(h).send({ schemas: [USER], userName: `same${i}@x.test`, displayName: `${org} ${i}` })
      const results = await Promise.all([0, 1, 2, 3, 4].flatMap((i) => [make(A, 'A', i), make(B, 'B', i)]))
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(201))
      for (const [h, org] of [[A, 'A'], [B, 'B']] as const) {
        const page = await request(app).get('/scim/v2/Users').query({ filter: 'userName sw "same"', count: 100 }).set(h)
        expect(page.body.totalResults).toBe(5)
        expect(page.body.Resources.every((r: { displayName: string }) => r.displayName.startsWith(`${org} `))).toBe(true)
      }
    })
  })
}
