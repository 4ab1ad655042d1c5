/**
 * docs/guides/prisma.md: scim-router's Kysely adapter on the app's Prisma Client (Prisma 7, the
 * better-sqlite3 driver adapter), over the tables of the app's Prisma models, passes the adapter
 * conformance kit; a provisioning flow over HTTP is what the app's Prisma Client reads, and the
 * app's `prisma.$kysely` (prisma-extension-kysely) reads the same rows.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import express from 'express'
import request from 'supertest'
import { bearerToken, scimRouter } from '../../src'
import { describeAdapterConformance } from '../../src/testing'
import { migrate, type KyselyAdapter } from '../../src/kysely'
import { PrismaPg } from '@prisma/adapter-pg'
import { Client } from 'pg'
import { scimOverPrisma, withKysely } from '../../examples/guides/prisma/adapter'
import { PrismaClient } from '../../examples/guides/prisma/generated/client'
import { PrismaClient as PgPrismaClient } from '../../examples/guides/prisma/postgres/generated/client'
import { createPostgresTables, createSqliteTables } from '../../examples/guides/prisma/tables'

const PG_URL = process.env['SCIM_PG_URL']

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const TOKEN_A = 'prisma-guide-token-a'
const TOKEN_B = 'prisma-guide-token-b'

async function setup<Ctx>(options: Parameters<typeof scimOverPrisma<Ctx>>[2] = {}) {
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }, { timestampFormat: 'unixepoch-ms' }) })
  await createSqliteTables(base)
  const made = scimOverPrisma<Ctx>(base, 'sqlite', options)
  // the side tables of lookups and uniqueness the mapping needs (RFC 7644 §3.4.2.2, RFC 7643 §2.2)
  await migrate(made.db, made.mapping)
  return { base, prisma: withKysely(base, 'sqlite'), ...made }
}

const clients = new Map<KyselyAdapter<{ tenant: string }>, PrismaClient>()
describeAdapterConformance(
  'KyselyAdapter on a Prisma Client (sqlite, better-sqlite3 driver adapter)',
  async () => {
    const { base, adapter } = await setup<{ tenant: string }>()
    clients.set(adapter, base)
    return adapter
  },
  { describe, it, expect },
  {
    teardown: async (a) => {
      await clients.get(a as KyselyAdapter<{ tenant: string }>)?.$disconnect()
      clients.delete(a as KyselyAdapter<{ tenant: string }>)
    },
  },
)

/** What the provisioning flow runs on: the app's client, extended with $kysely, and SCIM on it. */
type Made = { base: { $disconnect(): Promise<void> }; prisma: ReturnType<typeof withKysely>; adapter: KyselyAdapter<{ org: string }> }

