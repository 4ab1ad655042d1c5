/**
 * Every IdP lookup (RFC 7644 §3.4.2.2 `eq` filters on id, userName, externalId, emails.value,
 * displayName, members.value) is answered through an index on SQLite, PostgreSQL and MariaDB:
 * the plan of the statement `list` runs has no full table scan. The indexes are exactly what
 * migrate() creates for the mapping (issue 12 "Done when": EXPLAIN on all three).
 */
import { parseFilter } from '../../src'
import { coreRegistry } from '../../src/kysely/mapping'
import { kyselyAdapter, migrate, scimTablesMapping, type KyselyAdapter } from '../../src/kysely'
import { sql } from 'kysely'
import { STORES, type Store } from './stores'

const USERS = coreRegistry.byName('User')!
const GROUPS = coreRegistry.byName('Group')!
const A = { tenant: 'acme' }
const B = { tenant: 'other' }

/** Lines of a plan that read a whole table. */
function fullScans(dialect: string, plan: string): string[] {
  const lines = plan.split('\n')
  if (dialect === 'sqlite') return lines.filter((l) => /^SCAN /.test(l.trim()) && !/CONSTANT ROW/.test(l))
  if (dialect === 'postgres') return lines.filter((l) => /Seq Scan/.test(l))
  // MariaDB materialises an IN (subquery) semi-join into a temporary table (`<subqueryN>`) that
  // holds only the lookup's result; the real tables' rows are reached through indexes.
  return lines.filter((l) => / ALL /.test(` ${l} `) && !l.startsWith('<'))
}

for (const s of STORES) {
  if (s.skip) {
    describe.skip(`KyselyAdapter EXPLAIN (${s.name}): ${s.skip}`, () => {
      it('IdP lookups use an index', () => undefined)
    })
    continue
  }
  describe(`KyselyAdapter EXPLAIN (${s.name}): IdP lookups are index lookups`, () => {
    let store: Store
    let adapter: KyselyAdapter<{ tenant: string }>
    let userId = ''
    const ids: string[] = []
    beforeAll(async () => {
      store = await s.make()
      const mapping = scimTablesMapping()
      await migrate(store.db, mapping, { createTables: true })
      adapter = kyselyAdapter({ db: store.db, mapping })
      // Enough rows in two tenants that a planner prefers an index when one can serve the query.
      for (const ctx of [A, B]) {
        for (let i = 0; i < 150; i++) {
          const u: { id: string } = await adapter.create(
            { resourceType: 'User', attributes: { userName: `user${i}@x.com`, externalId: `ext-${i}`, displayName: `User ${i}`, emails: [{ value: `u${i}@mail.test`, type: 'work' }] }, unique: [{ path: 'userName', caseExact: false }] },
            ctx,
          )
          if (i === 7 && ctx === A) userId = u.id
          ids.push(u.id)
        }
        for (let g = 0; g < 100; g++) {
          // Every group has members; only Team 3 of tenant A has user 7.
          const members = ids.slice(-150).filter((id, k) => k % 100 === g && id !== userId).map((value) => ({ value }))
          if (g === 3 && ctx === A) members.push({ value: userId })
          await adapter.create({ resourceType: 'Group', attributes: { displayName: `Team ${g}`, externalId: `grp-${g}`, members }, unique: [] }, ctx)
        }
      }
      if (store.dialect === 'postgres') await sql`ANALYZE`.execute(store.db)
      if (store.dialect === 'sqlite') await sql`ANALYZE`.execute(store.db)
      if (store.dialect === 'mysql') for (const t of ['scim_users', 'scim_groups', 'scim_members', 'scim_values', 'scim_unique']) await sql.raw(`ANALYZE TABLE ${t}`).execute(store.db)
    }, 120_000)
    afterAll(() => store?.drop())

    const cases: [string, string, () => string][] = [
      ['User', 'id eq', () => `id eq "${userId}"`],
      ['User', 'userName eq', () => 'userName eq "USER7@x.com"'],
      ['User', 'externalId eq', () => 'externalId eq "ext-7"'],
      ['User', 'emails.value eq', () => 'emails.value eq "u7@mail.test"'],
      ['User', 'emails[value eq]', () => 'emails[value eq "u7@mail.test"]'],
      ['User', 'displayName eq', () => 'displayName eq "user 7"'],
      ['Group', 'displayName eq', () => 'displayName eq "team 3"'],
      ['Group', 'externalId eq', () => 'externalId eq "grp-3"'],
      ['Group', 'members.value eq', () => `members.value eq "${userId}"`],
      ['Group', 'id eq + members.value eq (Entra)', () => `id eq "${userId}" and members[value eq "${userId}"]`],
    ]
    for (const [resourceType, what, text] of cases) {
      it(`${resourceType}?filter=${what}: finds the resource, and no statement scans a table`, async () => {
        const filter = parseFilter(text(), resourceType === 'User' ? USERS : GROUPS)
        const q = { resourceType, filter, startIndex: 1, count: 100 }
        const found = await adapter.list(q, A)
        if (!what.startsWith('id eq +')) expect(found.totalResults).toBe(1)
        const plan = await adapter.explain(q, A)
        expect({ plan, scans: fullScans(store.dialect, plan) }).toEqual({ plan, scans: [] })
      })
    }
  })
}
