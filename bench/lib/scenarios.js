'use strict'
/**
 * The seven scenarios. Each has
 *   request(srv, k)   the k-th request sent to server `srv` (deterministic, so runs are comparable)
 *   expect            the status codes that count as correct answers under load
 *   validate(srv)     a deep check of the responses before measuring (throws on a wrong answer)
 * `srv` is the server handle from run.js: { name, url, users: [{ id, userName }], bigGroupId, ... }.
 */
const assert = require('node:assert/strict')
const data = require('./data')

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const JSON_TYPE = 'application/scim+json'

const headers = (srv, body) => ({ authorization: `Bearer ${srv.token}`, ...(body ? { 'content-type': JSON_TYPE } : {}) })

/** One request through fetch, for validation. */
async function call(srv, req) {
  const res = await fetch(srv.url + req.path, { method: req.method, headers: req.headers, body: req.body })
  const text = await res.text()
  let body
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = text
  }
  return { status: res.status, body, headers: res.headers }
}

function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`)
}

const userIndex = (k, srv) => k % srv.users.length

function userBody(i, extra) {
  return { schemas: data.USER_SCHEMAS, ...data.userAttributes(i), ...extra }
}

const scenarios = [
  {
    name: 'get',
    title: 'GET /Users/{id}',
    expect: [200],
    request(srv, k) {
      return { method: 'GET', path: `${srv.base}/Users/${srv.users[userIndex(k, srv)].id}`, headers: headers(srv) }
    },
    async validate(srv) {
      const u = srv.users[7]
      const res = await call(srv, this.request(srv, 7))
      expectStatus(res, 200, 'GET user')
      assert.equal(res.body.id, u.id)
      assert.equal(res.body.userName, u.userName)
      assert.ok(res.body.schemas.includes(USER), 'schemas carries the User URN')
      assert.ok(res.body.groups?.some((g) => g.value === srv.bigGroupId), 'derived groups include the big group')
      const unauth = await call(srv, { method: 'GET', path: `${srv.base}/Users/${u.id}`, headers: {} })
      expectStatus(unauth, 401, 'GET without a token')
    },
  },
  {
    name: 'filter',
    title: 'GET /Users?filter=userName eq "…"',
    expect: [200],
    request(srv, k) {
      const u = srv.users[userIndex(k * 7919, srv)]
      return { method: 'GET', path: `${srv.base}/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`, headers: headers(srv) }
    },
    async validate(srv) {
      for (const k of [1, 2, 3]) {
        const u = srv.users[userIndex(k * 7919, srv)]
        const res = await call(srv, this.request(srv, k))
        expectStatus(res, 200, 'filter')
        assert.deepEqual(res.body.schemas, [LIST])
        assert.equal(res.body.totalResults, 1, 'filter: totalResults')
        assert.equal(res.body.Resources.length, 1)
        assert.equal(res.body.Resources[0].id, u.id)
      }
      const none = await call(srv, { method: 'GET', path: `${srv.base}/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`, headers: headers(srv) })
      expectStatus(none, 200, 'filter without match')
      assert.equal(none.body.totalResults, 0)
    },
  },
  {
    name: 'list',
    title: 'GET /Users?count=100',
    expect: [200],
    request(srv) {
      return { method: 'GET', path: `${srv.base}/Users?count=100`, headers: headers(srv) }
    },
    async validate(srv) {
      const res = await call(srv, this.request(srv, 0))
      expectStatus(res, 200, 'list')
      assert.deepEqual(res.body.schemas, [LIST])
      assert.equal(res.body.totalResults, srv.userCount, 'list: totalResults is the number of users')
      assert.equal(res.body.startIndex, 1)
      assert.equal(res.body.itemsPerPage, 100)
      assert.equal(res.body.Resources.length, 100)
      assert.equal(new Set(res.body.Resources.map((r) => r.id)).size, 100, 'list: 100 distinct users')
      assert.equal(res.body.Resources[0].id, srv.users[0].id, 'list: creation order')
    },
  },
  {
    name: 'group',
    title: 'GET /Groups/{id}?excludedAttributes=members (10,000 members)',
    expect: [200],
    request(srv) {
      return { method: 'GET', path: `${srv.base}/Groups/${srv.bigGroupId}?excludedAttributes=members`, headers: headers(srv) }
    },
    async validate(srv) {
      const res = await call(srv, this.request(srv, 0))
      expectStatus(res, 200, 'group GET')
      assert.equal(res.body.id, srv.bigGroupId)
      assert.equal(res.body.displayName, data.BIG_GROUP)
      assert.equal(res.body.members, undefined, 'members excluded')
      const full = await call(srv, { method: 'GET', path: `${srv.base}/Groups/${srv.bigGroupId}`, headers: headers(srv) })
      expectStatus(full, 200, 'group GET with members')
      assert.equal(full.body.members?.length, srv.users.length, 'the big group has every user')
    },
  },
  {
    name: 'patch',
    title: 'PATCH /Users/{id} replace active',
    expect: [200, 204],
    request(srv, k) {
      // First pass over the users sets active=false, the next true, and so on: every PATCH is a change.
      const value = Math.floor(k / srv.users.length) % 2 === 1
      const body = JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value }] })
      return { method: 'PATCH', path: `${srv.base}/Users/${srv.users[userIndex(k, srv)].id}`, headers: headers(srv, true), body }
    },
    async validate(srv) {
      const u = srv.users[srv.users.length - 1]
      for (const value of [false, true]) {
        const body = JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value }] })
        const res = await call(srv, { method: 'PATCH', path: `${srv.base}/Users/${u.id}`, headers: headers(srv, true), body })
        expectStatus(res, 200, `PATCH active=${value}`)
        assert.equal(res.body.active, value)
        const back = await call(srv, { method: 'GET', path: `${srv.base}/Users/${u.id}`, headers: headers(srv) })
        assert.equal(back.body.active, value, 'PATCH stored')
      }
    },
  },
  {
    name: 'put',
    title: 'PUT /Users/{id}',
    expect: [200],
    request(srv, k) {
      const i = userIndex(k, srv)
      const body = JSON.stringify(userBody(i, { title: `Engineer ${k}` }))
      return { method: 'PUT', path: `${srv.base}/Users/${srv.users[i].id}`, headers: headers(srv, true), body }
    },
    async validate(srv) {
      const i = 42
      const body = JSON.stringify(userBody(i, { title: 'Validated' }))
      const res = await call(srv, { method: 'PUT', path: `${srv.base}/Users/${srv.users[i].id}`, headers: headers(srv, true), body })
      expectStatus(res, 200, 'PUT')
      assert.equal(res.body.title, 'Validated')
      assert.equal(res.body.userName, srv.users[i].userName)
      const back = await call(srv, { method: 'GET', path: `${srv.base}/Users/${srv.users[i].id}`, headers: headers(srv) })
      assert.equal(back.body.title, 'Validated', 'PUT stored')
      // Taking another user's userName (different case) is a uniqueness conflict.
      const clash = JSON.stringify(userBody(i, { userName: srv.users[i + 1].userName.toUpperCase() }))
      const conflict = await call(srv, { method: 'PUT', path: `${srv.base}/Users/${srv.users[i].id}`, headers: headers(srv, true), body: clash })
      expectStatus(conflict, 409, 'PUT with a taken userName')
    },
  },
  {
    name: 'post',
    title: 'POST /Users',
    expect: [201],
    creates: true,
    request(srv, k) {
      const userName = `new-${srv.name}-${k}@example.com`
      // A user of the dataset's shape (index 1,000,000 + k, so nothing collides with the preload).
      const attrs = data.userAttributes(1_000_000 + k)
      const body = JSON.stringify({
        schemas: data.USER_SCHEMAS,
        ...attrs,
        userName,
        externalId: `new-${srv.name}-${k}`,
        emails: [{ value: userName, type: 'work', primary: true }, ...attrs.emails.slice(1)],
      })
      return { method: 'POST', path: `${srv.base}/Users`, headers: headers(srv, true), body }
    },
    async validate(srv) {
      const userName = `validate-${srv.name}@example.com`
      const body = JSON.stringify({ schemas: [USER], userName, active: true })
      const res = await call(srv, { method: 'POST', path: `${srv.base}/Users`, headers: headers(srv, true), body })
      expectStatus(res, 201, 'POST')
      assert.equal(res.body.userName, userName)
      assert.ok(typeof res.body.id === 'string' && res.body.id.length > 0)
      srv.userCount++
      const dup = JSON.stringify({ schemas: [USER], userName: userName.toUpperCase() })
      const again = await call(srv, { method: 'POST', path: `${srv.base}/Users`, headers: headers(srv, true), body: dup })
      expectStatus(again, 409, 'POST with a taken userName (other case)')
    },
  },
]

/** The number of users the server reports (`totalResults` of an empty page). */
async function countUsers(srv) {
  const res = await call(srv, { method: 'GET', path: `${srv.base}/Users?count=0`, headers: headers(srv) })
  expectStatus(res, 200, 'count users')
  return res.body.totalResults
}

module.exports = { scenarios, countUsers, call }
