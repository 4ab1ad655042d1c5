/** RFC 7643 §9.2, RES-051: the shipped adapters never keep a cleartext password. */
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { MemoryAdapter, type ScimAdapter } from '../../src'
import { kyselyAdapter, scimTablesMapping } from '../../src/kysely'

const kysely = (): ScimAdapter =>
  kyselyAdapter({ db: new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }), mapping: scimTablesMapping(), migrate: { createTables: true } })

describe.each([
  ['MemoryAdapter', (): ScimAdapter => new MemoryAdapter()],
  ['KyselyAdapter (SQLite, scimTablesMapping)', kysely],
])('%s', (_name, make) => {
  it('drops password on create and replace; changePassword is not advertised', async () => {
    const a = make()
    const created = await a.create({ resourceType: 'User', attributes: { userName: 'pw', password: 's3cret!' }, unique: [] }, {})
    expect(created.attributes).not.toHaveProperty('password')
    await a.replace({ resourceType: 'User', id: created.id, attributes: { userName: 'pw', password: 'n3w!' }, unique: [] }, {})
    const got = await a.get({ resourceType: 'User', id: created.id }, {})
    expect(got?.attributes).not.toHaveProperty('password')
    expect(JSON.stringify(got)).not.toContain('n3w!')
    expect(a.capabilities?.changePassword).toBe(false)
  })
})
