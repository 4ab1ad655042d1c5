/**
 * docs/guides/knex.md: the Kysely adapter on the connections of the app's knex instance
 * (better-sqlite3, in-memory, so a second connection would be a different database) passes the
 * adapter conformance kit, and knex reads the rows SCIM writes.
 */
import createKnex, { type Knex } from 'knex'
import { describeAdapterConformance } from '../../src/testing'
import { migrate, type KyselyAdapter } from '../../src/kysely'
import { existingTablesMapping } from '../../examples/existing-tables/mapping'
import { appTables } from '../../examples/existing-tables/schema'
import { scimOverKnex } from '../../examples/guides/knex/adapter'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

async function setup() {
  const knex = createKnex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true })
  for (const statement of appTables('sqlite')) await knex.raw(statement)
  const made = scimOverKnex(knex)
  await migrate(made.db, existingTablesMapping('iso'))
  return { knex, ...made }
}

const knexes = new Map<KyselyAdapter, Knex>()
describeAdapterConformance(
  'KyselyAdapter on knex connections (sqlite)',
  async () => {
    const made = await setup()
    knexes.set(made.adapter, made.knex)
    return made.adapter
  },
  { describe, it, expect },
  {
    teardown: async (a) => {
      await knexes.get(a as KyselyAdapter)?.destroy()
      knexes.delete(a as KyselyAdapter)
    },
  },
)

describe('knex guide: one pool, one set of rows', () => {
  it('a User created through SCIM is the row knex reads, in its tenant only (RFC 7644 §3.3, §6)', async () => {
    const { knex, adapter } = await setup()
    const created = await adapter.create(
      { resourceType: 'User', attributes: { schemas: [USER], userName: 'ada@example.com', active: true }, unique: [] },
      { tenant: 'org-1' },
    )
    const rows = await knex('users').where({ id: created.id }).select('org_id', 'email')
    expect(rows).toEqual([{ org_id: 'org-1', email: 'ada@example.com' }])
    await knex('users').where({ id: created.id }).update({ display_name: 'Ada Lovelace' })
    expect((await adapter.get({ resourceType: 'User', id: created.id }, { tenant: 'org-1' }))?.attributes['displayName']).toBe('Ada Lovelace')
    expect(await adapter.get({ resourceType: 'User', id: created.id }, { tenant: 'org-2' })).toBeNull()
    await knex.destroy()
  })
})
