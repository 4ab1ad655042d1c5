/**
 * PATCH over HTTP (RFC 7644 §3.5.2, requirements §5): status codes and bodies, ETags, atomicity,
 * uniqueness, the Okta and Entra request shapes replayed verbatim, error keywords, and no lost
 * updates under concurrent membership changes.
 */
import { MemoryAdapter } from '../../src'
import { ENTERPRISE, GROUP, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'
import { noHost, pathOf, seed, type Seeded } from './fixtures'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const memberIds = (g: any): string[] => (g.members ?? []).map((m: any) => m.value).sort()

describe.each(VARIANTS)('PATCH: $name', (v) => {
  let c: Client
  let s: Seeded
  beforeEach(async () => {
    c = client(v, makeApp(v))
    s = await seed(c, true)
  })

  // ------------------------------------------------------------------------ responses (PAT-090/091)

  it('PAT-090: a User PATCH answers 200 with the resource, ETag and Location', async () => {
    const before = await c.get(`/Users/${s.u1.id}`)
    const res = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'title', value: 'Lead Guide' }))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
    expect(res.body.schemas).toEqual([USER, ENTERPRISE])
    expect(res.body.id).toBe(s.u1.id)
    expect(res.body.title).toBe('Lead Guide')
    expect(res.body.userName).toBe('bjensen@example.com')
    expect(res.body.meta.resourceType).toBe('User')
    expect(res.headers.etag).toBe(res.body.meta.version)
    expect(res.headers.etag).not.toBe(before.headers.etag)
    expect(pathOf(String(res.headers.location))).toBe(`${v.mount}/Users/${s.u1.id}`)
    expect(Date.parse(res.body.meta.lastModified)).toBeGreaterThanOrEqual(Date.parse(before.body.meta.lastModified))
    const after = await c.get(`/Users/${s.u1.id}`)
    expect(after.body.title).toBe('Lead Guide')
    expect(after.headers.etag).toBe(res.headers.etag)
  })

  it('PAT-090/091: a Group PATCH answers 204 with the new ETag and no body', async () => {
    const before = await c.get(`/Groups/${s.g1.id}`)
    const res = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Guides' }))
    expect(res.status).toBe(204)
    expect(res.text ?? '').toBe('')
    expect(res.headers.etag).toMatch(/^W\/".+"$/)
    expect(res.headers.etag).not.toBe(before.headers.etag)
    expect(pathOf(String(res.headers.location))).toBe(`${v.mount}/Groups/${s.g1.id}`)
    const after = await c.get(`/Groups/${s.g1.id}`)
    expect(after.body.displayName).toBe('Guides')
    expect(after.headers.etag).toBe(res.headers.etag)
  })

  it('PAT-090: a Group PATCH with attributes= answers 200 with the projected body', async () => {
    const res = await c.patch(`/Groups/${s.g1.id}?attributes=displayName`, patchOp({ op: 'replace', path: 'displayName', value: 'Guides' }))
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: s.g1.id, displayName: 'Guides', schemas: [GROUP] })
    expect(res.body).not.toHaveProperty('members')
    expect(res.headers.etag).toMatch(/^W\/".+"$/)
    const withMembers = await c.patch(`/Groups/${s.g1.id}?attributes=members`, patchOp({ op: 'add', path: 'members', value: [{ value: s.u3.id }] }))
    expect(withMembers.status).toBe(200)
    expect(memberIds(withMembers.body)).toEqual([s.u1.id, s.u2.id, s.u3.id].sort())
  })

  it('PAT-090: a Group PATCH with excludedAttributes=members answers 200 without members', async () => {
    const res = await c.patch(`/Groups/${s.g1.id}?excludedAttributes=members`, patchOp({ op: 'add', path: 'members', value: [{ value: s.u3.id }] }))
    expect(res.status).toBe(200)
    expect(res.body.displayName).toBe('Tour Guides')
    expect(res.body).not.toHaveProperty('members')
  })

  it('PAT-090: groupPatchResponse 200 answers with the Group, members only on request', async () => {
    c = client(v, makeApp(v, { groupPatchResponse: 200 }))
    s = await seed(c, true)
    const res = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Guides' }))
    expect(res.status).toBe(200)
    expect(res.body.displayName).toBe('Guides')
    expect(res.body).not.toHaveProperty('members')
    expect(res.headers.etag).toBe(res.body.meta.version)
  })

  it('EP: PATCH of an unknown id → 404', async () => {
    expectError(await c.patch('/Users/does-not-exist', patchOp({ op: 'replace', path: 'title', value: 'x' })), 404)
    expectError(await c.patch('/Groups/does-not-exist', patchOp({ op: 'add', path: 'members', value: [{ value: s.u1.id }] })), 404)
  })

  // ------------------------------------------------------------------------ no-op and atomicity

  it('PAT-016: re-adding an existing member keeps meta.lastModified and the ETag', async () => {
    const before = await c.get(`/Groups/${s.g1.id}`)
    const res = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: s.u1.id }] }))
    expect(res.status).toBe(204)
    expect(res.headers.etag).toBe(before.headers.etag)
    const after = await c.get(`/Groups/${s.g1.id}`)
    expect(after.body.meta.lastModified).toBe(before.body.meta.lastModified)
    expect(after.headers.etag).toBe(before.headers.etag)
    expect(after.body.members).toHaveLength(2)
  })

  it('PAT-034: removing a non-member by filter succeeds without change', async () => {
    const before = await c.get(`/Groups/${s.g2.id}`)
    const res = await c.patch(`/Groups/${s.g2.id}`, patchOp({ op: 'remove', path: 'members[value eq "nonexistent"]' }))
    expect(res.status).toBe(204)
    const after = await c.get(`/Groups/${s.g2.id}`)
    expect(after.body.meta.lastModified).toBe(before.body.meta.lastModified)
    expect(after.headers.etag).toBe(before.headers.etag)
  })

  it('PAT-016: a User PATCH that sets the current value answers 200 and keeps the ETag', async () => {
    const before = await c.get(`/Users/${s.u1.id}`)
    const res = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Babs Jensen' }))
    expect(res.status).toBe(200)
    expect(res.headers.etag).toBe(before.headers.etag)
    expect(res.body.meta.lastModified).toBe(before.body.meta.lastModified)
  })

  it('PAT-011: a failing operation leaves the stored resource unchanged', async () => {
    const before = await c.get(`/Users/${s.u1.id}`)
    const res = await c.patch(
      `/Users/${s.u1.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'id', value: 'x' }),
    )
    expectError(res, 400, 'mutability')
    expect(res.body.detail).toContain('Operations[1]')
    const after = await c.get(`/Users/${s.u1.id}`)
    expect(noHost(after.body)).toEqual(noHost(before.body))
    expect(after.headers.etag).toBe(before.headers.etag)
  })

  it('PAT-064: an unknown member id fails the whole PATCH and changes nothing', async () => {
    const before = await c.get(`/Groups/${s.g1.id}`)
    const res = await c.patch(
      `/Groups/${s.g1.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'X' }, { op: 'add', path: 'members', value: [{ value: 'nobody' }] }),
    )
    expectError(res, 400, 'invalidValue')
    const after = await c.get(`/Groups/${s.g1.id}`)
    expect(noHost(after.body)).toEqual(noHost(before.body))
  })

  it('PAT-017: replacing userName with another user\'s (any case) → 409 uniqueness, nothing written', async () => {
    const before = await c.get(`/Users/${s.u2.id}`)
    expectError(await c.patch(`/Users/${s.u2.id}`, patchOp({ op: 'replace', path: 'userName', value: 'bjensen@example.com' })), 409, 'uniqueness')
    expectError(await c.patch(`/Users/${s.u2.id}`, patchOp({ op: 'replace', value: { userName: 'BJensen@Example.COM' } })), 409, 'uniqueness')
    const after = await c.get(`/Users/${s.u2.id}`)
    expect(noHost(after.body)).toEqual(noHost(before.body))
  })

  it('PAT-036: removing userName → 400 mutability; emptying it → 400 invalidValue', async () => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'remove', path: 'userName' })), 400, 'mutability')
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'userName', value: '' })), 400, 'invalidValue')
    expectError(await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'remove', path: 'displayName' })), 400, 'mutability')
  })

  it('PAT-012: writing id, meta or groups → 400 mutability', async () => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'add', path: 'groups', value: [{ value: s.g2.id }] })), 400, 'mutability')
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'meta.lastModified', value: '2020-01-01T00:00:00Z' })), 400, 'mutability')
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'add', path: 'id', value: 'hijack' })), 400, 'mutability')
    expect((await c.get(`/Users/${s.u1.id}`)).status).toBe(200)
    expect((await c.get('/Users/hijack')).status).toBe(404)
  })

  // ------------------------------------------------------------------------ Okta

  it('PAT-050 (Okta): replace {"active":false} deactivates and keeps everything else', async () => {
    const before = await c.get(`/Users/${s.u1.id}`)
    const res = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', value: { active: false } }))
    expect(res.status).toBe(200)
    expect(res.body.active).toBe(false)
    const { active: _a, meta: _m, ...rest } = before.body
    const { active: _b, meta: _n, ...restAfter } = res.body
    expect(noHost(restAfter)).toEqual(noHost(rest))
  })

  it('PAT-013 (Okta): group rename carrying the group id → 204; another id → 400 mutability', async () => {
    const res = await c.patch(`/Groups/${s.g2.id}`, patchOp({ op: 'replace', value: { id: s.g2.id, displayName: 'Staff' } }))
    expect(res.status).toBe(204)
    expect((await c.get(`/Groups/${s.g2.id}`)).body.displayName).toBe('Staff')
    expectError(await c.patch(`/Groups/${s.g2.id}`, patchOp({ op: 'replace', value: { id: 'other', displayName: 'Other' } })), 400, 'mutability')
    expect((await c.get(`/Groups/${s.g2.id}`)).body.displayName).toBe('Staff')
  })

  it('PAT-063 (Okta): remove by filter and add in one request', async () => {
    const res = await c.patch(
      `/Groups/${s.g1.id}`,
      patchOp(
        { op: 'remove', path: `members[value eq "${s.u2.id}"]` },
        { op: 'add', path: 'members', value: [{ value: s.u3.id, display: 'omalley' }] },
      ),
    )
    expect(res.status).toBe(204)
    const g = await c.get(`/Groups/${s.g1.id}`)
    expect(memberIds(g.body)).toEqual([s.u1.id, s.u3.id].sort())
    expect(g.body.members.find((m: any) => m.value === s.u3.id).display).toBe('Zoë Ångström')
  })

  it('PAT-052: a path-less Group replace without members leaves membership alone', async () => {
    const res = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'replace', value: { displayName: 'Guides' } }))
    expect(res.status).toBe(204)
    expect(memberIds((await c.get(`/Groups/${s.g1.id}`)).body)).toEqual([s.u1.id, s.u2.id].sort())
  })

  // ------------------------------------------------------------------------ Entra

  it('PAT-060 (Entra): Add members with "$ref": null; existing members deduped', async () => {
    const res = await c.patch(
      `/Groups/${s.g1.id}`,
      patchOp({ op: 'Add', path: 'members', value: [{ $ref: null, value: s.u3.id }, { value: s.u1.id }] }),
    )
    expect(res.status).toBe(204)
    const g = await c.get(`/Groups/${s.g1.id}`)
    expect(g.body.members).toHaveLength(3)
    expect(memberIds(g.body)).toEqual([s.u1.id, s.u2.id, s.u3.id].sort())
  })

  it('PAT-061 (Entra): Remove members with a value array removes only the listed members', async () => {
    const res = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'Remove', path: 'members', value: [{ value: s.u2.id }] }))
    expect(res.status).toBe(204)
    expect(memberIds((await c.get(`/Groups/${s.g1.id}`)).body)).toEqual([s.u1.id])
    // and the User side follows (RES-063)
    expect((await c.get(`/Users/${s.u2.id}`)).body).not.toHaveProperty('groups')
  })

  it('PAT-032: remove members without a value removes all of them', async () => {
    expect((await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'remove', path: 'members' }))).status).toBe(204)
    expect((await c.get(`/Groups/${s.g1.id}`)).body.members ?? []).toEqual([])
  })

  it('PAT-051 (Entra aadOptscim062020): path-less dotted and URN keys', async () => {
    const res = await c.patch(
      `/Users/${s.u1.id}`,
      patchOp({
        op: 'replace',
        value: {
          displayName: 'Bjfe',
          'name.givenName': 'Kkom',
          'name.familyName': 'Unua',
          [`${ENTERPRISE}:employeeNumber`]: 'Aklq',
        },
      }),
    )
    expect(res.status).toBe(200)
    expect(res.body.displayName).toBe('Bjfe')
    expect(res.body.name).toEqual({ givenName: 'Kkom', familyName: 'Unua', formatted: 'Ms. Barbara J Jensen III' })
    expect(res.body[ENTERPRISE].employeeNumber).toBe('Aklq')
    expect(res.body[ENTERPRISE].department).toBe('Tour Operations')
    expect(res.body).not.toHaveProperty(['name.givenName'])
  })

  it('PAT-045 (Entra): Replace emails[type eq "work"].value and name.familyName', async () => {
    const res = await c.patch(
      `/Users/${s.u1.id}`,
      patchOp(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ),
    )
    expect(res.status).toBe(200)
    expect(res.body.emails).toEqual([
      { value: 'updatedEmail@microsoft.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ])
    expect(res.body.name.familyName).toBe('updatedFamilyName')
    expect(res.body.name.givenName).toBe('Barbara')
  })

  it('PAT-053 (Entra): Replace on a valuePath with no match creates the element by default', async () => {
    const res = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'Replace', path: 'phoneNumbers[type eq "work"].value', value: '+1-555-0199' }))
    expect(res.status).toBe(200)
    expect(res.body.phoneNumbers).toEqual([{ type: 'work', value: '+1-555-0199' }])
    const add = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'Add', path: 'emails[type eq "work"].value', value: 'zoe@example.com' }))
    expect(add.status).toBe(200)
    expect(add.body.emails).toEqual([{ type: 'work', value: 'zoe@example.com' }])
  })

  it('PAT-053 strict: Replace on a valuePath with no match → 400 noTarget, nothing written', async () => {
    c = client(v, makeApp(v, { strict: true }))
    s = await seed(c, true)
    const before = await c.get(`/Users/${s.u3.id}`)
    const res = await c.patch(
      `/Users/${s.u3.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Z' }, { op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+1-555-0199' }),
    )
    expectError(res, 400, 'noTarget')
    expect(noHost((await c.get(`/Users/${s.u3.id}`)).body)).toEqual(noHost(before.body))
  })

  it('PAT-070 (Entra): Replace active "False"/"True" stores booleans; strict rejects them', async () => {
    const off = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }))
    expect(off.status).toBe(200)
    expect(off.body.active).toBe(false)
    const on = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'Replace', path: 'active', value: 'True' }))
    expect(on.body.active).toBe(true)
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'Replace', path: 'active', value: 'nope' })), 400, 'invalidValue')
    c = client(v, makeApp(v, { strict: true }))
    const s2 = await seed(c)
    expectError(await c.patch(`/Users/${s2.u1.id}`, patchOp({ op: 'Replace', path: 'active', value: 'False' })), 400, 'invalidValue')
  })

  it('PAT-071 (Entra): manager as an array on the unqualified path, then "" removes it', async () => {
    const add = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'Add', path: 'manager', value: [{ $ref: `http://x/Users/${s.u1.id}`, value: s.u1.id }] }))
    expect(add.status).toBe(200)
    expect(add.body.schemas).toContain(ENTERPRISE)
    expect(add.body[ENTERPRISE].manager.value).toBe(s.u1.id)
    const del = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', path: `${ENTERPRISE}:manager`, value: '' }))
    expect(del.status).toBe(200)
    expect(del.body[ENTERPRISE]?.manager).toBeUndefined()
    expect(del.body.schemas).toEqual([USER]) // PAT-014: last extension attribute gone
  })

  it('PAT-014: adding an extension attribute by URN path adds the URN to schemas', async () => {
    const res = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'add', path: `${ENTERPRISE}:employeeNumber`, value: '42' }))
    expect(res.status).toBe(200)
    expect(res.body.schemas).toEqual([USER, ENTERPRISE])
    expect(res.body[ENTERPRISE]).toEqual({ employeeNumber: '42' })
  })

  it('PAT-072 (Entra): Remove emails[type eq "work"].value with a value removes only on a match', async () => {
    const miss = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'Remove', path: 'emails[type eq "work"].value', value: 'old@example.org' }))
    expect(miss.status).toBe(200)
    expect(miss.body.emails).toHaveLength(2)
    expect(JSON.stringify(miss.body)).not.toContain('old@example.org')
    const hit = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'Remove', path: 'emails[type eq "work"].value', value: 'bjensen@example.com' }))
    expect(hit.body.emails).toEqual([{ value: 'babs@jensen.org', type: 'home' }])
  })

  // ------------------------------------------------------------------------ If-Match (ETG)

  it('ETG: If-Match mismatch → 412 without scimType; the current ETag → 200', async () => {
    const current = await c.get(`/Users/${s.u1.id}`)
    const stale = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'title', value: 'x' })).set('If-Match', 'W/"stale"')
    expectError(stale, 412)
    expect((await c.get(`/Users/${s.u1.id}`)).body.title).toBe('Tour Guide')
    const ok = await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'title', value: 'x' })).set('If-Match', String(current.headers.etag))
    expect(ok.status).toBe(200)
    expect(ok.body.title).toBe('x')
    // the old ETag is now stale
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path: 'title', value: 'y' })).set('If-Match', String(current.headers.etag)), 412)
  })

  it('ETG: If-Match on a Group PATCH', async () => {
    const current = await c.get(`/Groups/${s.g1.id}`)
    const ok = await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: s.u3.id }] })).set('If-Match', String(current.headers.etag))
    expect(ok.status).toBe(204)
    expectError(await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'remove', path: 'members' })).set('If-Match', String(current.headers.etag)), 412)
    expect((await c.get(`/Groups/${s.g1.id}`)).body.members).toHaveLength(3)
  })

  // ------------------------------------------------------------------------ bad input

  it.each<[string, unknown]>([
    ['not JSON', '{"Operations": ['],
    ['an array', [{ op: 'add', path: 'title', value: 'x' }]],
    ['a string', '"add"'],
    ['no Operations', { schemas: [PATCH_OP] }],
    ['empty Operations', { schemas: [PATCH_OP], Operations: [] }],
    ['Operations not an array', { schemas: [PATCH_OP], Operations: { op: 'add' } }],
    ['an element that is not an object', { schemas: [PATCH_OP], Operations: ['add'] }],
    ['an element without op', { schemas: [PATCH_OP], Operations: [{ path: 'title', value: 'x' }] }],
  ])('PAT-001: %s → 400 invalidSyntax', async (_, body) => {
    const before = await c.get(`/Users/${s.u1.id}`)
    expectError(await c.patch(`/Users/${s.u1.id}`, body), 400, 'invalidSyntax')
    expect((await c.get(`/Users/${s.u1.id}`)).headers.etag).toBe(before.headers.etag)
  })

  it.each(['move', 'copy', 'test', ''])('PAT-004: op %j → 400 invalidSyntax', async (op) => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op, path: 'title', value: 'x' })), 400, 'invalidSyntax')
  })

  it('PAT-005: add without value → 400 invalidValue', async () => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'add', path: 'title' })), 400, 'invalidValue')
  })

  it.each([
    ['nope', 'invalidPath'],
    ['name..givenName', 'invalidPath'],
    ['emails[type eq "work"].nope', 'invalidPath'],
    ['__proto__.polluted', 'invalidPath'],
    ['constructor.prototype.polluted', 'invalidPath'],
    ['emails[type eq]', 'invalidFilter'],
    ['emails[nope eq "x"]', 'invalidFilter'],
  ])('PAT-006: path %s → 400 %s', async (path, scimType) => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'replace', path, value: 'x' })), 400, scimType)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('PAT-030: remove without a path → 400 noTarget', async () => {
    expectError(await c.patch(`/Users/${s.u1.id}`, patchOp({ op: 'remove' })), 400, 'noTarget')
    expectError(await c.patch(`/Groups/${s.g1.id}`, patchOp({ op: 'Remove', value: [{ value: s.u1.id }] })), 400, 'noTarget')
    expect((await c.get(`/Groups/${s.g1.id}`)).body.members).toHaveLength(2)
  })

  it('bad input: more than 1000 operations → 400 tooMany, nothing written', async () => {
    const before = await c.get(`/Users/${s.u1.id}`)
    const ops = Array.from({ length: 1001 }, (_, i) => ({ op: 'replace', path: 'title', value: `t${i}` }))
    const res = await c.patch(`/Users/${s.u1.id}`, patchOp(...ops))
    expectError(res, 400, 'tooMany')
    expect(res.body.detail).toContain('1000')
    expect((await c.get(`/Users/${s.u1.id}`)).headers.etag).toBe(before.headers.etag)
  })

  it('PAT-092: a returned:"request" attribute the PATCH wrote is in the 200 body, not in a later GET', async () => {
    const EXT = 'urn:example:params:scim:schemas:extension:acme:2.0:User'
    c = client(
      v,
      makeApp(v, {
        extensions: [{ resourceType: 'User', schema: { id: EXT, attributes: [{ name: 'hint', returned: 'request' }, { name: 'level' }] } }],
      }),
    )
    s = await seed(c)
    const res = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'add', path: `${EXT}:hint`, value: 'h' }, { op: 'add', path: `${EXT}:level`, value: '1' }))
    expect(res.status).toBe(200)
    expect(res.body[EXT]).toEqual({ hint: 'h', level: '1' })
    const other = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', path: `${EXT}:level`, value: '2' }))
    expect(other.body[EXT]).toEqual({ level: '2' })
    expect((await c.get(`/Users/${s.u3.id}`)).body[EXT]).toEqual({ level: '2' })
  })

  it('PAT-013: echoing meta and schemas from a GET in a path-less replace is ignored', async () => {
    const got = await c.get(`/Users/${s.u3.id}`)
    const res = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', value: { schemas: got.body.schemas, meta: got.body.meta, id: s.u3.id, nickName: 'Z' } }))
    expect(res.status).toBe(200)
    expect(res.body.nickName).toBe('Z')
    expectError(await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', value: { meta: { resourceType: 'Group' } } })), 400, 'mutability')
  })

  // Issue 11 item 4: a typo must not answer 200 while changing nothing (the IdP would believe it).
  it.each([false, true])('PAT-006: an operation none of whose attributes exist → 400 invalidPath naming them (strictSchema %s)', async (strictSchema) => {
    const cs = client(v, makeApp(v, { strictSchema }))
    const u = (await cs.post('/Users', { schemas: [USER], userName: 'typo@example.com', active: true })).body
    const before = await cs.get(`/Users/${u.id}`)
    const CORE = { 'urn:ietf:params:scim:schemas:core:2.0:User': { actve: false } }
    for (const value of [{ actve: false }, CORE, { actve: false, [ENTERPRISE]: { departmnt: 'X' } }]) {
      const res = await cs.patch(`/Users/${u.id}`, patchOp({ op: 'replace', value }))
      expectError(res, 400, 'invalidPath')
      expect(res.body.detail).toContain('actve')
    }
    const ext = await cs.patch(`/Users/${u.id}`, patchOp({ op: 'replace', path: ENTERPRISE, value: { departmnt: 'X' } }))
    expectError(ext, 400, 'invalidPath')
    expect(ext.body.detail).toContain('departmnt')
    // With a valid operation first the request is still atomic (PAT-011): nothing written.
    expectError(await cs.patch(`/Users/${u.id}`, patchOp({ op: 'replace', path: 'title', value: 'T' }, { op: 'replace', value: { actve: false } })), 400, 'invalidPath')
    const after = await cs.get(`/Users/${u.id}`)
    expect(after.body.active).toBe(true)
    expect(after.body).not.toHaveProperty('title')
    expect(after.headers.etag).toBe(before.headers.etag)
  })

  it('RES-005: unknown keys beside known ones are ignored (lenient); the core URN container applies its attributes', async () => {
    const res = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', value: { nickName: 'Z', actve: false } }))
    expect(res.status).toBe(200)
    expect(res.body.nickName).toBe('Z')
    expect(res.body.active).toBe(true)
    const core = await c.patch(`/Users/${s.u3.id}`, patchOp({ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { active: false } } }))
    expect(core.status).toBe(200)
    expect(core.body.active).toBe(false)
    expect((await c.get(`/Users/${s.u3.id}`)).body.active).toBe(false)
    const strict = client(v, makeApp(v, { strictSchema: true }))
    const u = (await strict.post('/Users', { schemas: [USER], userName: 'mixed@example.com' })).body
    expectError(await strict.patch(`/Users/${u.id}`, patchOp({ op: 'replace', value: { nickName: 'Z', actve: false } })), 400, 'invalidPath')
  })

  it('security: path-less {"__proto__": …} and nested __proto__ keys pollute nothing', async () => {
    const body = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":1},"name":{"__proto__":{"polluted":1},"middleName":"M"},"constructor":{"prototype":{"polluted":1}}}}]}`
    const res = await c.patch(`/Users/${s.u1.id}`, body)
    expect(res.status).toBe(200)
    expect(res.body.name.middleName).toBe('M')
    expect(JSON.stringify(res.body)).not.toContain('polluted')
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})

