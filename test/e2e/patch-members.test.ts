/**
 * Member-only PATCHes take the adapter's modifyMembers (no group rewrite, no CAS contention) and
 * give exactly the generic engine's result (PAT-060..063).
 */
import { MemoryAdapter } from '../../src'
import { GROUP, USER, VARIANTS, client, makeApp } from './harness'

class CountingAdapter extends MemoryAdapter {
  native = 0
  override async modifyMembers(...args: Parameters<MemoryAdapter['modifyMembers']>) {
    this.native++
    return super.modifyMembers(...args)
  }
}

const patch = (ops: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops })

describe.each(VARIANTS)('member-only PATCH: $name', (v) => {
  async function setup() {
    const adapter = new CountingAdapter()
    const c = client(v, makeApp(v, {}, adapter))
    const u = []
    for (const name of ['a', 'b', 'c']) u.push((await c.post('/Users', { schemas: [USER], userName: `pm-${name}` })).body.id as string)
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'PM', members: [{ value: u[0] }] })).body
    return { adapter, c, u, g }
  }
  const membersOf = async (c: ReturnType<typeof client>, id: string) =>
    (((await c.get(`/Groups/${id}`)).body.members ?? []) as { value: string }[]).map((m) => m.value).sort()

  it('Okta add + filter remove and Entra value-array remove use the native path; last operation per id wins', async () => {
    const { adapter, c, u, g } = await setup()
    const r = await c.patch(`/Groups/${g.id}`, patch([
      { op: 'add', path: 'members', value: [{ value: u[1] }, { value: u[2] }] },
      { op: 'remove', path: `members[value eq "${u[0]}"]` },
      { op: 'Remove', path: 'members', value: [{ value: u[2] }] },
      { op: 'add', path: 'members', value: [{ value: u[2] }] },
    ]))
    expect(r.status).toBe(204)
    expect(r.headers['etag']).toMatch(/^W\//)
    expect(adapter.native).toBe(1)
    expect(await membersOf(c, g.id)).toEqual([u[1], u[2]].sort())
  })

  it('an id in another case than stored takes the generic path and is removed, as with If-Match', async () => {
    const { adapter, c, u, g } = await setup()
    const r = await c.patch(`/Groups/${g.id}`, patch([{ op: 'remove', path: `members[value eq "${u[0]!.toUpperCase()}"]` }]))
    expect(r.status).toBe(204)
    expect(adapter.native).toBe(0)
    expect(await membersOf(c, g.id)).toEqual([])
  })

  it('no-op changes keep the version; an unknown member id is 400 invalidValue and changes nothing', async () => {
    const { c, u, g } = await setup()
    const before = await c.get(`/Groups/${g.id}`)
    const same = await c.patch(`/Groups/${g.id}`, patch([{ op: 'add', path: 'members', value: [{ value: u[0] }] }]))
    expect(same.headers['etag']).toBe(before.headers['etag'])
    const bad = await c.patch(`/Groups/${g.id}`, patch([{ op: 'add', path: 'members', value: [{ value: u[1] }, { value: 'no-such-user' }] }]))
    expect(bad.status).toBe(400)
    expect(bad.body.scimType).toBe('invalidValue')
    expect(await membersOf(c, g.id)).toEqual([u[0]])
  })
})
