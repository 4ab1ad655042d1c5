/**
 * RFC 7644 §3.4.2.3: sortBy=meta.created / meta.lastModified is ordered and paged in SQL (the
 * instants' own columns), with the default tie-break (created, then id, LST-031); other sorts are
 * applied in memory with compareForSort. Checked on the statement `list` runs and on its result.
 */
import { coreRegistry } from '../../src/kysely/mapping'
import { kyselyAdapter, migrate, scimTablesMapping } from '../../src/kysely'
import { compareForSort, type SortSpec } from '../../src'
import { toView } from '../../src/schema/view'
import { sqliteStore } from './stores'

const USERS = coreRegistry.byName('User')!
const sortOf = (path: string, order: 'ascending' | 'descending'): SortSpec => {
  const r = USERS.resolveText(path)
  if (r?.kind !== 'attribute') throw new Error(path)
  return { attribute: r.info, order }
}

it('sortBy=meta.lastModified pages in SQL (ORDER BY the column, LIMIT/OFFSET) and equals compareForSort; sortBy=title is in memory', async () => {
  const store = await sqliteStore()
  const mapping = scimTablesMapping()
  await migrate(store.db, mapping, { createTables: true })
  const a = kyselyAdapter({ db: store.db, mapping })
  const ctx = { tenant: 't' }
  const ids: string[] = []
  for (let i = 0; i < 6; i++) ids.push((await a.create({ resourceType: 'User', attributes: { userName: `s${i}` }, unique: [] }, ctx)).id)
  await new Promise((r) => setTimeout(r, 3))
  // Touch the first user: it becomes the most recently modified.
  await a.replace({ resourceType: 'User', id: ids[0]!, attributes: { userName: 's0', title: 'x' }, unique: [] }, ctx)
  const sort = sortOf('meta.lastModified', 'descending')
  const q = { resourceType: 'User', sort, startIndex: 1, count: 3 }
  const compiled = a.compileList(q, ctx)
  expect(compiled.inMemory).toBe(false)
  expect(compiled.sql).toMatch(/order by "r"\."last_modified" desc, "r"\."created" asc/i)
  expect(compiled.sql).toMatch(/limit/i)
  const all = (await a.list({ resourceType: 'User', startIndex: 1, count: 100 }, ctx)).resources
  const expected = all.map((s) => toView(USERS, s)).sort(compareForSort(sort.attribute, 'descending')).map((v) => v['id'])
  expect((await a.list(q, ctx)).resources.map((s) => s.id)).toEqual(expected.slice(0, 3))
  expect(expected[0]).toBe(ids[0])
  expect(a.compileList({ ...q, sort: sortOf('title', 'ascending') }, ctx).inMemory).toBe(true)
  await store.drop()
})
