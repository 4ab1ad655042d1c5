/**
 * The Kysely adapter passes the adapter conformance kit (scim-router/testing) on SQLite,
 * PostgreSQL and MariaDB, over the SCIM-owned mapping (columns + JSON column + join table).
 */
import { kyselyAdapter, migrate, scimTablesMapping, type KyselyAdapter } from '../../src/kysely'
import { describeAdapterConformance } from '../../src/testing'
import { STORES, type Store } from './stores'

for (const s of STORES) {
  if (s.skip) {
    describe.skip(`KyselyAdapter (${s.name}): ${s.skip}`, () => {
      it('conformance kit', () => undefined)
    })
    continue
  }
  const stores = new Map<KyselyAdapter, Store>()
  describeAdapterConformance(
    `KyselyAdapter (${s.name})`,
    async () => {
      const store = await s.make()
      const mapping = scimTablesMapping()
      await migrate(store.db, mapping, { createTables: true })
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
}
