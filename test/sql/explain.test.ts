/**
 * The IdP lookups are index lookups, not scans: userName, externalId, displayName, emails.value,
 * members.value and id equality (EXPLAIN QUERY PLAN on SQLite; EXPLAIN with enable_seqscan=off on
 * PostgreSQL, which shows that an index serves the query even on a tiny table).
 */
import { parseFilter } from '../../src/filter/parse'
import { enterpriseUserSchema, groupResourceType, groupSchema, userResourceType, userSchema } from '../../src/schema/core-schemas'
import { createRegistry } from '../../src/schema/registry'
import { databases, PG_URL } from './helpers'

const registry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const CTX = { tenant: 't1' }

if (!PG_URL) describe.skip('EXPLAIN on PostgreSQL: needs SCIM_PG_URL', () => it('index lookups', () => undefined))

for (const db of databases()) {
  describe(`index lookups (${db.name})`, () => {
    const cases: [string, string, RegExp][] = [
      ['User', 'userName eq "bjensen@example.com"', /scim_resources_user_name/],
      ['User', 'externalId eq "ext-1"', /scim_resources_external_id/],
      ['User', 'displayName eq "Babs Jensen"', /scim_resources_display_name/],
      ['Group', 'displayName eq "Tour Guides"', /scim_resources_display_name/],
      ['User', 'emails.value eq "bjensen@example.com"', /scim_values_pk|sqlite_autoindex_scim_values/],
      ['Group', 'members.value eq "00000000-0000-4000-8000-000000000000"', /scim_members_member/],
      ['User', 'id eq "00000000-0000-4000-8000-000000000000"', /scim_resources_pk|sqlite_autoindex_scim_resources/],
      ['User', 'emails[type eq "work"].value eq "bjensen@example.com"', /./], // valuePath: JSON scan allowed, must still run
    ]
    it.each(cases)('%s?filter=%s', async (type, filter, index) => {
      const { adapter, close } = await db.make()
      try {
        const ids: string[] = []
        for (let i = 0; i < 150; i++) {
          const attributes = { userName: `user${i}@example.com`, externalId: `ext-${i}`, displayName: `User ${i}`, emails: [{ value: `user${i}@example.com`, type: 'work' }] }
          ids.push((await adapter.create({ resourceType: 'User', attributes, unique: [] }, i % 3 ? CTX : { tenant: 'other' })).id)
        }
        for (let g = 0; g < 20; g++) {
          await adapter.create({ resourceType: 'Group', attributes: { displayName: `Group ${g}`, members: ids.filter((_, i) => i % 3 && (i + g) % 5 === 0).map((value) => ({ value })) }, unique: [] }, CTX)
        }
        const f = parseFilter(filter, registry.byName(type)!)
        const plan = await adapter.explain({ resourceType: type, filter: f, startIndex: 1, count: 100 }, CTX)
        if (index.source === '.') return
        for (const p of [plan.count, plan.page]) {
          expect(p).toMatch(index)
          if (db.name === 'SQLite') expect(p).not.toMatch(/^SCAN r\b|\bSCAN r$/m) // no full scan of the resources table
          else expect(p).not.toMatch(/Seq Scan/)
        }
      } finally {
        await close()
      }
    })
  })
}
