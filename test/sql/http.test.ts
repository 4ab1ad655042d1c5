/**
 * HTTP round trip through the router on SqlAdapter (SQLite always, PostgreSQL with SCIM_PG_URL),
 * and bad input: SQL metacharacters, quotes, backslashes, % and _, NUL bytes and long values reach
 * SQL only as bound parameters and match literally.
 */
import express from 'express'
import request from 'supertest'
import { scimRouter } from '../../src'
import { databases } from './helpers'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const SCIM = 'application/scim+json'

for (const db of databases()) {
  describe(`SqlAdapter over HTTP (${db.name})`, () => {
    let close: () => Promise<void>
    let app: express.Express
    beforeAll(async () => {
      const made = await db.make()
      close = made.close
      app = express()
      app.use('/scim/v2', scimRouter(made.adapter, { authenticate: 'none' }))
    })
    afterAll(() => close())

    it('create user, group with the member, filter by emails.value, PUT, DELETE', async () => {
      const created = await request(app)
        .post('/scim/v2/Users')
        .set('Content-Type', SCIM)
        .send({ schemas: [USER], userName: 'bjensen@example.com', name: { givenName: 'Barbara' }, emails: [{ value: 'BJensen@Example.com', type: 'work', primary: true }] })
      expect(created.status).toBe(201)
      const id = created.body.id as string
      const g = await request(app).post('/scim/v2/Groups').set('Content-Type', SCIM).send({ schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: id }] })
      expect(g.status).toBe(201)
      expect(g.body.members).toEqual([expect.objectContaining({ value: id, display: 'bjensen@example.com' })])

      const byEmail = await request(app).get('/scim/v2/Users').query({ filter: 'emails.value eq "bjensen@EXAMPLE.com"' })
      expect(byEmail.status).toBe(200)
      expect(byEmail.body.totalResults).toBe(1)
      expect(byEmail.body.Resources[0].id).toBe(id)
      expect(byEmail.body.Resources[0].groups).toEqual([expect.objectContaining({ value: g.body.id, display: 'Tour Guides' })])
      const byMember = await request(app).get('/scim/v2/Groups').query({ filter: `members[value eq "${id}"]`, excludedAttributes: 'members' })
      expect(byMember.body.totalResults).toBe(1)

      const dup = await request(app).post('/scim/v2/Users').set('Content-Type', SCIM).send({ schemas: [USER], userName: 'BJENSEN@example.com' })
      expect(dup.status).toBe(409)

      // Joining the group changed the user's representation (groups), so its ETag (ETG-002).
      const current = await request(app).get(`/scim/v2/Users/${id}`)
      expect(current.headers['etag']).not.toBe(created.headers['etag'])
      const put = await request(app)
        .put(`/scim/v2/Users/${id}`)
        .set('Content-Type', SCIM)
        .set('If-Match', current.headers['etag'] as string)
        .send({ schemas: [USER], userName: 'bjensen@example.com', title: 'Tour Guide' })
      expect(put.status).toBe(200)
      expect(put.body.title).toBe('Tour Guide')
      expect(put.body.meta.version).not.toBe(created.body.meta.version)
      const stale = await request(app)
        .put(`/scim/v2/Users/${id}`)
        .set('Content-Type', SCIM)
        .set('If-Match', created.headers['etag'] as string)
        .send({ schemas: [USER], userName: 'bjensen@example.com' })
      expect(stale.status).toBe(412)
      const byTitle = await request(app).get('/scim/v2/Users').query({ filter: 'title eq "tour guide" and not (emails.value co "nobody")' })
      expect(byTitle.body.totalResults).toBe(1)

      expect((await request(app).delete(`/scim/v2/Users/${id}`)).status).toBe(204)
      expect((await request(app).get(`/scim/v2/Users/${id}`)).status).toBe(404)
      const group = await request(app).get(`/scim/v2/Groups/${g.body.id}`)
      expect(group.body.members).toBeUndefined()
      expect(group.body.meta.version).not.toBe(g.body.meta.version)
    })

    it('bad input matches literally: quotes, SQL, backslashes, % and _, long values', async () => {
      const names = ["o'brien", "x' OR 1=1 --", 'a%b', 'a_b', 'axb', 'back\\slash', '"; DROP TABLE scim_resources; --', 'z'.repeat(3000)]
      for (const userName of names) {
        const r = await request(app).post('/scim/v2/Users').set('Content-Type', SCIM).send({ schemas: [USER], userName })
        expect(r.status).toBe(201)
      }
      const q = async (filter: string) => {
        const r = await request(app).get('/scim/v2/Users').query({ filter, count: 50 })
        expect(r.status).toBe(200)
        return (r.body.Resources ?? []).map((u: { userName: string }) => u.userName).sort()
      }
      expect(await q(`userName eq "x' OR 1=1 --"`)).toEqual(["x' OR 1=1 --"])
      expect(await q('userName co "%"')).toEqual(['a%b'])
      expect(await q('userName sw "a_"')).toEqual(['a_b'])
      expect(await q('userName ew "%b"')).toEqual(['a%b'])
      expect(await q('userName co "\\\\"')).toEqual(['back\\slash'])
      expect(await q(`userName co "'"`)).toEqual(["o'brien", "x' OR 1=1 --"])
      expect(await q('userName eq "\\"; DROP TABLE scim_resources; --"')).toEqual(['"; DROP TABLE scim_resources; --'])
      expect(await q(`userName eq "${'Z'.repeat(3000)}"`)).toEqual(['z'.repeat(3000)])
      // A NUL (or unpaired surrogate) literal never reaches SQL: 400 invalidValue on every store (issue 11 item 10).
      for (const filter of ['userName eq "a\\u0000b"', 'userName ne "a\\u0000b" and userName sw "a"']) {
        const r = await request(app).get('/scim/v2/Users').query({ filter })
        expect([r.status, r.body.scimType]).toEqual([400, 'invalidValue'])
      }
      expect(await q('userName co "x\' or "')).toEqual(["x' OR 1=1 --"])
    })
  })
}
