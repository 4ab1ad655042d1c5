/**
 * `recordAdapter`: the SCIM storage rules over a record-level `RecordStore` (here the
 * document-store guide's store on its MongoDB-shaped stand-in), checked over HTTP through
 * `scimRouter`: derived `groups`, member versions, deletes leaving groups, uniqueness under a race,
 * compare-and-swap, lookups versus scans, cursors. The conformance kit runs on the same store in
 * test/guides/document-store.test.ts.
 */
import express from 'express'
import request from 'supertest'
import { bearerToken, GROUP_SCHEMA, recordAdapter, scimRouter, USER_SCHEMA, type RecordStore, type StoredRecord } from '../../src'
import { Collection, MongoClient } from '../../examples/guides/document-store/collection'
import { createIndexes, MongoRecordStore, type RecordDocument } from '../../examples/guides/document-store/adapter'
import { MapRecordStore } from '../../examples/guides/record-store/map-store'
import { describeAdapterConformance } from '../../src/testing'

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const auth = { Authorization: 'Bearer record-token' }

/** The store, with every call recorded and an optional hook run once before the next commit. */
async function setup(options: { maxScan?: number } = {}) {
  const records = new Collection<RecordDocument>()
  await createIndexes(records)
  const inner = new MongoRecordStore(new MongoClient(), records)
  const calls: { method: keyof RecordStore; query: Record<string, unknown> }[] = []
  const hooks: { beforeCommit?: () => Promise<void> } = {}
  const store: RecordStore = {
    get: (q, ctx) => (calls.push({ method: 'get', query: { ...q } }), inner.get(q, ctx)),
    findByLookup: (q, ctx) => (calls.push({ method: 'findByLookup', query: { ...q } }), inner.findByLookup(q, ctx)),
    scan: (q, ctx) => (calls.push({ method: 'scan', query: { ...q } }), inner.scan(q, ctx)),
    count: (q, ctx) => (calls.push({ method: 'count', query: { ...q } }), inner.count(q, ctx)),
    commit: async (q, ctx) => {
      calls.push({ method: 'commit', query: { ...q } })
      const hook = hooks.beforeCommit
      delete hooks.beforeCommit
      await hook?.()
      return inner.commit(q, ctx)
    },
  }
  const adapter = recordAdapter(store, options)
  const app = express()
  app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken('record-token') }))
  const http = {
    get: (path: string) => request(app).get(`/scim/v2${path}`).set(auth),
    post: (path: string, body: object) => request(app).post(`/scim/v2${path}`).set(auth).send(body),
    put: (path: string, body: object, etag?: string) => request(app).put(`/scim/v2${path}`).set(etag ? { ...auth, 'If-Match': etag } : auth).send(body),
    patch: (path: string, ops: object[], etag?: string) =>
      request(app).patch(`/scim/v2${path}`).set(etag ? { ...auth, 'If-Match': etag } : auth).send({ schemas: [PATCH], Operations: ops }),
    delete: (path: string) => request(app).delete(`/scim/v2${path}`).set(auth),
  }
  const user = async (userName: string, extra: object = {}) => {
    const r = await http.post('/Users', { schemas: [USER_SCHEMA], userName, ...extra })
    expect(r.status).toBe(201)
    return r.body as { id: string; meta: { version: string } }
  }
  const group = async (displayName: string, members: string[] = []) => {
    const r = await http.post('/Groups', { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) })
    expect(r.status).toBe(201)
    return r.body as { id: string; meta: { version: string } }
  }
  return { adapter, records, calls, hooks, http, user, group }
}

