/**
 * docs/guides/document-store.md: `recordAdapter` over the guide's `RecordStore` on a MongoDB-shaped
 * collection passes the adapter conformance kit, reads IdP `eq` lookups from the lookup index (other
 * filters scan in id order), and serves an IdP's provisioning flow over HTTP.
 */
import express from 'express'
import request from 'supertest'
import { bearerToken, parseFilter, scimRouter, createRegistry, userSchema, groupSchema, enterpriseUserSchema, USER_SCHEMA, GROUP_SCHEMA } from '../../src'
import { groupResourceType, userResourceType } from '../../src/schema/core-schemas'
import { describeAdapterConformance } from '../../src/testing'
import { Collection, MongoClient, type Filter } from '../../examples/guides/document-store/collection'
import { createIndexes, documentStoreAdapter, type RecordDocument } from '../../examples/guides/document-store/adapter'

async function setup() {
  const resources = new Collection<RecordDocument>()
  await createIndexes(resources)
  return { resources, adapter: documentStoreAdapter(new MongoClient(), resources) }
}

describeAdapterConformance('recordAdapter(MongoRecordStore) (docs/guides/document-store.md)', async () => (await setup()).adapter, { describe, it, expect })

const registry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const USERS = registry.byName('User')!
const GROUPS = registry.byName('Group')!

describe('document-store guide: lookups are queries on the lookup index', () => {
  it('userName, emails.value and members.value eq (alone or in an and) query the folded lookup key; id eq reads by id; other filters scan the type in id order (RFC 7644 §3.4.2.2)', async () => {
    const { resources, adapter } = await setup()
    const ctx = { tenant: 't1' }
    const ada = await adapter.create({ resourceType: 'User', attributes: { userName: 'Ada@Example.com', emails: [{ value: 'ADA@example.com' }] }, unique: [{ path: 'userName', caseExact: false }] }, ctx)
    await adapter.create({ resourceType: 'User', attributes: { userName: 'grace@example.com' }, unique: [{ path: 'userName', caseExact: false }] }, ctx)
    const team = await adapter.create({ resourceType: 'Group', attributes: { displayName: 'Engines', members: [{ value: ada.id }] }, unique: [] }, ctx)

    const queries: Filter[] = []
    const find = resources.find.bind(resources)
    resources.find = (filter: Filter, options) => (queries.push(filter), find(filter, options))
    const list = async (text: string, rt = USERS) => {
      queries.length = 0
      const r = await adapter.list({ resourceType: rt.name, filter: parseFilter(text, rt), startIndex: 1, count: 10 }, ctx)
      return { ids: r.resources.map((x) => x.id), query: queries[0] }
    }
    expect(await list('userName eq "ADA@EXAMPLE.COM"')).toEqual({ ids: [ada.id], query: { tenant: 't1', type: 'User', lookups: 'userName\u0000ada@example.com' } })
    expect(await list('emails.value eq "ada@EXAMPLE.com" and active pr')).toEqual({ ids: [], query: { tenant: 't1', type: 'User', lookups: 'emails.value\u0000ada@example.com' } })
    expect(await list(`members.value eq "${ada.id}"`, GROUPS)).toEqual({ ids: [team.id], query: { tenant: 't1', type: 'Group', lookups: `members.value\u0000${ada.id}` } })
    expect(await list(`id eq "${ada.id}"`)).toEqual({ ids: [ada.id], query: { tenant: 't1', type: 'User', _id: { $in: [ada.id] } } })
    // not a lookup: every User of the tenant is a candidate (scanned in id order), and the library's evaluator decides
    expect(await list('userName sw "grace"')).toEqual({ ids: [expect.any(String)], query: { tenant: 't1', type: 'User' } })
  })

  it('a provisioning flow over HTTP: create, lookup, group push, deactivate, 409 on a duplicate, 412 on a stale ETag (RFC 7644 §3.3, §3.5.2, §3.14)', async () => {
    const { adapter } = await setup()
    const app = express()
    app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken('doc-store-token') }))
    const auth = { Authorization: 'Bearer doc-store-token' }
    const created = await request(app).post('/scim/v2/Users').set(auth).send({ schemas: [USER_SCHEMA], userName: 'ada@example.com', active: true })
    expect(created.status).toBe(201)
    const dup = await request(app).post('/scim/v2/Users').set(auth).send({ schemas: [USER_SCHEMA], userName: 'ADA@example.com' })
    expect(dup.status).toBe(409)
    expect(dup.body.scimType).toBe('uniqueness')
    const found = await request(app).get('/scim/v2/Users').query({ filter: 'userName eq "Ada@Example.com"' }).set(auth)
    expect(found.body.totalResults).toBe(1)
    const group = await request(app).post('/scim/v2/Groups').set(auth).send({ schemas: [GROUP_SCHEMA], displayName: 'Engines', members: [{ value: created.body.id }] })
    expect(group.status).toBe(201)
    expect(group.body.members).toEqual([expect.objectContaining({ value: created.body.id, display: 'ada@example.com', type: 'User' })])
    const patched = await request(app)
      .patch(`/scim/v2/Users/${created.body.id}`)
      .set({ ...auth, 'If-Match': created.headers['etag'] as string })
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] })
    // the group push changed the user's `groups`, so the ETag from the create is stale
    expect(patched.status).toBe(412)
    const fresh = await request(app).get(`/scim/v2/Users/${created.body.id}`).set(auth)
    expect(fresh.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: 'Engines' })])
    const deactivated = await request(app)
      .patch(`/scim/v2/Users/${created.body.id}`)
      .set({ ...auth, 'If-Match': fresh.headers['etag'] as string })
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] })
    expect(deactivated.status).toBe(200)
    expect(deactivated.body.active).toBe(false)
  })
})
