/**
 * `canSort` (RFC 7644 §3.4.2.3, LST-030..033): when the store says it cannot order by an
 * attribute, the router lists the filtered candidates without the sort and sorts and pages them in
 * memory with compareForSort, bounded by `scanLimit` (400 tooMany beyond it); cursor pages
 * (RFC 9865) are keyset pages over the same order. Runs on every store (SCIM_TEST_STORE).
 */
import type { ListQuery, ScimAdapter, SortSpec } from '../../src'
import { GROUP, LIST, USER, VARIANTS, client, defaultAdapter, expectError, makeApp } from './harness'

/** The store, unable to sort by anything but `meta.*`, recording the sorts `list` receives. */
function sortsOnlyMeta(inner: ScimAdapter<any>): { adapter: ScimAdapter<any>; sorts: (string | undefined)[] } {
  const sorts: (string | undefined)[] = []
  const adapter: ScimAdapter<any> = {
    get: (query, ctx) => inner.get(query, ctx),
    list: (query: ListQuery, ctx) => {
      sorts.push(query.sort?.attribute.path)
      return inner.list(query, ctx)
    },
    create: (query, ctx) => inner.create(query, ctx),
    replace: (query, ctx) => inner.replace(query, ctx),
    delete: (query, ctx) => inner.delete(query, ctx),
    canSort: (sort: SortSpec) => sort.attribute.parent?.def.name === 'meta',
  }
  if (inner.canFilter) adapter.canFilter = (f, rt) => inner.canFilter!(f, rt)
  if (inner.listByCursor) adapter.listByCursor = (query, ctx) => inner.listByCursor!(query, ctx)
  if (inner.capabilities) adapter.capabilities = inner.capabilities
  return { adapter, sorts }
}

const userNames = (res: { body: { Resources: { userName: string }[] } }): string[] => res.body.Resources.map((r) => r.userName)

describe.each(VARIANTS)('sort fallback (canSort false): $name', (v) => {
  async function seeded(options: Record<string, unknown> = {}) {
    const store = sortsOnlyMeta(defaultAdapter())
    const c = client(v, makeApp(v, options, store.adapter))
    const ids: Record<string, string> = {}
    for (const [userName, title] of [['delta', 'b'], ['Alpha', 'a'], ['charlie', 'a'], ['bravo', 'c'], ['echo', undefined]] as const) {
      const res = await c.post('/Users', { schemas: [USER], userName, ...(title ? { title } : {}) })
      expect(res.status).toBe(201)
      ids[userName] = res.body.id
    }
    return { c, ids, sorts: store.sorts }
  }

  it('LST-030/031: sortBy the store cannot sort by is sorted here (strings folded), paged, with the true totalResults; the store never gets that sort', async () => {
    const { c, sorts } = await seeded()
    const asc = await c.get('/Users?sortBy=userName')
    expect(asc.status).toBe(200)
    expect(userNames(asc)).toEqual(['Alpha', 'bravo', 'charlie', 'delta', 'echo'])
    const desc = await c.get('/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2')
    expect(desc.body).toMatchObject({ schemas: [LIST], totalResults: 5, startIndex: 2, itemsPerPage: 2 })
    expect(userNames(desc)).toEqual(['delta', 'charlie'])
    expect(sorts).not.toContain('userName')
    expect(sorts.length).toBeGreaterThan(0)
  })

  it('LST-032: resources without the value sort last ascending and first descending; the filter still narrows in the store', async () => {
    const { c } = await seeded()
    const asc = await c.get('/Users?sortBy=title&filter=' + encodeURIComponent('userName ne "bravo"'))
    expect(asc.body.totalResults).toBe(4)
    expect(userNames(asc)).toEqual(['Alpha', 'charlie', 'delta', 'echo'])
    const desc = await c.post('/Users/.search', { sortBy: 'title', sortOrder: 'descending', count: 2 })
    expect(desc.body.totalResults).toBe(5)
    expect(userNames(desc)).toEqual(['echo', 'bravo'])
  })

  it('a sort the store can do (canSort true) is passed down', async () => {
    const { c, sorts } = await seeded()
    const res = await c.get('/Users?sortBy=meta.created&sortOrder=descending&count=1')
    const newest = Math.max(...(await c.get('/Users')).body.Resources.map((r: { meta: { created: string } }) => Date.parse(r.meta.created)))
    expect(res.body.Resources).toHaveLength(1)
    expect(Date.parse(res.body.Resources[0].meta.created)).toBe(newest)
    expect(sorts).toContain('meta.created')
  })

  it('derived groups.display sorts here: members of "a team" before "b team", non-members last', async () => {
    const { c, ids } = await seeded()
    expect((await c.post('/Groups', { schemas: [GROUP], displayName: 'b team', members: [{ value: ids['Alpha'] }] })).status).toBe(201)
    expect((await c.post('/Groups', { schemas: [GROUP], displayName: 'a team', members: [{ value: ids['echo'] }] })).status).toBe(201)
    const res = await c.get('/Users?sortBy=groups.display')
    expect(res.status).toBe(200)
    expect(userNames(res).slice(0, 2)).toEqual(['echo', 'Alpha'])
    expect(res.body.totalResults).toBe(5)
  })

  it('LST-013: more candidates than scanLimit is 400 tooMany, never a short page; an unsorted list is not scanned', async () => {
    const { c } = await seeded({ scanLimit: 4 })
    const res = await c.get('/Users?sortBy=userName')
    expectError(res, 400, 'tooMany')
    expect(res.body.detail).toMatch(/sort/)
    expect((await c.get('/Users')).body.totalResults).toBe(5)
    const narrowed = await c.get('/Users?sortBy=userName&filter=' + encodeURIComponent('title pr'))
    expect(narrowed.status).toBe(200)
    expect(userNames(narrowed)).toEqual(['Alpha', 'bravo', 'charlie', 'delta'])
  })

  it('LST-080/081 (RFC 9865): cursor pages over a sort the store cannot do cover every match once, in order, and walk back', async () => {
    const { c } = await seeded()
    if ((await c.get('/Users?cursor&count=1')).status !== 200) return // the store has no cursors
    const seen: string[] = []
    let url = '/Users?sortBy=userName&sortOrder=descending&count=2&cursor'
    const pages: { userNames: string[]; previousCursor?: string }[] = []
    for (let guard = 0; guard < 10; guard++) {
      const res = await c.get(url)
      expect(res.status).toBe(200)
      expect(res.body.totalResults).toBe(5)
      pages.push({ userNames: userNames(res), previousCursor: res.body.previousCursor })
      seen.push(...userNames(res))
      if (!res.body.nextCursor) break
      url = `/Users?sortBy=userName&sortOrder=descending&count=2&cursor=${res.body.nextCursor}`
    }
    expect(seen).toEqual(['echo', 'delta', 'charlie', 'bravo', 'Alpha'])
    expect(pages[0]!.previousCursor).toBeUndefined()
    const back = await c.get(`/Users?sortBy=userName&sortOrder=descending&count=2&cursor=${pages[2]!.previousCursor}`)
    expect(userNames(back)).toEqual(['charlie', 'bravo'])
  })
})
