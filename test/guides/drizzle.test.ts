/**
 * docs/guides/drizzle.md: the Kysely adapter on the same better-sqlite3 connection as the app's
 * drizzle-orm instance, over the app's Drizzle-declared tables, passes the adapter conformance kit,
 * and what SCIM writes is what Drizzle reads (and the other way round).
 */
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { describeAdapterConformance } from '../../src/testing'
import { migrate, type KyselyAdapter } from '../../src/kysely'
import { drizzleMapping, scimOverDrizzleSqlite } from '../../examples/guides/drizzle/adapter'
import { createTables, users } from '../../examples/guides/drizzle/schema'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

async function setup() {
  const sqlite = new Database(':memory:')
  const made = scimOverDrizzleSqlite(sqlite)
  for (const statement of createTables) made.orm.run(statement)
  // the side table of multi-valued lookups (emails.value, …) the mapping needs (RFC 7644 §3.4.2.2)
  await migrate(made.db, drizzleMapping('iso'))
  return made
}

const dbs = new Map<KyselyAdapter, Awaited<ReturnType<typeof setup>>['db']>()
describeAdapterConformance(
  'KyselyAdapter over Drizzle-declared tables (sqlite, shared connection)',
  async () => {
    const made = await setup()
    dbs.set(made.adapter, made.db)
    return made.adapter
  },
  { describe, it, expect },
  {
    teardown: async (a) => {
      await dbs.get(a as KyselyAdapter)?.destroy()
      dbs.delete(a as KyselyAdapter)
    },
  },
)

describe('Drizzle guide: one connection, one set of rows', () => {
  it('a User created through SCIM is a row Drizzle reads, and a Drizzle update is what SCIM returns (RFC 7644 §3.3, §3.4.1)', async () => {
    const { orm, db, adapter } = await setup()
    const created = await adapter.create(
      { resourceType: 'User', attributes: { schemas: [USER], userName: 'ada@example.com', name: { givenName: 'Ada' }, active: true }, unique: [] },
      { tenant: 'org-1' },
    )
    const rows = orm.select().from(users).where(eq(users.id, created.id)).all()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ orgId: 'org-1', email: 'ada@example.com', firstName: 'Ada', isActive: true })

    orm.update(users).set({ displayName: 'Ada Lovelace' }).where(eq(users.id, created.id)).run()
    const read = await adapter.get({ resourceType: 'User', id: created.id }, { tenant: 'org-1' })
    expect(read?.attributes['displayName']).toBe('Ada Lovelace')
    // another tenant does not see the row (RFC 7644 §6)
    expect(await adapter.get({ resourceType: 'User', id: created.id }, { tenant: 'org-2' })).toBeNull()
    await db.destroy()
  })
})
