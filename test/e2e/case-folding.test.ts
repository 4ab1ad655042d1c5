/**
 * One case fold for every store (issue 11 item 8): NFC, then Unicode full case folding
 * (CaseFolding.txt statuses C and F), for `userName` uniqueness (RFC 7644 §5, RFC 8265 §3.3;
 * RES-021, FLT-021), filters on columns and on JSON documents (RFC 7643 §2.1 caseExact false;
 * FLT-020), and PATCH value matching. Runs on every store (SCIM_TEST_STORE).
 */
import { GROUP, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'

describe.each(VARIANTS)('case folding: $name', (v) => {
  let c: Client
  beforeEach(() => {
    c = client(v, makeApp(v))
  })
  const post = (body: Record<string, unknown>) => c.post('/Users', { schemas: [USER], ...body })
  const find = async (filter: string, type = 'Users') => {
    const r = await c.get(`/${type}?filter=${encodeURIComponent(filter)}`)
    expect(r.status).toBe(200)
    return (r.body.Resources ?? []) as Record<string, unknown>[]
  }

  it('RES-021 (RFC 7644 §5): x.straße and x.STRAẞE (U+1E9E) are the same userName: the second is 409 uniqueness', async () => {
    expect((await post({ userName: 'x.stra\u00dfe' })).status).toBe(201)
    expectError(await post({ userName: 'x.STRA\u1e9eE' }), 409, 'uniqueness')
    expectError(await post({ userName: 'X.STRASSE' }), 409, 'uniqueness')
    expect((await c.get('/Users')).body.totalResults).toBe(1)
  })

  it('RES-021 (RFC 7644 §5): x.admın (dotless ı) and x.admin are different userNames: both 201', async () => {
    expect((await post({ userName: 'x.adm\u0131n' })).status).toBe(201)
    expect((await post({ userName: 'x.admin' })).status).toBe(201)
    expect((await find('userName eq "x.admin"')).map((r) => r['userName'])).toEqual(['x.admin'])
    expect((await find('userName eq "X.ADM\u0131N"')).map((r) => r['userName'])).toEqual(['x.adm\u0131n'])
  })

  it('FLT-021 (RFC 7644 §3.4.2.2): userName eq "X.STRASSE" finds x.straße; sw and co fold the same way', async () => {
    const id = (await post({ userName: 'x.stra\u00dfe' })).body.id
    await post({ userName: 'other' })
    for (const f of ['userName eq "X.STRASSE"', 'userName eq "x.STRA\u1e9eE"', 'userName sw "X.STRASS"', 'userName co "ASSE"']) {
      expect({ f, ids: (await find(f)).map((r) => r['id']) }).toEqual({ f, ids: [id] })
    }
  })

  it('FLT-020 (RFC 7643 §2.1): values inside the stored document fold fully too (title, ligature ﬃ, Kelvin sign)', async () => {
    const a = (await post({ userName: 'a', title: 'Gro\u00dfe Stra\u00dfe', nickName: 'o\ufb03ce' })).body.id
    const b = (await post({ userName: 'b', title: 'Kelvin \u212a', nickName: 'other' })).body.id
    expect((await find('title eq "GROSSE STRASSE"')).map((r) => r['id'])).toEqual([a])
    expect((await find('title co "SSE S"')).map((r) => r['id'])).toEqual([a])
    expect((await find('nickName eq "OFFICE"')).map((r) => r['id'])).toEqual([a])
    expect((await find('title ew "k"')).map((r) => r['id'])).toEqual([b])
    expect((await find('emails.value pr or title eq "gro\u00dfe strasse"')).map((r) => r['id'])).toEqual([a])
  })

  it('FLT-020: Group displayName and indexed emails.value fold fully', async () => {
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'Stra\u00dfen' })).body.id
    const u = (await post({ userName: 'e', emails: [{ value: 'GRO\u00df@example.com' }] })).body.id
    expect((await find('displayName eq "STRASSEN"', 'Groups')).map((r) => r['id'])).toEqual([g])
    expect((await find('emails.value eq "gross@EXAMPLE.com"')).map((r) => r['id'])).toEqual([u])
  })

  it('PAT-040 (RFC 7644 §3.5.2): a PATCH valuePath filter folds like a list filter', async () => {
    const u = (await post({ userName: 'p', emails: [{ value: 'a@stra\u00dfe.de', type: 'work' }, { value: 'b@x.de', type: 'home' }] })).body.id
    const r = await c.patch(`/Users/${u}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: 'emails[value eq "A@STRASSE.DE"]' }],
    })
    expect(r.status).toBe(200)
    expect(r.body.emails).toEqual([{ value: 'b@x.de', type: 'home' }])
  })
})
