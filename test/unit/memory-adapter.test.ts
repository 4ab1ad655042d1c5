import { MemoryAdapter, PreconditionFailedError } from '../../src'

const UNIQUE = [{ path: 'userName', caseExact: false }]
const A = { tenant: 'a' }
const B = { tenant: 'b' }

describe('MemoryAdapter (the reference adapter, CONVENTIONS §4)', () => {
  let m: MemoryAdapter<{ tenant?: string }>
  beforeEach(() => {
    m = new MemoryAdapter()
  })
  const user = (userName: string, ctx = A) => m.create({ resourceType: 'User', attributes: { userName }, unique: UNIQUE }, ctx)

  it('get returns null for a missing id or another resource type', async () => {
    const u = await user('a@x.com')
    expect(await m.get({ resourceType: 'User', id: 'nope' }, A)).toBeNull()
    expect(await m.get({ resourceType: 'Group', id: u.id }, A)).toBeNull()
    expect((await m.get({ resourceType: 'User', id: u.id }, A))?.attributes).toEqual({ userName: 'a@x.com' })
  })

  it('CAS: replace/delete with a stale expectedVersion → ERR_SCIM_PRECONDITION_FAILED, nothing changed', async () => {
    const u = await user('a@x.com')
    const r1 = await m.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'b@x.com' }, expectedVersion: u.version, unique: UNIQUE }, A)
    expect(r1.version).not.toBe(u.version)
    await expect(
      m.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'c@x.com' }, expectedVersion: u.version, unique: UNIQUE }, A),
    ).rejects.toMatchObject({ code: 'ERR_SCIM_PRECONDITION_FAILED', status: 412 })
    await expect(m.delete({ resourceType: 'User', id: u.id, expectedVersion: u.version }, A)).rejects.toBeInstanceOf(PreconditionFailedError)
    const now = await m.get({ resourceType: 'User', id: u.id }, A)
    expect(now?.attributes['userName']).toBe('b@x.com')
    expect(now?.version).toBe(r1.version)
    await m.delete({ resourceType: 'User', id: u.id, expectedVersion: r1.version }, A)
    expect(await m.get({ resourceType: 'User', id: u.id }, A)).toBeNull()
  })

  it('writes on missing ids throw ERR_SCIM_NOT_FOUND', async () => {
    await expect(m.replace({ resourceType: 'User', id: 'x', attributes: { userName: 'a' }, unique: UNIQUE }, A)).rejects.toMatchObject({ status: 404 })
    await expect(m.delete({ resourceType: 'User', id: 'x' }, A)).rejects.toMatchObject({ status: 404 })
  })

  it('versions never repeat for a resource; created stays, lastModified never goes back', async () => {
    const seen = new Set<string>()
    const u = await user('a@x.com')
    seen.add(u.version)
    let cur = u
    for (let i = 0; i < 20; i++) {
      cur = await m.replace({ resourceType: 'User', id: u.id, attributes: { userName: `a${i % 2}@x.com` }, unique: UNIQUE }, A)
      expect(seen.has(cur.version)).toBe(false)
      seen.add(cur.version)
      expect(cur.created.getTime()).toBe(u.created.getTime())
      expect(cur.lastModified.getTime()).toBeGreaterThanOrEqual(u.lastModified.getTime())
    }
  })

  it('ETG-001/ETG-002: a version counts the resource\'s own writes (membership changes included), nothing else', async () => {
    // One process-wide counter would let a tenant read another tenant's write rate from its ETags.
    const u = await user('own@x.com')
    expect(u.version).toBe('1')
    for (let i = 0; i < 5; i++) await user(`noise${i}@x.com`, B)
    const other = await user('sibling@x.com')
    expect(other.version).toBe('1')
    const r = await m.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'own@x.com', title: 't' }, unique: UNIQUE }, A)
    expect(r.version).toBe('2')
    const g = await m.create({ resourceType: 'Group', attributes: { displayName: 'G', members: [{ value: u.id }] }, unique: [] }, A)
    expect(g.version).toBe('1')
    expect((await m.get({ resourceType: 'User', id: u.id }, A))?.version).toBe('3') // its groups changed
    await m.modifyMembers({ resourceType: 'Group', id: g.id, add: [other.id], remove: [u.id] }, A)
    expect((await m.get({ resourceType: 'User', id: u.id }, A))?.version).toBe('4')
    expect((await m.get({ resourceType: 'User', id: other.id }, A))?.version).toBe('2')
    expect((await m.get({ resourceType: 'Group', id: g.id }, A))?.version).toBe('2')
    await m.delete({ resourceType: 'User', id: other.id }, A)
    expect((await m.get({ resourceType: 'Group', id: g.id }, A))?.version).toBe('3') // EP-053: it lost a member
  })

  it('uniqueness is case-insensitive with NFC, freed by delete and by rename', async () => {
    const u = await user('Zo\u00eb@x.com')
    await expect(user('ZOE\u0308@X.COM')).rejects.toMatchObject({ code: 'ERR_SCIM_UNIQUENESS', status: 409 })
    await m.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'new@x.com' }, unique: UNIQUE }, A)
    expect((await user('zoë@x.com')).attributes['userName']).toBe('zoë@x.com')
    await expect(user('NEW@x.com')).rejects.toMatchObject({ status: 409 })
    await m.delete({ resourceType: 'User', id: u.id }, A)
    await expect(user('NEW@x.com')).resolves.toBeTruthy()
  })

  it('list: default order is creation order; exact page plus true totalResults', async () => {
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await user(`u${i}@x.com`)).id)
    await m.create({ resourceType: 'Group', attributes: { displayName: 'G' }, unique: [] }, A)
    const page = await m.list({ resourceType: 'User', startIndex: 3, count: 2 }, A)
    expect(page.totalResults).toBe(7)
    expect(page.resources.map((r) => r.id)).toEqual(ids.slice(2, 4))
    const tail = await m.list({ resourceType: 'User', startIndex: 6, count: 10 }, A)
    expect(tail.resources.map((r) => r.id)).toEqual(ids.slice(5))
    expect(tail.totalResults).toBe(7)
    const none = await m.list({ resourceType: 'User', startIndex: 1, count: 0 }, A)
    expect(none).toEqual({ resources: [], totalResults: 7 })
  })

  it('tenant isolation: ids, lists, uniqueness and writes are per tenant', async () => {
    const a = await user('same@x.com', A)
    const b = await user('same@x.com', B)
    expect(await m.get({ resourceType: 'User', id: a.id }, B)).toBeNull()
    expect((await m.list({ resourceType: 'User', startIndex: 1, count: 10 }, B)).resources.map((r) => r.id)).toEqual([b.id])
    await expect(m.delete({ resourceType: 'User', id: a.id }, B)).rejects.toMatchObject({ status: 404 })
    await expect(m.replace({ resourceType: 'User', id: a.id, attributes: { userName: 'x' }, unique: UNIQUE }, B)).rejects.toMatchObject({ status: 404 })
    expect(await m.get({ resourceType: 'User', id: a.id }, A)).not.toBeNull()
    // no tenant in ctx → "default" tenant, separate from a and b
    expect((await m.list({ resourceType: 'User', startIndex: 1, count: 10 }, {})).totalResults).toBe(0)
  })

  it('returned resources are copies: mutating them does not change storage', async () => {
    const u = await user('copy@x.com')
    ;(u.attributes as any).userName = 'hacked'
    const got = await m.get({ resourceType: 'User', id: u.id }, A)
    ;(got!.attributes as any).title = 'x'
    expect((await m.get({ resourceType: 'User', id: u.id }, A))?.attributes).toEqual({ userName: 'copy@x.com' })
  })

  it('Group membership: derived User.groups, unknown member rejected, delete removes memberships', async () => {
    const u1 = await user('u1@x.com')
    const u2 = await user('u2@x.com')
    await expect(
      m.create({ resourceType: 'Group', attributes: { displayName: 'Bad', members: [{ value: 'nope' }] }, unique: [] }, A),
    ).rejects.toMatchObject({ code: 'ERR_SCIM_INVALID_VALUE' })
    const g = await m.create({ resourceType: 'Group', attributes: { displayName: 'G', members: [{ value: u1.id }, { value: u2.id }] }, unique: [] }, A)
    expect((g.attributes['members'] as any[]).map((x) => x.type)).toEqual(['User', 'User'])
    const g1 = await m.get({ resourceType: 'User', id: u1.id }, A)
    expect(g1?.attributes['groups']).toEqual([{ value: g.id, type: 'direct', display: 'G' }])
    await m.delete({ resourceType: 'User', id: u1.id }, A)
    const after = await m.get({ resourceType: 'Group', id: g.id }, A)
    expect((after?.attributes['members'] as any[]).map((x) => x.value)).toEqual([u2.id])
    expect(after?.version).not.toBe(g.version)
    await m.delete({ resourceType: 'Group', id: g.id }, A)
    expect((await m.get({ resourceType: 'User', id: u2.id }, A))?.attributes['groups']).toBeUndefined()
  })
})