describe('PATCH concurrency (express5 at /scim/v2)', () => {
  const v = VARIANTS.find((x) => x.host === 'express5' && x.mount !== '')!

  it('20 concurrent member adds to one Group all land (CAS + retry, no lost update)', async () => {
    const adapter = new MemoryAdapter()
    const c = client(v, makeApp(v, {}, adapter))
    const ids: string[] = []
    for (let i = 0; i < 20; i++) {
      const res = await c.post('/Users', { schemas: [USER], userName: `user${i}@example.com` })
      expect(res.status).toBe(201)
      ids.push(res.body.id)
    }
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'Crowd' })
    expect(g.status).toBe(201)
    const results = await Promise.all(
      ids.map((id) => c.patch(`/Groups/${g.body.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: id }] }))),
    )
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 204))
    const after = await c.get(`/Groups/${g.body.id}`)
    expect(memberIds(after.body)).toEqual([...ids].sort())
  })

  it('issue 4 "Done when": 50 parallel member adds at one group → all 50 members', async () => {
    const c = client(v, makeApp(v))
    const ids: string[] = []
    for (let i = 0; i < 50; i++) ids.push((await c.post('/Users', { schemas: [USER], userName: `p${i}@example.com` })).body.id)
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'Fifty' })
    const results = await Promise.all(ids.map((id) => c.patch(`/Groups/${g.body.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: id }] }))))
    expect(results.filter((r) => r.status !== 204).map((r) => [r.status, r.body])).toEqual([])
    expect(memberIds((await c.get(`/Groups/${g.body.id}`)).body)).toEqual([...ids].sort())
  })

  it('50 parallel member adds through an adapter with I/O latency (wide read-write window) all land', async () => {
    /** A MemoryAdapter whose reads and writes take 1–5 ms, like a database round trip. */
    class SlowAdapter extends MemoryAdapter {
      override async get(...args: Parameters<MemoryAdapter['get']>) {
        await new Promise((r) => setTimeout(r, 1 + Math.random() * 4))
        return super.get(...args)
      }
      override async replace(...args: Parameters<MemoryAdapter['replace']>) {
        await new Promise((r) => setTimeout(r, 1 + Math.random() * 4))
        return super.replace(...args)
      }
    }
    const c = client(v, makeApp(v, {}, new SlowAdapter()))
    const ids: string[] = []
    for (let i = 0; i < 50; i++) ids.push((await c.post('/Users', { schemas: [USER], userName: `s${i}@example.com` })).body.id)
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'Slow' })
    const results = await Promise.all(ids.map((id) => c.patch(`/Groups/${g.body.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: id }] }))))
    expect(results.filter((r) => r.status !== 204).map((r) => [r.status, r.body?.detail])).toEqual([])
    expect(memberIds((await c.get(`/Groups/${g.body.id}`)).body)).toEqual([...ids].sort())
  })

  it('50 concurrent adds and removes interleaved keep exactly the expected membership', async () => {
    const c = client(v, makeApp(v))
    const ids: string[] = []
    for (let i = 0; i < 50; i++) ids.push((await c.post('/Users', { schemas: [USER], userName: `u${i}@example.com` })).body.id)
    const keep = ids.slice(0, 25)
    const drop = ids.slice(25)
    const g = await c.post('/Groups', { schemas: [GROUP], displayName: 'Churn', members: drop.map((value) => ({ value })) })
    const results = await Promise.all([
      ...keep.map((id) => c.patch(`/Groups/${g.body.id}`, patchOp({ op: 'Add', path: 'members', value: [{ value: id }] }))),
      ...drop.map((id) => c.patch(`/Groups/${g.body.id}`, patchOp({ op: 'Remove', path: 'members', value: [{ value: id }] }))),
    ])
    expect(results.filter((r) => r.status !== 204).map((r) => [r.status, r.body])).toEqual([])
    const after = await c.get(`/Groups/${g.body.id}`)
    expect(memberIds(after.body)).toEqual([...keep].sort())
  })
})
