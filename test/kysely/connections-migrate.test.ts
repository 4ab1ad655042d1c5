/**
 * Issue 14 item 2: a database whose connection tables were made before per-connection settings
 * and decommissioning gets the `settings` and `decommission` columns from migrate(), which stays
 * idempotent (run twice, and on a fresh database); old rows read as no settings and no job.
 */
import { sql } from 'kysely'
import { kyselyConnectionStore, migrate, scimTablesMapping } from '../../src/kysely'
import { STORES } from './stores'

describe.each(STORES)('connection tables on $name: migrate() adds the settings columns', ({ make, skip }) => {
  if (skip) {
    it.skip(`skipped: ${skip}`, () => undefined)
    return
  }
  let store: Awaited<ReturnType<typeof make>>
  beforeEach(async () => {
    store = await make()
  })
  afterEach(async () => {
    await store.drop()
  })

  it('an older connections table gets the columns; old rows keep working; migrate() runs again without error', async () => {
    const key = store.dialect === 'mysql' ? 'VARCHAR(64)' : 'TEXT'
    const big = store.dialect === 'sqlite' ? 'INTEGER' : 'BIGINT'
    // The table as the previous version's migrate() made it.
    await sql.raw(`CREATE TABLE scim_connections (id ${key} NOT NULL, tenant ${key} NOT NULL, created_at ${big} NOT NULL, revoked_at ${big}, last_used_at ${big}, PRIMARY KEY (id))`).execute(store.db)
    await sql.raw(`INSERT INTO scim_connections (id, tenant, created_at) VALUES ('old', 'acme', 1)`).execute(store.db)
    await migrate(store.db, scimTablesMapping(), { createTables: true })
    await migrate(store.db, scimTablesMapping(), { createTables: true })
    const connections = kyselyConnectionStore(store.db)
    expect(await connections.get('old')).toEqual({ id: 'old', tenant: 'acme', createdAt: 1, revokedAt: null, lastUsedAt: null, tokens: [], settings: {}, decommission: null })
    const job = { users: 'delete' as const, state: 'running' as const, startedAt: 2, finishedAt: null, pass: 1, position: 4, passChanges: 4, deprovisioned: 4, failed: 0, lastError: null }
    await connections.update('old', { settings: { seatCap: 3, allowedEmailDomains: ['acme.test'] }, decommission: job, revokedAt: 2 })
    expect(await connections.get('old')).toMatchObject({ revokedAt: 2, settings: { seatCap: 3, allowedEmailDomains: ['acme.test'] }, decommission: job })
    await connections.update('old', { decommission: null })
    expect((await connections.get('old'))?.decommission).toBeNull()
  })

  it('on a fresh database migrate() creates the columns and is idempotent', async () => {
    await migrate(store.db, scimTablesMapping(), { createTables: true })
    await migrate(store.db, scimTablesMapping(), { createTables: true })
    const connections = kyselyConnectionStore(store.db)
    await connections.insert({ id: 'c1', tenant: 't', createdAt: 5, revokedAt: null, lastUsedAt: null, tokens: [{ hash: 'a'.repeat(64), createdAt: 5, expiresAt: null }], settings: { strict: true }, decommission: null })
    expect(await connections.get('c1')).toMatchObject({ settings: { strict: true }, decommission: null })
    expect((await connections.findByTokenHash('a'.repeat(64)))?.id).toBe('c1')
  })
})