describe('recordAdapter: derived values kept in the records', () => {
  it('RES-063: User.groups follows membership adds and removes (member-only PATCH through modifyMembers), with display and type', async () => {
    const { http, user, group, calls } = await setup()
    const ada = await user('ada')
    const bob = await user('bob')
    const eng = await group('Engineering', [ada.id])
    expect((await http.get(`/Users/${ada.id}`)).body.groups).toEqual([expect.objectContaining({ value: eng.id, display: 'Engineering', type: 'direct' })])
    calls.length = 0
    const added = await http.patch(`/Groups/${eng.id}`, [{ op: 'add', path: 'members', value: [{ value: bob.id }] }, { op: 'remove', path: `members[value eq "${ada.id}"]` }])
    expect(added.status).toBeLessThan(300)
    // one commit: the group and both members, each a compare-and-swap on its version
    const commits = calls.filter((c) => c.method === 'commit')
    expect(commits).toHaveLength(1)
    const writes = (commits[0]!.query['writes'] as { op: string; record: StoredRecord }[]).map((w) => [w.op, w.record.id]).sort()
    expect(writes).toEqual([['update', ada.id], ['update', bob.id], ['update', eng.id]].sort())
    expect((await http.get(`/Users/${ada.id}`)).body.groups).toBeUndefined()
    expect((await http.get(`/Users/${bob.id}`)).body.groups).toEqual([expect.objectContaining({ value: eng.id, display: 'Engineering', type: 'direct' })])
    const members = (await http.get(`/Groups/${eng.id}`)).body.members
    expect(members).toEqual([expect.objectContaining({ value: bob.id, display: 'bob', type: 'User' })])
  })

  it("ETG-002: renaming a Group changes its members' groups.display and their ETags; other users keep theirs", async () => {
    const { http, user, group } = await setup()
    const ada = await user('ada')
    const cy = await user('cy')
    const eng = await group('Engineering', [ada.id])
    const before = await http.get(`/Users/${ada.id}`)
    const outsider = await http.get(`/Users/${cy.id}`)
    const renamed = await http.patch(`/Groups/${eng.id}`, [{ op: 'replace', path: 'displayName', value: 'Platform' }])
    expect(renamed.status).toBeLessThan(300)
    const after = await http.get(`/Users/${ada.id}`)
    expect(after.body.groups).toEqual([expect.objectContaining({ value: eng.id, display: 'Platform' })])
    expect(after.headers['etag']).not.toBe(before.headers['etag'])
    expect((await http.get(`/Users/${cy.id}`)).headers['etag']).toBe(outsider.headers['etag'])
    // the stale ETag no longer matches (RFC 7644 §3.14)
    expect((await http.patch(`/Users/${ada.id}`, [{ op: 'replace', path: 'active', value: false }], before.headers['etag'] as string)).status).toBe(412)
  })

  it("ETG-002: renaming a User changes members[].display in its groups and the groups' ETags", async () => {
    const { http, user, group } = await setup()
    const ada = await user('ada')
    const eng = await group('Engineering', [ada.id])
    const before = await http.get(`/Groups/${eng.id}`)
    expect((await http.patch(`/Users/${ada.id}`, [{ op: 'replace', path: 'displayName', value: 'Ada Lovelace' }])).status).toBe(200)
    const after = await http.get(`/Groups/${eng.id}`)
    expect(after.body.members).toEqual([expect.objectContaining({ value: ada.id, display: 'Ada Lovelace' })])
    expect(after.headers['etag']).not.toBe(before.headers['etag'])
  })

  it('EP-053: deleting a User removes it from every Group it was in, and those Groups change version', async () => {
    const { http, user, group } = await setup()
    const ada = await user('ada')
    const bob = await user('bob')
    const g1 = await group('G1', [ada.id, bob.id])
    const g2 = await group('G2', [ada.id])
    const v1 = (await http.get(`/Groups/${g1.id}`)).headers['etag']
    expect((await http.delete(`/Users/${ada.id}`)).status).toBe(204)
    const n1 = await http.get(`/Groups/${g1.id}`)
    expect(n1.body.members.map((m: { value: string }) => m.value)).toEqual([bob.id])
    expect(n1.headers['etag']).not.toBe(v1)
    expect((await http.get(`/Groups/${g2.id}`)).body.members).toBeUndefined()
    expect((await http.get(`/Groups?filter=${encodeURIComponent(`members.value eq "${ada.id}"`)}`)).body.totalResults).toBe(0)
  })

  it('a Group rename is linear in its members: one batch read of the members, one commit of n + 1 writes', async () => {
    const { http, user, group, calls } = await setup()
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push((await user(`lin${i}`)).id)
    const g = await group('Before', ids)
    calls.length = 0
    expect((await http.patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: 'After' }])).status).toBeLessThan(300)
    const memberReads = calls.filter((c) => c.method === 'get' && c.query['type'] === 'User')
    expect(memberReads).toHaveLength(1)
    expect([...(memberReads[0]!.query['ids'] as string[])].sort()).toEqual([...ids].sort())
    const commits = calls.filter((c) => c.method === 'commit')
    expect(commits).toHaveLength(1)
    expect(commits[0]!.query['writes']).toHaveLength(ids.length + 1)
  })

  it('deleting a Group removes it from its members\' groups', async () => {
    const { http, user, group } = await setup()
    const ada = await user('ada')
    const g = await group('Gone', [ada.id])
    expect((await http.delete(`/Groups/${g.id}`)).status).toBe(204)
    expect((await http.get(`/Users/${ada.id}`)).body.groups).toBeUndefined()
  })

  it('an unknown member id is 400 invalidValue and nothing is written (RES-060)', async () => {
    const { http, calls } = await setup()
    calls.length = 0
    const r = await http.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Bad', members: [{ value: 'no-such-user' }] })
    expect(r.status).toBe(400)
    expect(r.body.scimType).toBe('invalidValue')
    expect(calls.filter((c) => c.method === 'commit')).toHaveLength(0)
  })
})