function provisioningFlow(make: () => Promise<Made>) {
  return async () => {
    const { base, prisma, adapter } = await make()
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

      // An IdP creates a user (RFC 7644 §3.3) ...
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

      // ... looks it up by userName (RFC 7644 §3.4.2.2), which another organisation does not see (RFC 7644 §6) ...
      const found = await request(app).get('/scim/v2/Users').query({ filter: 'userName eq "ADA@example.com"' }).set(auth)
      expect(found.status).toBe(200)
      expect(found.body.totalResults).toBe(1)
      expect(found.body.Resources[0].id).toBe(id)
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

      // The app's Prisma Client reads the change, membership included ...
      const row = await prisma.user.findUnique({ where: { id }, include: { teams: { include: { team: true } } } })
      expect(row).toMatchObject({ orgId: 'org-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', isActive: false, externalId: 'okta-00u1', department: 'Engines' })
      expect(row?.teams.map((m) => m.team.name)).toEqual(['Engineering'])
      expect(JSON.parse(row!.scim!)).toMatchObject({ emails: [{ value: 'ada@example.com', type: 'work', primary: true }] })
      expect(row?.createdAt?.toISOString()).toBe(patched.body.meta.created)
      expect(row?.updatedAt?.toISOString()).toBe(patched.body.meta.lastModified)
      // ... and so does its Kysely on the same client (prisma-extension-kysely).
      const viaKysely = await prisma.$kysely.selectFrom('users').select(['email', 'is_active']).where('id', '=', id).executeTakeFirst()
      expect(viaKysely).toEqual({ email: 'ada@example.com', is_active: false })

      // An app write through Prisma that bumps the version is a new SCIM version: SCIM serves it with
      // a new ETag, and a client holding the old one gets 412 instead of overwriting it (RFC 7644 §3.14).
      const etag = patched.headers['etag'] as string
      await prisma.user.update({ where: { id }, data: { displayName: 'Countess of Lovelace', version: { increment: 1 }, updatedAt: new Date() } })
      const read = await request(app).get(`/scim/v2/Users/${id}`).set(auth)
      expect(read.body.displayName).toBe('Countess of Lovelace')
      expect(read.headers['etag']).not.toBe(etag)
      const stale = await request(app)
        .patch(`/scim/v2/Users/${id}`)
        .set({ ...auth, 'If-Match': etag })
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] })
      expect(stale.status).toBe(412)
      expect((await prisma.user.findUnique({ where: { id } }))?.isActive).toBe(false)
      // The app's timestamp (epoch ms, as Prisma and scim-router both write it) is SCIM's lastModified,
      // exact in a filter (RFC 7644 §3.4.2.2).
      const updatedAt = (await prisma.user.findUnique({ where: { id } }))!.updatedAt!
      expect(read.body.meta.lastModified).toBe(updatedAt.toISOString())
      const since = await request(app).get('/scim/v2/Users').query({ filter: `meta.lastModified ge "${updatedAt.toISOString()}"` }).set(auth)
      expect(since.body.Resources.map((r: { id: string }) => r.id)).toEqual([id])

      // A duplicate userName is 409 uniqueness (RFC 7644 §3.3): the driver's error code survives Prisma's wrapping.
      const dup = await request(app).post('/scim/v2/Users').set(auth).send({ schemas: [USER], userName: 'Ada@Example.com' })
      expect(dup.status).toBe(409)
      expect(dup.body.scimType).toBe('uniqueness')

      // Deleting through SCIM removes the row and its membership (RFC 7644 §3.6).
      expect((await request(app).delete(`/scim/v2/Users/${id}`).set(auth)).status).toBe(204)
      expect(await prisma.user.findUnique({ where: { id } })).toBeNull()
      expect(await prisma.teamMember.count({ where: { teamId: group.body.id } })).toBe(0)
    } finally {
      await base.$disconnect()
    }
  }
}

describe('Prisma guide on SQLite: one Prisma Client, one set of rows', () => {
  it(
    'create, filter lookup, group push and PATCH deactivate over HTTP are what Prisma reads (RFC 7644 §3.3, §3.4.2.2, §3.5.2)',
    provisioningFlow(() => setup<{ org: string }>({ tenant: (ctx) => ctx.org })),
  )
})

if (PG_URL) {
  describe('Prisma guide on PostgreSQL: the @prisma/adapter-pg pool', () => {
    const schema = `prisma_guide_${process.pid}`
    const admin = async (statement: string) => {
      const c = new Client({ connectionString: PG_URL })
      await c.connect()
      try {
        await c.query(statement)
      } finally {
        await c.end()
      }
    }
    beforeAll(async () => {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin(`CREATE SCHEMA ${schema}`)
    })
    afterAll(() => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))
    it(
      'create, filter lookup, group push and PATCH deactivate over HTTP are what Prisma reads (RFC 7644 §3.3, §3.4.2.2, §3.5.2)',
      provisioningFlow(async () => {
        const base = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 4 }, { schema }) })
        await createPostgresTables(base)
        const made = scimOverPrisma<{ org: string }>(base, 'postgres', { tenant: (ctx) => ctx.org })
        await migrate(made.db, made.mapping)
        // postgres/schema.prisma has the same models as schema.prisma, so the same client API.
        return { base, prisma: withKysely(base as unknown as PrismaClient, 'postgres'), ...made }
      }),
    )
  })
} else {
  describe.skip('Prisma guide on PostgreSQL: needs SCIM_PG_URL', () => it('provisioning flow', () => undefined))
}
