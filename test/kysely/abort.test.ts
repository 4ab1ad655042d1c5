/**
 * The Kysely adapter and the request deadline (AUTH-008, issue 11 item 3), ported from the retired
 * example SqlAdapter's tests: a write whose signal aborts while its transaction runs is rolled
 * back, never committed (uniqueness keys included); an already aborted signal changes nothing.
 * On SQLite always, PostgreSQL and MariaDB with their URLs. (The old adapter also cancelled a
 * PostgreSQL statement waiting for a row lock; this one checks the signal between statements
 * and before COMMIT, so a write waiting for a lock gives up when the lock is released.)
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import { InsertQueryNode, TableNode } from 'kysely'
import { ServiceUnavailableError } from '../../src'
import { kyselyAdapter, migrate, scimTablesMapping } from '../../src/kysely'
import { STORES, type Store } from './stores'

const USER_UNIQUE = [{ path: 'userName', caseExact: false }] as const
const ctx = { tenant: 't1' }

/** Calls `onInsert(table)` after every INSERT the Kysely instance it is plugged into runs. */
class AfterInsert implements KyselyPlugin {
  readonly #tables = new Map<unknown, string>()
  constructor(readonly onInsert: (table: string) => void) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node
    if (InsertQueryNode.is(node) && node.into && TableNode.is(node.into)) this.#tables.set(args.queryId, node.into.table.identifier.name)
    return node
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const table = this.#tables.get(args.queryId)
    this.#tables.delete(args.queryId)
    if (table) this.onInsert(table)
    return args.result
  }
}

for (const s of STORES) {
  if (s.skip) {
    describe.skip(`KyselyAdapter (${s.name}): AdapterQuery.signal: ${s.skip}`, () => {
      it('AUTH-008', () => undefined)
    })
    continue
  }
  describe(`KyselyAdapter (${s.name}): AdapterQuery.signal`, () => {
    let store: Store
    beforeEach(async () => {
      store = await s.make()
      await migrate(store.db, scimTablesMapping(), { createTables: true })
    })
    afterEach(() => store.drop())

    it('AUTH-008: a create whose signal aborts mid-transaction is rolled back and rejects with the reason', async () => {
      const controller = new AbortController()
      const reason = new ServiceUnavailableError(5, 'deadline')
      let armed = false
      // Abort right after the user row is inserted: the transaction is half done.
      const db = store.db.withPlugin(new AfterInsert((table) => armed && table === 'scim_users' && controller.abort(reason)))
      const adapter = kyselyAdapter<{ tenant: string }>({ db, mapping: scimTablesMapping() })
      await adapter.create({ resourceType: 'User', attributes: { userName: 'before' }, unique: USER_UNIQUE }, ctx)
      armed = true
      await expect(adapter.create({ resourceType: 'User', attributes: { userName: 'aborted' }, unique: USER_UNIQUE, signal: controller.signal }, ctx)).rejects.toBe(reason)
      armed = false
      const all = await adapter.list({ resourceType: 'User', startIndex: 1, count: 10 }, ctx)
      expect(all.resources.map((r) => r.attributes['userName'])).toEqual(['before'])
      expect(all.totalResults).toBe(1)
      // The name is free again: the uniqueness row was rolled back too.
      const again = await adapter.create({ resourceType: 'User', attributes: { userName: 'aborted' }, unique: USER_UNIQUE }, ctx)
      expect(again.attributes['userName']).toBe('aborted')
    })

    it('AUTH-008: replace, delete and modifyMembers with an aborted signal change nothing', async () => {
      const adapter = kyselyAdapter<{ tenant: string }>({ db: store.db, mapping: scimTablesMapping() })
      const u = await adapter.create({ resourceType: 'User', attributes: { userName: 'u', title: 'old' }, unique: USER_UNIQUE }, ctx)
      const g = await adapter.create({ resourceType: 'Group', attributes: { displayName: 'g' }, unique: [] }, ctx)
      const controller = new AbortController()
      const reason = new ServiceUnavailableError(5, 'deadline')
      controller.abort(reason)
      const signal = controller.signal
      await expect(adapter.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'u', title: 'new' }, unique: USER_UNIQUE, signal }, ctx)).rejects.toBe(reason)
      await expect(adapter.modifyMembers({ resourceType: 'Group', id: g.id, add: [u.id], remove: [], signal }, ctx)).rejects.toBe(reason)
      await expect(adapter.delete({ resourceType: 'User', id: u.id, signal }, ctx)).rejects.toBe(reason)
      const after = await adapter.get({ resourceType: 'User', id: u.id }, ctx)
      expect(after?.version).toBe(u.version)
      expect(after?.attributes['title']).toBe('old')
      expect(after?.attributes['groups'] ?? []).toEqual([])
    })
  })
}
