/**
 * FLT-008 over HTTP (issue 11 item 9): nesting is counted where the grammar nests, so a filter that
 * hides 2,000 levels behind a quote and TABs (`'x<TAB>or<TAB>(((…` is the bare word `'x`, not a
 * string: a single-quoted string cannot hold a TAB) is rejected with 400 invalidFilter naming
 * maxDepth — in the filter query parameter (RFC 7644 §3.4.2.2), a POST .search body (§3.4.3) and a
 * PATCH valuePath (§3.5.2) — with the parse stopped at the first level past the limit.
 */
import { USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'

const attack = (inner: string, head: string, tail: string, n = 2000): string =>
  `${head}'x\tor\t${'('.repeat(n)}${inner}${')'.repeat(n)}\tor\t${tail}'`
const DETAIL = /nested deeper than the limit of 32 levels \(maxDepth\) at column \d+/

describe.each(VARIANTS)('filter depth: $name', (v) => {
  let c: Client
  let id: string
  beforeEach(async () => {
    c = client(v, makeApp(v))
    id = (await c.post('/Users', { schemas: [USER], userName: 'y', emails: [{ value: 'y@x.org', type: 'work' }] })).body.id
  })

  it('GET /Users?filter= with 2,000 hidden levels is 400 invalidFilter naming maxDepth', async () => {
    const f = attack('userName eq "y"', 'title eq ', 'title eq z')
    expect(f.length).toBeLessThan(4096)
    const r = await c.get(`/Users?filter=${encodeURIComponent(f)}`)
    expectError(r, 400, 'invalidFilter')
    expect(r.body.detail).toMatch(DETAIL)
  })

  it('POST /Users/.search with the same filter is 400 invalidFilter naming maxDepth', async () => {
    const r = await c.post('/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: attack('userName eq "y"', 'title eq ', 'title eq z'),
    })
    expectError(r, 400, 'invalidFilter')
    expect(r.body.detail).toMatch(DETAIL)
  })

  it('PATCH with the attack inside a valuePath is 400 invalidFilter naming maxDepth; nothing changes', async () => {
    const before = await c.get(`/Users/${id}`)
    const r = await c.patch(`/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: attack('value eq "y@x.org"', 'emails[type eq ', 'type eq work') + ']' }],
    })
    expectError(r, 400, 'invalidFilter')
    expect(r.body.detail).toMatch(DETAIL)
    const after = await c.get(`/Users/${id}`)
    expect(after.body.meta.version).toBe(before.body.meta.version)
    expect(after.body.emails).toEqual([{ value: 'y@x.org', type: 'work' }])
  })

  it('the same shape 31 levels deep is an ordinary filter (200), so only depth is rejected', async () => {
    const r = await c.get(`/Users?filter=${encodeURIComponent(attack('userName eq "y"', 'title eq ', 'title eq z', 31))}`)
    expect(r.status).toBe(200)
    expect(r.body.totalResults).toBe(1)
  })
})
