/**
 * Issue 15: what the request log may store. Passwords (any case, any depth, PATCH operation values
 * by path, Bulk operation data), credentials and token-shaped strings, and configured sensitive
 * attributes are redacted; every removed value is scrubbed from the rest; bodies are bounded.
 * IdP detection from User-Agent and dialect.
 */
import { REDACTED, detectIdp } from '../../src'
import { Redactor, bounded, scrub } from '../../src/request-log/redact'
import { touched } from '../../src/request-log/recorder'

const r = new Redactor(['employeeNumber', 'urn:ietf:params:scim:schemas:core:2.0:User:nickName'])

describe('Redactor.redact', () => {
  it.each([
    ['top-level password, any case', { userName: 'a', PassWord: 'p1-secret' }],
    ['nested and URN-qualified', { 'urn:ietf:params:scim:schemas:core:2.0:User:password': 'p2-secret', x: { y: [{ password: 'p3-secret' }] } }],
    ['PATCH op with path password (any case)', { Operations: [{ op: 'replace', path: 'PASSWORD', value: 'p4-secret' }] }],
    ['PATCH op with a URN path', { Operations: [{ op: 'Replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'p5-secret' }] }],
    ['PATCH op without path', { Operations: [{ op: 'replace', value: { password: 'p6-secret', active: true } }] }],
    ['Bulk operation data, POST and PATCH', { Operations: [{ method: 'POST', data: { password: 'p7-secret' } }, { method: 'PATCH', data: { Operations: [{ op: 'add', path: 'password', value: 'p8-secret' }] } }] }],
    ['credentials by name', { token: 't1-secret', access_token: 't2-secret', client_secret: 't3-secret', Authorization: 'Bearer t4-secret' }],
    ['configured sensitive attributes, by last segment, any case', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { EmployeeNumber: 'e1-secret' }, nickName: 'n1-secret' }],
    ['configured attribute as a PATCH path', { Operations: [{ op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', value: 'e2-secret' }] }],
  ])('%s', (_name, body) => {
    const { value, removed } = r.redact(body)
    const text = JSON.stringify(value)
    expect(text).not.toMatch(/[a-z]\d-secret/)
    expect(text).toContain(REDACTED)
    expect(removed.length).toBeGreaterThan(0)
    for (const s of removed) expect(text).not.toContain(s)
  })

  it('keeps what is not sensitive, and token-shaped strings anywhere are redacted', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const { value } = r.redact({ userName: 'alice', name: { givenName: 'Alice' }, note: `token scimct_abcdefghijklmnop and ${jwt}`, members: [{ value: 'u1' }] })
    expect(value).toEqual({ userName: 'alice', name: { givenName: 'Alice' }, note: `token ${REDACTED} and ${REDACTED}`, members: [{ value: 'u1' }] })
  })

  it('redactUrl: credential parameters and filters naming a sensitive attribute', () => {
    expect(r.redactUrl('/Users?access_token=abc123xyz&count=2').url).toBe(`/Users?access_token=${REDACTED}&count=2`)
    expect(r.redactUrl('/Users?filter=password%20eq%20%22x1y2z3%22').url).toBe(`/Users?filter=${REDACTED}`)
    expect(r.redactUrl('/Users?filter=userName%20eq%20%22a%22').url).toBe('/Users?filter=userName%20eq%20%22a%22')
  })
})

describe('scrub and bounded', () => {
  it('scrub removes every occurrence, JSON-escaped ones too; short values are left', () => {
    expect(scrub('{"detail":"bad value \\"p\\"w\\" and p\\"w"}', ['p"w'])).toBe(`{"detail":"bad value \\"${REDACTED}\\" and ${REDACTED}"}`)
    expect(scrub('ab ab', ['ab'])).toBe('ab ab')
  })
  it('bounded cuts at a byte limit without splitting a character, and marks the cut', () => {
    const out = bounded('é'.repeat(100), 40)
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(40)
    expect(out.endsWith('…[truncated]')).toBe(true)
    expect(out).not.toContain('\uFFFD')
    expect(bounded('short', 40)).toBe('short')
  })
})

describe('detectIdp (IdP detection from User-Agent and dialect)', () => {
  it.each([
    ['Okta SCIM Client 1.0.0', '/Users', undefined, 'okta'],
    ['Microsoft Azure AD SCIM', '/Users', undefined, 'entra'],
    ['Google-Auto-Provisioning', '/Users', undefined, 'google'],
    ['OneLogin SCIM', '/Users', undefined, 'onelogin'],
    ['JumpCloud-SCIM/2.0', '/Users', undefined, 'jumpcloud'],
    [undefined, '/Users?aadOptscim062020', undefined, 'entra'],
    [undefined, '/Users/1', { Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }, 'entra'],
    [undefined, '/Users/1', { Operations: [{ op: 'replace', path: 'active', value: false }] }, 'unknown'],
    ['curl/8.0', '/Users', undefined, 'unknown'],
  ])('%s %s %j → %s', (ua, url, body, want) => {
    expect(detectIdp(ua, url, body)).toBe(want)
  })
})

describe('touched: the resource ids of a request', () => {
  it('path id, answer id, filtered lookups, Bulk locations, group members in PATCH and in paths', () => {
    expect(touched(['Users', 'u1'], '/Users/u1', undefined, { id: 'u1' })).toEqual(['u1'])
    expect(touched(['Users'], '/Users', { userName: 'a' }, { id: 'u9' })).toEqual(['u9'])
    expect(touched(['Users'], '/Users?filter=userName%20eq%20%22a%22', undefined, { Resources: [{ id: 'u2' }] })).toEqual(['u2'])
    expect(touched(['Users'], '/Users', undefined, { Resources: [{ id: 'u2' }] })).toEqual([])
    expect(touched(['Bulk'], '/Bulk', { Operations: [{ method: 'DELETE', path: '/Users/u5' }] }, { Operations: [{ location: 'https://x/scim/v2/Users/u6', status: '201' }] }).sort()).toEqual(['u5', 'u6'])
    const patch = { Operations: [{ op: 'add', path: 'members', value: [{ value: 'u7' }, { value: 'u8' }] }, { op: 'remove', path: 'members[value eq "u9"]' }] }
    expect(touched(['Groups', 'g1'], '/Groups/g1', patch, undefined).sort()).toEqual(['g1', 'u7', 'u8', 'u9'])
    expect(touched(['Groups'], '/Groups', { displayName: 'x', members: [{ value: 'u1' }] }, { id: 'g2' }).sort()).toEqual(['g2', 'u1'])
  })
})