describe('recordAdapter: uniqueness and compare-and-swap', () => {
  it('RES-020, EP-013: two concurrent creates of one userName (differently cased) give exactly one 201 and one 409 uniqueness', async () => {
    const { http } = await setup()
    const [a, b] = await Promise.all([
      http.post('/Users', { schemas: [USER_SCHEMA], userName: 'Race@Example.com' }),
      http.post('/Users', { schemas: [USER_SCHEMA], userName: 'race@EXAMPLE.com' }),
    ])
    expect([a.status, b.status].sort()).toEqual([201, 409])
    expect((a.status === 409 ? a : b).body.scimType).toBe('uniqueness')
    expect((await http.get('/Users')).body.totalResults).toBe(1)
  })

  it('RES-021: Straße and STRASSE are one userName (foldCase keys); EP-052: a deleted user frees it', async () => {
    const { http, user } = await setup()
    const u = await user('Straße')
    expect((await http.post('/Users', { schemas: [USER_SCHEMA], userName: 'STRASSE' })).status).toBe(409)
    expect((await http.delete(`/Users/${u.id}`)).status).toBe(204)
    expect((await http.post('/Users', { schemas: [USER_SCHEMA], userName: 'STRASSE' })).status).toBe(201)
  })

  it('ETG-010: If-Match with a stale ETag is 412 and changes nothing; the current one succeeds', async () => {
    const { http, user } = await setup()
    const u = await user('cas')
    const first = await http.patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'one' }], `W/"${u.meta.version.replace(/^W\/"|"$/g, '')}"`)
    expect(first.status).toBe(200)
    const stale = await http.patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'two' }], u.meta.version)
    expect(stale.status).toBe(412)
    expect((await http.get(`/Users/${u.id}`)).body.title).toBe('one')
    expect((await http.put(`/Users/${u.id}`, { schemas: [USER_SCHEMA], userName: 'cas', title: 'three' }, first.headers['etag'] as string)).status).toBe(200)
  })

  it('ETG-030: a lost race on a member record is retried inside the adapter, not answered 412 to a client pinning the group', async () => {
    const { http, user, group, hooks, adapter, calls } = await setup()
    const ada = await user('ada')
    const bob = await user('bob')
    const g = await group('Team', [ada.id])
    const etag = (await http.get(`/Groups/${g.id}`)).headers['etag'] as string
    // right before the group's commit, another writer changes bob (whose groups the commit rewrites)
    hooks.beforeCommit = async () => {
      const current = await adapter.get({ resourceType: 'User', id: bob.id }, undefined)
      await adapter.replace({ resourceType: 'User', id: bob.id, attributes: { ...current!.attributes, title: 'raced' }, unique: [] }, undefined)
    }
    calls.length = 0
    const r = await http.put(`/Groups/${g.id}`, { schemas: [GROUP_SCHEMA], displayName: 'Team', members: [{ value: ada.id }, { value: bob.id }] }, etag)
    expect(r.status).toBe(200)
    // the group's commit, the other writer's, and the group's again after reading bob afresh
    expect(calls.filter((c) => c.method === 'commit')).toHaveLength(3)
    const got = (await http.get(`/Users/${bob.id}`)).body
    expect(got.title).toBe('raced')
    expect(got.groups).toEqual([expect.objectContaining({ value: g.id })])
  })
})

