/**
 * One rule for every store (issue 11 item 10): a string holding U+0000 or an unpaired UTF-16
 * surrogate is 400 invalidValue (RFC 7644 §3.12) at the router, before any adapter call — in any
 * string of a JSON body (member names included; RFC 8259 §8.2 calls unpaired surrogates
 * unpredictable), in the resource id of the path, and in filter literals (RFC 7644 §3.4.2.2
 * `\uXXXX` escapes or raw characters). Never a 500, never a change. Runs on every store
 * (SCIM_TEST_STORE); on the SQL stores PostgreSQL once answered 500 and SQLite's `co "\u0000"`
 * matched every user.
 */
import { USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
/** JSON texts of bad strings: NUL, lone high, lone low, reversed pair, NUL next to a valid pair. */
const BAD = ['"a\\u0000b"', '"\\ud800"', '"x\\udc00"', '"\\udc00\\ud800"', '"\\ud83d\\ude00\\u0000"']
const DETAIL = /U\+0000 or an unpaired UTF-16 surrogate/

describe.each(VARIANTS)('U+0000 and unpaired surrogates: $name', (v) => {
  let c: Client
  let id: string
  let version: string
  beforeEach(async () => {
    c = client(v, makeApp(v, { bulk: true }))
    const r = await c.post('/Users', { schemas: [USER], userName: 'alice', title: 'boss', emails: [{ value: 'a@x.org', type: 'work' }] })
    id = r.body.id
    version = r.body.meta.version
  })
  const users = async () => (await c.get('/Users')).body.totalResults as number
  const unchanged = async () => {
    const r = await c.get(`/Users/${id}`)
    expect(r.body.meta.version).toBe(version)
    expect(r.body.title).toBe('boss')
  }

  it.each(BAD)('POST /Users with userName %s is 400 invalidValue; nothing is created', async (bad) => {
    const r = await c.post('/Users', `{"schemas":["${USER}"],"userName":${bad}}`)
    expectError(r, 400, 'invalidValue')
    expect(r.body.detail).toMatch(DETAIL)
    expect(await users()).toBe(1)
  })

  it('a bad string anywhere in the body (nested value, member name, unknown attribute) is 400 invalidValue', async () => {
    for (const body of [
      `{"schemas":["${USER}"],"userName":"b","name":{"givenName":"\\ud800"}}`,
      `{"schemas":["${USER}"],"userName":"b","emails":[{"value":"b@x.org","type":"\\u0000"}]}`,
      `{"schemas":["${USER}"],"userName":"b","x\\u0000":"ignored attribute"}`,
      `{"schemas":["${USER}"],"userName":"b","unknownAttribute":["\\udfff"]}`,
    ]) {
      expectError(await c.post('/Users', body), 400, 'invalidValue')
    }
    expect(await users()).toBe(1)
  })

  it('PUT and PATCH with a bad string are 400 invalidValue; the resource is unchanged', async () => {
    expectError(await c.put(`/Users/${id}`, `{"schemas":["${USER}"],"userName":"alice","title":"\\u0000"}`), 400, 'invalidValue')
    expectError(
      await c.patch(`/Users/${id}`, `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"x\\udc00"}]}`),
      400,
      'invalidValue',
    )
    await unchanged()
  })

  it('a valid surrogate pair (an emoji) is fine and round-trips', async () => {
    const r = await c.post('/Users', `{"schemas":["${USER}"],"userName":"\\ud83d\\ude00","title":"\\ud83d\\ude00"}`)
    expect(r.status).toBe(201)
    expect(r.body.userName).toBe('\u{1f600}')
    expect((await c.get(`/Users?filter=${encodeURIComponent('title eq "\\ud83d\\ude00"')}`)).body.totalResults).toBe(1)
  })

  it.each(['GET', 'PUT', 'PATCH', 'DELETE'])('%s /Users/%%00 is 400 invalidValue (the id in the path)', async (method) => {
    const path = '/Users/a%00b'
    const r =
      method === 'GET'
        ? await c.get(path)
        : method === 'DELETE'
          ? await c.delete(path)
          : method === 'PUT'
            ? await c.put(path, { schemas: [USER], userName: 'x' })
            : await c.patch(path, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] })
    expectError(r, 400, 'invalidValue')
    expect(r.body.detail).toMatch(DETAIL)
    expect(await users()).toBe(1)
  })

  it.each([
    ['title co "\\u0000"', 'NUL escape, co (matched every user on SQLite)'],
    ['userName eq "\\ud800"', 'lone high surrogate (the eq fast path)'],
    ['title eq "a\\udc00" or userName pr', 'lone low surrogate in an or'],
    ['emails[value sw "\\u0000"]', 'inside a valuePath'],
    ["title eq 'x\\u0000'", 'single-quoted'],
    ['title eq a\u0000b', 'raw NUL in a bare word'],
  ])('GET /Users?filter=%j (%s) is 400 invalidValue', async (filter) => {
    const r = await c.get(`/Users?filter=${encodeURIComponent(filter)}`)
    expectError(r, 400, 'invalidValue')
    expect(r.body.detail).toMatch(DETAIL)
  })

  it('POST /Users/.search and the root query with a bad filter literal are 400 invalidValue', async () => {
    const search = { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'title co "\\u0000"' }
    expectError(await c.post('/Users/.search', search), 400, 'invalidValue')
    expectError(await c.post('/.search', search), 400, 'invalidValue')
    expectError(await c.get(`/?filter=${encodeURIComponent('title co "\\u0000"')}`), 400, 'invalidValue')
  })

  it('a PATCH path whose filter holds an escaped NUL is 400 invalidValue; nothing changes', async () => {
    const r = await c.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'emails[value eq "\\u0000"]' }] })
    expectError(r, 400, 'invalidValue')
    await unchanged()
  })

  it('Bulk (RFC 7644 §3.7): a bad string in the request is 400 invalidValue for the whole request; an operation on /Users/%00 fails alone', async () => {
    const whole = await c.post('/Bulk', `{"schemas":["${BULK}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b","data":{"schemas":["${USER}"],"userName":"\\u0000"}}]}`)
    expectError(whole, 400, 'invalidValue')
    const r = await c.post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'DELETE', path: '/Users/a%00b' },
        { method: 'POST', path: '/Users', bulkId: 'ok', data: { schemas: [USER], userName: 'bob' } },
      ],
    })
    expect(r.status).toBe(200)
    expect(r.body.Operations.map((o: { status: string }) => o.status)).toEqual(['400', '201'])
    expect(r.body.Operations[0].response).toMatchObject({ status: '400', scimType: 'invalidValue' })
    expect(await users()).toBe(2)
  })
})
