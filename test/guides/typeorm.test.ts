/**
 * docs/guides/typeorm.md: scim-router's Kysely adapter on the connections of the app's TypeORM
 * DataSource (SQLite in memory, where a second connection would be a different database; and
 * PostgreSQL when SCIM_PG_URL is set, in a schema of its own), over the tables of the app's
 * entities. A provisioning flow over HTTP (create, filter lookup, group push, PATCH deactivate) is
 * what the app's TypeORM repositories read, and an app write through TypeORM is a new SCIM version.
 * The SQLite variant also passes the adapter conformance kit.
 */
import express from 'express'
import { Client } from 'pg'
import request from 'supertest'
import { DataSource } from 'typeorm'
import { bearerToken, scimRouter } from '../../src'
import { describeAdapterConformance } from '../../src/testing'
import { migrate, type KyselyAdapter } from '../../src/kysely'
import { appEntities, type GuideDatabase } from '../../examples/guides/typeorm/entities'
import { scimOverTypeorm } from '../../examples/guides/typeorm/adapter'

const PG_URL = process.env['SCIM_PG_URL']
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const TOKEN_A = 'typeorm-guide-token-a'
const TOKEN_B = 'typeorm-guide-token-b'

/** The app's DataSource (synchronize stands in for the app's TypeORM migrations) and SCIM on it. */
async function setup(database: GuideDatabase, schema?: string) {
  const entities = appEntities(database)
  const dataSource =
    database === 'postgres'
      ? new DataSource({
          type: 'postgres',
          url: PG_URL!,
          schema: schema!,
          extra: { options: `-c search_path=${schema}`, max: 4 },
          entities: [entities.User, entities.Team],
          synchronize: true,
        })
      : new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [entities.User, entities.Team], synchronize: true })
  await dataSource.initialize()
  const made = scimOverTypeorm<{ org: string }>(dataSource, entities, { tenant: (ctx) => ctx.org })
  // the side tables of lookups and uniqueness the mapping needs (RFC 7644 §3.4.2.2, RFC 7643 §2.2)
  await migrate(made.db, made.mapping)
  return { dataSource, entities, ...made }
}