describe('recordAdapter: lookups, scans and cursors', () => {
  it('FLT-020: IdP eq lookups are served by findByLookup (folded keys), id eq by get; a co filter and a sort go through scan', async () => {
    const { http, user, calls } = await setup()
    const ada = await user('Ada@Example.com', { emails: [{ value: 'ADA@example.com' }], externalId: 'ext-1' })
    await user('grace@example.com')
    const query = async (filter: string, extra = '') => {
      calls.length = 0
      const r = await http.get(`/Users?filter=${encodeURIComponent(filter)}${extra}`)
      expect(r.status).toBe(200)
      return { ids: r.body.Resources?.map((x: { id: string }) => x.id) ?? [], reads: calls.map((c) => c.method) }
    }
    expect(await query('userName eq "ADA@EXAMPLE.COM"')).toEqual({ ids: [ada.id], reads: ['findByLookup'] })
    expect(calls[0]!.query).toMatchObject({ type: 'User', lookup: 'userName\u0000ada@example.com' })
    expect(await query('emails.value eq "ada@EXAMPLE.com" and active pr')).toEqual({ ids: [], reads: ['findByLookup'] })
    expect(await query('externalId eq "ext-1"')).toEqual({ ids: [ada.id], reads: ['findByLookup'] })
    expect(await query('externalId eq "EXT-1"')).toEqual({ ids: [], reads: ['findByLookup'] }) // externalId is caseExact
    expect(await query(`id eq "${ada.id}"`)).toEqual({ ids: [ada.id], reads: ['get'] })
    expect(await query('userName co "grace"')).toEqual({ ids: [expect.any(String)], reads: ['scan'] })
    expect((await query('userName pr', '&sortBy=userName&sortOrder=descending')).reads).toEqual(['scan'])
  })

  it('FLT-008: a filter no lookup serves reads at most maxScan records (400 tooMany past it); lookups are not limited by the type size', async () => {
    const { http, user } = await setup({ maxScan: 3 })
    for (let i = 0; i < 4; i++) await user(`many${i}`)
    const scanned = await http.get(`/Users?filter=${encodeURIComponent('userName co "many"')}`)
    expect(scanned.status).toBe(400)
    expect(scanned.body.scimType).toBe('tooMany')
    const looked = await http.get(`/Users?filter=${encodeURIComponent('userName eq "many2"')}`)
    expect(looked.status).toBe(200)
    expect(looked.body.totalResults).toBe(1)
  })

  it('list pages and RFC 9865 cursor pages are keyset reads in id order (scan after the last id)', async () => {
    const { http, user, calls } = await setup()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await user(`page${i}`)).id)
    const indexed = await http.get('/Users?startIndex=2&count=2')
    expect(indexed.body.totalResults).toBe(5)
    expect(indexed.body.Resources.map((r: { id: string }) => r.id)).toEqual(ids.slice(1, 3))
    const seen: string[] = []
    let page = await http.get('/Users?cursor&count=2')
    for (;;) {
      expect(page.status).toBe(200)
      expect(page.body.totalResults).toBe(seen.length < 2 ? 5 : 6)
      seen.push(...page.body.Resources.map((r: { id: string }) => r.id))
      if (!page.body.nextCursor) break
      if (seen.length === 2) await user('late') // an insert between pages lands after them, nothing repeats
      calls.length = 0
      page = await http.get(`/Users?cursor=${page.body.nextCursor}&count=2`)
      expect(calls.find((c) => c.method === 'scan')!.query).toMatchObject({ type: 'User', after: seen[seen.length - 1], limit: 3 })
    }
    expect(seen.slice(0, 5)).toEqual(ids)
    expect(seen).toHaveLength(6)
    expect(new Set(seen).size).toBe(6)
  })

  it('a filtered cursor walks the matches in the default order', async () => {
    const { http, user } = await setup()
    const wanted: string[] = []
    for (let i = 0; i < 5; i++) {
      const u = await user(`c${i}`, { title: i % 2 ? 'odd' : 'even' })
      if (i % 2 === 0) wanted.push(u.id)
    }
    const seen: string[] = []
    let page = await http.get(`/Users?filter=${encodeURIComponent('title eq "even"')}&cursor&count=2`)
    for (;;) {
      seen.push(...page.body.Resources.map((r: { id: string }) => r.id))
      if (!page.body.nextCursor) break
      page = await http.get(`/Users?filter=${encodeURIComponent('title eq "even"')}&cursor=${page.body.nextCursor}&count=2`)
    }
    expect(seen).toEqual(wanted)
  })
})

// The README's smallest store: the same rules over a Map, through the whole conformance kit.
describeAdapterConformance('recordAdapter(MapRecordStore) (README, Writing an adapter)', () => recordAdapter(new MapRecordStore()), { describe, it, expect })