function provisioningFlow(database: GuideDatabase, schema?: string) {
  return async () => {
    const { dataSource, entities, adapter } = await setup(database, schema)
    try {
      const app = express()
      app.use(
        '/scim/v2',
        scimRouter(adapter, {
          authenticate: bearerToken({ [TOKEN_A]: { org: 'org-1' }, [TOKEN_B]: { org: 'org-2' } }),
          context: (_req, principal) => ({ org: principal.org }),
        }),
      )
      const auth = { Authorization: `Bearer ${TOKEN_A}` }

      // An IdP creates a user (RFC 7644 §3.3).
      const created = await request(app)
        .post('/scim/v2/Users')
        .set(auth)
        .send({
          schemas: [USER, ENTERPRISE],
          userName: 'ada@example.com',
          externalId: 'okta-00u1',
          name: { givenName: 'Ada', familyName: 'Lovelace' },
          emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
          active: true,
          [ENTERPRISE]: { department: 'Engines' },
        })
      expect(created.status).toBe(201)
      const id = created.body.id as string

      // ... looks it up by userName (RFC 7644 §3.4.2.2) ...
      const found = await request(app).get('/scim/v2/Users').query({ filter: 'userName eq "ADA@example.com"' }).set(auth)
      expect(found.status).toBe(200)
      expect(found.body.totalResults).toBe(1)
      expect(found.body.Resources[0].id).toBe(id)
      // ... which another organisation does not see (RFC 7644 §6)
      const other = await request(app).get('/scim/v2/Users').query({ filter: 'userName eq "ada@example.com"' }).set({ Authorization: `Bearer ${TOKEN_B}` })
      expect(other.body.totalResults).toBe(0)

      // ... pushes a group with the user in it ...
      const group = await request(app).post('/scim/v2/Groups').set(auth).send({ schemas: [GROUP], displayName: 'Engineering', members: [{ value: id }] })
      expect(group.status).toBe(201)

      // ... and deactivates the user (RFC 7644 §3.5.2).
      const patched = await request(app)
        .patch(`/scim/v2/Users/${id}`)
        .set(auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })
      expect(patched.status).toBe(200)
      expect(patched.body.active).toBe(false)
      expect(patched.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: 'Engineering' })])

      // The app's TypeORM repository reads the change, membership included.
      const users = dataSource.getRepository(entities.User)
      const row = await users.findOne({ where: { id }, relations: { teams: true } })
      expect(row).toMatchObject({ orgId: 'org-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', isActive: false, externalId: 'okta-00u1', department: 'Engines' })
      expect(row?.teams?.map((t) => t.name)).toEqual(['Engineering'])
      expect(row?.scim).toMatchObject({ emails: [{ value: 'ada@example.com', type: 'work', primary: true }] })
      expect(row?.createdAt).toBeInstanceOf(Date)
      expect(row?.createdAt.toISOString()).toBe(patched.body.meta.created)
      expect(row?.updatedAt.toISOString()).toBe(patched.body.meta.lastModified)

      // An app write through TypeORM bumps the @VersionColumn: SCIM serves it with a new ETag, and
      // a client holding the old one gets 412 instead of overwriting it (RFC 7644 §3.14).
      const etag = patched.headers['etag'] as string
      await users.save({ ...row!, displayName: 'Countess of Lovelace', updatedAt: new Date() })
      const read = await request(app).get(`/scim/v2/Users/${id}`).set(auth)
      expect(read.body.displayName).toBe('Countess of Lovelace')
      expect(read.headers['etag']).not.toBe(etag)
      const stale = await request(app)
        .patch(`/scim/v2/Users/${id}`)
        .set({ ...auth, 'If-Match': etag })
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] })
      expect(stale.status).toBe(412)
      expect((await users.findOneBy({ id }))?.isActive).toBe(false)

      // Deleting through SCIM removes the row and its membership (RFC 7644 §3.6).
      expect((await request(app).delete(`/scim/v2/Users/${id}`).set(auth)).status).toBe(204)
      expect(await users.findOneBy({ id })).toBeNull()
      const team = await dataSource.getRepository(entities.Team).findOne({ where: { id: group.body.id }, relations: { members: true } })
      expect(team?.members).toEqual([])
    } finally {
      await dataSource.destroy()
    }
  }
}

describe('TypeORM guide on SQLite: one DataSource, one set of rows', () => {
  it('create, filter lookup, group push and PATCH deactivate over HTTP are what TypeORM reads (RFC 7644 §3.3, §3.4.2.2, §3.5.2)', provisioningFlow('sqlite'))
})

if (PG_URL) {
  describe('TypeORM guide on PostgreSQL: Kysely on the DataSource pg Pool', () => {
    const schema = `typeorm_guide_${process.pid}`
    const admin = () => new Client({ connectionString: PG_URL })
    beforeAll(async () => {
      const c = admin()
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.query(`CREATE SCHEMA ${schema}`)
      await c.end()
    })
    afterAll(async () => {
      const c = admin()
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    })
    it('create, filter lookup, group push and PATCH deactivate over HTTP are what TypeORM reads (RFC 7644 §3.3, §3.4.2.2, §3.5.2)', provisioningFlow('postgres', schema))
  })
} else {
  describe.skip('TypeORM guide on PostgreSQL: needs SCIM_PG_URL', () => it('provisioning flow', () => undefined))
}

const sources = new Map<KyselyAdapter<{ tenant: string }>, DataSource>()
describeAdapterConformance(
  'KyselyAdapter on a TypeORM DataSource (sqlite, shared connection)',
  async () => {
    const entities = appEntities('sqlite')
    const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [entities.User, entities.Team], synchronize: true })
    await dataSource.initialize()
    const { db, mapping, adapter } = scimOverTypeorm<{ tenant: string }>(dataSource, entities)
    await migrate(db, mapping)
    sources.set(adapter, dataSource)
    return adapter
  },
  { describe, it, expect },
  {
    teardown: async (a) => {
      await sources.get(a as KyselyAdapter<{ tenant: string }>)?.destroy()
      sources.delete(a as KyselyAdapter<{ tenant: string }>)
    },
  },
)
